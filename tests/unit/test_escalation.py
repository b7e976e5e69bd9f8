from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import phonenumbers
import pytest
import yaml

from noc.domain.escalation import (
    REGION_SLUGS,
    Contact,
    EscalationBook,
    get_escalation_book,
    load_escalation_book,
)
from noc.domain.tables import TABLES_DIR, TableError, load_yaml


@pytest.fixture(scope="module")
def book() -> EscalationBook:
    return load_escalation_book()


# --- the real tables -----------------------------------------------------------


def test_real_tables_load_with_the_six_regions(book: EscalationBook) -> None:
    assert tuple(book.regions) == REGION_SLUGS


def test_cached_getter_returns_one_book() -> None:
    assert get_escalation_book() is get_escalation_book()


@pytest.mark.parametrize("slug", REGION_SLUGS)
def test_region_files_say_contacts_are_example_data(slug: str) -> None:
    data = load_yaml(TABLES_DIR / f"{slug}.yml")
    assert data["example_data"] is True
    assert data["slug"] == slug


@pytest.mark.parametrize("slug", REGION_SLUGS)
def test_region_levels_follow_the_noc_ladder(book: EscalationBook, slug: str) -> None:
    roles = [contact.role for contact in book.regions[slug].levels]
    assert roles == [
        "Service Desk regional",
        "Supervisor de turno NOC",
        "Gerente del NOC",
        "Director de Operaciones",
    ]
    assert book.regions[slug].levels[0].hours == "24x7"


@pytest.mark.parametrize("slug", REGION_SLUGS)
def test_region_phones_belong_to_the_region(book: EscalationBook, slug: str) -> None:
    region = book.regions[slug]
    for contact in region.levels:
        number = phonenumbers.parse(contact.phone)
        assert phonenumbers.region_code_for_number(number) in region.countries
        assert contact.email.endswith("@noc.example.com")


@pytest.mark.parametrize(
    ("slug", "name"),
    [
        ("colombia", "Colombia"),
        ("peru", "Perú"),
        ("cono_sur", "Cono Sur"),
        ("mexico", "México"),
        ("venezuela", "Venezuela"),
        ("centroamerica_caribe", "América Central y El Caribe"),
    ],
)
def test_region_display_names(book: EscalationBook, slug: str, name: str) -> None:
    assert book.regions[slug].name == name


# --- lookups ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("country", "slug"),
    [
        ("CO", "colombia"),
        ("co", "colombia"),
        (" Co ", "colombia"),
        ("PE", "peru"),
        ("AR", "cono_sur"),
        ("CL", "cono_sur"),
        ("UY", "cono_sur"),
        ("PY", "cono_sur"),
        ("BO", "cono_sur"),
        ("MX", "mexico"),
        ("VE", "venezuela"),
        ("GT", "centroamerica_caribe"),
        ("SV", "centroamerica_caribe"),
        ("HN", "centroamerica_caribe"),
        ("NI", "centroamerica_caribe"),
        ("CR", "centroamerica_caribe"),
        ("PA", "centroamerica_caribe"),
        ("DO", "centroamerica_caribe"),
        ("PR", "centroamerica_caribe"),
        ("CU", "centroamerica_caribe"),
        ("JM", "centroamerica_caribe"),
        ("BZ", "centroamerica_caribe"),
    ],
)
def test_region_for_country(book: EscalationBook, country: str, slug: str) -> None:
    region = book.region_for_country(country)
    assert region is not None and region.slug == slug


@pytest.mark.parametrize("country", ["US", "ES", "EC", "BR", "XX", "", None, "COL", "1"])
def test_countries_outside_the_regions(book: EscalationBook, country: str | None) -> None:
    assert book.region_for_country(country) is None
    assert book.country_name(country) is None
    region = book.region_for_country(country)
    assert book.contact(region.slug if region else None) == book.general


@pytest.mark.parametrize("level", [1, 2, 3, 4])
@pytest.mark.parametrize("slug", REGION_SLUGS)
def test_contact_per_level(book: EscalationBook, slug: str, level: int) -> None:
    contact = book.contact(slug, level)
    assert isinstance(contact, Contact) and contact.level == level


@pytest.mark.parametrize(
    ("slug", "level"),
    [("peru", 5), ("colombia", 99), ("cono_sur", 0), ("mexico", -1), (None, 2), ("marte", 2)],
)
def test_no_contact_outside_the_ladder(book: EscalationBook, slug: str | None, level: int) -> None:
    assert book.contact(slug, level) is None


@pytest.mark.parametrize("slug", [None, "", "marte"])
def test_general_contact_for_unknown_region(book: EscalationBook, slug: str | None) -> None:
    assert book.contact(slug) == book.general
    assert book.general.role == "Service Desk general"


@pytest.mark.parametrize(("slug", "expected"), [("peru", 4), ("cono_sur", 4), (None, 1), ("x", 1)])
def test_max_level(book: EscalationBook, slug: str | None, expected: int) -> None:
    assert book.max_level(slug) == expected


@pytest.mark.parametrize(
    ("country", "timezone"),
    [
        ("CO", "America/Bogota"),
        ("pe", "America/Lima"),
        ("AR", "America/Argentina/Buenos_Aires"),
        ("CL", "America/Santiago"),
        ("MX", "America/Mexico_City"),
        ("VE", "America/Caracas"),
        ("PR", "America/Puerto_Rico"),
        ("DO", "America/Santo_Domingo"),
        ("US", "America/New_York"),  # several zones: service_desk.yml picks
        ("ES", "Europe/Madrid"),
        ("EC", "America/Guayaquil"),
        ("JP", "Asia/Tokyo"),  # one zone only: derived
        ("RU", "America/Bogota"),  # several zones, none configured: default
        ("XX", "America/Bogota"),
        (None, "America/Bogota"),
        ("", "America/Bogota"),
    ],
)
def test_timezone_for(book: EscalationBook, country: str | None, timezone: str) -> None:
    assert book.timezone_for(country) == timezone
    ZoneInfo(book.timezone_for(country))


@pytest.mark.parametrize(
    ("country", "name"),
    [("CO", "Colombia"), ("pe", "Perú"), ("DO", "República Dominicana"), ("PA", "Panamá")],
)
def test_country_name(book: EscalationBook, country: str, name: str) -> None:
    assert book.country_name(country) == name


def test_as_dict_is_json_ready(book: EscalationBook) -> None:
    data = json.loads(json.dumps(book.as_dict()))
    assert [region["slug"] for region in data["regions"]] == list(REGION_SLUGS)
    cono_sur = data["regions"][2]
    assert {c["code"] for c in cono_sur["countries"]} == {"AR", "CL", "UY", "PY", "BO"}
    assert set(cono_sur["countries"][0]) == {"code", "name", "timezone"}
    assert set(cono_sur["levels"][0]) == {"level", "role", "name", "phone", "email", "hours"}
    assert data["general"]["phone"] == book.general.phone


# --- validation --------------------------------------------------------------------


@pytest.fixture()
def tables(tmp_path: Path) -> Path:
    directory = tmp_path / "escalation_tables"
    shutil.copytree(TABLES_DIR, directory)
    return directory


def _edit(name: str, change: Callable[[dict[str, Any]], None]) -> Callable[[Path], None]:
    def apply(directory: Path) -> None:
        path = directory / name
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        change(data)
        path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")

    return apply


def _write(name: str, text: str) -> Callable[[Path], None]:
    return lambda directory: (directory / name).write_text(text, encoding="utf-8")


def _level(index: int, **values: Any) -> Callable[[dict[str, Any]], None]:
    return lambda data: data["levels"][index].update(values)


MUTATIONS = [
    ("missing_file", lambda d: (d / "peru.yml").unlink(), "peru.yml", "no existe"),
    ("yaml_syntax", _write("peru.yml", "levels: [\n"), "peru.yml", "YAML inválido"),
    ("not_a_mapping", _write("mexico.yml", "- a\n- b\n"), "mexico.yml", "mapeo"),
    ("slug_mismatch", _edit("peru.yml", lambda d: d.update(slug="lima")), "peru.yml", "slug"),
    ("empty_name", _edit("peru.yml", lambda d: d.update(name=" ")), "peru.yml", "sin name"),
    (
        "example_flag_missing",
        _edit("peru.yml", lambda d: d.pop("example_data")),
        "peru.yml",
        "example_data",
    ),
    (
        "lowercase_iso",
        _edit("peru.yml", lambda d: d.update(countries={"pe": d["countries"]["PE"]})),
        "peru.yml",
        "código de país",
    ),
    (
        "unknown_iso",
        _edit("peru.yml", lambda d: d["countries"].update(XX=d["countries"]["PE"])),
        "peru.yml",
        "desconocido",
    ),
    (
        "country_in_two_regions",
        _edit("peru.yml", lambda d: d["countries"].update(CO=d["countries"]["PE"])),
        "peru.yml",
        "CO ya está en la región colombia",
    ),
    (
        "bad_timezone",
        _edit("peru.yml", lambda d: d["countries"]["PE"].update(timezone="America/Lim")),
        "peru.yml",
        "zona horaria",
    ),
    (
        "country_without_name",
        _edit("peru.yml", lambda d: d["countries"]["PE"].pop("name")),
        "peru.yml",
        "país PE sin name",
    ),
    (
        "level_gap",
        _edit("colombia.yml", _level(2, level=4)),
        "colombia.yml",
        "sin saltos",
    ),
    (
        "levels_start_at_zero",
        _edit("colombia.yml", _level(0, level=0)),
        "colombia.yml",
        "sin saltos",
    ),
    (
        "single_level",
        _edit("venezuela.yml", lambda d: d.update(levels=d["levels"][:1])),
        "venezuela.yml",
        "al menos 2",
    ),
    ("empty_role", _edit("peru.yml", _level(1, role="")), "peru.yml", "nivel 2 sin role"),
    (
        "missing_phone",
        _edit("peru.yml", lambda d: d["levels"][1].pop("phone")),
        "peru.yml",
        "nivel 2 sin phone",
    ),
    ("missing_email", _edit("peru.yml", lambda d: d["levels"][0].pop("email")), "peru.yml", "sin email"),
    ("empty_hours", _edit("peru.yml", _level(3, hours="  ")), "peru.yml", "nivel 4 sin hours"),
    ("invalid_phone", _edit("peru.yml", _level(1, phone="+51 123")), "peru.yml", "teléfono"),
    ("garbage_phone", _edit("peru.yml", _level(1, phone="llamar")), "peru.yml", "teléfono"),
    (
        "phone_not_e164",
        _edit("peru.yml", _level(1, phone="+51 987 450 101")),
        "peru.yml",
        "E.164",
    ),
    (
        "unquoted_phone",
        _write(
            "peru.yml",
            (TABLES_DIR / "peru.yml").read_text(encoding="utf-8").replace('"+51987450101"', "+51987450101"),
        ),
        "peru.yml",
        "comillas",
    ),
    ("bad_email", _edit("peru.yml", _level(2, email="gerencia@noc")), "peru.yml", "correo"),
    (
        "unknown_region_file",
        _write("ecuador.yml", "slug: ecuador\nname: Ecuador\nlevels: []\n"),
        "ecuador.yml",
        "región desconocida",
    ),
    (
        "service_desk_missing",
        lambda d: (d / "service_desk.yml").unlink(),
        "service_desk.yml",
        "no existe",
    ),
    (
        "service_desk_bad_default_tz",
        _edit("service_desk.yml", lambda d: d.update(default_timezone="Bogota")),
        "service_desk.yml",
        "default_timezone",
    ),
    (
        "service_desk_without_contact",
        _edit("service_desk.yml", lambda d: d.pop("contact")),
        "service_desk.yml",
        "contact",
    ),
    (
        "service_desk_bad_phone",
        _edit("service_desk.yml", lambda d: d["contact"].update(phone="+1 000")),
        "service_desk.yml",
        "teléfono",
    ),
    (
        "service_desk_tz_for_region_country",
        _edit("service_desk.yml", lambda d: d["timezones"].update(CO="America/Bogota")),
        "service_desk.yml",
        "repite el país CO",
    ),
    (
        "service_desk_bad_extra_tz",
        _edit("service_desk.yml", lambda d: d["timezones"].update(US="Nueva York")),
        "service_desk.yml",
        "zona horaria",
    ),
]


@pytest.mark.parametrize(
    ("mutate", "file_name", "problem"),
    [pytest.param(m, f, p, id=name) for name, m, f, p in MUTATIONS],
)
def test_broken_tables_are_rejected(tables: Path, mutate: Callable[[Path], None], file_name: str, problem: str) -> None:
    mutate(tables)
    with pytest.raises(TableError) as excinfo:
        load_escalation_book(tables)
    message = str(excinfo.value)
    assert f"escalation_tables/{file_name}" in message
    assert problem in message


def test_copied_tables_load_unchanged(tables: Path) -> None:
    assert load_escalation_book(tables) == load_escalation_book()
