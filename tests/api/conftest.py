"""API fixtures: a migrated SQLite database and a fake escalation book.

The tests are async and marked ``@pytest.mark.asyncio`` (pytest-asyncio's
default strict mode), using pytest-aiohttp's ``aiohttp_client`` fixture; no
pytest configuration at the repository root is needed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

import pytest
from aiohttp import web
from sqlalchemy.orm import sessionmaker

from noc.db.db import make_engine, make_session_factory
from noc.db.migrate import upgrade
from noc.db.repository import NewIncident, TranscriptEntry, open_incident
from noc.settings import load_settings
from noc.web.server import create_app

TOKEN = "test-token-1f9c2a"
NOW = datetime(2026, 11, 24, 20, 30, tzinfo=timezone.utc)


@dataclass(frozen=True)
class FakeContact:
    level: int
    role: str
    name: str
    phone: str
    email: str
    hours: str


class FakeEscalationBook:
    """Stands in for noc.domain.escalation.EscalationBook (same two methods)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str | None, int]] = []

    def contact(self, region_slug: str | None, level: int = 1) -> FakeContact | None:
        self.calls.append((region_slug, level))
        if region_slug != "andina":
            return None
        return FakeContact(
            level=level,
            role="NOC nivel 1",
            name="Guardia Andina",
            phone="+5716000000",
            email="noc-andina@example.com",
            hours="24x7",
        )

    def as_dict(self, *, max_level: int | None = None) -> dict:
        levels = [{"level": n, "name": f"Nivel {n}"} for n in (1, 2, 3, 4) if max_level is None or n <= max_level]
        return {"regions": [{"slug": "andina", "name": "Región Andina", "levels": levels}]}


def make_incident(key: str, **overrides: object) -> NewIncident:
    base = NewIncident(
        idempotency_key=key,
        status="abierto",
        company="Transportes Andinos S.A.S.",
        service_id="SRV-10442",
        contact_name="María Pérez",
        contact_phone="+573001234567",
        contact_email="maria@example.com",
        country="CO",
        region="andina",
        symptom="No tenemos internet",
        symptom_kind="sin_servicio",
        started_at=datetime(2026, 11, 24, 20, 0, tzinfo=timezone.utc),
        timezone="America/Bogota",
        started_text="desde las 3",
        power_ok=True,
        rebooted=False,
        problem_persists=True,
        severity=2,
        severity_reason="sede sin servicio",
        channel="rest",
        sender_id="user-42",
        transcript=(TranscriptEntry(role="user", text="Hola", at=NOW),),
    )
    return replace(base, **overrides)


@pytest.fixture
def session_factory(tmp_path: Path) -> Iterator[sessionmaker]:
    url = f"sqlite:///{tmp_path / 'var' / 'noc.db'}"
    upgrade(url)
    engine = make_engine(url)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def seeded(session_factory: sessionmaker) -> dict[str, str]:
    """Two incidents: one in a known region, one without region."""
    first = open_incident(session_factory, incident=make_incident("k1"), now=NOW)
    second = open_incident(
        session_factory,
        incident=make_incident("k2", region=None, sender_id="user-7", status="resuelto_primer_contacto"),
        now=NOW.replace(minute=45),
    )
    return {"with_region": first.ticket, "without_region": second.ticket}


@pytest.fixture
def escalation_book() -> FakeEscalationBook:
    return FakeEscalationBook()


@pytest.fixture
def build_app(
    session_factory: sessionmaker, escalation_book: FakeEscalationBook
) -> Callable[..., web.Application]:
    def build(*, token: str | None = TOKEN, book: object | None = None) -> web.Application:
        settings = replace(load_settings(), agent_api_token=token)
        return create_app(
            settings=settings,
            session_factory=session_factory,
            escalation_book=book if book is not None else escalation_book,
        )

    return build
