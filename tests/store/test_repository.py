"""Repository behaviour on SQLite and PostgreSQL (see conftest)."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from noc.db import repository
from noc.db.db import make_engine, make_session_factory
from noc.db.migrate import upgrade
from noc.db.models import Incident, TranscriptMessage
from noc.db.repository import (
    NewIncident,
    OpenResult,
    TranscriptEntry,
    get_incident,
    list_incidents,
    open_incident,
)

TICKET_RE = re.compile(r"^INC-\d{4}-\d{6}$")
NOW = datetime(2026, 11, 24, 20, 30, tzinfo=timezone.utc)
# 15:00 in Bogotá (UTC-5).
STARTED = datetime(2026, 11, 24, 20, 0, tzinfo=timezone.utc)


def make_incident(key: str = "conv-1", **overrides: object) -> NewIncident:
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
        symptom="No tenemos internet en la sede principal",
        symptom_kind="sin_servicio",
        started_at=STARTED,
        timezone="America/Bogota",
        started_text="desde las 3 de la tarde",
        power_ok=True,
        rebooted=True,
        problem_persists=True,
        severity=2,
        severity_reason="sede completa sin servicio",
        channel="rest",
        sender_id="user-42",
        transcript=(
            TranscriptEntry(role="user", text="Hola, no tenemos internet", at=NOW - timedelta(minutes=5)),
            TranscriptEntry(role="bot", text="Lamento la falla. ¿Qué empresa?", at=NOW - timedelta(minutes=4)),
        ),
    )
    return replace(base, **overrides)


def count_incidents(session_factory: sessionmaker) -> int:
    with session_factory() as s, s.begin():
        return s.execute(select(func.count()).select_from(Incident)).scalar_one()


def test_open_then_get_returns_json_ready_record(session_factory: sessionmaker) -> None:
    result = open_incident(session_factory, incident=make_incident(), now=NOW)

    assert result == OpenResult(ticket="INC-2026-000001", created=True)
    record = get_incident(session_factory, ticket=result.ticket)
    assert record == {
        "ticket": "INC-2026-000001",
        "status": "abierto",
        "company": "Transportes Andinos S.A.S.",
        "service_id": "SRV-10442",
        "contact_name": "María Pérez",
        "contact_phone": "+573001234567",
        "contact_email": "maria@example.com",
        "country": "CO",
        "region": "andina",
        "symptom": "No tenemos internet en la sede principal",
        "symptom_kind": "sin_servicio",
        "started_at": "2026-11-24T15:00:00-05:00",
        "timezone": "America/Bogota",
        "started_text": "desde las 3 de la tarde",
        "power_ok": True,
        "rebooted": True,
        "problem_persists": True,
        "severity": 2,
        "severity_reason": "sede completa sin servicio",
        "escalation_level": 1,
        "channel": "rest",
        "sender_id": "user-42",
        "created_at": "2026-11-24T20:30:00+00:00",
        "updated_at": "2026-11-24T20:30:00+00:00",
        "assigned_agent_id": None,
        "last_escalated_at": None,
        "last_agent_update_at": None,
        "transcript": [
            {"role": "user", "text": "Hola, no tenemos internet", "at": "2026-11-24T20:25:00+00:00"},
            {"role": "bot", "text": "Lamento la falla. ¿Qué empresa?", "at": "2026-11-24T20:26:00+00:00"},
        ],
    }


def test_timestamps_keep_their_instant_whatever_offset_they_came_in(
    session_factory: sessionmaker,
) -> None:
    mexico = timezone(timedelta(hours=-6))
    incident = make_incident(
        started_at=datetime(2026, 3, 1, 8, 15, 30, tzinfo=mexico),
        timezone="America/Mexico_City",
        country="mx",
        region=None,
        power_ok=None,
        rebooted=False,
        problem_persists=None,
        contact_email=None,
        started_text=None,
    )
    created_local = datetime(2026, 3, 1, 9, 0, 0, 123456, tzinfo=mexico)

    ticket = open_incident(session_factory, incident=incident, now=created_local).ticket
    record = get_incident(session_factory, ticket=ticket)

    assert record is not None
    assert record["started_at"] == "2026-03-01T08:15:30-06:00"
    assert record["created_at"] == "2026-03-01T15:00:00.123456+00:00"
    assert record["country"] == "MX"
    assert (record["region"], record["power_ok"], record["rebooted"], record["problem_persists"]) == (
        None,
        None,
        False,
        None,
    )
    assert record["contact_email"] is None and record["started_text"] is None


def test_started_at_may_be_unknown(session_factory: sessionmaker) -> None:
    ticket = open_incident(session_factory, incident=make_incident(started_at=None), now=NOW).ticket

    record = get_incident(session_factory, ticket=ticket)
    assert record is not None and record["started_at"] is None


def test_ticket_numbers_follow_the_utc_year(session_factory: sessionmaker) -> None:
    first = open_incident(session_factory, incident=make_incident("a"), now=NOW)
    second = open_incident(session_factory, incident=make_incident("b"), now=NOW)
    # 19:30 on Dec 31 in Bogotá is already Jan 1 in UTC.
    new_year = datetime(2026, 12, 31, 19, 30, tzinfo=timezone(timedelta(hours=-5)))
    third = open_incident(session_factory, incident=make_incident("c"), now=new_year)

    assert [first.ticket, second.ticket, third.ticket] == [
        "INC-2026-000001",
        "INC-2026-000002",
        "INC-2027-000001",
    ]


def test_get_is_case_insensitive_and_tolerates_spaces(session_factory: sessionmaker) -> None:
    ticket = open_incident(session_factory, incident=make_incident(), now=NOW).ticket

    for variant in (ticket.lower(), f"  {ticket}\n", "inc-2026-000001"):
        record = get_incident(session_factory, ticket=variant)
        assert record is not None and record["ticket"] == ticket


@pytest.mark.parametrize(
    "ticket",
    [
        "INC-2026-999999",
        "",
        "<script>alert(1)</script>",
        "INC-2026-000001' OR '1'='1",
        "'; DROP TABLE incidents; --",
        "X" * 5000,
        "INC-2026-" + "1" * 5000,
    ],
)
def test_get_unknown_or_hostile_ticket_returns_none(session_factory: sessionmaker, ticket: str) -> None:
    open_incident(session_factory, incident=make_incident(), now=NOW)

    assert get_incident(session_factory, ticket=ticket) is None
    assert count_incidents(session_factory) == 1


def test_list_newest_first_with_filters_and_without_transcript(session_factory: sessionmaker) -> None:
    open_incident(session_factory, incident=make_incident("k1", sender_id="alice"), now=NOW)
    open_incident(
        session_factory,
        incident=make_incident("k2", sender_id="bob", status="resuelto_primer_contacto"),
        now=NOW + timedelta(minutes=1),
    )
    open_incident(session_factory, incident=make_incident("k3", sender_id="alice"), now=NOW + timedelta(minutes=2))

    everything = list_incidents(session_factory)
    assert [r["ticket"] for r in everything] == ["INC-2026-000003", "INC-2026-000002", "INC-2026-000001"]
    assert all("transcript" not in r for r in everything)
    assert everything[0]["started_at"] == "2026-11-24T15:00:00-05:00"

    alice = list_incidents(session_factory, sender_id="alice")
    assert [r["ticket"] for r in alice] == ["INC-2026-000003", "INC-2026-000001"]
    resolved = list_incidents(session_factory, status="resuelto_primer_contacto")
    assert [r["ticket"] for r in resolved] == ["INC-2026-000002"]
    assert list_incidents(session_factory, sender_id="alice", status="resuelto_primer_contacto") == []
    assert [r["ticket"] for r in list_incidents(session_factory, limit=1)] == ["INC-2026-000003"]
    assert list_incidents(session_factory, status="' OR 1=1 --") == []
    assert list_incidents(session_factory, sender_id="x" * 10_000) == []
    with pytest.raises(ValueError):
        list_incidents(session_factory, limit=0)


def test_same_key_twice_returns_the_first_record(session_factory: sessionmaker) -> None:
    first = open_incident(session_factory, incident=make_incident("dup"), now=NOW)
    again = open_incident(
        session_factory,
        incident=make_incident("dup", symptom="otra cosa", severity=1),
        now=NOW + timedelta(minutes=3),
    )

    assert first.created is True
    assert again == OpenResult(ticket=first.ticket, created=False)
    assert count_incidents(session_factory) == 1
    record = get_incident(session_factory, ticket=first.ticket)
    assert record is not None and record["symptom"] == "No tenemos internet en la sede principal"
    # A later opening still gets the next number: nothing was consumed.
    nxt = open_incident(session_factory, incident=make_incident("other"), now=NOW)
    assert nxt.ticket == "INC-2026-000002"


def _run_concurrently(count: int, work: Callable[[int], OpenResult]) -> list[OpenResult]:
    """Run ``work(0..count-1)`` in as many threads, released at the same instant."""
    barrier = threading.Barrier(count)

    def task(index: int) -> OpenResult:
        barrier.wait(timeout=30)
        return work(index)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(task, range(count)))


def test_concurrent_openings_with_one_key_create_one_record(session_factory: sessionmaker) -> None:
    results = _run_concurrently(
        20,
        lambda i: open_incident(session_factory, incident=make_incident("same-key", sender_id=f"s{i}"), now=NOW),
    )

    assert len({r.ticket for r in results}) == 1
    assert sum(r.created for r in results) == 1
    assert count_incidents(session_factory) == 1
    with session_factory() as s, s.begin():
        messages = s.execute(select(func.count()).select_from(TranscriptMessage)).scalar_one()
    assert messages == 2


def test_concurrent_openings_get_unique_consecutive_tickets(session_factory: sessionmaker) -> None:
    results = _run_concurrently(
        40,
        lambda i: open_incident(session_factory, incident=make_incident(f"key-{i}"), now=NOW),
    )

    tickets = [r.ticket for r in results]
    assert all(r.created for r in results)
    assert all(TICKET_RE.match(t) for t in tickets)
    assert len(set(tickets)) == 40
    assert sorted(int(t.rsplit("-", 1)[1]) for t in tickets) == list(range(1, 41))
    assert count_incidents(session_factory) == 40


def test_transcript_keeps_its_order(session_factory: sessionmaker) -> None:
    # Same timestamp everywhere and texts that would sort differently: only
    # the position can give the order back.
    texts = ["zeta", "alfa", "3", "mañana", "Beta", "", "alfa"]
    transcript = tuple(
        TranscriptEntry(role="user" if i % 2 == 0 else "bot", text=t, at=NOW) for i, t in enumerate(texts)
    )
    ticket = open_incident(session_factory, incident=make_incident(transcript=transcript), now=NOW).ticket

    record = get_incident(session_factory, ticket=ticket)
    assert record is not None
    assert [m["text"] for m in record["transcript"]] == texts
    assert [m["role"] for m in record["transcript"]] == ["user", "bot"] * 3 + ["user"]


def test_empty_transcript(session_factory: sessionmaker) -> None:
    ticket = open_incident(session_factory, incident=make_incident(transcript=()), now=NOW).ticket

    record = get_incident(session_factory, ticket=ticket)
    assert record is not None and record["transcript"] == []


def test_hostile_and_long_values_are_stored_verbatim(session_factory: sessionmaker) -> None:
    sql = "'; DROP TABLE incidents; -- \" OR 1=1"
    html = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    long_text = ("Sin señal 📡 ñandú " * 600)[:10_000]
    incident = make_incident(
        "k'; DELETE FROM incidents; --",
        company=html,
        contact_name=sql,
        symptom=long_text,
        started_text="desde ayer\n\t\\ %s %(x)s {0}",
        severity_reason=long_text,
        service_id=sql,
        transcript=(
            TranscriptEntry(role="user", text=html, at=NOW),
            TranscriptEntry(role="bot", text=long_text, at=NOW),
        ),
    )

    ticket = open_incident(session_factory, incident=incident, now=NOW).ticket
    record = get_incident(session_factory, ticket=ticket)

    assert record is not None
    assert len(long_text) == 10_000
    assert record["company"] == html
    assert record["contact_name"] == sql
    assert record["service_id"] == sql
    assert record["symptom"] == long_text
    assert record["severity_reason"] == long_text
    assert record["started_text"] == "desde ayer\n\t\\ %s %(x)s {0}"
    assert [m["text"] for m in record["transcript"]] == [html, long_text]
    assert count_incidents(session_factory) == 1


def test_nul_characters_are_replaced_on_every_backend(session_factory: sessionmaker) -> None:
    incident = make_incident(
        symptom="antes\x00después",
        transcript=(TranscriptEntry(role="user", text="a\x00b", at=NOW),),
    )

    ticket = open_incident(session_factory, incident=incident, now=NOW).ticket

    record = get_incident(session_factory, ticket=ticket)
    assert record is not None
    assert record["symptom"] == "antes\ufffddespués"
    assert record["transcript"][0]["text"] == "a\ufffdb"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"status": "inventado"}, "status"),
        ({"started_at": datetime(2026, 11, 24, 15, 0)}, "started_at"),
        ({"timezone": "Mars/Olympus"}, "time zone"),
        ({"timezone": "../../etc/passwd"}, "time zone"),
        ({"idempotency_key": ""}, "idempotency_key"),
        ({"idempotency_key": "k" * 201}, "idempotency_key"),
        ({"country": "COL"}, "country"),
        ({"contact_phone": "+" + "1" * 40}, "contact_phone"),
        ({"escalation_level": 0}, "escalation_level"),
        ({"company": None}, "company"),
        ({"transcript": (TranscriptEntry(role="system", text="x", at=NOW),)}, "role"),
        ({"transcript": (TranscriptEntry(role="user", text="x", at=datetime(2026, 1, 1)),)}, "aware"),
    ],
)
def test_invalid_values_are_rejected_before_touching_the_database(
    session_factory: sessionmaker, overrides: dict, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        open_incident(session_factory, incident=make_incident(**overrides), now=NOW)
    assert count_incidents(session_factory) == 0


def test_naive_now_is_rejected(session_factory: sessionmaker) -> None:
    with pytest.raises(ValueError, match="now"):
        open_incident(session_factory, incident=make_incident(), now=datetime(2026, 1, 1))


def test_idempotency_key_of_200_characters_is_accepted(session_factory: sessionmaker) -> None:
    key = "k" * 200
    first = open_incident(session_factory, incident=make_incident(key), now=NOW)
    again = open_incident(session_factory, incident=make_incident(key), now=NOW)

    assert again == OpenResult(ticket=first.ticket, created=False)


def test_race_past_the_key_check_is_settled_by_the_unique_index(
    postgresql_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Force the interleaving SQLite's BEGIN IMMEDIATE rules out: both
    # transactions have checked the key and found nothing before either inserts.
    upgrade(postgresql_url)
    engine = make_engine(postgresql_url)
    try:
        factory = make_session_factory(engine)
        both_checked = threading.Barrier(2)
        original = repository._next_ticket_number

        def after_barrier(session: Session, *, year: int) -> int:
            both_checked.wait(timeout=30)
            return original(session, year=year)

        monkeypatch.setattr(repository, "_next_ticket_number", after_barrier)
        results = _run_concurrently(
            2, lambda i: open_incident(factory, incident=make_incident("raced"), now=NOW)
        )
        monkeypatch.setattr(repository, "_next_ticket_number", original)

        assert sorted(r.created for r in results) == [False, True]
        assert results[0].ticket == results[1].ticket == "INC-2026-000001"
        assert count_incidents(factory) == 1
        # The loser's counter bump was rolled back with its transaction.
        assert open_incident(factory, incident=make_incident("next"), now=NOW).ticket == "INC-2026-000002"
    finally:
        engine.dispose()
