"""The incident page's forms: take it, reply, change status, hand back to the bot, close.

Each success redirects back to the page (so a reload does not post again)
with a notice. A failure shows the page again with a Spanish error and, for a
reply, the text the agent typed. Whatever goes through the Rasa bridge is
called before the database changes: if Rasa is unreachable nothing is
recorded and the agent can simply try again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps

from aiohttp import web

from noc.db.audit import agent_actor
from noc.db.incident_admin import (
    CONSOLE_STATUSES,
    OPEN_HANDOFF_STATUSES,
    IncidentWork,
    UnknownTicket,
    assign_incident,
    incident_work,
    mark_handoff,
    note_agent_reply,
    set_status,
)
from noc.db.models import HANDOFF_CLOSED, HANDOFF_RETURNED, STATUS_CLOSED
from noc.domain.conversation import channel_name
from noc.web.bridge_client import BridgeError, hand_back, send_agent_message
from noc.web.console.access import console_page, current_session, see_other
from noc.web.console.context import console_context, in_thread
from noc.web.console.pages import incident_page, not_found

MAX_REPLY_LENGTH = 2000
NO_CONVERSATION = "Este incidente no tiene una conversación asociada."
NOT_WITH_AGENTS = "La conversación no está en manos de los agentes: el asistente ya la atiende."


FormHandler = Callable[[web.Request, IncidentWork], Awaitable[web.Response]]


def incident_form(handler: FormHandler) -> Callable[[web.Request], Awaitable[web.Response]]:
    """A console form on ``/agents/incidents/{ticket}/...``: 404 page for an unknown ticket."""

    @wraps(handler)
    async def form(request: web.Request) -> web.Response:
        work = await in_thread(request, incident_work, ticket=request.match_info["ticket"])
        if work is None:
            return not_found(request)
        return await handler(request, work)

    return console_page(form)


def _back(work: IncidentWork, notice: str) -> web.Response:
    return see_other(f"/agents/incidents/{work.ticket}?aviso={notice}")


def _paused_conversation(work: IncidentWork) -> str | None:
    """The sender ID of the conversation if it is with the agents (bot paused), else None."""
    if work.sender_id and work.handoff is not None and work.handoff.status in OPEN_HANDOFF_STATUSES:
        return work.sender_id
    return None


def _actor(request: web.Request) -> str:
    return agent_actor(current_session(request).agent.username)


@incident_form
async def take(request: web.Request, work: IncidentWork) -> web.Response:
    try:
        await in_thread(request, assign_incident, ticket=work.ticket, agent_id=current_session(request).agent.id)
    except UnknownTicket:
        return not_found(request)
    return _back(work, "tomado")


@incident_form
async def reply(request: web.Request, work: IncidentWork) -> web.Response:
    typed = str((await request.post()).get("text", ""))
    text = typed.strip()
    if not text:
        return await incident_page(request, status=400, reply_text=typed, error="Escriba el mensaje para el cliente.")
    if len(text) > MAX_REPLY_LENGTH:
        return await incident_page(
            request, status=400, reply_text=typed, error=f"El mensaje supera los {MAX_REPLY_LENGTH} caracteres."
        )
    if not work.sender_id:
        return await incident_page(request, status=409, reply_text=typed, error=NO_CONVERSATION)
    agent = current_session(request).agent
    try:
        delivery = await send_agent_message(
            console_context(request).settings, sender_id=work.sender_id, text=text, agent_name=agent.display_name
        )
    except BridgeError as exc:
        return await incident_page(
            request,
            status=502,
            reply_text=typed,
            error=f"No se pudo enviar el mensaje ({exc}). Su texto sigue abajo: inténtelo de nuevo.",
        )
    await in_thread(
        request,
        note_agent_reply,
        ticket=work.ticket,
        agent=agent.username,
        delivered=delivery.delivered,
        channel=channel_name(delivery.channel),  # Rasa's input channel name, e.g. "socketio" -> "web"
    )
    return _back(work, "respuesta" if delivery.delivered else "respuesta_no_entregada")


@incident_form
async def change_status(request: web.Request, work: IncidentWork) -> web.Response:
    status = (await request.post()).get("status")
    if status not in CONSOLE_STATUSES:
        return await incident_page(request, status=400, error="Elija un estado de la lista.")
    await in_thread(request, set_status, ticket=work.ticket, status=status, actor=_actor(request))
    return _back(work, "estado")


async def _resume(request: web.Request, sender_id: str, *, close: bool) -> web.Response | None:
    """Give the conversation back to the bot; the error page if Rasa could not be reached."""
    try:
        await hand_back(
            console_context(request).settings,
            sender_id=sender_id,
            agent_name=current_session(request).agent.display_name,
            close=close,
        )
    except BridgeError as exc:
        return await incident_page(
            request, status=502, error=f"No se pudo devolver la conversación al asistente ({exc}). Inténtelo de nuevo."
        )
    return None


@incident_form
async def return_to_bot(request: web.Request, work: IncidentWork) -> web.Response:
    sender_id = _paused_conversation(work)
    if sender_id is None:
        return await incident_page(request, status=409, error=NOT_WITH_AGENTS)
    failed = await _resume(request, sender_id, close=False)
    if failed is not None:
        return failed
    await in_thread(request, mark_handoff, ticket=work.ticket, status=HANDOFF_RETURNED, actor=_actor(request))
    return _back(work, "devuelto")


@incident_form
async def close(request: web.Request, work: IncidentWork) -> web.Response:
    """Close the incident; a conversation still with the agents goes back to the bot, reset."""
    sender_id = _paused_conversation(work)
    if sender_id is not None:
        failed = await _resume(request, sender_id, close=True)
        if failed is not None:
            return failed
    actor = _actor(request)
    await in_thread(request, set_status, ticket=work.ticket, status=STATUS_CLOSED, actor=actor)
    await in_thread(request, mark_handoff, ticket=work.ticket, status=HANDOFF_CLOSED, actor=actor)
    return _back(work, "cerrado")
