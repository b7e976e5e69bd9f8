"""Logging in to and out of the console."""

from __future__ import annotations

from aiohttp import web

from actions.api.console.access import (
    COOKIE_PATH,
    SESSION_COOKIE,
    clear_session_cookie,
    console_anonymous,
    console_page,
    see_other,
    set_session_cookie,
)
from actions.api.console.context import console_context, in_thread
from actions.api.console.csrf import LOGIN_CSRF_COOKIE, new_login_token
from actions.api.console.render import render
from actions.store.agents import authenticate, create_session, delete_session

HOME = "/agents"
LOGIN_FAILED = "Usuario o contraseña incorrectos."
SESSION_EXPIRED = "Su sesión expiró. Vuelva a iniciar sesión."


def safe_next(target: str | None) -> str:
    """Where to go after logging in: only a console path of this site, else the incident list."""
    if not target or not target.startswith(HOME) or "\\" in target or any(ord(c) < 0x20 for c in target):
        return HOME
    rest = target[len(HOME) :]
    if rest and rest[0] not in "/?":
        return HOME  # "/agentsevil" is not ours
    return target


def _login_form(
    request: web.Request, *, status: int, username: str, target: str | None, message: str | None
) -> web.Response:
    token = new_login_token()
    response = render(
        request,
        "login.html",
        status=status,
        login_csrf=token,
        username=username,
        next=safe_next(target),
        message=message,
    )
    # Double-submit token for the form; expires with the form left open too long.
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        path=f"{COOKIE_PATH}/login",
        max_age=3600,
        httponly=True,
        samesite="Strict",
        secure=console_context(request).settings.console_cookie_secure,
    )
    return response


@console_anonymous
async def login_page(request: web.Request) -> web.Response:
    message = SESSION_EXPIRED if request.query.get("expirada") else None
    return _login_form(request, status=200, username="", target=request.query.get("next"), message=message)


@console_anonymous
async def login_submit(request: web.Request) -> web.Response:
    form = await request.post()
    username = str(form.get("username", ""))
    password = str(form.get("password", ""))
    agent = await in_thread(request, authenticate, username=username, password=password)
    if agent is None:
        return _login_form(
            request, status=401, username=username[:64], target=str(form.get("next", "")), message=LOGIN_FAILED
        )
    settings = console_context(request).settings
    previous = request.cookies.get(SESSION_COOKIE)
    if previous:  # logging in again replaces the browser's old session
        await in_thread(request, delete_session, token=previous)
    session = await in_thread(
        request, create_session, agent_id=agent.id, idle_minutes=settings.console_session_minutes
    )
    response = see_other(safe_next(str(form.get("next", ""))))
    set_session_cookie(response, request, session.token)
    response.del_cookie(LOGIN_CSRF_COOKIE, path=f"{COOKIE_PATH}/login")
    return response


@console_page
async def logout(request: web.Request) -> web.Response:
    await in_thread(request, delete_session, token=request.cookies.get(SESSION_COOKIE, ""))
    response = see_other("/agents/login")
    clear_session_cookie(response)
    return response
