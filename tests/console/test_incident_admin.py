"""Searching and working incidents (assign, status, handoffs, audit), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from noc.db.agents import create_agent
from noc.db.audit import list_events, record_event
from noc.db.incident_admin import (
    CONVERSATION_LOOKBACK,
    UnknownTicket,
    assign_incident,
    escape_like,
    incident_work,
    list_handoffs,
    mark_handoff,
    note_agent_reply,
    search_incidents,
    set_status,
)
from noc.db.models import AuditEvent, Handoff, Incident
from noc.db.repository import TranscriptEntry, open_incident
from tests.api.conftest import make_incident
from tests.console.seed import add_handoff

NOW = datetime(2026, 11, 24, 20, 30, tzinfo=timezone.utc)


def open_at(session_factory: sessionmaker, key: str, minutes: int, **overrides: object) -> str:
    incident = make_incident(key, **overrides)
    return open_incident(session_factory, incident=incident, now=NOW + timedelta(minutes=minutes)).ticket


def tickets(rows: list[dict]) -> list[str]:
    return [row["ticket"] for row in rows]


@pytest.mark.parametrize(
    ("text", "escaped"),
    [("abc", "abc"), ("100%", "100\\%"), ("a_b", "a\\_b"), ("c:\\x", "c:\\\\x"), ("%_\\", "\\%\\_\\\\")],
)
def test_escape_like(text: str, escaped: str) -> None:
    assert escape_like(text) == escaped


@pytest.fixture
def incidents(session_factory: sessionmaker) -> dict[str, str]:
    return {
        "bank": open_at(session_factory, "k1", 0, company="Banco Andino", service_id="CO-MPLS-00123", channel="web"),
        "percent": open_at(
            session_factory, "k2", 1, company="Ahorro 100% S.A.", service_id="PE_NET_7", severity=1, region="peru"
        ),
        "shop": open_at(
            session_factory, "k3", 2, company="Tiendas Ñandú", service_id="MX-INT-9", channel="whatsapp", region=None
        ),
        "closed": open_at(session_factory, "k4", 3, company="Banco del Sur", status="cerrado", severity=3),
    }


def test_search_is_newest_first_with_filters(session_factory: sessionmaker, incidents: dict[str, str]) -> None:
    everything = search_incidents(session_factory)
    assert tickets(everything) == [incidents[name] for name in ("closed", "shop", "percent", "bank")]
    assert everything[0]["created_at"].endswith("+00:00")

    assert tickets(search_incidents(session_factory, status="cerrado")) == [incidents["closed"]]
    assert tickets(search_incidents(session_factory, region="peru")) == [incidents["percent"]]
    assert tickets(search_incidents(session_factory, severity=1)) == [incidents["percent"]]
    assert tickets(search_incidents(session_factory, channel="whatsapp")) == [incidents["shop"]]
    assert tickets(search_incidents(session_factory, channel="web", severity=2)) == [incidents["bank"]]
    assert search_incidents(session_factory, status="resuelto") == []
    assert tickets(search_incidents(session_factory, limit=2, offset=1)) == [incidents["shop"], incidents["percent"]]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("banco", ["closed", "bank"]),
        ("BANCO ANDINO", ["bank"]),
        ("mpls-001", ["bank"]),
        ("  co-mpls-00123 ", ["bank"]),
        ("100%", ["percent"]),
        ("%", ["percent"]),  # a literal percent sign, not "anything"
        ("_", ["percent"]),  # only PE_NET_7 has an underscore
        ("pe_net", ["percent"]),
        ("peXnet", []),
        ("Ñandú", ["shop"]),
        ("\\", []),
        ("'; DROP TABLE incidents; --", []),
    ],
)
def test_search_text_matches_ticket_company_and_service_literally(
    session_factory: sessionmaker, incidents: dict[str, str], query: str, expected: list[str]
) -> None:
    assert tickets(search_incidents(session_factory, query=query)) == [incidents[name] for name in expected]


def test_search_by_ticket_in_any_case(session_factory: sessionmaker, incidents: dict[str, str]) -> None:
    ticket = incidents["shop"]
    assert tickets(search_incidents(session_factory, query=ticket.lower())) == [ticket]


def test_search_marks_open_handoffs_and_can_put_waiting_ones_first(
    session_factory: sessionmaker, incidents: dict[str, str]
) -> None:
    add_handoff(session_factory, ticket=incidents["bank"], at=NOW, status="devuelto")
    add_handoff(session_factory, ticket=incidents["bank"], at=NOW, status="pendiente", reason="severity_1")
    add_handoff(session_factory, ticket=incidents["percent"], at=NOW, status="tomado")
    add_handoff(session_factory, ticket=incidents["shop"], at=NOW, status="cerrado")

    rows = {row["ticket"]: row for row in search_incidents(session_factory)}
    assert (rows[incidents["bank"]]["handoff_status"], rows[incidents["bank"]]["handoff_reason"]) == (
        "pendiente",
        "severity_1",
    )
    assert rows[incidents["percent"]]["handoff_status"] == "tomado"
    assert rows[incidents["shop"]]["handoff_status"] is None, "a closed handoff is not open"
    assert len(rows) == 4, "several handoffs of one incident give one row"

    waiting_first = tickets(search_incidents(session_factory, waiting_first=True))
    assert waiting_first == [incidents[name] for name in ("bank", "closed", "shop", "percent")]


def test_list_handoffs(session_factory: sessionmaker, incidents: dict[str, str]) -> None:
    add_handoff(session_factory, ticket=incidents["bank"], at=NOW, status="pendiente")
    add_handoff(session_factory, ticket=incidents["percent"], at=NOW + timedelta(minutes=1), status="tomado")
    add_handoff(session_factory, ticket=incidents["shop"], at=NOW + timedelta(minutes=2), status="devuelto")

    assert tickets(list_handoffs(session_factory)) == [incidents[name] for name in ("shop", "percent", "bank")]
    assert tickets(list_handoffs(session_factory, open_only=True)) == [incidents["percent"], incidents["bank"]]
    pending = list_handoffs(session_factory, status="pendiente")
    assert tickets(pending) == [incidents["bank"]]
    assert pending[0]["company"] == "Banco Andino" and pending[0]["reason"] == "customer_request"
    with pytest.raises(ValueError):
        list_handoffs(session_factory, status="abierto")


def audit(session_factory: sessionmaker, ticket: str) -> list[tuple[str, str, dict]]:
    work = incident_work(session_factory, ticket=ticket)
    assert work is not None
    return [(e["actor"], e["action"], e["detail"]) for e in list_events(session_factory, incident_id=work.incident_id)]


def test_assign_takes_the_open_handoff_and_is_audited(session_factory: sessionmaker) -> None:
    ticket = open_at(session_factory, "k1", 0)
    handoff_id = add_handoff(session_factory, ticket=ticket, at=NOW)
    ana = create_agent(session_factory, username="ana", display_name="Ana", password="clave-larga-123")
    luis = create_agent(session_factory, username="luis", display_name="Luis", password="clave-larga-123")

    assign_incident(session_factory, ticket=ticket.lower(), agent_id=ana.id, now=NOW)
    assign_incident(session_factory, ticket=ticket, agent_id=ana.id, now=NOW)  # again: no change, no event

    work = incident_work(session_factory, ticket=ticket)
    assert work is not None
    assert (work.assigned_agent_id, work.assigned_agent_name, work.last_agent_update_at) == (ana.id, "Ana", NOW)
    assert work.handoff is not None and (work.handoff.id, work.handoff.status) == (handoff_id, "tomado")
    assert audit(session_factory, ticket) == [
        ("agent:ana", "assigned", {"agent": "ana", "previous_agent_id": None}),
        ("agent:ana", "handoff_status", {"handoff_id": handoff_id, "from": "pendiente", "to": "tomado"}),
    ]

    assign_incident(session_factory, ticket=ticket, agent_id=luis.id, now=NOW)
    with session_factory() as s:
        assert s.get(Handoff, handoff_id).agent_id == luis.id
    assert audit(session_factory, ticket)[-2][:2] == ("agent:luis", "assigned")

    with pytest.raises(UnknownTicket):
        assign_incident(session_factory, ticket="INC-2026-999999", agent_id=ana.id)
    with pytest.raises(ValueError):
        assign_incident(session_factory, ticket=ticket, agent_id=9999)


def test_set_status_is_audited_and_validated(session_factory: sessionmaker) -> None:
    ticket = open_at(session_factory, "k1", 0)

    assert set_status(session_factory, ticket=ticket, status="en_progreso", actor="agent:ana", now=NOW) == "abierto"
    assert set_status(session_factory, ticket=ticket, status="en_progreso", actor="agent:ana") == "en_progreso"
    assert set_status(session_factory, ticket=ticket, status="resuelto", actor="api:crm") == "en_progreso"

    assert audit(session_factory, ticket) == [
        ("agent:ana", "status_changed", {"from": "abierto", "to": "en_progreso"}),
        ("api:crm", "status_changed", {"from": "en_progreso", "to": "resuelto"}),
    ]
    with session_factory() as s:
        assert s.execute(select(Incident.status)).scalar_one() == "resuelto"
    for bad in ("", "ABIERTO", "borrado"):
        with pytest.raises(ValueError):
            set_status(session_factory, ticket=ticket, status=bad, actor="agent:ana")
    with pytest.raises(UnknownTicket):
        set_status(session_factory, ticket="no-es-ticket", status="abierto", actor="agent:ana")


def test_mark_handoff_moves_only_open_ones(session_factory: sessionmaker) -> None:
    ticket = open_at(session_factory, "k1", 0)
    assert mark_handoff(session_factory, ticket=ticket, status="devuelto", actor="agent:ana") is False

    old = add_handoff(session_factory, ticket=ticket, at=NOW, status="cerrado")
    current = add_handoff(session_factory, ticket=ticket, at=NOW, status="tomado")
    assert mark_handoff(session_factory, ticket=ticket, status="devuelto", actor="agent:ana", now=NOW) is True

    with session_factory() as s:
        assert s.get(Handoff, old).status == "cerrado"
        assert (s.get(Handoff, current).status, s.get(Handoff, current).updated_at) == ("devuelto", NOW)
    assert audit(session_factory, ticket) == [
        ("agent:ana", "handoff_status", {"handoff_id": current, "from": "tomado", "to": "devuelto"})
    ]
    with pytest.raises(ValueError):
        mark_handoff(session_factory, ticket=ticket, status="resuelto", actor="agent:ana")


def test_note_agent_reply(session_factory: sessionmaker) -> None:
    ticket = open_at(session_factory, "k1", 0)

    note_agent_reply(session_factory, ticket=ticket, agent="ana", delivered=True, channel="whatsapp", now=NOW)

    work = incident_work(session_factory, ticket=ticket)
    assert work is not None and work.last_agent_update_at == NOW
    assert audit(session_factory, ticket) == [
        ("agent:ana", "agent_reply", {"delivered": True, "channel": "whatsapp"})
    ]


def test_a_failed_change_leaves_no_audit_event(session_factory: sessionmaker) -> None:
    ticket = open_at(session_factory, "k1", 0)

    with pytest.raises(ValueError):
        set_status(session_factory, ticket=ticket, status="en_progreso", actor="x" * 301)

    with session_factory() as s:
        assert s.execute(select(func.count()).select_from(AuditEvent)).scalar_one() == 0
        assert s.execute(select(Incident.status)).scalar_one() == "abierto"


def test_record_event_joins_the_callers_transaction(session_factory: sessionmaker) -> None:
    ticket = open_at(session_factory, "k1", 0)
    work = incident_work(session_factory, ticket=ticket)
    assert work is not None

    with pytest.raises(RuntimeError), session_factory() as s, s.begin():
        record_event(s, incident_id=work.incident_id, actor="bot", action="note", detail={"a": "ñ"})
        raise RuntimeError("the caller's unit of work fails")
    assert list_events(session_factory, incident_id=work.incident_id) == []

    with session_factory() as s, s.begin():
        record_event(s, incident_id=work.incident_id, actor="bot", action="note", detail={"a": "ñ"}, at=NOW)
    [event] = list_events(session_factory, incident_id=work.incident_id)
    assert (event["actor"], event["action"], event["detail"], event["at"]) == (
        "bot",
        "note",
        {"a": "ñ"},
        NOW.isoformat(),
    )


def test_incident_work_conversation_window(session_factory: sessionmaker) -> None:
    first_message = NOW - timedelta(minutes=9)
    with_transcript = open_at(
        session_factory,
        "k1",
        0,
        transcript=(
            TranscriptEntry(role="bot", text="b", at=first_message + timedelta(minutes=1)),
            TranscriptEntry(role="user", text="a", at=first_message),
        ),
    )
    without = open_at(session_factory, "k2", 5, transcript=(), sender_id="")

    work = incident_work(session_factory, ticket=with_transcript)
    assert work is not None and work.conversation_since == first_message
    assert work.timezone == "America/Bogota" and work.handoff is None
    bare = incident_work(session_factory, ticket=without)
    assert bare is not None
    assert bare.conversation_since == NOW + timedelta(minutes=5) - CONVERSATION_LOOKBACK
    assert bare.sender_id is None, "an empty sender ID means no conversation"
    assert incident_work(session_factory, ticket="INC-2026-999999") is None
