"""Who may use a console route, and the headers every console answer carries.

Console handlers are marked with one of three decorators; the server's auth
middleware hands every marked route to ``console_guard`` instead of checking
the API's bearer token, so a console route is never reachable through the
API token and an unmarked route never through a console session.

* ``@console_page``: needs a session; without one, a redirect to the login page.
* ``@console_json``: needs a session; without one, 401 JSON (the live view's polling).
* ``@console_anonymous``: the login page itself.

Every POST must carry the CSRF token of its session in the ``csrf`` form
field (the login form, which has no session yet, carries a token that must
match its own cookie). Responses get a Content-Security-Policy without inline
script, and are never cached.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial
from urllib.parse import quote

from aiohttp import web

from noc.db.agents import ConsoleSession, get_session
from noc.web.console.context import console_context, in_thread
from noc.web.console.csrf import LOGIN_CSRF_COOKIE, tokens_match
from noc.web.shared import Handler

PAGE = "page"
JSON = "json"
ANONYMOUS = "anonymous"
_ACCESS_ATTR = "console_access"

SESSION_COOKIE = "noc_agent_session"
COOKIE_PATH = "/agents"
LOGIN_PATH = "/agents/login"
CSRF_FIELD = "csrf"
# Key of the logged-in ConsoleSession on the request.
SESSION_REQUEST_KEY = "console_session"

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    # Incident pages hold personal data: never in a shared or back/forward cache.
    "Cache-Control": "no-store",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def _mark(access: str) -> Callable[[Handler], Handler]:
    def mark(handler: Handler) -> Handler:
        setattr(handler, _ACCESS_ATTR, access)
        return handler

    return mark


console_page = _mark(PAGE)
console_json = _mark(JSON)
console_anonymous = _mark(ANONYMOUS)


def handler_access(handler: object) -> str | None:
    """The console access mark of a handler, or None for a non-console handler."""
    return getattr(handler, _ACCESS_ATTR, None)


def console_access(request: web.Request) -> str | None:
    """The console access mark of the request's route, or None for a non-console route."""
    return handler_access(request.match_info.handler)


def current_session(request: web.Request) -> ConsoleSession:
    """The logged-in agent's session (only inside ``@console_page``/``@console_json`` handlers)."""
    return request[SESSION_REQUEST_KEY]


def see_other(location: str) -> web.Response:
    return web.Response(status=303, headers={"Location": location})


def set_session_cookie(response: web.StreamResponse, request: web.Request, token: str) -> None:
    # No max-age: the browser drops it when closed; the server enforces the idle expiry.
    response.set_cookie(
        SESSION_COOKIE,
        token,
        path=COOKIE_PATH,
        httponly=True,
        samesite="Strict",
        secure=console_context(request).settings.console_cookie_secure,
    )


def clear_session_cookie(response: web.StreamResponse) -> None:
    response.del_cookie(SESSION_COOKIE, path=COOKIE_PATH)


def _login_redirect(request: web.Request, *, expired: bool) -> web.Response:
    target = request.path_qs if request.method == "GET" else request.path
    location = f"{LOGIN_PATH}?next={quote(target, safe='')}"
    if expired:
        location += "&expirada=1"
    response = see_other(location)
    if expired:
        clear_session_cookie(response)
    return response


async def _csrf_ok(request: web.Request, expected: str | None) -> bool:
    if expected is None:
        return False
    try:
        form = await request.post()
    except ValueError:  # a body that is not valid UTF-8 form data carries no token
        return False
    provided = form.get(CSRF_FIELD)
    return isinstance(provided, str) and tokens_match(expected, provided)


def _forbidden() -> web.Response:
    return web.Response(
        status=403,
        text="Formulario vencido o inválido: vuelva a cargar la página e inténtelo de nuevo.",
        content_type="text/plain",
        charset="utf-8",
    )


async def _admit(request: web.Request, access: str) -> web.StreamResponse | None:
    """None if the request may go on to its handler, else the answer that refuses it."""
    if access == ANONYMOUS:
        if request.method == "POST" and not await _csrf_ok(request, request.cookies.get(LOGIN_CSRF_COOKIE)):
            return _forbidden()
        return None
    token = request.cookies.get(SESSION_COOKIE, "")
    settings = console_context(request).settings
    session = None
    if token:
        session = await in_thread(
            request,
            get_session,
            token=token,
            idle_minutes=settings.console_session_minutes,
            max_hours=settings.console_session_max_hours,
        )
    if session is None:
        if access == JSON:
            return web.json_response(
                {"error": "sesión expirada o inexistente"}, status=401, dumps=partial(json.dumps, ensure_ascii=False)
            )
        return _login_redirect(request, expired=bool(token))
    request[SESSION_REQUEST_KEY] = session
    if request.method == "POST" and not await _csrf_ok(request, session.csrf_token):
        return _forbidden()
    return None


async def console_guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Admit a console route's request (session, CSRF) and add the console's security headers."""
    access = console_access(request)
    if access is None:
        raise ValueError(f"{request.path} is not a console route")
    # Not `or`: a response is a (usually empty, hence falsy) mapping.
    refusal = await _admit(request, access)
    response = refusal if refusal is not None else await handler(request)
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response
