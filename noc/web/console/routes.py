"""The console's routes on the web server."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy.orm import sessionmaker

from noc.settings import Settings
from noc.web.console import change_pages, incident_forms, login, notification_pages, pages
from noc.web.console.context import CONSOLE_KEY, ConsoleContext, EscalationBookLike
from noc.web.console.render import STATIC_DIR

INCIDENT = "/agents/incidents/{ticket}"


def add_console(
    app: web.Application, *, settings: Settings, session_factory: sessionmaker, escalation_book: EscalationBookLike
) -> None:
    """Register the console under ``/agents`` (its handlers are guarded by ``access.console_guard``)."""
    app[CONSOLE_KEY] = ConsoleContext(
        settings=settings, session_factory=session_factory, escalation_book=escalation_book
    )
    login.add_login_limiter(app, settings)
    router = app.router
    router.add_get("/agents/login", login.login_page, name="console_login")
    router.add_post("/agents/login", login.login_submit)
    router.add_post("/agents/logout", login.logout, name="console_logout")
    router.add_get("/agents", pages.incident_list, name="console_incidents")
    router.add_get("/agents/handoffs", pages.handoff_list, name="console_handoffs")
    router.add_get(INCIDENT, pages.incident_detail, name="console_incident")
    router.add_get(f"{INCIDENT}/messages", pages.incident_messages, name="console_messages")
    router.add_post(f"{INCIDENT}/take", incident_forms.take)
    router.add_post(f"{INCIDENT}/reply", incident_forms.reply)
    router.add_post(f"{INCIDENT}/status", incident_forms.change_status)
    router.add_post(f"{INCIDENT}/hand-back", incident_forms.return_to_bot)
    router.add_post(f"{INCIDENT}/close", incident_forms.close)
    router.add_get("/agents/changes", change_pages.change_list, name="console_changes")
    router.add_get("/agents/changes/{number}", change_pages.change_detail, name="console_change")
    router.add_get(notification_pages.LIST_PATH, notification_pages.notification_list, name="console_notifications")
    router.add_post(notification_pages.RETRY_PATH, notification_pages.notification_retry)
    # Stylesheet and script only (no data): public like the widget bundle.
    router.add_static("/agents/static/", STATIC_DIR, name="console_static")
