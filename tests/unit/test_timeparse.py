from __future__ import annotations

import random
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from noc.domain.timeparse import format_local, parse_since

BOGOTA = "America/Bogota"
ZONE = ZoneInfo(BOGOTA)
# A Wednesday.
NOW = datetime(2026, 11, 25, 10, 30, tzinfo=ZONE)


def at(day: int, hour: int = 0, minute: int = 0, month: int = 11, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ZONE)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # yesterday / today with a time
        ("desde ayer a las 3 de la tarde", at(24, 15)),
        ("ayer a las 3 de la tarde", at(24, 15)),
        ("Ayer a las 3 de la tarde.", at(24, 15)),
        ("ayer a las 15:00", at(24, 15)),
        ("ayer 23:59", at(24, 23, 59)),
        ("ayer en la tarde como a las 4", at(24, 16)),
        ("ayer a las tres y media de la tarde", at(24, 15, 30)),
        ("hoy a las 9", at(25, 9)),
        ("hoy 9:00", at(25, 9)),
        ("desde las 8", at(25, 8)),
        ("desde las 8 de la mañana", at(25, 8)),
        ("a las 8:30 am", at(25, 8, 30)),
        ("a las 8:30 a.m.", at(25, 8, 30)),
        ("desde las 10:00", at(25, 10)),
        ("a la 1", at(25, 1)),
        ("como a eso de las 7", at(25, 7)),
        # clock time with no day still ahead today: yesterday's
        ("a las 3 pm", at(24, 15)),
        ("a las 3 p.m.", at(24, 15)),
        ("desde las 15 hs", at(24, 15)),
        ("desde las 10:45", at(24, 10, 45)),
        ("2 de la tarde", at(24, 14)),
        ("desde el mediodía", at(24, 12)),
        ("en la tarde", at(24, 14)),
        # relative
        ("hace dos horas", at(25, 8, 30)),
        ("hace 2 horas", at(25, 8, 30)),
        # a span alone answers "¿desde cuándo?" as "hace …"
        ("como dos horas", at(25, 8, 30)),
        ("unos 3 días", at(22, 10, 30)),
        ("hace 2 hrs", at(25, 8, 30)),
        ("hace 2hs", at(25, 8, 30)),
        ("hace 2 h", at(25, 8, 30)),
        ("hace más de 2 horas", at(25, 8, 30)),
        ("3 horas atrás", at(25, 7, 30)),
        ("hace media hora", at(25, 10)),
        ("hace hora y media", at(25, 9)),
        ("hace 2 horas y media", at(25, 8)),
        ("hace 1,5 horas", at(25, 9)),
        ("hace un par de horas", at(25, 8, 30)),
        ("hace 20 minutos", at(25, 10, 10)),
        ("hace 45 min", at(25, 9, 45)),
        ("hace como 10 minutos", at(25, 10, 20)),
        ("desde hace 3 días", at(22, 10, 30)),
        ("hace 3 días a las 9", at(22, 9)),
        ("dos días atrás", at(23, 10, 30)),
        ("hace una semana", at(18, 10, 30)),
        ("hace 2 semanas", at(11, 10, 30)),
        ("hace 2 meses", at(25, 10, 30, month=9)),
        ("hace 1 año", at(25, 10, 30, year=2025)),
        # parts of the day
        ("desde esta mañana", at(25, 8)),
        ("esta madrugada", at(25, 3)),
        ("desde la madrugada", at(25, 3)),
        ("desde anoche", at(24, 20)),
        ("anoche a las 11", at(24, 23)),
        ("anoche a las 2", at(25, 2)),  # after midnight: today
        ("antenoche", at(23, 20)),
        ("ayer tarde", at(24, 14)),
        # days
        ("desde ayer", at(24)),
        ("ayer", at(24)),
        ("antier", at(23)),
        ("hoy", at(25)),
        ("desde el lunes", at(23)),
        ("el lunes a las 9", at(23, 9)),
        ("el martes en la noche", at(24, 20)),
        ("desde el sábado en la mañana", at(21, 8)),
        ("el miércoles", at(18)),  # said on a Wednesday: last week's
        ("desde el domingo a la medianoche", at(22)),
        ("desde el fin de semana", at(21)),
        ("la semana pasada", at(16)),
        # dates
        ("24/11 a las 14:00", at(24, 14)),
        ("24/11/2026 14:00", at(24, 14)),
        ("24-11-26", at(24)),
        ("2026-11-20 14:00", at(20, 14)),
        ("2026/11/20", at(20)),
        ("desde el 20 de noviembre", at(20)),
        ("20 de noviembre a las 3 de la tarde", at(20, 15)),
        ("el 20", at(20)),
        ("el 30", at(30, month=10)),  # the 30th hasn't come yet this month
        ("noviembre 20", at(20)),
        ("el 3 de nov.", at(3)),
        ("1º de noviembre", at(1)),
        ("3 de octubre de 2026 a las 10", at(3, 10, month=10)),
        ("30/11", at(30, year=2025)),  # no year and still ahead: last year's
        ("1 de diciembre", at(1, month=12, year=2025)),
        ("desde octubre", at(1, month=10)),
        ("20 nov 2026 3pm", at(20, 15)),
    ],
)
def test_parse_since(text: str, expected: datetime) -> None:
    result = parse_since(text, tz=BOGOTA, now=NOW)
    assert result == expected
    assert result is not None and result.utcoffset() == expected.utcoffset()


@pytest.mark.parametrize(
    "text",
    [
        None,
        "",
        "   ",
        "asdf",
        "el router",
        "🙂",
        "🙂🙂🙂",
        "desde aller",
        "hace un rato",
        "hace poco",
        "no sé",
        "mañana",
        "pasado mañana",
        "el próximo lunes",
        "esta noche",  # still ahead, and the day was explicit
        "hoy a las 14",
        "25/11 a las 14:00",  # explicit date, time still ahead: ask again
        "31/02",
        "32/13",
        "a las 25",
        "a las 13 pm",
        "24:00",
        "1/1/2027",
        "hace 2 años",
        "hace 53 semanas",
        "el 15 de marzo de 2025",
        "hace 1000000000000000000000 horas",
        "8",
        "123",
        "el router 3",
        "ID CO-MPLS-00123",
        "since yesterday",
        "<script>alert(1)</script>",
        "'; DROP TABLE incidents; --",
        "ayer " * 2000,
        "x" * 10_000,
    ],
)
def test_unusable_answers(text: str | None) -> None:
    assert parse_since(text, tz=BOGOTA, now=NOW) is None


def test_clock_time_ahead_of_now_is_yesterday() -> None:
    seven = datetime(2026, 11, 25, 7, 0, tzinfo=ZONE)
    assert parse_since("a las 8", tz=BOGOTA, now=seven) == at(24, 8)
    assert parse_since("desde las 7", tz=BOGOTA, now=seven) == at(25, 7)


def test_started_part_of_day_uses_its_start() -> None:
    early = datetime(2026, 11, 25, 7, 0, tzinfo=ZONE)
    assert parse_since("desde esta mañana", tz=BOGOTA, now=early) == at(25, 6)


@pytest.mark.parametrize(
    "now",
    [
        NOW,
        NOW.replace(tzinfo=None),  # naive: local time in tz
        NOW.astimezone(ZoneInfo("UTC")),
        NOW.astimezone(ZoneInfo("Asia/Tokyo")),
    ],
)
def test_now_in_any_form(now: datetime) -> None:
    assert parse_since("ayer a las 3 de la tarde", tz=BOGOTA, now=now) == at(24, 15)
    assert parse_since("hace 2 horas", tz=BOGOTA, now=now) == at(25, 8, 30)


@pytest.mark.parametrize(
    ("tz", "text", "expected"),
    [
        ("America/Lima", "ayer a las 9", datetime(2026, 11, 24, 9, tzinfo=ZoneInfo("America/Lima"))),
        (
            "America/Argentina/Buenos_Aires",
            "desde las 8",
            datetime(2026, 11, 25, 8, tzinfo=ZoneInfo("America/Argentina/Buenos_Aires")),
        ),
        ("Europe/Madrid", "hoy a las 16", datetime(2026, 11, 25, 16, tzinfo=ZoneInfo("Europe/Madrid"))),
    ],
)
def test_results_are_in_the_customer_zone(tz: str, text: str, expected: datetime) -> None:
    # 10:30 in Bogotá is 12:30 in Buenos Aires and 16:30 in Madrid.
    result = parse_since(text, tz=tz, now=NOW)
    assert result == expected
    assert result is not None and str(result.tzinfo) == tz


def test_relative_hours_across_a_dst_change() -> None:
    # Chile moves its clocks forward on the first Sunday of September.
    zone = ZoneInfo("America/Santiago")
    now = datetime(2026, 9, 6, 2, 30, tzinfo=zone)
    result = parse_since("hace 2 horas", tz="America/Santiago", now=now)
    assert result is not None
    # Same-zone subtraction in Python is wall-clock time (3 h here); compare instants.
    assert result == datetime(2026, 9, 5, 23, 30, tzinfo=zone)
    assert result.astimezone(ZoneInfo("UTC")) == now.astimezone(ZoneInfo("UTC")) - timedelta(hours=2)


@pytest.mark.parametrize(
    "text", ["hace 2 horas", "ayer a las 3 de la tarde", "desde esta mañana", "el lunes", "24/11 14:00"]
)
def test_never_in_the_future_nor_older_than_a_year(text: str) -> None:
    result = parse_since(text, tz=BOGOTA, now=NOW)
    assert result is not None
    assert NOW - timedelta(days=366) <= result <= NOW


@pytest.mark.parametrize(
    ("dt", "text"),
    [
        (at(25, 14), "25/11/2026 14:00"),
        (at(1, 8, 5, month=3), "01/03/2026 08:05"),
        (datetime(2026, 11, 25, 14, 0, tzinfo=ZoneInfo("America/Lima")), "25/11/2026 14:00"),
    ],
)
def test_format_local(dt: datetime, text: str) -> None:
    assert format_local(dt) == text


def test_random_input_never_raises() -> None:
    rng = random.Random(7)
    pieces = [
        "hace",
        "ayer",
        "a las",
        "de la tarde",
        "el",
        "lunes",
        "3",
        "15:30",
        "24/11",
        "mañana",
        "y media",
        "🙂",
        "x",
    ]
    for _ in range(500):
        text = " ".join(rng.choices(pieces, k=rng.randint(1, 6)))
        result = parse_since(text, tz=BOGOTA, now=NOW)
        assert result is None or NOW - timedelta(days=366) <= result <= NOW


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hace unas tres horitas", NOW - timedelta(hours=3)),
        ("desde hace como 20 minutitos", NOW - timedelta(minutes=20)),
        ("ya van 3 horas", NOW - timedelta(hours=3)),
        ("ya van dos horas sin internet", NOW - timedelta(hours=2)),
        ("llevamos 2 días sin servicio", NOW - timedelta(days=2)),
        ("desde anoche tipo 11", datetime(2026, 11, 24, 23, 0, tzinfo=ZONE)),
        ("desde temprano", datetime(2026, 11, 25, 8, 0, tzinfo=ZONE)),
        ("ayer bien temprano", datetime(2026, 11, 24, 8, 0, tzinfo=ZONE)),
    ],
)
def test_spans_as_customers_say_them(text: str, expected: datetime) -> None:
    assert parse_since(text, tz=BOGOTA, now=NOW) == expected
