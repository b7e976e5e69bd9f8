"""Failed handoff notifications: the dead letters of the outbox, and the button that queues one again.

The worker (noc.notify.worker) gives a webhook or e-mail up after
``NOTIFICATION_MAX_ATTEMPTS`` failures; nobody outside the console would know
that the NOC was never told of the handoff, so the page lists each one with
its last error. Retrying is a POST (the console guard checks the session's
CSRF token) that is audited on the incident.
"""

from __future__ import annotations

from datetime import datetime, timezone

from aiohttp import web

from noc.db.audit import agent_actor
from noc.db.notifications import list_failed_notifications, requeue_notification
from noc.web.console.access import console_page, current_session, see_other
from noc.web.console.context import console_context, in_thread
from noc.web.console.render import render

LIST_PATH = "/agents/notifications"
RETRY_PATH = LIST_PATH + "/{notification_id:[0-9]{1,18}}/retry"
NOTICES = {
    "reintentada": "La notificación volvió a la cola de envío.",
    "no_fallida": "Esa notificación ya no estaba fallida: otro agente la reintentó o ya se entregó.",
}


@console_page
async def notification_list(request: web.Request) -> web.Response:
    settings = console_context(request).settings
    rows = await in_thread(request, list_failed_notifications)
    return render(
        request,
        "notifications.html",
        rows=rows,
        max_attempts=settings.notification_max_attempts,
        # Requeued rows wait for a worker, which runs only with a channel configured.
        sending_off=not (settings.handoff_webhook_url or settings.smtp_host),
        notice=NOTICES.get(request.query.get("aviso", "")),
    )


@console_page
async def notification_retry(request: web.Request) -> web.Response:
    requeued = await in_thread(
        request,
        requeue_notification,
        notification_id=int(request.match_info["notification_id"]),
        actor=agent_actor(current_session(request).agent.username),
        now=datetime.now(timezone.utc),
    )
    return see_other(f"{LIST_PATH}?aviso={'reintentada' if requeued else 'no_fallida'}")
