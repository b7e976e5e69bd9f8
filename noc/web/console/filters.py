"""The console's list filters, read from the query string (pure functions).

A value that is not one of the allowed ones is dropped (the list then shows
everything for that filter) rather than refused: these are links and selects
agents click, and a stale bookmark should still open.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import asdict, dataclass, replace
from urllib.parse import urlencode

from noc.db.models import CHANGE_TYPES, HANDOFF_STATUSES, INCIDENT_STATUSES

PAGE_SIZE = 50
MAX_QUERY_LENGTH = 100
MAX_OFFSET = 100_000
SEVERITIES = (1, 2, 3, 4)
CHANNELS = ("web", "whatsapp", "sms", "rest")
OPEN_HANDOFFS = "abiertas"
ALL_HANDOFFS = "todas"


class _PageLinks:
    def query_string(self, **changes: object) -> str:
        """This filter set (with ``changes``) as a query string, for page links."""
        values = asdict(replace(self, **changes))
        return urlencode({key: value for key, value in values.items() if value not in (None, "", 0)})


@dataclass(frozen=True)
class ListFilters(_PageLinks):
    status: str | None = None
    region: str | None = None
    severity: int | None = None
    channel: str | None = None
    q: str | None = None
    offset: int = 0


@dataclass(frozen=True)
class ChangeFilters(_PageLinks):
    """The change-request list's filters: ``tipo`` and the search box."""

    tipo: str | None = None
    q: str | None = None
    offset: int = 0


def _choice(value: str | None, allowed: Collection[str]) -> str | None:
    return value if value in allowed else None


def _bounded_int(value: str | None, *, low: int, high: int) -> int | None:
    if not value or not value.isascii() or not value.isdigit():
        return None
    number = int(value)
    return number if low <= number <= high else None


def _search_text(params: Mapping[str, str]) -> str | None:
    return (params.get("q") or "").strip()[:MAX_QUERY_LENGTH] or None


def _offset(params: Mapping[str, str]) -> int:
    return _bounded_int(params.get("offset"), low=0, high=MAX_OFFSET) or 0


def parse_list_filters(params: Mapping[str, str], *, regions: Collection[str]) -> ListFilters:
    return ListFilters(
        status=_choice(params.get("status"), INCIDENT_STATUSES),
        region=_choice(params.get("region"), regions),
        severity=_bounded_int(params.get("severity"), low=min(SEVERITIES), high=max(SEVERITIES)),
        channel=_choice(params.get("channel"), CHANNELS),
        q=_search_text(params),
        offset=_offset(params),
    )


def parse_change_filters(params: Mapping[str, str]) -> ChangeFilters:
    return ChangeFilters(
        tipo=_choice(params.get("tipo"), CHANGE_TYPES), q=_search_text(params), offset=_offset(params)
    )


def parse_handoff_filter(value: str | None) -> tuple[str, str | None, bool]:
    """``(shown, status, open_only)`` for the handoffs page's ``estado`` parameter; open ones by default."""
    if value == ALL_HANDOFFS:
        return ALL_HANDOFFS, None, False
    if value in HANDOFF_STATUSES:
        return value, value, False
    return OPEN_HANDOFFS, None, True
