"""Escalation book: who to call, per region and level, and each country's time zone.

Loaded from the NOC-editable tables in escalation_tables/ (one file per region
plus service_desk.yml) and validated as a whole, so that a typo in a phone
number stops the action server at start-up rather than mid-incident.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers

from noc.domain.tables import TABLES_DIR, TableError, load_yaml, table_label

REGION_SLUGS = ("colombia", "peru", "cono_sur", "mexico", "venezuela", "centroamerica_caribe")
SERVICE_DESK_FILE = "service_desk.yml"

_ISO_CODE = re.compile(r"^[A-Z]{2}$")
_EMAIL = re.compile(r"^[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}$")
_CONTACT_FIELDS = ("role", "name", "phone", "email", "hours")


@dataclass(frozen=True)
class Contact:
    level: int
    role: str
    name: str
    phone: str
    email: str
    hours: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "role": self.role,
            "name": self.name,
            "phone": self.phone,
            "email": self.email,
            "hours": self.hours,
        }


@dataclass(frozen=True)
class Region:
    slug: str
    name: str
    countries: Mapping[str, str]  # ISO code -> IANA time zone
    country_names: Mapping[str, str]  # ISO code -> Spanish name
    levels: tuple[Contact, ...]


@dataclass(frozen=True)
class EscalationBook:
    regions: Mapping[str, Region]
    general: Contact
    default_timezone: str
    # Time zones for countries outside the regions that have several (from service_desk.yml).
    extra_timezones: Mapping[str, str] = MappingProxyType({})

    def region_for_country(self, country: str | None) -> Region | None:
        code = _code(country)
        if code is None:
            return None
        for region in self.regions.values():
            if code in region.countries:
                return region
        return None

    def contact(self, region_slug: str | None, level: int = 1) -> Contact | None:
        """Contact for `level` in the region; None past its last level.

        Customers outside the regions (or not yet placed) get the general
        Service Desk, which has no further levels of its own.
        """
        region = self.regions.get(region_slug) if region_slug else None
        if region is None:
            return self.general if level == 1 else None
        if 1 <= level <= len(region.levels):
            return region.levels[level - 1]
        return None

    def timezone_for(self, country: str | None) -> str:
        code = _code(country)
        if code is None:
            return self.default_timezone
        region = self.region_for_country(code)
        if region is not None:
            return region.countries[code]
        if code in self.extra_timezones:
            return self.extra_timezones[code]
        return _single_timezone(code) or self.default_timezone

    def country_name(self, country: str | None) -> str | None:
        code = _code(country)
        region = self.region_for_country(code)
        return region.country_names[code] if region is not None and code else None

    def max_level(self, region_slug: str | None) -> int:
        region = self.regions.get(region_slug) if region_slug else None
        return len(region.levels) if region is not None else 1

    def as_dict(self, *, max_level: int | None = None) -> dict[str, Any]:
        """JSON-ready view of the book (GET /api/regions).

        `max_level=1` is the public view: levels 2-4 (supervisor, manager,
        director) are reached one level at a time, never from a public page.
        """
        return {
            "regions": [
                {
                    "slug": region.slug,
                    "name": region.name,
                    "countries": [
                        {"code": code, "name": region.country_names[code], "timezone": tz}
                        for code, tz in region.countries.items()
                    ],
                    "levels": [
                        contact.as_dict()
                        for contact in region.levels
                        if max_level is None or contact.level <= max_level
                    ],
                }
                for region in self.regions.values()
            ],
            "general": self.general.as_dict(),
            "default_timezone": self.default_timezone,
        }


def _code(country: str | None) -> str | None:
    if not country or not isinstance(country, str):
        return None
    code = country.strip().upper()
    return code if _ISO_CODE.match(code) else None


@lru_cache(maxsize=256)
def _single_timezone(code: str) -> str | None:
    """The time zone of a country that has only one; None if it has several or none.

    zoneinfo has no country index; pytz (installed with Rasa) ships the IANA one.
    """
    try:
        import pytz
    except ImportError:  # pragma: no cover - pytz always comes with rasa
        return None
    zones = pytz.country_timezones.get(code, [])
    return zones[0] if len(zones) == 1 and _valid_timezone(zones[0]) else None


def _valid_timezone(name: object) -> bool:
    if not isinstance(name, str) or not name:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _text(label: str, where: str, entry: Mapping[str, Any], field: str) -> str:
    value = entry.get(field)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise TableError(f"{label}: {where} sin {field}")
    return value.strip()


def _contact(label: str, where: str, entry: Any, level: int) -> Contact:
    if not isinstance(entry, dict):
        raise TableError(f"{label}: {where} debe ser un mapeo con {', '.join(_CONTACT_FIELDS)}")
    if isinstance(entry.get("phone"), int):
        # YAML reads an unquoted +57... as a number and drops the plus sign.
        raise TableError(f'{label}: {where} teléfono debe ir entre comillas: "+{entry["phone"]}"')
    values = {field: _text(label, where, entry, field) for field in _CONTACT_FIELDS}
    phone = values["phone"]
    try:
        parsed = phonenumbers.parse(phone, None)
    except phonenumbers.NumberParseException as exc:
        raise TableError(f"{label}: {where} teléfono ilegible {phone!r} ({exc})") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise TableError(f"{label}: {where} teléfono inválido {phone!r}")
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    if phone != e164:
        raise TableError(f"{label}: {where} teléfono {phone!r} debe escribirse en E.164: {e164}")
    if not _EMAIL.match(values["email"]):
        raise TableError(f"{label}: {where} correo inválido {values['email']!r}")
    return Contact(level=level, **values)


def _load_region(path: Path, slug: str) -> Region:
    label = table_label(path)
    data = load_yaml(path)
    if data.get("slug") != slug:
        raise TableError(f"{label}: slug {data.get('slug')!r} no coincide con el archivo ({slug})")
    name = _text(label, "la región", data, "name")
    if data.get("example_data") not in (True, False):
        raise TableError(f"{label}: example_data debe ser true o false")

    raw_countries = data.get("countries")
    if not isinstance(raw_countries, dict) or not raw_countries:
        raise TableError(f"{label}: countries debe listar al menos un país")
    countries: dict[str, str] = {}
    names: dict[str, str] = {}
    for code, entry in raw_countries.items():
        if not isinstance(code, str) or not _ISO_CODE.match(code):
            raise TableError(f"{label}: código de país {code!r} inválido (dos letras mayúsculas)")
        if code not in phonenumbers.SUPPORTED_REGIONS:
            raise TableError(f"{label}: código de país {code} desconocido")
        if not isinstance(entry, dict):
            raise TableError(f"{label}: país {code} debe tener name y timezone")
        names[code] = _text(label, f"país {code}", entry, "name")
        timezone = entry.get("timezone")
        if not _valid_timezone(timezone):
            raise TableError(f"{label}: país {code} con zona horaria inválida {timezone!r}")
        countries[code] = timezone

    raw_levels = data.get("levels")
    if not isinstance(raw_levels, list) or len(raw_levels) < 2:
        raise TableError(f"{label}: levels debe tener al menos 2 niveles")
    levels = []
    for position, entry in enumerate(raw_levels, start=1):
        number = entry.get("level") if isinstance(entry, dict) else None
        if number != position or isinstance(number, bool):
            raise TableError(
                f"{label}: los niveles deben ir numerados 1, 2, 3… sin saltos "
                f"(posición {position} tiene level {number!r})"
            )
        levels.append(_contact(label, f"nivel {position}", entry, position))

    return Region(
        slug=slug,
        name=name,
        countries=MappingProxyType(countries),
        country_names=MappingProxyType(names),
        levels=tuple(levels),
    )


def _load_service_desk(path: Path) -> tuple[Contact, str, dict[str, str]]:
    label = table_label(path)
    data = load_yaml(path)
    general = _contact(label, "contact", data.get("contact"), 1)
    default_timezone = data.get("default_timezone")
    if not _valid_timezone(default_timezone):
        raise TableError(f"{label}: default_timezone inválida {default_timezone!r}")
    raw = data.get("timezones") or {}
    if not isinstance(raw, dict):
        raise TableError(f"{label}: timezones debe ser un mapeo país: zona horaria")
    extra: dict[str, str] = {}
    for code, timezone in raw.items():
        if not isinstance(code, str) or code not in phonenumbers.SUPPORTED_REGIONS:
            raise TableError(f"{label}: timezones tiene un código de país inválido {code!r}")
        if not _valid_timezone(timezone):
            raise TableError(f"{label}: país {code} con zona horaria inválida {timezone!r}")
        extra[code] = timezone
    return general, default_timezone, extra


def _reject_unknown_regions(directory: Path) -> None:
    """A region file with another slug would be silently ignored: refuse it instead."""
    for path in sorted(directory.glob("*.yml")):
        if path.stem in REGION_SLUGS or path.name == SERVICE_DESK_FILE:
            continue
        data = load_yaml(path) if path.is_file() else {}
        if "slug" in data:
            raise TableError(
                f"{table_label(path)}: región desconocida; las regiones válidas son " + ", ".join(REGION_SLUGS)
            )


def load_escalation_book(directory: Path = TABLES_DIR) -> EscalationBook:
    """Read and validate every escalation table; TableError on the first problem."""
    _reject_unknown_regions(directory)
    regions: dict[str, Region] = {}
    seen: dict[str, str] = {}
    for slug in REGION_SLUGS:
        path = directory / f"{slug}.yml"
        region = _load_region(path, slug)
        for code in region.countries:
            if code in seen:
                raise TableError(f"{table_label(path)}: el país {code} ya está en la región {seen[code]}")
            seen[code] = slug
        regions[slug] = region

    general, default_timezone, extra = _load_service_desk(directory / SERVICE_DESK_FILE)
    for code in extra:
        if code in seen:
            raise TableError(
                f"{directory.name}/{SERVICE_DESK_FILE}: timezones repite el país {code}, "
                f"que ya está en la región {seen[code]}"
            )
    return EscalationBook(
        regions=MappingProxyType(regions),
        general=general,
        default_timezone=default_timezone,
        extra_timezones=MappingProxyType(extra),
    )


@lru_cache(maxsize=1)
def get_escalation_book() -> EscalationBook:
    """The book from escalation_tables/, loaded once per process."""
    return load_escalation_book()
