"""Change requests: the four types, their lead times, business days and classification.

Data from ``escalation_tables/change_types.yml`` (types, catalogue of
standard changes), validated when loaded, and the holiday calendars of
``noc.domain.calendars`` (the ``holidays`` package plus the NOC's overrides in
``escalation_tables/holidays.yml``). The conventions are written in the YAML
header and in docs/change_requests.md:

* business days are Monday to Friday minus the country's holidays and the
  NOC's closures, in the country's time zone; they are counted from the
  business day after the request, and the change may start at 00:00 of the
  last one counted;
* hour lead times are added to the exact moment of the request (24x7);
* emergencia only restores a service; urgente when the wanted date comes
  before what the estándar/normal lead time allows; estándar when the
  description matches the catalogue; normal otherwise.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

from noc.domain.calendars import HOLIDAYS_FILE, Calendars, check_coverage, load_overrides
from noc.domain.escalation import get_escalation_book
from noc.domain.tables import TABLES_DIR, TableError, load_yaml, table_label

STANDARD = "estandar"
NORMAL = "normal"
URGENT = "urgente"
EMERGENCY = "emergencia"
CHANGE_TYPES = (STANDARD, NORMAL, URGENT, EMERGENCY)

# Words that say nothing about which change it is ("abrir UN puerto" = "abrir EL puerto").
STOPWORDS = frozenset(
    {"de", "del", "el", "la", "los", "las", "un", "una", "unos", "unas", "al", "a", "en", "para", "por", "y", "o"}
    | {"que", "mi", "mis", "nuestro", "nuestra", "nuestros", "nuestras"}
)
_WORD = re.compile(r"[a-z0-9ñ]+")


@dataclass(frozen=True)
class ChangeType:
    key: str
    name: str
    description: str
    business_days: int | None
    hours: int | None

    @property
    def lead_time(self) -> str:
        """Spanish lead time for messages: "5 días hábiles", "48 horas"."""
        if self.business_days is not None:
            days = self.business_days
            return "1 día hábil" if days == 1 else f"{days} días hábiles"
        return "1 hora" if self.hours == 1 else f"{self.hours} horas"


@dataclass(frozen=True)
class CatalogueItem:
    name: str
    phrases: tuple[tuple[str, ...], ...]  # normalised words of each phrase


@dataclass(frozen=True)
class ChangeTable:
    types: Mapping[str, ChangeType]
    catalogue: tuple[CatalogueItem, ...]
    calendars: Calendars


@dataclass(frozen=True)
class ChangeClass:
    change_type: str
    name: str
    reason: str  # Spanish sentence for the customer and the record
    catalogue_item: str | None
    earliest_at: datetime  # in the customer's time zone
    scheduled_for: datetime  # the later of the wanted date and earliest_at


def words(text: str) -> tuple[str, ...]:
    """Lower-case words without accents, stop words or a plural "s" (ñ is kept)."""
    decomposed = unicodedata.normalize("NFD", (text or "").lower().replace("ñ", "\0"))
    plain = "".join(c for c in decomposed if unicodedata.category(c) != "Mn").replace("\0", "ñ")
    return tuple(
        word[:-1] if len(word) > 3 and word.endswith("s") else word
        for word in _WORD.findall(plain)
        if word not in STOPWORDS
    )


def _contains(haystack: tuple[str, ...], needle: tuple[str, ...]) -> bool:
    size = len(needle)
    return any(haystack[i : i + size] == needle for i in range(len(haystack) - size + 1))


def match_catalogue(table: ChangeTable, description: str) -> CatalogueItem | None:
    """The catalogue item whose phrase appears in ``description``; the longest phrase wins."""
    said = words(description)
    best: tuple[int, CatalogueItem] | None = None
    for item in table.catalogue:
        for phrase in item.phrases:
            if _contains(said, phrase) and (best is None or len(phrase) > best[0]):
                best = (len(phrase), item)
    return best[1] if best else None


def is_business_day(table: ChangeTable, day: date, country: str | None) -> bool:
    return day.weekday() < 5 and table.calendars.closure(country, day) is None


def _aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")


def earliest_start(
    *,
    change_type: str,
    requested_at: datetime,
    country: str | None,
    tz: str,
    table: ChangeTable | None = None,
) -> datetime:
    """Earliest moment a change of this type may start, in the time zone ``tz``.

    Business days: 00:00 of the n-th business day after the request day
    (weekends, ``country``'s holidays and the NOC's closures skipped). Hours:
    the request moment plus that many hours of elapsed time (so a DST change
    does not shift it).
    """
    _aware(requested_at, "requested_at")
    table = table or get_change_table()
    kind = table.types[change_type]
    zone = ZoneInfo(tz)
    if kind.hours is not None:
        return (requested_at.astimezone(timezone.utc) + timedelta(hours=kind.hours)).astimezone(zone)
    day = requested_at.astimezone(zone).date()
    counted = 0
    while counted < (kind.business_days or 0):
        day += timedelta(days=1)
        if is_business_day(table, day, country):
            counted += 1
    return datetime.combine(day, time(0), tzinfo=zone)


def scheduled_for(desired: date | None, earliest: datetime) -> datetime:
    """The later of the wanted day (at 00:00 in ``earliest``'s time zone) and ``earliest``."""
    _aware(earliest, "earliest")
    if desired is None:
        return earliest
    return max(datetime.combine(desired, time(0), tzinfo=earliest.tzinfo), earliest)


def _day(value: datetime) -> str:
    return value.strftime("%d/%m/%Y")


def classify_change(
    *,
    description: str,
    restores_service: bool,
    desired: date | None,
    now: datetime,
    country: str | None,
    tz: str | None = None,
    table: ChangeTable | None = None,
) -> ChangeClass:
    """Type of a change request, with the reason and its dates (see the module docstring).

    ``tz`` defaults to the country's time zone from the escalation tables.
    """
    _aware(now, "now")
    table = table or get_change_table()
    if tz is None:
        tz = get_escalation_book().timezone_for(country)
    item = match_catalogue(table, description)

    def start(kind: str) -> datetime:
        return earliest_start(change_type=kind, requested_at=now, country=country, tz=tz, table=table)

    if restores_service:
        kind = EMERGENCY
        reason = "El cambio es para restablecer un servicio caído"
    else:
        kind = STANDARD if item else NORMAL
        reason = f"Es un cambio de catálogo ({item.name.lower()})" if item else "No es un cambio de catálogo"
        base_start = start(kind)
        if desired is not None and desired < base_start.date():
            base = table.types[kind]
            reason += (
                f"; la fecha pedida ({desired:%d/%m/%Y}) es anterior a la que permite un cambio de tipo "
                f"{base.name.lower()} ({base.lead_time}, desde el {_day(base_start)})"
            )
            kind = URGENT
    chosen = table.types[kind]
    earliest = start(kind)
    reason += f": se tramita como cambio de tipo {chosen.name.lower()}, con un plazo mínimo de {chosen.lead_time}."
    return ChangeClass(
        change_type=kind,
        name=chosen.name,
        reason=reason,
        catalogue_item=item.name if item else None,
        earliest_at=earliest,
        scheduled_for=scheduled_for(desired, earliest),
    )


# --- loading and validation -------------------------------------------------


def _text(label: str, where: str, entry: Mapping[str, Any], field: str) -> str:
    value = entry.get(field)
    if not isinstance(value, str) or not value.strip():
        raise TableError(f"{label}: {where} sin {field}")
    return " ".join(value.split())


def _lead(label: str, key: str, entry: Mapping[str, Any]) -> tuple[int | None, int | None]:
    given = [field for field in ("business_days", "hours") if field in entry]
    if len(given) != 1:
        raise TableError(f"{label}: el tipo {key} debe tener business_days o hours (uno solo)")
    value = entry[given[0]]
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise TableError(f"{label}: el tipo {key}: {given[0]} debe ser un entero positivo, no {value!r}")
    return (value, None) if given[0] == "business_days" else (None, value)


def _load_catalogue(label: str, raw: Any) -> tuple[CatalogueItem, ...]:
    if not isinstance(raw, list) or not raw:
        raise TableError(f"{label}: el tipo {STANDARD} necesita un catalogue con al menos un cambio")
    items = []
    owner: dict[tuple[str, ...], str] = {}
    for entry in raw:
        if not isinstance(entry, dict):
            raise TableError(f"{label}: cada elemento de catalogue debe ser un mapeo con name y phrases")
        name = _text(label, "un elemento de catalogue", entry, "name")
        phrases = entry.get("phrases")
        if not isinstance(phrases, list) or not phrases:
            raise TableError(f"{label}: el cambio de catálogo {name!r} no tiene phrases")
        normalised = []
        for phrase in phrases:
            said = words(phrase) if isinstance(phrase, str) else ()
            if not said:
                raise TableError(f"{label}: {name!r}: la frase {phrase!r} no tiene palabras que comparar")
            if said in owner:
                raise TableError(
                    f"{label}: la frase {phrase!r} de {name!r} repite una de {owner[said]!r} "
                    "(sin tildes, mayúsculas, plurales ni palabras vacías)"
                )
            owner[said] = name
            normalised.append(said)
        items.append(CatalogueItem(name=name, phrases=tuple(normalised)))
    return tuple(items)


def _load_types(label: str, raw: Any) -> tuple[dict[str, ChangeType], tuple[CatalogueItem, ...]]:
    if not isinstance(raw, dict):
        raise TableError(f"{label}: types debe ser un mapeo tipo: {{name, description, ...}}")
    unknown = [str(key) for key in raw if key not in CHANGE_TYPES]
    if unknown:
        raise TableError(f"{label}: tipos desconocidos: {', '.join(unknown)} (válidos: {', '.join(CHANGE_TYPES)})")
    missing = [key for key in CHANGE_TYPES if key not in raw]
    if missing:
        raise TableError(f"{label}: faltan los tipos {', '.join(missing)}")
    types = {}
    catalogue: tuple[CatalogueItem, ...] = ()
    for key in CHANGE_TYPES:
        entry = raw[key]
        if not isinstance(entry, dict):
            raise TableError(f"{label}: el tipo {key} debe ser un mapeo")
        business_days, hours = _lead(label, key, entry)
        types[key] = ChangeType(
            key=key,
            name=_text(label, f"el tipo {key}", entry, "name"),
            description=_text(label, f"el tipo {key}", entry, "description"),
            business_days=business_days,
            hours=hours,
        )
        if key == STANDARD:
            catalogue = _load_catalogue(label, entry.get("catalogue"))
        elif "catalogue" in entry:
            raise TableError(f"{label}: solo el tipo {STANDARD} tiene catalogue (está en {key})")
    return types, catalogue


def load_change_table(
    types_path: Path = TABLES_DIR / "change_types.yml",
    holidays_path: Path = HOLIDAYS_FILE,
) -> ChangeTable:
    """Read and validate both files; TableError naming the file on the first problem."""
    label = table_label(types_path)
    types, catalogue = _load_types(label, load_yaml(types_path).get("types"))
    return ChangeTable(
        types=MappingProxyType(types),
        catalogue=catalogue,
        calendars=Calendars(load_overrides(holidays_path)),
    )


@lru_cache(maxsize=1)
def get_change_table() -> ChangeTable:
    """The tables from escalation_tables/, loaded once per process."""
    return load_change_table()


def check_holiday_coverage(table: ChangeTable, countries: Iterable[str], *, today: date) -> None:
    """TableError when a region country has no holiday calendar for this year or the next."""
    check_coverage(table.calendars, countries, today=today)
