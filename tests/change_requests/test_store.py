"""Change-request store on SQLite and PostgreSQL: numbering, idempotency, audit, reads."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from noc.db import change_requests
from noc.db.change_requests import (
    NewChangeRequest,
    OpenedChange,
    get_change_request,
    list_change_requests,
    open_change_request,
)
from noc.db.db import make_engine, make_session_factory
from noc.db.migrate import upgrade
from noc.db.models import AuditEvent, ChangeRequest
from noc.db.repository import open_incident
from tests.store.test_repository import _run_concurrently, make_incident

NOW = datetime(2026, 11, 27, 15, 0, tzinfo=timezone.utc)
EARLIEST = datetime(2026, 12, 4, tzinfo=ZoneInfo("America/Bogota"))


def make_request(key: str = "conv-1:2026-11-27T15:00", **overrides: object) -> NewChangeRequest:
    base = NewChangeRequest(
        idempotency_key=key,
        company="Banco Andino",
        service_id="CO-MPLS-00123",
        contact_name="Ana Ruiz",
        contact_phone="+573001234567",
        contact_email="ana.ruiz@bancoandino.com.co",
        country="co",
        region="colombia",
        description="Abrir el puerto 443 hacia el servidor web",
        change_type="estandar",
        desired_date=date(2026, 12, 10),
        earliest_at=EARLIEST,
        channel="whatsapp",
        sender_id="whatsapp:+573001234567",
        reason="Es un cambio de catálogo (apertura de puerto): se tramita como cambio de tipo estándar.",
    )
    return replace(base, **overrides)


def count(session_factory: sessionmaker, model: type) -> int:
    with session_factory() as s, s.begin():
        return s.execute(select(func.count()).select_from(model)).scalar_one()


def audit_events(session_factory: sessionmaker) -> list[AuditEvent]:
    with session_factory() as s, s.begin():
        return list(s.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars())


def test_open_then_get(session_factory: sessionmaker) -> None:
    result = open_change_request(session_factory, request=make_request(), now=NOW)

    assert result == OpenedChange(number="CHG-2026-000001", created=True)
    assert get_change_request(session_factory, number=result.number) == {
        "number": "CHG-2026-000001",
        "status": "registrado",
        "company": "Banco Andino",
        "service_id": "CO-MPLS-00123",
        "contact_name": "Ana Ruiz",
        "contact_phone": "+573001234567",
        "contact_email": "ana.ruiz@bancoandino.com.co",
        "country": "CO",
        "region": "colombia",
        "description": "Abrir el puerto 443 hacia el servidor web",
        "change_type": "estandar",
        "desired_date": "2026-12-10",
        "earliest_at": "2026-12-04T05:00:00+00:00",
        "channel": "whatsapp",
        "sender_id": "whatsapp:+573001234567",
        "created_at": "2026-11-27T15:00:00+00:00",
    }


def test_opening_is_audited_in_the_same_transaction(session_factory: sessionmaker) -> None:
    open_change_request(session_factory, request=make_request(), now=NOW)

    (event,) = audit_events(session_factory)
    with session_factory() as s, s.begin():
        change_id = s.execute(select(ChangeRequest.id)).scalar_one()
    assert (event.change_request_id, event.incident_id, event.actor, event.action, event.at) == (
        change_id,
        None,
        "bot",
        "change_request_opened",
        NOW,
    )
    assert event.detail == {
        "number": "CHG-2026-000001",
        "change_type": "estandar",
        "reason": "Es un cambio de catálogo (apertura de puerto): se tramita como cambio de tipo estándar.",
        "desired_date": "2026-12-10",
        "earliest_at": "2026-12-04T05:00:00+00:00",
        "channel": "whatsapp",
    }


def test_a_failed_audit_rolls_the_request_back(session_factory: sessionmaker, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("audit unavailable")

    monkeypatch.setattr(change_requests, "record_event", broken)
    with pytest.raises(RuntimeError):
        open_change_request(session_factory, request=make_request(), now=NOW)
    monkeypatch.undo()

    assert count(session_factory, ChangeRequest) == 0
    # Nothing was consumed: the next one is still number 1.
    assert open_change_request(session_factory, request=make_request(), now=NOW).number == "CHG-2026-000001"


def test_numbers_follow_the_utc_year_and_their_own_counter(session_factory: sessionmaker) -> None:
    open_incident(session_factory, incident=make_incident("incident"), now=NOW)
    first = open_change_request(session_factory, request=make_request("a"), now=NOW)
    second = open_change_request(session_factory, request=make_request("b"), now=NOW)
    # 19:30 on 31 Dec in Bogotá is already 1 Jan in UTC.
    new_year = datetime(2026, 12, 31, 19, 30, tzinfo=timezone(timedelta(hours=-5)))
    third = open_change_request(session_factory, request=make_request("c"), now=new_year)

    assert [first.number, second.number, third.number] == ["CHG-2026-000001", "CHG-2026-000002", "CHG-2027-000001"]
    assert open_incident(session_factory, incident=make_incident("incident-2"), now=NOW).ticket == "INC-2026-000002"


def test_same_key_twice_gives_one_record(session_factory: sessionmaker) -> None:
    first = open_change_request(session_factory, request=make_request("dup"), now=NOW)
    again = open_change_request(
        session_factory, request=make_request("dup", description="otra cosa"), now=NOW + timedelta(minutes=2)
    )

    assert again == OpenedChange(number=first.number, created=False)
    assert count(session_factory, ChangeRequest) == 1
    assert len(audit_events(session_factory)) == 1
    record = get_change_request(session_factory, number=first.number)
    assert record is not None and record["description"] == "Abrir el puerto 443 hacia el servidor web"
    assert open_change_request(session_factory, request=make_request("next"), now=NOW).number == "CHG-2026-000002"


def test_concurrent_openings_get_unique_consecutive_numbers(session_factory: sessionmaker) -> None:
    results = _run_concurrently(
        30, lambda i: open_change_request(session_factory, request=make_request(f"key-{i}"), now=NOW)
    )

    numbers = [r.number for r in results]
    assert all(r.created for r in results)
    assert sorted(int(n.rsplit("-", 1)[1]) for n in numbers) == list(range(1, 31))
    assert all(n.startswith("CHG-2026-") for n in numbers)
    assert count(session_factory, ChangeRequest) == 30
    assert len(audit_events(session_factory)) == 30


def test_concurrent_openings_with_one_key_create_one_record(session_factory: sessionmaker) -> None:
    results = _run_concurrently(
        15, lambda i: open_change_request(session_factory, request=make_request("same"), now=NOW)
    )

    assert {r.number for r in results} == {"CHG-2026-000001"}
    assert sum(r.created for r in results) == 1
    assert count(session_factory, ChangeRequest) == 1
    assert len(audit_events(session_factory)) == 1


def test_race_past_the_key_check_is_settled_by_the_unique_index(
    postgresql_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Both transactions have checked the key before either inserts (SQLite's
    # BEGIN IMMEDIATE rules this interleaving out).
    upgrade(postgresql_url)
    engine = make_engine(postgresql_url)
    try:
        factory = make_session_factory(engine)
        both_checked = threading.Barrier(2)
        original = change_requests.next_counter_value

        def after_barrier(session: Session, **kwargs: object) -> int:
            both_checked.wait(timeout=30)
            return original(session, **kwargs)

        monkeypatch.setattr(change_requests, "next_counter_value", after_barrier)
        results = _run_concurrently(2, lambda i: open_change_request(factory, request=make_request("raced"), now=NOW))
        monkeypatch.undo()

        assert sorted(r.created for r in results) == [False, True]
        assert {r.number for r in results} == {"CHG-2026-000001"}
        assert count(factory, ChangeRequest) == 1 and len(audit_events(factory)) == 1
        assert open_change_request(factory, request=make_request("next"), now=NOW).number == "CHG-2026-000002"
    finally:
        engine.dispose()


def test_get_is_case_insensitive(session_factory: sessionmaker) -> None:
    number = open_change_request(session_factory, request=make_request(), now=NOW).number

    for variant in (number.lower(), f"  {number}\n"):
        record = get_change_request(session_factory, number=variant)
        assert record is not None and record["number"] == number


@pytest.mark.parametrize(
    "number",
    ["CHG-2026-999999", "INC-2026-000001", "", "chg-2026-000001' OR '1'='1", "X" * 5000, "CHG-2026-" + "1" * 5000],
)
def test_unknown_or_hostile_numbers_find_nothing(session_factory: sessionmaker, number: str) -> None:
    open_change_request(session_factory, request=make_request(), now=NOW)

    assert get_change_request(session_factory, number=number) is None


def test_list_newest_first_by_conversation(session_factory: sessionmaker) -> None:
    open_change_request(session_factory, request=make_request("k1", sender_id="ana"), now=NOW)
    open_change_request(session_factory, request=make_request("k2", sender_id="luis"), now=NOW + timedelta(minutes=1))
    open_change_request(session_factory, request=make_request("k3", sender_id="ana"), now=NOW + timedelta(minutes=2))

    assert [r["number"] for r in list_change_requests(session_factory)] == [
        "CHG-2026-000003",
        "CHG-2026-000002",
        "CHG-2026-000001",
    ]
    assert [r["number"] for r in list_change_requests(session_factory, sender_id="ana")] == [
        "CHG-2026-000003",
        "CHG-2026-000001",
    ]
    assert [r["number"] for r in list_change_requests(session_factory, limit=1)] == ["CHG-2026-000003"]
    assert list_change_requests(session_factory, sender_id="' OR 1=1 --") == []
    with pytest.raises(ValueError):
        list_change_requests(session_factory, limit=0)


def test_text_is_stored_verbatim_except_nul(session_factory: sessionmaker) -> None:
    html = '<script>alert("x")</script>'
    number = open_change_request(
        session_factory,
        request=make_request(company=html, description="abrir\x00puerto", desired_date=None, contact_email=None),
        now=NOW,
    ).number

    record = get_change_request(session_factory, number=number)
    assert record is not None
    assert (record["company"], record["description"], record["desired_date"], record["contact_email"]) == (
        html,
        "abrir\ufffdpuerto",
        None,
        None,
    )


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"idempotency_key": ""}, "idempotency_key"),
        ({"idempotency_key": "k" * 201}, "idempotency_key"),
        ({"company": "  "}, "company"),
        ({"description": ""}, "description"),
        ({"change_type": "express"}, "change_type"),
        ({"earliest_at": datetime(2026, 12, 4)}, "earliest_at"),
        ({"desired_date": datetime(2026, 12, 4, tzinfo=timezone.utc)}, "desired_date"),
        ({"country": "COL"}, "country"),
        ({"contact_phone": "+" + "5" * 40}, "contact_phone"),
    ],
)
def test_invalid_values_are_refused_before_touching_the_database(
    session_factory: sessionmaker, overrides: dict, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        open_change_request(session_factory, request=make_request(**overrides), now=NOW)
    assert count(session_factory, ChangeRequest) == 0


def test_naive_now_is_refused(session_factory: sessionmaker) -> None:
    with pytest.raises(ValueError, match="now"):
        open_change_request(session_factory, request=make_request(), now=datetime(2026, 11, 27))
