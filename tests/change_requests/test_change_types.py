"""Change types, lead times in business days or hours, classification (pure, real tables)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from noc.db.models import CHANGE_TYPES as STORED_CHANGE_TYPES
from noc.domain.change_types import (
    CHANGE_TYPES,
    classify_change,
    earliest_start,
    get_change_table,
    match_catalogue,
    scheduled_for,
    words,
)


def local(zone: str, *args: int) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(zone))


def test_the_types_are_the_ones_the_database_stores() -> None:
    assert CHANGE_TYPES == STORED_CHANGE_TYPES
    assert set(get_change_table().types) == set(CHANGE_TYPES)


@pytest.mark.parametrize(
    ("change_type", "requested_at", "country", "zone", "expected"),
    [
        pytest.param(
            "estandar", local("America/Bogota", 2026, 11, 27, 10), "CO", "America/Bogota", (2026, 12, 4),
            id="CO Friday: counting starts Monday",
        ),
        pytest.param(
            "estandar", local("America/Bogota", 2026, 11, 28, 9), "CO", "America/Bogota", (2026, 12, 4),
            id="CO Saturday request counts like Friday",
        ),
        pytest.param(
            "normal", local("America/Bogota", 2026, 11, 27, 10), "CO", "America/Bogota", (2026, 12, 14),
            id="CO normal skips 8 Dec",
        ),
        pytest.param(
            "estandar", local("America/Bogota", 2026, 1, 8, 16), "CO", "America/Bogota", (2026, 1, 16),
            id="CO holiday moved to Monday (Reyes, 12 Jan)",
        ),
        pytest.param(
            "normal", local("America/Bogota", 2026, 12, 23, 11), "CO", "America/Bogota", (2027, 1, 8),
            id="CO year boundary skips 25 Dec and 1 Jan",
        ),
        pytest.param(
            "estandar", datetime(2026, 12, 1, 3, 0, tzinfo=timezone.utc), "CO", "America/Bogota", (2026, 12, 7),
            id="CO the request day is the local one (still Monday in Bogota)",
        ),
        pytest.param(
            "estandar", local("America/Lima", 2026, 7, 27, 9), "PE", "America/Lima", (2026, 8, 5),
            id="PE Fiestas Patrias",
        ),
        pytest.param(
            "estandar",
            local("America/Argentina/Buenos_Aires", 2026, 2, 13, 9),
            "AR",
            "America/Argentina/Buenos_Aires",
            (2026, 2, 24),
            id="cono sur AR carnival",
        ),
        pytest.param(
            "estandar", local("America/Mexico_City", 2026, 11, 13, 9), "MX", "America/Mexico_City", (2026, 11, 23),
            id="MX Revolution Monday",
        ),
        pytest.param(
            "estandar", local("America/Caracas", 2026, 6, 22, 9), "VE", "America/Caracas", (2026, 6, 30),
            id="VE Carabobo",
        ),
        pytest.param(
            "estandar", local("America/Guatemala", 2026, 4, 1, 9), "GT", "America/Guatemala", (2026, 4, 10),
            id="centroamerica GT Holy Week",
        ),
        pytest.param(
            "normal", local("America/Bogota", 2026, 12, 23, 11), None, "America/Bogota", (2027, 1, 6),
            id="unknown country: weekends only",
        ),
        pytest.param(
            "normal", local("America/Guayaquil", 2026, 12, 23, 11), "EC", "America/Guayaquil", (2027, 1, 8),
            id="country outside the regions: its official holidays too",
        ),
        pytest.param(
            "normal", local("America/Bogota", 2026, 12, 23, 11), "XX", "America/Bogota", (2027, 1, 6),
            id="country without calendar: weekends only",
        ),
    ],
)
def test_business_day_lead_times(
    change_type: str, requested_at: datetime, country: str | None, zone: str, expected: tuple[int, int, int]
) -> None:
    start = earliest_start(change_type=change_type, requested_at=requested_at, country=country, tz=zone)

    assert start == local(zone, *expected)
    assert (start.hour, start.minute, start.utcoffset()) == (0, 0, ZoneInfo(zone).utcoffset(start.replace(tzinfo=None)))
    assert start.weekday() < 5


@pytest.mark.parametrize(
    ("change_type", "requested_at", "zone", "expected_local"),
    [
        ("emergencia", local("America/Bogota", 2026, 11, 27, 23, 15), "America/Bogota", (2026, 11, 28, 3, 15)),
        ("urgente", local("America/Bogota", 2026, 12, 24, 18), "America/Bogota", (2026, 12, 26, 18)),
        # Chile moves its clocks forward on 6 Sep 2026: 48 elapsed hours end at 13:00, not 12:00.
        ("urgente", local("America/Santiago", 2026, 9, 5, 12), "America/Santiago", (2026, 9, 7, 13)),
    ],
)
def test_hour_lead_times_are_elapsed_hours_24x7(
    change_type: str, requested_at: datetime, zone: str, expected_local: tuple[int, ...]
) -> None:
    start = earliest_start(change_type=change_type, requested_at=requested_at, country="CO", tz=zone)

    hours = get_change_table().types[change_type].hours
    # In UTC: Python subtracts two times of the same zone by their wall clocks.
    assert start.astimezone(timezone.utc) - requested_at.astimezone(timezone.utc) == timedelta(hours=hours)
    assert start.astimezone(ZoneInfo(zone)).replace(tzinfo=None) == datetime(*expected_local)


def test_naive_request_time_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        earliest_start(change_type="normal", requested_at=datetime(2026, 1, 1), country="CO", tz="America/Bogota")


EARLIEST = local("America/Bogota", 2026, 12, 4)
URGENT_EARLIEST = local("America/Bogota", 2026, 11, 29, 10)


@pytest.mark.parametrize(
    ("desired", "earliest", "expected"),
    [
        (None, EARLIEST, EARLIEST),
        (date(2026, 12, 1), EARLIEST, EARLIEST),
        (date(2026, 12, 4), EARLIEST, EARLIEST),
        (date(2026, 12, 19), EARLIEST, local("America/Bogota", 2026, 12, 19)),
        (date(2026, 11, 29), URGENT_EARLIEST, URGENT_EARLIEST),
        (date(2026, 11, 30), URGENT_EARLIEST, local("America/Bogota", 2026, 11, 30)),
    ],
)
def test_scheduled_for_is_the_later_of_both(desired: date | None, earliest: datetime, expected: datetime) -> None:
    assert scheduled_for(desired, earliest) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Ampliación del ANCHO de banda", ("ampliacion", "ancho", "banda")),
        ("abrir los puertos 80 y 443", ("abrir", "puerto", "80", "443")),
        ("Contraseña del Wi-Fi", ("contraseña", "wi", "fi")),
        ("cambiar los DNS", ("cambiar", "dns")),
        ("", ()),
    ],
)
def test_words_ignore_case_accents_stop_words_and_plural(text: str, expected: tuple[str, ...]) -> None:
    assert words(text) == expected


@pytest.mark.parametrize(
    ("description", "item"),
    [
        ("Necesitamos AMPLIAR el ancho de banda de la sede norte a 500 Mbps", "Ampliación de ancho de banda"),
        ("solicito aumento de ancho de banda", "Ampliación de ancho de banda"),
        ("quiero cambiar los dns del router por los de Google", "Cambio de DNS"),
        ("necesito abrir los puertos 80 y 443 hacia el servidor", "Apertura de puerto"),
        ("cierre de puertos no usados", "Cierre de puerto"),
        ("Cambio de contraseña WIFI de la oficina", "Cambio de contraseña wifi"),
        ("cambiar la clave del wifi", "Cambio de contraseña wifi"),
        ("alta de usuarios nuevos para el portal", "Alta de usuario"),
        ("dar de baja un usuario que se retiró", "Baja de usuario"),
        ("cambiar el nombre de la red wifi de invitados", "Cambio de nombre de la red wifi"),
        ("migrar el enlace a fibra óptica", None),
        ("el ancho de banda está lento", None),
        ("instalar un router nuevo en la sede", None),
        ("abrir un ticket por el puerto", None),  # words not together: not the catalogue phrase
    ],
)
def test_catalogue_matching(description: str, item: str | None) -> None:
    found = match_catalogue(get_change_table(), description)
    assert (found.name if found else None) == item


NOW = local("America/Bogota", 2026, 11, 27, 10)  # a Friday


@pytest.mark.parametrize(
    ("description", "restores", "desired", "country", "expected_type", "earliest_local", "reason_parts"),
    [
        pytest.param(
            "abrir el puerto 443", False, None, "CO", "estandar", (2026, 12, 4, 0),
            ["cambio de catálogo (apertura de puerto)", "tipo estándar", "5 días hábiles"],
            id="catalogue -> estandar",
        ),
        pytest.param(
            "mover el enlace a otro piso", False, None, "CO", "normal", (2026, 12, 14, 0),
            ["No es un cambio de catálogo", "tipo normal", "10 días hábiles"],
            id="otherwise normal",
        ),
        pytest.param(
            "abrir el puerto 443", False, date(2026, 12, 4), "CO", "estandar", (2026, 12, 4, 0),
            ["tipo estándar"],
            id="wanted exactly on the earliest day: no hurry",
        ),
        pytest.param(
            "abrir el puerto 443", False, date(2026, 12, 3), "CO", "urgente", (2026, 11, 29, 10),
            ["anterior a la que permite un cambio de tipo estándar", "desde el 04/12/2026", "tipo urgente", "48 horas"],
            id="catalogue wanted sooner -> urgente",
        ),
        pytest.param(
            "mover el enlace a otro piso", False, date(2026, 12, 10), "CO", "urgente", (2026, 11, 29, 10),
            ["(10 días hábiles, desde el 14/12/2026)", "tipo urgente"],
            id="normal wanted sooner -> urgente",
        ),
        pytest.param(
            "mover el enlace a otro piso", False, date(2026, 12, 15), "CO", "normal", (2026, 12, 14, 0),
            ["tipo normal"],
            id="normal wanted later",
        ),
        pytest.param(
            "abrir el puerto 443 para restablecer el acceso", True, date(2027, 3, 1), "CO", "emergencia",
            (2026, 11, 27, 14), ["restablecer un servicio caído", "tipo emergencia", "4 horas"],
            id="restoring service -> emergencia whatever else",
        ),
        pytest.param(
            "mover el enlace a otro piso", False, date(2026, 12, 10), None, "urgente", (2026, 11, 29, 10),
            ["(10 días hábiles, desde el 11/12/2026)"],
            id="unknown country: default time zone, no holidays",
        ),
    ],
)
def test_classify_change(
    description: str,
    restores: bool,
    desired: date | None,
    country: str | None,
    expected_type: str,
    earliest_local: tuple[int, ...],
    reason_parts: list[str],
) -> None:
    result = classify_change(
        description=description, restores_service=restores, desired=desired, now=NOW, country=country
    )

    assert result.change_type == expected_type
    assert result.name == get_change_table().types[expected_type].name
    assert result.earliest_at == local("America/Bogota", *earliest_local)
    assert result.scheduled_for == scheduled_for(desired, result.earliest_at)
    for part in reason_parts:
        assert part in result.reason
    assert result.reason.endswith(".")


@pytest.mark.parametrize(
    ("country", "zone"),
    [("PE", "America/Lima"), ("AR", "America/Argentina/Buenos_Aires"), ("MX", "America/Mexico_City")],
)
def test_classify_uses_the_countrys_time_zone(country: str, zone: str) -> None:
    result = classify_change(
        description="cambio de DNS", restores_service=False, desired=None, now=NOW, country=country
    )
    assert result.earliest_at.tzinfo == ZoneInfo(zone)
    assert result.earliest_at.hour == 0
