"""Phone numbers and e-mail addresses masked in every log line.

``PersonalDataFilter`` is a ``logging.Filter`` for handlers: ``logging.yml``
installs it on the console handler of the three servers (Rasa and the action
server through ``--logging-config-file``, the web server through
``configure_logging``). It rewrites the record's message, its formatted
exception and stack, so tracebacks (a database error quoting its parameters)
are masked too. It never drops a record.

    +573001234567                  ->  +57300*****67
    300 123 4567                   ->  300*****67
    ana.ruiz@bancoandino.com.co    ->  a***@bancoandino.com.co
"""

from __future__ import annotations

import logging
import logging.config
import re
from pathlib import Path

import yaml

LOGGING_CONFIG = Path(__file__).resolve().parent.parent / "logging.yml"

# "+" (or "%2B", in a logged URL) and 8 to 15 digits, up to two spaces, dots,
# hyphens or parentheses between them.
_INTERNATIONAL = r"(?<![\d+])(?P<plus>\+|%2[Bb])(?P<international>\d(?:[ .\-()]{0,2}\d){7,14})(?!\w)"
# 9 to 15 digits, single spaces only between them and not part of a longer
# token: dates, times, ticket numbers, UUIDs and decimals are not phone numbers.
_NATIONAL = r"(?<![\w+\-.%])(?P<national>\d(?: ?\d){8,14})(?![\w\-]|\.\d)"
PHONE = re.compile(f"{_INTERNATIONAL}|{_NATIONAL}")
# "@" or "%40" (a logged URL).
EMAIL = re.compile(r"(?<![\w.+\-])(?P<local>[\w.+\-]+)(?P<at>@|%40)(?P<domain>[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+)")
# Digits shown at the start (after "+": country code and the next digits) and at the end.
HEAD_INTERNATIONAL = 5
HEAD_NATIONAL = 3
TAIL = 2
MIN_HIDDEN = 4


def mask_phone(number: str, *, plus: str = "") -> str:
    """``573001234567`` after ``+`` -> ``+57300*****67``: separators dropped, at least four digits hidden."""
    digits = re.sub(r"\D", "", number)
    head = min(HEAD_INTERNATIONAL if plus else HEAD_NATIONAL, len(digits) - TAIL - MIN_HIDDEN)
    head = max(head, 0)
    hidden = len(digits) - head - TAIL
    return plus + digits[:head] + "*" * hidden + digits[len(digits) - TAIL :]


def _masked_phone(match: re.Match[str]) -> str:
    if match.group("international"):
        return mask_phone(match.group("international"), plus=match.group("plus"))
    return mask_phone(match.group("national"))


def mask_email(local: str, domain: str, *, at: str = "@") -> str:
    """``ana.ruiz`` at ``bancoandino.com.co`` -> ``a***@bancoandino.com.co``."""
    return f"{local[:1]}***{at}{domain}"


def mask_personal_data(text: str) -> str:
    """``text`` with every phone number and e-mail address masked (idempotent)."""
    text = EMAIL.sub(lambda m: mask_email(m.group("local"), m.group("domain"), at=m.group("at")), text)
    return PHONE.sub(_masked_phone, text)


class PersonalDataFilter(logging.Filter):
    """Masks phone numbers and e-mail addresses in records (see the module docstring)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a record whose arguments do not fit: logging reports it itself
            return True
        masked = mask_personal_data(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_personal_data(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_personal_data(record.stack_info)
        return True


def configure_logging(path: Path = LOGGING_CONFIG) -> None:
    """Configure this process's logging from ``logging.yml`` (the web server's entry point calls it)."""
    logging.config.dictConfig(yaml.safe_load(path.read_text(encoding="utf-8")))
