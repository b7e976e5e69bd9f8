"""noc.db.retention on SQLite and PostgreSQL: old texts go, incidents stay."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text, func, insert, select, text
from sqlalchemy.orm import sessionmaker

from noc.db import retention
from noc.db.agents import create_agent, create_session
from noc.db.conversation_log import LoggedMessage, append_messages
from noc.db.models import AgentSession, ConversationMessage, Incident, TranscriptMessage
from noc.db.repository import TranscriptEntry, get_incident, open_incident
from noc.db.twilio_messages import TwilioMessage, claim_message
from tests.api.conftest import make_incident
from tests.db_env import database_url as use_database

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)
OLD = NOW - timedelta(days=40)
RECENT = NOW - timedelta(days=5)


def seed(factory: sessionmaker) -> str:
    """An old incident (with its transcript) and a recent one, logs and Twilio copies of both ages, two sessions."""
    old = open_incident(
        factory,
        incident=replace(
            make_incident("old"),
            transcript=(TranscriptEntry("user", "hola", OLD), TranscriptEntry("bot", "¿qué?", OLD)),
        ),
        now=OLD,
    )
    open_incident(
        factory,
        incident=replace(make_incident("new"), transcript=(TranscriptEntry("user", "hola", RECENT),)),
        now=RECENT,
    )
    append_messages(
        factory,
        messages=[
            LoggedMessage(sender_id="s1", role="user", text="viejo", at=OLD),
            LoggedMessage(sender_id="s1", role="bot", text="viejo", at=OLD + timedelta(seconds=1)),
            LoggedMessage(sender_id="s1", role="user", text="nuevo", at=RECENT),
        ],
    )
    claim_message(factory, "SMold", "sms:+51987654321", now=OLD)
    claim_message(factory, "SMnew", "sms:+51987654321", now=RECENT)
    agent = create_agent(factory, username="ana", display_name="Ana", password="clave-de-prueba-123", now=OLD)
    create_session(factory, agent_id=agent.id, idle_minutes=60, max_hours=12, now=NOW - timedelta(minutes=5))
    create_session(factory, agent_id=agent.id, idle_minutes=60, max_hours=12, now=NOW - timedelta(days=2))
    return old.ticket


def counts(factory: sessionmaker) -> dict[str, int]:
    with factory() as s:
        return {
            model.__tablename__: s.execute(select(func.count()).select_from(model)).scalar_one()
            for model in (Incident, TranscriptMessage, ConversationMessage, TwilioMessage, AgentSession)
        }


def test_purge_deletes_old_texts_and_expired_sessions_only(session_factory: sessionmaker) -> None:
    old_ticket = seed(session_factory)

    report = retention.purge(session_factory, days=30, now=NOW)

    assert (report.transcript_messages, report.conversation_messages, report.twilio_messages) == (2, 2, 1)
    assert report.expired_sessions == 1 and report.cutoff == NOW - timedelta(days=30)
    assert counts(session_factory) == {
        "incidents": 2,
        "transcript_messages": 1,
        "conversation_messages": 1,
        "twilio_messages": 1,
        "agent_sessions": 1,
    }
    kept = get_incident(session_factory, ticket=old_ticket)
    assert kept is not None and kept["contact_email"] == "maria@example.com" and kept["transcript"] == []


def test_dry_run_counts_without_deleting(session_factory: sessionmaker) -> None:
    seed(session_factory)
    before = counts(session_factory)

    report = retention.purge(session_factory, days=30, now=NOW, dry_run=True)

    assert (report.transcript_messages, report.conversation_messages, report.twilio_messages) == (2, 2, 1)
    assert report.expired_sessions == 1 and report.dry_run
    assert counts(session_factory) == before


def test_a_longer_period_keeps_more(session_factory: sessionmaker) -> None:
    seed(session_factory)
    report = retention.purge(session_factory, days=60, now=NOW)
    assert (report.transcript_messages, report.conversation_messages, report.twilio_messages) == (0, 0, 0)


def rasa_events(factory: sessionmaker, rows: list[tuple[str, datetime]]) -> None:
    """Rasa's tracker store table (as SQLTrackerStore creates it), with one event per row."""
    metadata = MetaData()
    events = Table(
        "events",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("sender_id", String(255), nullable=False),
        Column("type_name", String(255), nullable=False),
        Column("timestamp", Float),
        Column("data", Text),
    )
    with factory() as s, s.begin():
        metadata.create_all(s.connection())
        s.execute(
            insert(events),
            [{"sender_id": who, "type_name": "user", "timestamp": at.timestamp(), "data": "{}"} for who, at in rows],
        )


def test_rasa_conversations_idle_for_the_period_go_whole(session_factory: sessionmaker) -> None:
    idle, active = [("idle", OLD), ("idle", OLD + timedelta(hours=1))], [("active", OLD), ("active", RECENT)]
    rasa_events(session_factory, idle + active)

    counted = retention.purge(session_factory, days=30, now=NOW, dry_run=True)
    report = retention.purge(session_factory, days=30, now=NOW)

    assert counted.rasa_events == report.rasa_events == 2
    with session_factory() as s:
        left = s.execute(text("SELECT sender_id FROM events ORDER BY timestamp")).scalars().all()
    assert left == ["active", "active"]  # a conversation going on keeps its beginning


@pytest.mark.parametrize("days", [0, -1])
def test_the_period_is_at_least_a_day(days: int) -> None:
    with pytest.raises(ValueError, match="al menos 1"):
        retention.purge(sessionmaker(), days=days, now=NOW)


def test_command_line(database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("RETENTION_DAYS", "3")
    with use_database(monkeypatch, database_url):
        from noc.db.db import get_session_factory

        factory = get_session_factory()
        seed(factory)
        before = counts(factory)

        assert retention.main(["--dry-run"]) == 0
        assert "simulación" in capsys.readouterr().out
        assert counts(factory) == before

        # RETENTION_DAYS=3: the recent (5 days) messages go too.
        assert retention.main([]) == 0
        out = capsys.readouterr().out
        assert out.startswith("Se borraron: 3 mensajes de transcripciones, 3 mensajes de conversaciones")
        assert "0 eventos de conversaciones de Rasa" in out
        assert counts(factory)["transcript_messages"] == 0 and counts(factory)["incidents"] == 2

        assert retention.main(["--days", "0"]) == 1
        assert "al menos 1" in capsys.readouterr().err
