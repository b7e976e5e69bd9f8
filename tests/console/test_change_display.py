"""Pure helpers of the change-request pages: wanted days in a zone, their audit text, the list filters."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from noc.web.console import display
from noc.web.console.filters import ChangeFilters, parse_change_filters


@pytest.mark.parametrize(
    ("value", "zone", "expected"),
    [
        ("2026-12-10", "America/Bogota", datetime(2026, 12, 10, tzinfo=ZoneInfo("America/Bogota"))),
        (date(2026, 12, 10), "America/Mexico_City", datetime(2026, 12, 10, tzinfo=ZoneInfo("America/Mexico_City"))),
        ("2026-12-10", "No/Existe", datetime(2026, 12, 10, tzinfo=ZoneInfo("UTC"))),
        (None, "America/Bogota", None),
        ("", "America/Bogota", None),
    ],
)
def test_day_start(value: object, zone: str, expected: datetime | None) -> None:
    start = display.day_start(value, zone)

    assert start == expected
    if expected is not None:
        assert start.utcoffset() == expected.utcoffset()


def test_a_wanted_day_is_shown_as_the_customers_midnight() -> None:
    assert display.format_time(display.day_start("2026-12-10", "America/Bogota"), "America/Bogota") == (
        "10/12/2026 00:00 (UTC-05:00)"
    )


@pytest.mark.parametrize(
    ("detail", "text"),
    [
        ({"reason": "No es un cambio de catálogo."}, "Registró la solicitud de cambio. No es un cambio de catálogo."),
        ({"reason": None}, "Registró la solicitud de cambio"),
        (None, "Registró la solicitud de cambio"),
    ],
)
def test_audit_text_of_an_opened_change(detail: dict | None, text: str) -> None:
    assert display.audit_text("change_request_opened", detail) == text


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ChangeFilters()),
        ({"tipo": "urgente", "q": "  banco  ", "offset": "50"}, ChangeFilters(tipo="urgente", q="banco", offset=50)),
        ({"tipo": "express", "q": "   ", "offset": "-1"}, ChangeFilters()),
        ({"tipo": "URGENTE", "offset": "100001"}, ChangeFilters()),
        ({"q": "x" * 500}, ChangeFilters(q="x" * 100)),
    ],
)
def test_parse_change_filters(params: dict, expected: ChangeFilters) -> None:
    assert parse_change_filters(params) == expected


def test_change_filters_query_string_keeps_what_is_set() -> None:
    filters = ChangeFilters(tipo="normal", q="100% & co")

    assert filters.query_string(offset=50) == "tipo=normal&q=100%25+%26+co&offset=50"
    assert ChangeFilters().query_string() == ""
