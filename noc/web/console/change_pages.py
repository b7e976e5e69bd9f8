"""The console's change-request pages ("Solicitudes de cambio"): the list and one request, read-only."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from noc.db.change_requests import get_change_request, list_change_requests
from noc.db.models import CHANGE_TYPES
from noc.domain.change_types import get_change_table, scheduled_for
from noc.web.console import display
from noc.web.console.access import console_page
from noc.web.console.context import console_context, in_thread
from noc.web.console.filters import PAGE_SIZE, parse_change_filters
from noc.web.console.pages import not_found, page_of, region_names
from noc.web.console.render import render

LIST_PATH = "/agents/changes"


def _with_zone(request: web.Request, record: dict[str, Any]) -> dict[str, Any]:
    """The record with ``zone``: its country's time zone, in which its dates are shown."""
    return {**record, "zone": console_context(request).escalation_book.timezone_for(record["country"])}


@console_page
async def change_list(request: web.Request) -> web.Response:
    filters = parse_change_filters(request.query)
    rows = await in_thread(
        request,
        list_change_requests,
        change_type=filters.tipo,
        query=filters.q,
        limit=PAGE_SIZE + 1,
        offset=filters.offset,
    )
    page = page_of(rows, offset=filters.offset)
    page["rows"] = [_with_zone(request, row) for row in page["rows"]]
    return render(request, "changes.html", filters=filters, types=CHANGE_TYPES, **page)


def _scheduled(change: dict[str, Any]) -> datetime:
    # The start the agents plan for: the later of the wanted day and the earliest start.
    earliest = datetime.fromisoformat(change["earliest_at"]).astimezone(ZoneInfo(change["zone"]))
    desired = display.day_start(change["desired_date"], change["zone"])
    return scheduled_for(desired.date() if desired else None, earliest)


@console_page
async def change_detail(request: web.Request) -> web.Response:
    record = await in_thread(request, get_change_request, number=request.match_info["number"], with_events=True)
    if record is None:
        return not_found(
            request,
            heading="Solicitud de cambio no encontrada",
            message="No existe una solicitud de cambio con ese número.",
            back=LIST_PATH,
        )
    change = _with_zone(request, record)
    return render(
        request,
        "change.html",
        change=change,
        events=change["events"],
        kind=get_change_table().types.get(change["change_type"]),
        region_name=region_names(request).get(change["region"], change["region"]),
        scheduled=_scheduled(change),
    )
