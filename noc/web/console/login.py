"""Logging in to and out of the console.

Login attempts are limited per client IP and per username
(``LOGIN_ATTEMPTS_PER_15_MINUTES`` each): every attempt is counted before the
password is checked (so parallel guesses cannot slip through), a successful
one is taken back, and an attempt over either limit gets 429 with
``Retry-After`` without the password being checked at all.
"""

from __future__ import annotations

from aiohttp import web

from noc.db.agents import authenticate, create_session, delete_session
from noc.ratelimit.client_ip import client_ip
from noc.ratelimit.limiter import RateLimiter, limiter_from_settings, login_ip_limit, login_username_limit
from noc.ratelimit.window import Limit
from noc.settings import Settings
from noc.web.console.access import (
    COOKIE_PATH,
    SESSION_COOKIE,
    clear_session_cookie,
    console_anonymous,
    console_page,
    see_other,
    set_session_cookie,
)
from noc.web.console.context import console_context, in_thread
from noc.web.console.csrf import LOGIN_CSRF_COOKIE, new_login_token
from noc.web.console.render import render

HOME = "/agents"
LOGIN_FAILED = "Usuario o contraseña incorrectos."
TOO_MANY_ATTEMPTS = "Demasiados intentos de inicio de sesión. Espere unos minutos e inténtelo de nuevo."
LOGIN_LIMITER_KEY = web.AppKey("console_login_limiter", RateLimiter)
# Longest username kept as a rate-limit key (longer ones are never valid anyway).
MAX_USERNAME_KEY = 200


def add_login_limiter(app: web.Application, settings: Settings) -> None:
    """Give the app the limiter of login attempts, closed with the app."""
    limiter = limiter_from_settings(settings)
    app[LOGIN_LIMITER_KEY] = limiter

    async def close(_app: web.Application) -> None:
        await limiter.close()

    app.on_cleanup.append(close)


def _attempt_keys(request: web.Request, settings: Settings, username: str) -> tuple[tuple[Limit, str], ...]:
    ip = client_ip(request.remote, request.headers.get("X-Forwarded-For"), settings.trusted_proxy_hops)
    return (
        (login_ip_limit(settings), ip),
        (login_username_limit(settings), username.strip().lower()[:MAX_USERNAME_KEY]),
    )
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
    settings = console_context(request).settings
    limiter = request.app[LOGIN_LIMITER_KEY]
    attempt = _attempt_keys(request, settings, username)
    decision = await limiter.check(*attempt)
    if not decision.allowed:
        response = _login_form(
            request, status=429, username=username[:64], target=str(form.get("next", "")), message=TOO_MANY_ATTEMPTS
        )
        response.headers["Retry-After"] = str(decision.retry_after)
        return response
    agent = await in_thread(request, authenticate, username=username, password=password)
    if agent is None:
        return _login_form(
            request, status=401, username=username[:64], target=str(form.get("next", "")), message=LOGIN_FAILED
        )
    await limiter.release(*attempt)
    previous = request.cookies.get(SESSION_COOKIE)
    if previous:  # logging in again replaces the browser's old session
        await in_thread(request, delete_session, token=previous)
    session = await in_thread(
        request,
        create_session,
        agent_id=agent.id,
        idle_minutes=settings.console_session_minutes,
        max_hours=settings.console_session_max_hours,
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
