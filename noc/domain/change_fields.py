"""What a change request says: the change itself and the date wanted (pure logic, no Rasa).

``parse_desired_date`` returns a calendar date in the customer's time zone, ``ASAP`` for "lo antes
posible" and the like, or None when the text says no date or a past one.
Conventions: a day and month already past this year mean next year; a bare
weekday ("el lunes", "el próximo lunes") is the next one after today; "en
N días/semanas" counts calendar days from today.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

from noc.domain.timeparse import MONTHS, NUMBER_WORDS, WEEKDAYS, alternation
from noc.domain.validators import has_html, normalize_text

ASAP = "asap"

_ASAP = re.compile(
    r"\b(lo antes posible|cuanto antes|lo mas pronto posible|lo mas rapido posible|de inmediato|"
    r"inmediatamente|ya mismo|urgente|asap|hoy mismo|apenas se pueda|lo mas pronto)\b"
)
_NUMBER = rf"(?:\d+|{alternation(w for w, n in NUMBER_WORDS.items() if isinstance(n, int))})"
_IN_SPAN = re.compile(rf"\b(?:en|dentro de)\s+(?P<n>{_NUMBER})\s+(?P<unit>dias?|semanas?)\b")
_DAY_MONTH = re.compile(
    rf"\b(?P<day>\d{{1,2}})\s+de\s+(?P<month>{alternation(MONTHS)})\.?(?:\s+(?:de|del)\s+(?P<year>\d{{4}}))?\b"
)
_NUMERIC = re.compile(r"\b(?P<day>\d{1,2})[/.-](?P<month>\d{1,2})(?:[/.-](?P<year>\d{2,4}))?\b")
_WEEKDAY = re.compile(rf"\b(?P<weekday>{alternation(WEEKDAYS)})\b")
# "la semana que viene": the Monday of next week (the lead time may push it later).
_NEXT_WEEK = re.compile(r"\b(?:semana (?:que viene|proxima|entrante)|proxima semana)\b")
# "antes de fin de mes", "para finales de mes": the last day of this month.
_END_OF_MONTH = re.compile(r"\bfin(?:al)?(?:es)? de(?:l)? (?:este )?mes\b")
# "el 20" / "el 20 de este mes": that day of this month, or of the next once past.
_DAY_OF_MONTH = re.compile(
    r"\b(?:el|dia)\s+(?P<day>\d{1,2})(?:\s+de\s+este\s+mes)?\b(?!\s*(?:de\b|[/.:-]\d|a\.?m\b|p\.?m\b|hs?\b|horas?\b))"
)


def _count(word: str) -> int:
    return int(word) if word.isdigit() else int(NUMBER_WORDS[word])


def _calendar_date(year: int | None, month: int, day: int, today: date) -> date | None:
    try:
        candidate = date(year if year is not None else today.year, month, day)
    except ValueError:
        return None
    if year is None and candidate < today:
        try:
            candidate = date(today.year + 1, month, day)
        except ValueError:
            return None
    return candidate


def _day_of_month(day: int, today: date) -> date | None:
    month, year = today.month, today.year
    for _ in range(2):
        try:
            candidate = date(year, month, day)
        except ValueError:
            candidate = None
        if candidate is not None and candidate >= today:
            return candidate
        month, year = (1, year + 1) if month == 12 else (month + 1, year)
    return None


def parse_desired_date(text: str | None, *, today: date) -> date | str | None:
    """The date asked for, ``ASAP``, or None (nothing understood, or already past)."""
    if not text:
        return None
    words = normalize_text(text)
    if _ASAP.search(words):
        return ASAP
    found: date | None = None
    if match := _IN_SPAN.search(words):
        days = _count(match["n"]) * (7 if match["unit"].startswith("semana") else 1)
        found = today + timedelta(days=days)
    elif match := _DAY_MONTH.search(words):
        year = int(match["year"]) if match["year"] else None
        found = _calendar_date(year, MONTHS[match["month"]], int(match["day"]), today)
    elif match := _NUMERIC.search(words):
        year = int(match["year"]) if match["year"] else None
        if year is not None and year < 100:
            year += 2000
        found = _calendar_date(year, int(match["month"]), int(match["day"]), today)
    elif match := _DAY_OF_MONTH.search(words):
        found = _day_of_month(int(match["day"]), today)
    elif _END_OF_MONTH.search(words):
        found = today.replace(day=calendar.monthrange(today.year, today.month)[1])
    elif _NEXT_WEEK.search(words):
        found = today + timedelta(days=7 - today.weekday())
    elif re.search(r"\bpasado manana\b", words):
        found = today + timedelta(days=2)
    elif re.search(r"\bhoy\b", words):
        found = today
    elif re.search(r"(?<!en la )(?<!por la )\bmanana\b", words):
        found = today + timedelta(days=1)
    elif match := _WEEKDAY.search(words):
        ahead = (WEEKDAYS[match["weekday"]] - today.weekday()) % 7 or 7
        found = today + timedelta(days=ahead)
    if found is None or found < today:
        return None
    return found


# Words that only say "I want a change", not which one.
_REQUEST_WORDS = re.compile(
    r"\b(hola|buen[oa]s?( dias| tardes| noches)?|por favor|porfa|quiero|quisiera|queremos|necesito|necesitamos|"
    r"deseo|solicito|solicitar|pedir|hacer|registrar|programar|una?|el|la|los|las|de|del|para|en|mi|nuestro|"
    r"solicitud|requerimiento|cambios?|servicio|urgente|kiero)\b"
)
_MIN_CONTENT_WORDS = 2
MAX_DESCRIPTION = 500


def clean_change_description(text: str | None) -> str | None:
    """The customer's words when they say which change, else None ("quiero un cambio")."""
    if not isinstance(text, str):
        return None
    text = " ".join(text.split())
    if not text or len(text) > MAX_DESCRIPTION or has_html(text):
        return None
    content = _REQUEST_WORDS.sub(" ", normalize_text(text))
    if len(re.findall(r"[a-z0-9]{2,}", content)) < _MIN_CONTENT_WORDS:
        return None
    return text
