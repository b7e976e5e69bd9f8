"""Handoffs, escalations and the live conversation log, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from noc.db.conversation_log import LoggedMessage, append_messages, list_messages
from noc.db.escalations import escalate_incident
from noc.db.handoffs import open_handoff
from noc.db.models import AuditEvent, Handoff, Incident
from noc.db.repository import get_incident, open_incident
from noc.domain.escalation_rules import ESCALATE, decide_escalation
from tests.store.test_repository import NOW, make_incident

PARTIAL = dict(
    status="derivado",
    company="Banco Andino",
    service_id=None,
    contact_name=None,
    contact_phone=None,
    contact_email=None,
    country=None,
    region=None,
    symptom=None,
    symptom_kind=None,
    started_at=None,
    started_text=None,
    severity=None,
    severity_reason=None,
)


def _count(session_factory: sessionmaker, model: type) -> int:
    with session_factory() as s, s.begin():
        return s.execute(select(func.count()).select_from(model)).scalar_one()


def test_a_partial_intake_is_stored_as_derivado_with_its_transcript(session_factory: sessionmaker) -> None:
    result = open_handoff(
        session_factory, incident=make_incident("conv-h", **PARTIAL), reason="customer_request", now=NOW
    )
    assert result.created and result.severity is None
    record = get_incident(session_factory, ticket=result.ticket)
    assert record["status"] == "derivado"
    assert record["company"] == "Banco Andino" and record["service_id"] is None
    assert [m["role"] for m in record["transcript"]] == ["user", "bot"]


def test_asking_twice_while_waiting_gives_the_same_handoff(session_factory: sessionmaker) -> None:
    first = open_handoff(session_factory, incident=make_incident("conv-h", **PARTIAL), reason="customer_request")
    again = open_handoff(session_factory, incident=make_incident("conv-h", **PARTIAL), reason="low_confidence")
    assert (again.ticket, again.handoff_id, again.created) == (first.ticket, first.handoff_id, False)
    assert _count(session_factory, Handoff) == 1
    assert _count(session_factory, Incident) == 1


def test_a_confirmed_incident_is_handed_off_as_it_is(session_factory: sessionmaker) -> None:
    opened = open_incident(session_factory, incident=make_incident("conv-c", severity=1), now=NOW)
    result = open_handoff(session_factory, incident=make_incident("conv-c", **PARTIAL), reason="severity_1", now=NOW)
    assert result.ticket == opened.ticket and result.severity == 1
    assert get_incident(session_factory, ticket=opened.ticket)["status"] == "abierto"


def test_the_notify_hook_runs_inside_the_transaction(session_factory: sessionmaker) -> None:
    seen = []

    def notify(session, handoff, incident) -> None:
        seen.append((handoff.reason, incident.ticket))
        raise RuntimeError("notification queue unavailable")

    with pytest.raises(RuntimeError):
        open_handoff(
            session_factory, incident=make_incident("conv-n", **PARTIAL), reason="failed_answers", notify=notify
        )
    # The hook failed: nothing half-written stays behind.
    assert seen and _count(session_factory, Handoff) == 0 and _count(session_factory, Incident) == 0


def test_unknown_reason_is_refused(session_factory: sessionmaker) -> None:
    with pytest.raises(ValueError, match="reason"):
        open_handoff(session_factory, incident=make_incident("conv-x", **PARTIAL), reason="bored")


def test_confirming_after_a_handoff_completes_the_partial_record(session_factory: sessionmaker) -> None:
    partial = open_handoff(session_factory, incident=make_incident("conv-p", **PARTIAL), reason="customer_request")
    confirmed = open_incident(session_factory, incident=make_incident("conv-p"), now=NOW)
    assert confirmed.ticket == partial.ticket
    record = get_incident(session_factory, ticket=partial.ticket)
    assert record["service_id"] == "SRV-10442" and record["severity"] == 2 and record["status"] == "abierto"
    assert _count(session_factory, Incident) == 1


def _decide(contacted: bool = True):
    def decide(level, reached_at):
        return decide_escalation(
            level=level,
            max_level=4,
            contacted_without_answer=contacted,
            reached_level_at=reached_at,
            response_minutes=15,
            now=NOW + timedelta(hours=1),
        )

    return decide


def test_escalation_raises_one_level_and_is_audited(session_factory: sessionmaker) -> None:
    ticket = open_incident(session_factory, incident=make_incident("conv-e"), now=NOW).ticket
    decision = escalate_incident(
        session_factory, ticket=ticket, decide=_decide(), actor="customer:user-42", now=NOW + timedelta(hours=1)
    )
    assert (decision.outcome, decision.level) == (ESCALATE, 2)
    assert get_incident(session_factory, ticket=ticket)["escalation_level"] == 2
    with session_factory() as s, s.begin():
        audit = s.execute(select(AuditEvent)).scalars().all()
        assert [(a.action, a.actor, a.detail) for a in audit] == [
            ("escalated", "customer:user-42", {"from_level": 1, "to_level": 2})
        ]


def test_a_new_level_waits_its_own_response_time(session_factory: sessionmaker) -> None:
    ticket = open_incident(session_factory, incident=make_incident("conv-w"), now=NOW).ticket
    later = NOW + timedelta(hours=1)
    escalate_incident(session_factory, ticket=ticket, decide=_decide(), actor="customer:a", now=later)
    # Asked again at once: level 2 was reached just now, its 15 minutes have not passed.
    second = escalate_incident(session_factory, ticket=ticket, decide=_decide(), actor="customer:a", now=later)
    assert second.level == 2 and get_incident(session_factory, ticket=ticket)["escalation_level"] == 2


def test_unknown_ticket_escalates_nothing(session_factory: sessionmaker) -> None:
    assert escalate_incident(session_factory, ticket="INC-2026-999999", decide=_decide(), actor="x") is None
    assert escalate_incident(session_factory, ticket="nada", decide=_decide(), actor="x") is None


def test_simultaneous_escalations_raise_the_level_once(session_factory: sessionmaker) -> None:
    ticket = open_incident(session_factory, incident=make_incident("conv-s"), now=NOW).ticket
    results = []
    start = threading.Barrier(4)

    def request() -> None:
        start.wait()
        results.append(
            escalate_incident(
                session_factory, ticket=ticket, decide=_decide(), actor="customer:a", now=NOW + timedelta(hours=1)
            )
        )

    threads = [threading.Thread(target=request) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r.outcome for r in results).count(ESCALATE) == 1
    assert get_incident(session_factory, ticket=ticket)["escalation_level"] == 2


def test_conversation_log_in_order_and_incremental(session_factory: sessionmaker) -> None:
    messages = [
        LoggedMessage(sender_id="s1", role="user", text="hola\x00", at=NOW, channel="web"),
        LoggedMessage(sender_id="s1", role="bot", text="¿Qué empresa?", at=NOW + timedelta(seconds=1)),
        LoggedMessage(sender_id="s2", role="user", text="otro", at=NOW),
        LoggedMessage(sender_id="s1", role="agent", text="Soy Ana, del NOC", at=NOW + timedelta(seconds=2)),
    ]
    append_messages(session_factory, messages=messages)
    log = list_messages(session_factory, sender_id="s1")
    assert [(m["role"], m["text"]) for m in log] == [
        ("user", "hola\ufffd"),
        ("bot", "¿Qué empresa?"),
        ("agent", "Soy Ana, del NOC"),
    ]
    newer = list_messages(session_factory, sender_id="s1", after_id=log[1]["id"])
    assert [m["text"] for m in newer] == ["Soy Ana, del NOC"]
    assert list_messages(session_factory, sender_id="s1", since=NOW + timedelta(seconds=1))[0]["role"] == "bot"


@pytest.mark.parametrize("bad", [{"role": "hacker"}, {"at": NOW.replace(tzinfo=None)}])
def test_conversation_log_refuses_bad_messages(session_factory: sessionmaker, bad: dict) -> None:
    message = replace(LoggedMessage(sender_id="s1", role="user", text="x", at=NOW), **bad)
    with pytest.raises(ValueError):
        append_messages(session_factory, messages=[message])
