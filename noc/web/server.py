"""The web/API server's application (aiohttp); ``python -m noc.web`` runs it (``main``).

Routes are protected by default: the auth middleware lets a request through
without ``Authorization: Bearer <AGENT_API_TOKEN>`` only if its handler is
decorated with ``@public`` or it is served by a static resource. The agents'
console (``/agents``, noc/web/console) marks its handlers with its own
decorators instead: those routes need a console session and never accept the
token, and every other route still needs the token.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from aiohttp import web
from sqlalchemy.orm import sessionmaker

from noc.bearer import token_matches
from noc.db.audit import api_actor
from noc.db.change_requests import get_change_request, list_change_requests
from noc.db.conversation_log import list_messages
from noc.db.db import make_engine, make_session_factory
from noc.db.incident_admin import UnknownTicket, incident_work, list_handoffs, set_status
from noc.db.models import HANDOFF_STATUSES, INCIDENT_STATUSES
from noc.db.repository import get_incident, list_incidents, normalize_ticket
from noc.notify.worker import setup_notification_worker
from noc.settings import Settings, get_settings
from noc.web.console.access import console_access, console_guard
from noc.web.console.routes import add_console
from noc.web.shared import EscalationBookLike, Handler, marked_public, public
from noc.web.web_pages import add_web_pages

log = logging.getLogger(__name__)

T = TypeVar("T")

MAX_LIST_LIMIT = 500
DEFAULT_LIST_LIMIT = 100
# Longest name an API client may give itself for the audit trail.
MAX_ACTOR_LENGTH = 100
# Largest request body (aiohttp's default is 1 MiB): the biggest legitimate one,
# an agent's reply of 2,000 characters (noc.web.console.incident_forms)
# form-encoded at up to 12 bytes a character, is about 24 kB. Bigger bodies get 413.
MAX_BODY_BYTES = 64 * 1024
CONTACT_FIELDS = ("level", "role", "name", "phone", "email", "hours")


SETTINGS_KEY = web.AppKey("settings", Settings)
SESSION_FACTORY_KEY = web.AppKey("session_factory", sessionmaker)
ESCALATION_BOOK_KEY = web.AppKey("escalation_book", EscalationBookLike)

def json_error(status: int, message: str, *, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"error": message}, status=status, headers=headers, dumps=_dumps)


def _dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False)


def _json(data: Any, *, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=_dumps)


# Short Spanish messages for the errors aiohttp raises itself.
_HTTP_ERROR_MESSAGES = {
    400: "solicitud inválida",
    404: "no encontrado",
    405: "método no permitido",
    413: "solicitud demasiado grande",
}
# Headers of an aiohttp HTTPException worth keeping on the JSON replacement.
_KEPT_ERROR_HEADERS = ("Allow", "WWW-Authenticate")


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn every error into JSON and never leak a traceback to the client."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        headers = {name: exc.headers[name] for name in _KEPT_ERROR_HEADERS if name in exc.headers}
        message = _HTTP_ERROR_MESSAGES.get(exc.status, exc.reason)
        return json_error(exc.status, message, headers=headers)
    except asyncio.CancelledError:
        raise
    except OSError:
        # A static file path the OS refuses ("file name too long") is simply not there.
        if isinstance(request.match_info.route.resource, web.StaticResource):
            return json_error(404, _HTTP_ERROR_MESSAGES[404])
        log.exception("Unhandled error serving %s %s", request.method, request.path)
        return json_error(500, "error interno")
    except Exception:
        log.exception("Unhandled error serving %s %s", request.method, request.path)
        return json_error(500, "error interno")


def _is_public(request: web.Request) -> bool:
    match_info = request.match_info
    if marked_public(match_info.handler):
        return True
    resource = match_info.route.resource
    return isinstance(resource, web.StaticResource)


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Require the agent token on every route not marked ``@public`` or as a console route."""
    if request.match_info.http_exception is not None or _is_public(request):
        # Unknown routes fall through to the 404/405 JSON error.
        return await handler(request)
    if console_access(request) is not None:
        return await console_guard(request, handler)
    expected = request.app[SETTINGS_KEY].agent_api_token
    if expected is None:
        # No token configured means the agent API is off, never open.
        return json_error(503, "API de agentes deshabilitada: falta AGENT_API_TOKEN")
    if not token_matches(request.headers.get("Authorization", ""), expected):
        return json_error(401, "no autorizado", headers={"WWW-Authenticate": 'Bearer realm="noc"'})
    response = await handler(request)
    # Incident data is personal data: keep it out of shared caches.
    response.headers.setdefault("Cache-Control", "no-store")
    return response


@web.middleware
async def security_headers_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    return response


async def _in_thread(request: web.Request, func: Callable[..., T], **kwargs: Any) -> T:
    # The repository is synchronous; keep the event loop free while it waits
    # on the database.
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(None, partial(func, request.app[SESSION_FACTORY_KEY], **kwargs))


def _contact_dict(contact: Any) -> dict[str, Any] | None:
    if contact is None:
        return None
    if dataclasses.is_dataclass(contact):
        data = dataclasses.asdict(contact)
        return {name: data.get(name) for name in CONTACT_FIELDS}
    return {name: getattr(contact, name, None) for name in CONTACT_FIELDS}


@public
async def health(request: web.Request) -> web.Response:
    return _json({"status": "ok"})


@public
async def regions(request: web.Request) -> web.Response:
    """Level 1 of each region for anyone; the whole ladder with the agents' token."""
    expected = request.app[SETTINGS_KEY].agent_api_token
    authorized = expected is not None and token_matches(request.headers.get("Authorization", ""), expected)
    response = _json(request.app[ESCALATION_BOOK_KEY].as_dict(max_level=None if authorized else 1))
    if authorized:
        response.headers["Cache-Control"] = "no-store"
    response.headers["Vary"] = "Authorization"
    return response


async def incident_detail(request: web.Request) -> web.Response:
    record = await _in_thread(request, get_incident, ticket=request.match_info["ticket"])
    if record is None:
        return json_error(404, "ticket no encontrado")
    contact = request.app[ESCALATION_BOOK_KEY].contact(record["region"], record["escalation_level"])
    record["escalation_contact"] = _contact_dict(contact)
    # `transcript` is what the bot stored when it opened the incident; the
    # conversation goes on after that (the handoff, the agents' replies, the
    # customer's answers): `conversation` is the whole live log, in order, as
    # the console shows it.
    work = await _in_thread(request, incident_work, ticket=record["ticket"])
    record["conversation"] = []
    if work is not None and work.sender_id:
        record["conversation"] = await _in_thread(
            request, list_messages, sender_id=work.sender_id, since=work.conversation_since
        )
    return _json(record)


def _parse_limit(raw: str | None) -> int | None:
    if raw is None or raw == "":
        return DEFAULT_LIST_LIMIT
    if not raw.isascii() or not raw.isdigit():
        return None
    value = int(raw)
    return value if 1 <= value <= MAX_LIST_LIMIT else None


async def incident_list(request: web.Request) -> web.Response:
    sender_id = request.query.get("sender_id") or None
    status = request.query.get("status") or None
    if status is not None and status not in INCIDENT_STATUSES:
        return json_error(400, "estado desconocido")
    limit = _parse_limit(request.query.get("limit"))
    if limit is None:
        return json_error(400, f"limit debe ser un entero entre 1 y {MAX_LIST_LIMIT}")
    incidents = await _in_thread(
        request, list_incidents, sender_id=sender_id, status=status, limit=limit
    )
    return _json({"incidents": incidents})


async def handoff_list(request: web.Request) -> web.Response:
    status = request.query.get("status") or None
    if status is not None and status not in HANDOFF_STATUSES:
        return json_error(400, "estado de derivación desconocido")
    return _json({"handoffs": await _in_thread(request, list_handoffs, status=status)})


async def change_request_list(request: web.Request) -> web.Response:
    limit = _parse_limit(request.query.get("limit"))
    if limit is None:
        return json_error(400, f"limit debe ser un entero entre 1 y {MAX_LIST_LIMIT}")
    changes = await _in_thread(
        request, list_change_requests, sender_id=request.query.get("sender_id") or None, limit=limit
    )
    return _json({"change_requests": changes})


async def change_request_detail(request: web.Request) -> web.Response:
    record = await _in_thread(
        request, get_change_request, number=request.match_info["number"], with_events=True
    )
    if record is None:
        return json_error(404, "solicitud de cambio no encontrada")
    return _json(record)


async def incident_status_update(request: web.Request) -> web.Response:
    """``{"status": ..., "actor": optional}``: change the incident's status, audited as ``api:<actor>``."""
    try:
        body = await request.json()
    except ValueError:
        return json_error(400, "el cuerpo debe ser JSON")
    if not isinstance(body, dict):
        return json_error(400, "el cuerpo debe ser un objeto JSON")
    status, actor = body.get("status"), body.get("actor")
    if status not in INCIDENT_STATUSES:
        return json_error(400, f"estado desconocido; válidos: {', '.join(INCIDENT_STATUSES)}")
    if actor is not None and (not isinstance(actor, str) or not 0 < len(actor.strip()) <= MAX_ACTOR_LENGTH):
        return json_error(400, f"actor debe ser un texto de 1 a {MAX_ACTOR_LENGTH} caracteres")
    try:
        previous = await _in_thread(
            request,
            set_status,
            ticket=request.match_info["ticket"],
            status=status,
            actor=api_actor(actor.strip() if actor else None),
        )
    except UnknownTicket:
        return json_error(404, "ticket no encontrado")
    ticket = normalize_ticket(request.match_info["ticket"])
    return _json({"ticket": ticket, "status": status, "previous_status": previous})


def create_app(
    *,
    settings: Settings,
    session_factory: sessionmaker,
    escalation_book: EscalationBookLike,
) -> web.Application:
    """Build the application; the caller owns the engine behind ``session_factory``."""
    app = web.Application(
        middlewares=[error_middleware, security_headers_middleware, auth_middleware],
        client_max_size=MAX_BODY_BYTES,
    )
    app[SETTINGS_KEY] = settings
    app[SESSION_FACTORY_KEY] = session_factory
    app[ESCALATION_BOOK_KEY] = escalation_book
    app.router.add_get("/api/health", health, name="health")
    app.router.add_get("/api/regions", regions, name="regions")
    app.router.add_get("/api/incidents", incident_list, name="incident_list")
    app.router.add_get("/api/incidents/{ticket}", incident_detail, name="incident_detail")
    app.router.add_post("/api/incidents/{ticket}/status", incident_status_update, name="incident_status")
    app.router.add_get("/api/handoffs", handoff_list, name="handoff_list")
    app.router.add_get("/api/change-requests", change_request_list, name="change_request_list")
    app.router.add_get("/api/change-requests/{number}", change_request_detail, name="change_request_detail")
    add_web_pages(app, settings)
    add_console(app, settings=settings, session_factory=session_factory, escalation_book=escalation_book)
    setup_notification_worker(app, settings=settings, session_factory=session_factory)
    return app


def main() -> None:
    """Serve the API on ``WEB_HOST:WEB_PORT`` (migrations are run beforehand by ``make run``)."""
    # Phones and e-mails are masked in every log line (noc/logmask.py).
    from noc.logmask import configure_logging

    configure_logging()
    # Imported here so this module (and its tests) don't depend on loading the
    # escalation tables at import time.
    from noc.domain.escalation import get_escalation_book

    settings = get_settings()
    if settings.agent_api_token is None:
        log.warning("AGENT_API_TOKEN is not set: protected routes will answer 503")
    engine = make_engine(settings.database_url)
    app = create_app(
        settings=settings,
        session_factory=make_session_factory(engine),
        escalation_book=get_escalation_book(),
    )

    async def _dispose_engine(_app: web.Application) -> None:
        engine.dispose()

    app.on_cleanup.append(_dispose_engine)
    web.run_app(app, host=settings.web_host, port=settings.web_port)

