"""When did the problem start? Spanish answers to a time zone-aware datetime.

dateparser alone gets most of the common Spanish answers wrong ("hoy a las 9"
comes back as the current time, "8:00" as yesterday, "25/11 14:00" as last
year, "anoche" or "hace media hora" not at all), so the usual shapes are read
here by small rules and dateparser is only the fallback for anything else that
looks like a date.

Conventions (the summary shows the result, so the customer can correct it):

* A part of the day without a clock time means: madrugada 03:00, mañana 08:00,
  tarde 14:00, noche 20:00. If that hour is still ahead but the part of the day
  has begun ("esta mañana" said at 07:00), its start is used instead
  (madrugada 00:00, mañana 06:00, tarde 12:00, noche 19:00).
* "anoche" is yesterday 20:00; "antenoche" the night before.
* A day without a clock time ("ayer", "el lunes", "el 20 de noviembre") means
  00:00 of that day.
* A weekday is the last such day before today: "el lunes" said on a Monday is
  a week ago (today would be "hoy").
* A bare hour is read on a 24-hour clock ("a las 3" = 03:00) unless qualified
  ("de la tarde", "pm"...).
* A clock time with no day that would be in the future is yesterday's ("a las
  8" said at 07:00). With an explicit day ("hoy", a date) a future moment is
  refused (None) so the form asks again.
* "hace N días/semanas/meses" keeps the current clock time unless a time is
  also given ("hace 3 días a las 9").
* "el fin de semana" is last Saturday 00:00; "la semana pasada" is Monday of
  last week 00:00.
* Anything in the future or more than a year back is None.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import dateparser

from noc.domain.validators import normalize_text

PART_DEFAULT_HOUR = {"madrugada": 3, "manana": 8, "tarde": 14, "noche": 20}
PART_START_HOUR = {"madrugada": 0, "manana": 6, "tarde": 12, "noche": 19}

NUMBER_WORDS = {
    "un": 1,
    "una": 1,
    "uno": 1,
    "dos": 2,
    "tres": 3,
    "cuatro": 4,
    "cinco": 5,
    "seis": 6,
    "siete": 7,
    "ocho": 8,
    "nueve": 9,
    "diez": 10,
    "once": 11,
    "doce": 12,
    "quince": 15,
    "veinte": 20,
    "veinticinco": 25,
    "treinta": 30,
    "cuarenta": 40,
    "cuarenta y cinco": 45,
    "cincuenta": 50,
    "un par de": 2,
    "par de": 2,
    "media": 0.5,
    "medio": 0.5,
}
MONTHS = {
    "enero": 1,
    "ene": 1,
    "febrero": 2,
    "feb": 2,
    "marzo": 3,
    "mar": 3,
    "abril": 4,
    "abr": 4,
    "mayo": 5,
    "may": 5,
    "junio": 6,
    "jun": 6,
    "julio": 7,
    "jul": 7,
    "agosto": 8,
    "ago": 8,
    "septiembre": 9,
    "setiembre": 9,
    "sep": 9,
    "sept": 9,
    "set": 9,
    "octubre": 10,
    "oct": 10,
    "noviembre": 11,
    "nov": 11,
    "diciembre": 12,
    "dic": 12,
}
# Month names that stand alone in a sentence ("mar" and "set" are also words).
_FULL_MONTHS = tuple(name for name in MONTHS if len(name) > 4 or name == "mayo")
WEEKDAYS = {
    "lunes": 0,
    "martes": 1,
    "miercoles": 2,
    "jueves": 3,
    "viernes": 4,
    "sabado": 5,
    "domingo": 6,
}


def alternation(words: object) -> str:
    return "|".join(sorted((re.escape(w) for w in words), key=len, reverse=True))


_NUMBER = rf"(?:\d+(?:[.,]\d+)?|{alternation(NUMBER_WORDS)})"
_MONTH = rf"(?:{alternation(MONTHS)})\.?"
_WEEKDAY = alternation(WEEKDAYS)
_PART = r"(?:madrugada|manana|tarde|noche)"
_HOUR_WORD = alternation(w for w, n in NUMBER_WORDS.items() if isinstance(n, int) and n <= 12)

_UNIT_MINUTES = r"minutos?|mins?|m"
_UNIT_HOURS = r"horas?|hrs?|hs|h"
_UNIT_DAYS = r"dias?|d"
_UNIT_WEEKS = r"semanas?|sem"
_UNIT_MONTHS = r"meses|mes"
_UNIT_YEARS = r"anos?"
_UNITS = {
    "minutes": _UNIT_MINUTES,
    "hours": _UNIT_HOURS,
    "days": _UNIT_DAYS,
    "weeks": _UNIT_WEEKS,
    "months": _UNIT_MONTHS,
    "years": _UNIT_YEARS,
}
_ANY_UNIT = "|".join(f"(?P<{name}>{pattern})" for name, pattern in _UNITS.items())

_FILLERS = re.compile(
    r"\b(?:desde|aproximadamente|aprox|mas o menos|alrededor de|cerca de|a eso de|eso de"
    r"|mas de|menos de|casi|como|tipo|unos|unas|ya|ahi)\b"
)
_RELATIVE = re.compile(
    rf"\bhace\s+(?:(?P<amount>{_NUMBER})\s*)?(?:{_ANY_UNIT})\b"
    r"(?:\s+y\s+(?P<extra>media|cuarto|\d{1,2}\s*(?:minutos?|mins?|m)\b))?"
)
# "3 horas atrás" is another way to say "hace 3 horas".
_AGO_AFTER = re.compile(
    rf"\b(?P<span>(?:{_NUMBER})?\s*(?:{_UNIT_MINUTES}|{_UNIT_HOURS}|{_UNIT_DAYS}|{_UNIT_WEEKS}"
    rf"|{_UNIT_MONTHS}|{_UNIT_YEARS})(?:\s+y\s+media)?)\s+(?:atras|antes)\b"
)
_VAGUE_RELATIVE = re.compile(r"\bhace\s+(?:un\s+)?(?:rato|ratito|poco|tiempo|mucho)\b")
_ISO_DATE = re.compile(r"\b(?P<y>\d{4})([-/])(?P<m>\d{1,2})\2(?P<d>\d{1,2})\b")
_NUMERIC_DATE = re.compile(r"\b(?P<d>\d{1,2})[/-](?P<m>\d{1,2})(?:[/-](?P<y>\d{2}|\d{4}))?\b")
_TEXT_DATE = re.compile(
    rf"\b(?P<d>\d{{1,2}}|primero)(?:ro|ero|o|°)?\s+(?:de\s+)?(?P<month>{_MONTH})"
    r"(?:\s+(?:de\s+|del\s+)?(?P<y>\d{4}))?(?!\w)"
)
_TEXT_DATE_MONTH_FIRST = re.compile(
    rf"\b(?P<month>{_MONTH})\s+(?P<d>\d{{1,2}})(?:\s*,?\s*(?:de\s+|del\s+)?(?P<y>\d{{4}}))?\b"
)
_DAY_OF_MONTH = re.compile(r"\b(?:el|dia)\s+(?P<d>\d{1,2})\b(?!\s*(?::|\.\d|h\b|hs\b|hrs?\b|am\b|pm\b))")
_DAY_WORDS = [
    (re.compile(r"\b(?:antes de ayer|anteayer|antier)\b"), -2, None),
    (re.compile(r"\bantenoche\b"), -2, "noche"),
    (re.compile(r"\banoche\b"), -1, "noche"),
    (re.compile(r"\bayer\b"), -1, None),
    (re.compile(rf"\besta\s+(?P<part>{_PART})\b"), 0, None),
    (re.compile(r"\bhoy\b"), 0, None),
]
_WEEKEND = re.compile(r"\b(?:el|este|ultimo)?\s*fin de semana(?:\s+pasado)?\b")
_LAST_WEEK = re.compile(r"\b(?:la\s+)?semana pasada\b")
_WEEKDAY_RE = re.compile(rf"\b(?:el\s+|este\s+|ultimo\s+)?(?:pasado\s+)?(?P<wd>{_WEEKDAY})\b(?:\s+pasado)?")
# "mañana" only with an article: bare it means tomorrow.
_PART_RE = re.compile(
    r"\b(?:(?:de|en|por|a|durante)\s+)?"
    r"(?:la\s+(?P<part>madrugada|manana|tarde|noche)|(?P<bare>madrugada|tarde|noche))\b"
)
_NOON = re.compile(r"\b(?:al?\s+)?(?:medio ?dia)\b")
_MIDNIGHT = re.compile(r"\b(?:a\s+la\s+)?media ?noche\b")
_HOUR_BEFORE_PART = re.compile(
    rf"\b(?:a\s+)?(?:las?\s+)?(?P<h>\d{{1,2}}|{_HOUR_WORD})"
    r"(?:\s+y\s+(?P<extra>media|cuarto|\d{1,2}))?"
    rf"\s+(?:de|en|por)\s+la\s+(?P<part>{_PART})\b"
)
_MONTH_ONLY = re.compile(
    r"\b(?:(?:a\s+)?(?:principios|inicios|comienzos)\s+de\s+)?(?:el\s+mes\s+de\s+)?"
    rf"(?P<month>{alternation(_FULL_MONTHS)})\b"
)
_SUFFIX = r"(?:\s*(?P<suffix>am|pm|hrs?|hs|h|horas)\b)?"
_CLOCK = re.compile(rf"\b(?:a\s+)?(?:las?\s+)?(?P<h>\d{{1,2}})\s*[:h.]\s*(?P<mi>\d{{2}})\b{_SUFFIX}")
_AT_HOUR = re.compile(
    rf"\b(?:a\s+)?las?\s+(?P<h>\d{{1,2}}|{_HOUR_WORD})"
    r"(?:\s+y\s+(?P<extra>media|cuarto|\d{1,2}))?(?!\w)" + _SUFFIX
)
_HOUR_SUFFIX = re.compile(r"\b(?P<h>\d{1,2})\s*(?P<suffix>am|pm|hrs?|hs|h|horas)\b")
_TOMORROW = re.compile(r"\b(?:manana|pasado manana|proximo|proxima|que viene)\b")


@dataclass
class _Parts:
    """What the rules found in the answer; None/False where nothing was said."""

    day: date | None = None
    explicit_day: bool = False
    night_anchor: bool = False  # a night tied to a day: times after midnight belong to the next
    part: str | None = None
    hour: int | None = None
    minute: int = 0
    suffix: str | None = None
    invalid: bool = False

    def found(self) -> bool:
        return self.day is not None or self.part is not None or self.hour is not None


def _number(text: str) -> float:
    text = text.strip()
    if text in NUMBER_WORDS:
        return float(NUMBER_WORDS[text])
    return float(text.replace(",", "."))


# Diminutives customers use for spans ("hace unas horitas", "20 minutitos").
_DIMINUTIVES = ((r"\bhoritas?\b", "horas"), (r"\bminutitos?\b", "minutos"), (r"\bdiitas?\b", "dias"))
# "Ya van 3 horas", "llevamos 2 días sin servicio": another way to say "hace".
_SPAN_SO_FAR = re.compile(
    rf"\b(?:ya\s+)?(?:van|va|llevamos|lleva|llevan|tenemos|tiene|son)\s+"
    rf"(?=(?:{_NUMBER})\s*(?:{_UNIT_MINUTES}|{_UNIT_HOURS}|{_UNIT_DAYS}|{_UNIT_WEEKS})\b)"
)


_SPAN_ALONE = re.compile(
    rf"(?:{_NUMBER})\s*(?:{_UNIT_MINUTES}|{_UNIT_HOURS}|{_UNIT_DAYS}|{_UNIT_WEEKS})(?:\s+y\s+media)?"
)


_BARE_HOUR_AFTER_DAY = re.compile(
    r"\b(anoche|ayer|hoy|antenoche|antier|anteayer)\s+(\d{1,2}(?::\d{2})?)\b(?!\s*(?:horas?|hrs?|minutos?|mins?|dias?|[/-]))"
)


def _normalize(text: str) -> str:
    text = normalize_text(text)
    for pattern, plain in _DIMINUTIVES:
        text = re.sub(pattern, plain, text)
    text = _SPAN_SO_FAR.sub("hace ", text)
    # "Desde temprano", "ayer temprano": early in the morning (of that day).
    text = re.sub(r"\b(?:bien\s+|muy\s+)?temprano\b", "en la manana", text)
    text = re.sub(r"\b([ap])\s*\.\s*m\b\.?", r"\1m", text)
    text = re.sub(r"[¿?¡!;]", " ", text)
    text = _FILLERS.sub(" ", text)
    # "Anoche tipo 11", "ayer como 5": once the filler is gone, a bare hour after a day word is that hour.
    text = _BARE_HOUR_AFTER_DAY.sub(r"\1 a las \2", text)
    text = _AGO_AFTER.sub(lambda m: f"hace {m.group('span').strip()}", text)
    text = re.sub(r"\s+", " ", text).strip(" ,.")
    # A span alone answers "¿desde cuándo?" as "hace …": "como dos horas", "unos 3 días".
    return f"hace {text}" if _SPAN_ALONE.fullmatch(text) else text


def _local_now(now: datetime, zone: ZoneInfo) -> datetime:
    if now.tzinfo is None:
        return now.replace(tzinfo=zone)
    return now.astimezone(zone)


def _minus_months(moment: datetime, months: int) -> datetime:
    month_index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(month_index, 12)
    day = moment.day
    while True:
        try:
            return moment.replace(year=year, month=month + 1, day=day)
        except ValueError:
            day -= 1


def _relative(text: str, now: datetime) -> tuple[datetime | None, str]:
    """'hace 2 horas' -> (moment, unit kind) or (None, '') if there is no 'hace'."""
    match = _RELATIVE.search(text)
    if not match:
        return None, ""
    unit = next(name for name in _UNITS if match.group(name))
    amount = _number(match.group("amount")) if match.group("amount") else 1.0
    if amount > 600_000:  # more minutes than a year has; timedelta would overflow first
        return None, unit
    extra = match.group("extra")
    if extra == "media":
        amount += 0.5
    elif extra == "cuarto":
        amount += 0.25
    elif extra:
        if unit != "hours":
            return None, unit
        amount += int(re.sub(r"\D", "", extra)) / 60
    utc = ZoneInfo("UTC")
    if unit in ("months", "years"):
        months = amount * (12 if unit == "years" else 1)
        if months != int(months):
            return None, unit
        return _minus_months(now, int(months)), unit
    minutes = {"minutes": 1, "hours": 60, "days": 1440, "weeks": 10080}[unit] * amount
    # Subtract in UTC so "hace 2 horas" stays right across a DST change.
    moment = (now.astimezone(utc) - timedelta(minutes=minutes)).astimezone(now.tzinfo)
    return moment.replace(second=0, microsecond=0), unit


def _make_date(year: int | None, month: int, day: int, today: date) -> date | None:
    try:
        if year is not None:
            if year < 100:
                year += 2000
            return date(year, month, day)
        candidate = date(today.year, month, day)
        # Without a year, a date still ahead this year is last year's.
        return candidate if candidate <= today else date(today.year - 1, month, day)
    except ValueError:
        return None


def _take(pattern: re.Pattern[str], text: str) -> tuple[re.Match[str] | None, str]:
    match = pattern.search(text)
    if not match:
        return None, text
    return match, f"{text[: match.start()]} {text[match.end() :]}"


def _read_date(text: str, today: date, parts: _Parts) -> str:
    for pattern in (_ISO_DATE, _TEXT_DATE, _TEXT_DATE_MONTH_FIRST, _NUMERIC_DATE):
        match, text = _take(pattern, text)
        if not match:
            continue
        groups = match.groupdict()
        month_name = groups.get("month")
        month = MONTHS[month_name.rstrip(".")] if month_name else int(groups["m"])
        day = 1 if groups["d"] == "primero" else int(groups["d"])
        year = int(groups["y"]) if groups.get("y") else None
        parts.day = _make_date(year, month, day, today)
        parts.explicit_day = True
        parts.invalid = parts.day is None
        return text
    match, text = _take(_MONTH_ONLY, text)
    if match:
        # "desde noviembre": the first of that month.
        parts.day = _make_date(None, MONTHS[match.group("month")], 1, today)
        parts.explicit_day = True
        return text
    match, text = _take(_DAY_OF_MONTH, text)
    if match:
        day = int(match.group("d"))
        candidate = _make_date(today.year, today.month, day, today) if 1 <= day <= 31 else None
        if candidate is None or candidate > today:
            previous = today.replace(day=1) - timedelta(days=1)
            candidate = _make_date(previous.year, previous.month, day, today)
        parts.day = candidate
        parts.explicit_day = True
        parts.invalid = candidate is None
    return text


def _read_day_words(text: str, today: date, parts: _Parts) -> str:
    if parts.day is None:
        for pattern, offset, part in _DAY_WORDS:
            match, text = _take(pattern, text)
            if match:
                parts.day = today + timedelta(days=offset)
                parts.explicit_day = True
                part = match.groupdict().get("part") or part
                if part:
                    parts.part = part
                    parts.night_anchor = part == "noche"
                break
    if parts.day is None:
        match, text = _take(_WEEKEND, text)
        if match:
            parts.day = today - timedelta(days=(today.weekday() - 5) % 7)
            parts.explicit_day = True
    if parts.day is None:
        match, text = _take(_LAST_WEEK, text)
        if match:
            parts.day = today - timedelta(days=today.weekday() + 7)
            parts.explicit_day = True
    match, text = _take(_WEEKDAY_RE, text)
    if match and parts.day is None:
        back = (today.weekday() - WEEKDAYS[match.group("wd")]) % 7 or 7
        parts.day = today - timedelta(days=back)
        parts.explicit_day = True
    return text


def _set_hour(parts: _Parts, groups: dict[str, str | None]) -> None:
    raw_hour = groups["h"] or "0"
    parts.hour = int(raw_hour) if raw_hour.isdigit() else int(NUMBER_WORDS[raw_hour])
    parts.minute = int(groups["mi"]) if groups.get("mi") else 0
    extra = groups.get("extra")
    if extra:
        parts.minute = {"media": 30, "cuarto": 15}.get(extra) or int(extra)
    parts.suffix = groups.get("suffix")


def _read_time(text: str, parts: _Parts) -> str:
    # "3 de la tarde" first: once "de la tarde" is gone, a bare "3" is no longer a time.
    match, text = _take(_HOUR_BEFORE_PART, text)
    if match:
        _set_hour(parts, match.groupdict())
        parts.part = match.group("part")
    else:
        match, text = _take(_PART_RE, text)
        if match:
            parts.part = match.group("part") or match.group("bare")
    if parts.part == "noche" and parts.day is not None:
        parts.night_anchor = True
    if parts.hour is not None:
        return text
    match, text = _take(_NOON, text)
    if match:
        parts.hour = 12
        return text
    match, text = _take(_MIDNIGHT, text)
    if match:
        parts.hour = 0
        return text
    for pattern in (_CLOCK, _AT_HOUR, _HOUR_SUFFIX):
        match, text = _take(pattern, text)
        if match:
            _set_hour(parts, match.groupdict())
            break
    return text


def _clock(parts: _Parts) -> tuple[time, int] | None:
    """Clock time and day shift (a night after midnight belongs to the next day)."""
    hour, minute, shift = parts.hour, parts.minute, 0
    if hour is None:
        return None
    if parts.suffix in ("am", "pm"):
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if parts.suffix == "pm" else 0)
    elif parts.part and hour <= 12:
        if parts.part == "tarde" and hour < 12:
            hour += 12
        elif parts.part == "noche":
            if 6 <= hour < 12:
                hour += 12
            elif hour == 12:
                hour, shift = 0, 1
            else:
                shift = 1
            shift = shift if parts.night_anchor else 0
        elif parts.part == "madrugada" and hour == 12:
            hour = 0
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        return None
    return time(hour, minute), shift


def _structured(text: str, now: datetime) -> tuple[bool, datetime | None]:
    """(found anything, result) from the rules above."""
    today = now.date()
    parts = _Parts()
    rest = _read_date(text, today, parts)
    rest = _read_day_words(rest, today, parts)
    rest = _read_time(rest, parts)
    if _TOMORROW.search(rest):
        return True, None
    if not parts.found():
        return False, None
    if parts.invalid:
        return True, None

    zone = now.tzinfo
    clock = _clock(parts)
    if parts.hour is not None and clock is None:
        return True, None
    if clock is not None:
        at, shift = clock
    elif parts.part is not None:
        at, shift = time(PART_DEFAULT_HOUR[parts.part]), 0
    else:
        at, shift = time(0), 0

    day = (parts.day or today) + timedelta(days=shift)
    moment = datetime.combine(day, at, tzinfo=zone)
    if moment > now and clock is None and parts.part is not None:
        start = datetime.combine(day, time(PART_START_HOUR[parts.part]), tzinfo=zone)
        if start <= now:
            moment = start
    if moment > now and not parts.explicit_day:
        moment -= timedelta(days=1)
    return True, moment


_DATE_HINT = re.compile(rf"\d|\b(?:{alternation(_FULL_MONTHS)})\b")


def _with_dateparser(text: str, now: datetime, tz: str) -> datetime | None:
    if not _DATE_HINT.search(text) or re.fullmatch(r"\d{1,2}", text):
        return None  # a lone number is as likely a count as an hour or a day
    try:
        parsed = _dateparser_parse(text, now, tz)
    except (ValueError, OverflowError, TypeError, KeyError, IndexError):
        # dateparser has raised on odd input before; an unreadable answer is just None.
        return None
    if parsed is None:
        return None
    return parsed.astimezone(now.tzinfo).replace(second=0, microsecond=0)


def _dateparser_parse(text: str, now: datetime, tz: str) -> datetime | None:
    return dateparser.parse(
        text,
        languages=["es"],
        settings={
            "PREFER_DATES_FROM": "past",
            "RETURN_AS_TIMEZONE_AWARE": True,
            "TIMEZONE": tz,
            "TO_TIMEZONE": tz,
            "RELATIVE_BASE": now.replace(tzinfo=None),
            "DATE_ORDER": "DMY",
        },
    )


def parse_since(text: str | None, *, tz: str, now: datetime) -> datetime | None:
    """Moment a problem started, in `tz`, from a Spanish answer; None if unusable.

    `now` may be aware (any zone) or naive (then taken as local time in `tz`).
    """
    if not text or len(text) > 300:
        return None
    zone = ZoneInfo(tz)
    local_now = _local_now(now, zone).replace(second=0, microsecond=0)
    cleaned = _normalize(text)
    if not cleaned or _VAGUE_RELATIVE.search(cleaned):
        return None

    moment, unit = _relative(cleaned, local_now)
    if moment is not None and unit in ("days", "weeks", "months", "years"):
        # "hace 3 días a las 9": the day from 'hace', the time from the rest.
        timed = _Parts(day=moment.date(), explicit_day=True)
        _read_time(_RELATIVE.sub(" ", cleaned), timed)
        clock = _clock(timed)
        if clock is not None:
            moment = datetime.combine(moment.date(), clock[0], tzinfo=zone)
        elif timed.part is not None:
            moment = datetime.combine(moment.date(), time(PART_DEFAULT_HOUR[timed.part]), tzinfo=zone)
    elif unit:
        pass  # "hace 2 horas": complete as it is (or None when malformed)
    else:
        found, moment = _structured(cleaned, local_now)
        if not found:
            moment = _with_dateparser(cleaned, local_now, tz)

    if moment is None or moment > local_now:
        return None
    if moment < _minus_months(local_now, 12):
        return None
    return moment


def format_local(dt: datetime) -> str:
    """'25/11/2026 14:00' for summaries; `dt` is shown in its own zone (the words around it are in the domain)."""
    return f"{dt:%d/%m/%Y %H:%M}"
