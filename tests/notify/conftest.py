"""Notification fixtures: the store's migrated database on SQLite and PostgreSQL, and a handoff to notify."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from noc.db.models import HANDOFF_PENDING, Handoff, Incident
from noc.db.repository import NewIncident, TranscriptEntry, open_incident
from noc.settings import Settings, load_settings

# The store's per-backend database fixtures (see tests/store/conftest.py).
from tests.store.conftest import (  # noqa: F401
    database_url,
    empty_database_url,
    engine,
    postgres_admin_engine,
    postgresql_url,
    session_factory,
    sqlite_url,
)
from tests.store.test_repository import make_incident

NOW = datetime(2026, 11, 24, 20, 30, tzinfo=timezone.utc)
SECRET = "s3cr3t-del-webhook"


def notify_settings(**changes: Any) -> Settings:
    """Settings with every notification channel off unless ``changes`` turn it on."""
    base = replace(
        load_settings(),
        handoff_webhook_url=None,
        handoff_webhook_secret=None,
        smtp_host=None,
        smtp_username=None,
        smtp_password=None,
        smtp_starttls=False,
        smtp_from="noc-asistente@example.com",
    )
    return replace(base, **changes)


TRANSCRIPT = (
    TranscriptEntry(role="user", text="el enlace de la sede norte está caído", at=NOW - timedelta(minutes=3)),
    TranscriptEntry(role="bot", text="¿Cuál es el nombre de su empresa?", at=NOW - timedelta(minutes=2)),
    TranscriptEntry(role="user", text="quiero hablar con un agente", at=NOW - timedelta(minutes=1)),
)


def incident(key: str = "conv-1") -> NewIncident:
    """A partial intake handed over mid-way, on WhatsApp."""
    return make_incident(
        key,
        status="derivado",
        service_id=None,
        channel="whatsapp",
        sender_id="whatsapp:+573001234567",
        severity=1,
        transcript=TRANSCRIPT,
    )


@pytest.fixture
def make_handoff(session_factory: sessionmaker) -> Callable[..., tuple[int, str]]:  # noqa: F811
    """Store an incident and a pending handoff of it; returns (handoff id, ticket)."""

    def make(key: str = "conv-1") -> tuple[int, str]:
        ticket = open_incident(session_factory, incident=incident(key), now=NOW).ticket
        with session_factory() as s, s.begin():
            row = Handoff(
                incident_id=s.execute(select(Incident.id).where(Incident.ticket == ticket)).scalar_one(),
                sender_id="whatsapp:+573001234567",
                channel="whatsapp",
                reason="customer_request",
                status=HANDOFF_PENDING,
                created_at=NOW,
                updated_at=NOW,
            )
            s.add(row)
            s.flush()
            return row.id, ticket

    return make
