"""Reading change requests for the console and the API, on SQLite and PostgreSQL: filters, search, audit trail."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from noc.db.audit import record_event
from noc.db.change_requests import get_change_request, list_change_requests, open_change_request
from noc.db.models import ChangeRequest
from noc.db.repository import list_newest, open_incident
from tests.change_requests.test_store import NOW, make_request
from tests.store.test_repository import make_incident


def seed(session_factory: sessionmaker) -> list[str]:
    """Three requests a minute apart (oldest first): different types, companies and services."""
    requests = [
        make_request("k1", company="Banco Andino", service_id="CO-MPLS-00123", change_type="estandar"),
        make_request("k2", company="Tiendas 100%", service_id="MX_INT_7", change_type="urgente", sender_id="luis"),
        make_request("k3", company="Banco del Sur", service_id="CL-FO-0042", change_type="urgente"),
    ]
    return [
        open_change_request(session_factory, request=request, now=NOW + timedelta(minutes=i)).number
        for i, request in enumerate(requests)
    ]


def numbers(session_factory: sessionmaker, **filters: object) -> list[str]:
    return [row["number"] for row in list_change_requests(session_factory, **filters)]


def test_filters_by_type_and_conversation_newest_first(session_factory: sessionmaker) -> None:
    first, second, third = seed(session_factory)

    assert numbers(session_factory) == [third, second, first]
    assert numbers(session_factory, change_type="urgente") == [third, second]
    assert numbers(session_factory, change_type="estandar") == [first]
    assert numbers(session_factory, change_type="emergencia") == []
    assert numbers(session_factory, change_type="urgente", sender_id="luis") == [second]
    assert numbers(session_factory, limit=2, offset=1) == [second, first]
    assert numbers(session_factory, offset=3) == []


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("banco", [2, 0]),
        ("BANCO DEL", [2]),
        ("chg-2026-000002", [1]),
        ("000003", [2]),
        ("co-mpls", [0]),
        ("100%", [1]),
        ("mx_int", [1]),
        ("_", [1]),
        ("%", [1]),
        ("  cl-fo-0042  ", [2]),
        ("nada de esto", []),
        ("' OR 1=1 --", []),
        ("   ", [2, 1, 0]),
    ],
)
def test_search_by_number_company_or_service(session_factory: sessionmaker, query: str, expected: list[int]) -> None:
    seeded = seed(session_factory)

    assert numbers(session_factory, query=query) == [seeded[i] for i in expected]


def test_search_and_type_together(session_factory: sessionmaker) -> None:
    first, _, third = seed(session_factory)

    assert numbers(session_factory, query="banco", change_type="urgente") == [third]
    assert numbers(session_factory, query="banco", change_type="estandar") == [first]


@pytest.mark.parametrize(("limit", "offset"), [(0, 0), (1, -1)])
def test_bad_pages_are_refused(session_factory: sessionmaker, limit: int, offset: int) -> None:
    with pytest.raises(ValueError):
        list_change_requests(session_factory, limit=limit, offset=offset)
    with pytest.raises(ValueError):
        list_newest(session_factory, model=ChangeRequest, to_dict=repr, limit=limit, offset=offset)


def test_get_with_events_adds_its_own_audit_trail_only(session_factory: sessionmaker) -> None:
    first, second, _ = seed(session_factory)
    open_incident(session_factory, incident=make_incident("incident"), now=NOW)
    with session_factory() as s, s.begin():
        change_id = s.execute(select(ChangeRequest.id).where(ChangeRequest.number == first)).scalar_one()
        later = NOW + timedelta(hours=1)
        record_event(s, change_request_id=change_id, actor="agent:ana", action="noted", detail={"x": 1}, at=later)

    record = get_change_request(session_factory, number=first.lower(), with_events=True)

    assert record is not None and record["number"] == first
    assert [(e["actor"], e["action"], e["at"]) for e in record["events"]] == [
        ("bot", "change_request_opened", "2026-11-27T15:00:00+00:00"),
        ("agent:ana", "noted", "2026-11-27T16:00:00+00:00"),
    ]
    opened = record["events"][0]
    assert opened["detail"]["number"] == first and opened["detail"]["change_type"] == "estandar"
    assert isinstance(opened["id"], int)
    assert record == {**get_change_request(session_factory, number=first), "events": record["events"]}
    other = get_change_request(session_factory, number=second, with_events=True)
    assert [e["detail"]["number"] for e in other["events"]] == [second]


@pytest.mark.parametrize("number", ["CHG-2026-999999", "nada", "INC-2026-000001", "CHG-2026-" + "1" * 5000])
def test_get_with_events_of_an_unknown_number_is_none(session_factory: sessionmaker, number: str) -> None:
    seed(session_factory)
    open_incident(session_factory, incident=make_incident("incident"), now=NOW)

    assert get_change_request(session_factory, number=number, with_events=True) is None
