"""The change a customer asks for, and the date they want it."""

from __future__ import annotations

from datetime import date

import pytest

from noc.domain.change_fields import ASAP, clean_change_description, parse_desired_date

TODAY = date(2026, 11, 25)  # a Wednesday


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("el 15 de diciembre", date(2026, 12, 15)),
        ("para el 15 de dic", date(2026, 12, 15)),
        ("15/12", date(2026, 12, 15)),
        ("15-12-2026", date(2026, 12, 15)),
        ("15/01/27", date(2027, 1, 15)),
        ("15 de enero de 2027", date(2027, 1, 15)),
        ("el 1 de noviembre", date(2027, 11, 1)),  # already past this year: next year
        ("el próximo lunes", date(2026, 11, 30)),
        ("el viernes", date(2026, 11, 27)),
        ("el miércoles", date(2026, 12, 2)),  # today is Wednesday: the next one
        ("mañana", date(2026, 11, 26)),
        ("pasado mañana", date(2026, 11, 27)),
        ("hoy", TODAY),
        ("en dos semanas", date(2026, 12, 9)),
        ("dentro de 3 días", date(2026, 11, 28)),
        ("para el 28 de este mes", date(2026, 11, 28)),
        ("el 30", date(2026, 11, 30)),
        ("el 3", date(2026, 12, 3)),  # already past this month: next month
        ("el 31", date(2026, 12, 31)),  # November has no 31st
        ("la semana que viene", date(2026, 11, 30)),  # the Monday of next week
        ("a más tardar la próxima semana", date(2026, 11, 30)),
        ("antes de fin de mes", date(2026, 11, 30)),
        ("para finales de este mes", date(2026, 11, 30)),
        ("lo antes posible", ASAP),
        ("cuanto antes por favor", ASAP),
        ("URGENTE", ASAP),
        ("ayer", None),
        ("15/12/2025", None),  # past
        ("32/13", None),
        ("30 de febrero", None),
        ("", None),
        (None, None),
        ("no sé", None),
    ],
)
def test_parse_desired_date(text, expected) -> None:
    assert parse_desired_date(text, today=TODAY) == expected


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("necesito ampliar el ancho de banda a 200 Mbps", True),
        ("abrir el puerto 443", True),
        ("cambio de IP pública", True),
        ("cambiar los DNS del enlace", True),
        ("quiero solicitar un cambio", False),
        ("solicitud de cambio", False),
        ("kiero pedir un cambio en el servicio", False),
        ("hola", False),
        ("<script>alert(1)</script> ampliar banda", False),
        ("x" * 600, False),
        ("", False),
    ],
)
def test_clean_change_description(text: str, kept: bool) -> None:
    assert (clean_change_description(text) is not None) is kept
