"""Holiday calendars for business days: official holidays plus the NOC's own closures.

Each country's public holidays come from the maintained ``holidays`` package,
which computes any year (Holy Week and carnival, Colombia's Monday holidays,
days moved by law), so a change request filed years from now still skips its
holidays. A hand-kept list ran out after its last year and then, silently,
only weekends were skipped.

``escalation_tables/holidays.yml`` keeps what only the NOC knows:

* ``company_days``: days the company is closed, in every country;
* ``closures``: extra closures per country (a holiday decreed at short notice);
* ``categories``: which of the package's holiday categories count in a
  country (by default only ``public``, the national days off).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

import holidays

from noc.domain.tables import TABLES_DIR, TableError, load_yaml, table_label

HOLIDAYS_FILE = TABLES_DIR / "holidays.yml"
DEFAULT_CATEGORIES: tuple[str, ...] = (holidays.PUBLIC,)
SECTIONS = ("company_days", "closures", "categories")
# Holiday names in Spanish where the package has them (the Caribbean's are English, Dutch...).
LANGUAGE = "es"
_ISO_CODE = re.compile(r"^[A-Z]{2}$")


@dataclass(frozen=True)
class Overrides:
    """The NOC's additions to the official calendars (escalation_tables/holidays.yml)."""

    company_days: Mapping[date, str]
    closures: Mapping[str, Mapping[date, str]]  # ISO country -> date -> name
    categories: Mapping[str, tuple[str, ...]]  # ISO country -> holidays package categories


NO_OVERRIDES = Overrides(
    company_days=MappingProxyType({}), closures=MappingProxyType({}), categories=MappingProxyType({})
)


def _official(country: str, categories: tuple[str, ...], years: int | None = None) -> holidays.HolidayBase | None:
    """The package's calendar of ``country`` (None when it has none); years are filled in as they are asked."""
    try:
        supported = holidays.country_holidays(country).supported_languages
        language = LANGUAGE if LANGUAGE in supported else None
        return holidays.country_holidays(country, years=years, categories=categories, language=language)
    except NotImplementedError:
        return None


class Calendars:
    """Closed days per country: the package's holidays, the NOC's closures and company days."""

    def __init__(self, overrides: Overrides = NO_OVERRIDES) -> None:
        self.overrides = overrides
        # One expanding calendar per country, built on first use: it computes each year once.
        self._official: dict[str, holidays.HolidayBase | None] = {}

    def categories(self, country: str) -> tuple[str, ...]:
        return self.overrides.categories.get(country, DEFAULT_CATEGORIES)

    def closure(self, country: str | None, day: date) -> str | None:
        """Why ``day`` is not worked in ``country`` (a holiday's name), or None (weekends aside).

        An unknown country (None) or one the package does not cover only has the company days.
        """
        code = (country or "").upper()
        named = self.overrides.closures.get(code, {}).get(day) or self.overrides.company_days.get(day)
        if named or not code:
            return named
        if code not in self._official:
            self._official[code] = _official(code, self.categories(code))
        calendar = self._official[code]
        return calendar.get(day) if calendar is not None else None

    def covers(self, country: str, year: int) -> bool:
        """Whether the package has ``country``'s holidays for ``year`` (a known country, a year in its range)."""
        calendar = _official(country, self.categories(country), years=year)
        return calendar is not None and len(calendar) > 0


def check_coverage(calendars: Calendars, countries: Iterable[str], *, today: date) -> None:
    """TableError naming every country with no official calendar for this year or the next.

    Both years: a 10-business-day lead time asked in December ends in January.
    """
    years = (today.year, today.year + 1)
    gaps = []
    for code in sorted(set(countries)):
        missing = [str(year) for year in years if not calendars.covers(code, year)]
        if missing:
            gaps.append(f"{code} ({', '.join(missing)})")
    if gaps:
        raise TableError(
            f"calendarios de feriados: el paquete holidays {holidays.__version__} no tiene los feriados de "
            f"{'; '.join(gaps)}, países de las regiones de escalamiento: sus solicitudes de cambio no saltarían "
            "los feriados. Actualice holidays en requirements.in y requirements.lock o saque el país de la región."
        )


def _days(label: str, where: str, raw: Any) -> Mapping[date, str]:
    if not isinstance(raw, dict):
        raise TableError(f"{label}: {where} debe ser un mapeo AAAA-MM-DD: nombre")
    days: dict[date, str] = {}
    for day, name in raw.items():
        if not isinstance(day, date) or isinstance(day, datetime):
            raise TableError(f"{label}: {where}: {day!r} no es una fecha AAAA-MM-DD válida")
        if not isinstance(name, str) or not name.strip():
            raise TableError(f"{label}: {where}: el día {day.isoformat()} no tiene nombre")
        days[day] = " ".join(name.split())
    return MappingProxyType(days)


def _country(label: str, section: str, code: Any) -> str:
    if not isinstance(code, str) or not _ISO_CODE.match(code):
        raise TableError(f"{label}: {section}: {code!r} no es un código de país de dos letras mayúsculas")
    return code


def _categories(label: str, code: str, raw: Any) -> tuple[str, ...]:
    if not isinstance(raw, list) or not raw or not all(isinstance(item, str) for item in raw):
        raise TableError(f"{label}: categories: {code} debe ser una lista de categorías, por ejemplo [public, bank]")
    calendar = _official(code, DEFAULT_CATEGORIES)
    if calendar is None:
        raise TableError(f"{label}: categories: el paquete holidays no tiene calendario de {code}")
    unknown = [item for item in raw if item not in calendar.supported_categories]
    if unknown:
        raise TableError(
            f"{label}: categories: {code} no tiene las categorías {', '.join(unknown)} "
            f"(tiene {', '.join(sorted(calendar.supported_categories))})"
        )
    return tuple(raw)


def load_overrides(path: Path = HOLIDAYS_FILE) -> Overrides:
    """Read and validate the NOC's overrides; TableError naming the file on the first problem."""
    label = table_label(path)
    data = load_yaml(path)
    unknown = [str(key) for key in data if key not in SECTIONS]
    if unknown:
        # A misspelt section would otherwise be ignored, and its closures with it.
        raise TableError(f"{label}: secciones desconocidas: {', '.join(unknown)} (válidas: {', '.join(SECTIONS)})")
    company_days = _days(label, "company_days", data.get("company_days") or {})
    raw_closures = data.get("closures") or {}
    if not isinstance(raw_closures, dict):
        raise TableError(f"{label}: closures debe ser un mapeo código de país: {{fecha: nombre}}")
    closures = {
        _country(label, "closures", code): _days(label, f"closures: {code}", days)
        for code, days in raw_closures.items()
    }
    raw_categories = data.get("categories") or {}
    if not isinstance(raw_categories, dict):
        raise TableError(f"{label}: categories debe ser un mapeo código de país: [categorías]")
    categories = {
        _country(label, "categories", code): _categories(label, code, value) for code, value in raw_categories.items()
    }
    return Overrides(
        company_days=company_days,
        closures=MappingProxyType(closures),
        categories=MappingProxyType(categories),
    )
