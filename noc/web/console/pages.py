"""The console's pages: the incident list, one incident, the handoffs, and the live messages."""

from __future__ import annotations

import json
from functools import partial
from typing import Any

from aiohttp import web

from noc.db.audit import list_events
from noc.db.conversation_log import list_messages
from noc.db.incident_admin import (
    CONSOLE_STATUSES,
    OPEN_HANDOFF_STATUSES,
    incident_work,
    list_handoffs,
    search_incidents,
)
from noc.db.models import HANDOFF_STATUSES, INCIDENT_STATUSES
from noc.db.notifications import count_failed_notifications
from noc.db.repository import get_incident
from noc.web.console import display
from noc.web.console.access import console_json, console_page, current_session
from noc.web.console.context import console_context, in_thread
from noc.web.console.filters import (
    ALL_HANDOFFS,
    CHANNELS,
    OPEN_HANDOFFS,
    PAGE_SIZE,
    SEVERITIES,
    parse_handoff_filter,
    parse_list_filters,
)
from noc.web.console.render import render

# The live view asks every 2 s; a long-silent page catches up in a few polls.
MAX_MESSAGES_PER_POLL = 200
# ?aviso= after a form: what the agent just did.
NOTICES = {
    "tomado": "Tomó el incidente.",
    "respuesta": "Mensaje enviado al cliente.",
    "respuesta_no_entregada": (
        "Mensaje guardado en la conversación, pero el canal del cliente no lo entregó "
        "(por ejemplo, el chat web está cerrado)."
    ),
    "estado": "Estado actualizado.",
    "devuelto": "La conversación volvió al asistente.",
    "cerrado": "Incidente cerrado y conversación devuelta al asistente.",
}


def region_choices(request: web.Request) -> list[dict[str, str]]:
    """``[{"slug", "name"}]`` of the escalation book's regions."""
    regions = console_context(request).escalation_book.as_dict().get("regions", [])
    return [{"slug": region["slug"], "name": region.get("name", region["slug"])} for region in regions]


def region_names(request: web.Request) -> dict[str, str]:
    return {region["slug"]: region["name"] for region in region_choices(request)}


def page_of(rows: list[dict[str, Any]], *, offset: int) -> dict[str, Any]:
    """Template values of one list page, from up to ``PAGE_SIZE + 1`` rows (the extra one says there is a next)."""
    return {
        "rows": rows[:PAGE_SIZE],
        "has_next": len(rows) > PAGE_SIZE,
        "previous_offset": max(offset - PAGE_SIZE, 0),
        "next_offset": offset + PAGE_SIZE,
    }


@console_page
async def incident_list(request: web.Request) -> web.Response:
    regions = region_choices(request)
    filters = parse_list_filters(request.query, regions=[region["slug"] for region in regions])
    rows = await in_thread(
        request,
        search_incidents,
        status=filters.status,
        region=filters.region,
        severity=filters.severity,
        channel=filters.channel,
        query=filters.q,
        waiting_first=True,
        limit=PAGE_SIZE + 1,
        offset=filters.offset,
    )
    # The list is where agents look first: a given-up notification must show there.
    failed_notifications = await in_thread(request, count_failed_notifications)
    return render(
        request,
        "incidents.html",
        filters=filters,
        failed_notifications=failed_notifications,
        **page_of(rows, offset=filters.offset),
        statuses=INCIDENT_STATUSES,
        regions=regions,
        region_names={region["slug"]: region["name"] for region in regions},
        severities=SEVERITIES,
        channels=CHANNELS,
    )


@console_page
async def handoff_list(request: web.Request) -> web.Response:
    shown, status, open_only = parse_handoff_filter(request.query.get("estado"))
    rows = await in_thread(request, list_handoffs, status=status, open_only=open_only)
    return render(
        request,
        "handoffs.html",
        rows=rows,
        shown=shown,
        choices=[(OPEN_HANDOFFS, "Abiertas (esperando o atendidas)")]
        + [(value, display.HANDOFF_STATUS_LABELS[value]) for value in HANDOFF_STATUSES]
        + [(ALL_HANDOFFS, "Todas")],
    )


def not_found(
    request: web.Request,
    *,
    heading: str = "Incidente no encontrado",
    message: str = "No existe un incidente con ese ticket.",
    back: str = "/agents",
) -> web.Response:
    return render(request, "not_found.html", status=404, heading=heading, message=message, back=back)


async def incident_page(
    request: web.Request, *, status: int = 200, reply_text: str = "", error: str | None = None
) -> web.Response:
    """The incident's page; form handlers re-render it with an error and what the agent typed."""
    ticket = request.match_info["ticket"]
    record = await in_thread(request, get_incident, ticket=ticket)
    work = await in_thread(request, incident_work, ticket=ticket)
    if record is None or work is None:
        return not_found(request)
    events = await in_thread(request, list_events, incident_id=work.incident_id)
    live: list[dict[str, Any]] = []
    if work.sender_id:
        live = await in_thread(
            request, list_messages, sender_id=work.sender_id, since=work.conversation_since
        )
    zone = record["timezone"]
    stored = record["transcript"] if display.show_stored_transcript(live, work.created_at) else []
    contact = console_context(request).escalation_book.contact(record["region"], record["escalation_level"])
    handoff_open = work.handoff is not None and work.handoff.status in OPEN_HANDOFF_STATUSES
    names = region_names(request)
    return render(
        request,
        "incident.html",
        status=status,
        incident=record,
        region_name=names.get(record["region"], record["region"]),
        work=work,
        contact=contact,
        events=events,
        stored_transcript=[display.chat_message(message, zone) for message in stored],
        live=[display.chat_message(message, zone) for message in live],
        last_message_id=live[-1]["id"] if live else 0,
        handoff_open=handoff_open,
        is_mine=work.assigned_agent_id == current_session(request).agent.id,
        statuses=CONSOLE_STATUSES,
        notice=NOTICES.get(request.query.get("aviso", "")),
        error=error,
        reply_text=reply_text,
    )


@console_page
async def incident_detail(request: web.Request) -> web.Response:
    return await incident_page(request)


def _json(data: Any, *, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=partial(json.dumps, ensure_ascii=False))


@console_json
async def incident_messages(request: web.Request) -> web.Response:
    """``{"messages": [...]}``: the conversation's messages with an id above ``after``."""
    raw_after = request.query.get("after", "0")
    if not raw_after.isascii() or not raw_after.isdigit() or len(raw_after) > 18:
        return _json({"error": "after debe ser un entero no negativo"}, status=400)
    work = await in_thread(request, incident_work, ticket=request.match_info["ticket"])
    if work is None:
        return _json({"error": "ticket no encontrado"}, status=404)
    messages: list[dict[str, Any]] = []
    if work.sender_id:
        messages = await in_thread(
            request,
            list_messages,
            sender_id=work.sender_id,
            since=work.conversation_since,
            after_id=int(raw_after),
            limit=MAX_MESSAGES_PER_POLL,
        )
    return _json({"messages": [display.chat_message(message, work.timezone) for message in messages]})
