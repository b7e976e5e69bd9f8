"""The console's failed notifications (dead letters of the outbox) and their retry, over HTTP."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from noc.db.models import Notification
from noc.db.notifications import due_notifications
from noc.db.repository import open_incident
from noc.web.console.context import CONSOLE_KEY
from tests.api.conftest import make_incident
from tests.console.conftest import Console, hidden
from tests.console.seed import add_failed_notification, add_handoff

NOW = datetime.now(timezone.utc).replace(microsecond=0)
ERROR = 'no se pudo enviar el correo por SMTP: <b onmouseover="x()">550</b> buzón inexistente'
ESCAPED_ERROR = "&lt;b onmouseover=&#34;x()&#34;&gt;550&lt;/b&gt; buzón inexistente"


def dead_letter(console: Console, key: str = "k1") -> tuple[str, int]:
    """An incident whose handoff's e-mail was given up; returns (ticket, notification id)."""
    ticket = open_incident(console.session_factory, incident=make_incident(key), now=NOW).ticket
    handoff_id = add_handoff(console.session_factory, ticket=ticket, at=NOW)
    return ticket, add_failed_notification(console.session_factory, handoff_id=handoff_id, at=NOW, error=ERROR)


def failed_at(console: Console, notification_id: int) -> datetime | None:
    with console.session_factory() as s:
        return s.execute(select(Notification.failed_at).where(Notification.id == notification_id)).scalar_one()


async def test_the_page_lists_dead_letters_with_their_error(console: Console) -> None:
    ticket, _ = dead_letter(console)
    pending_ticket = open_incident(console.session_factory, incident=make_incident("k2"), now=NOW).ticket
    add_handoff(console.session_factory, ticket=pending_ticket, at=NOW)  # no notification failed here
    await console.login()

    response = await console.client.get("/agents/notifications")

    assert response.status == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    page = await response.text()
    assert f'<a href="/agents/incidents/{ticket}">{ticket}</a>' in page and pending_ticket not in page
    max_attempts = console.client.app[CONSOLE_KEY].settings.notification_max_attempts
    rule = f"Tras {max_attempts} intento"
    for expected in ("Correo", "servicedesk@noc.example.com", ESCAPED_ERROR, "Reintentar", rule):
        assert expected in page, expected
    assert "<b onmouseover" not in page
    assert "El envío de notificaciones está desactivado" in page  # the console fixture sets no channel
    listing = await (await console.client.get("/agents")).text()
    assert "Una notificación de derivación no se pudo entregar" in listing
    assert 'href="/agents/notifications"' in listing


async def test_without_dead_letters_the_page_and_the_list_say_so(console: Console) -> None:
    await console.login()

    page = await (await console.client.get("/agents/notifications")).text()
    listing = await (await console.client.get("/agents")).text()

    assert "No hay notificaciones fallidas." in page
    assert "no se pudo entregar" not in listing and "no se pudieron entregar" not in listing


async def test_the_page_and_the_retry_need_a_session(console: Console) -> None:
    _, notification_id = dead_letter(console)

    page = await console.client.get("/agents/notifications", allow_redirects=False)
    retry = await console.client.post(
        f"/agents/notifications/{notification_id}/retry", data={"csrf": "x"}, allow_redirects=False
    )

    assert page.status == 303 and page.headers["Location"] == "/agents/login?next=%2Fagents%2Fnotifications"
    assert retry.status == 303 and retry.headers["Location"].startswith("/agents/login?next=")
    assert failed_at(console, notification_id) == NOW


@pytest.mark.parametrize("csrf", [None, "", "falso"])
async def test_retry_without_the_sessions_csrf_token_is_refused(console: Console, csrf: str | None) -> None:
    _, notification_id = dead_letter(console)
    await console.login()

    response = await console.client.post(
        f"/agents/notifications/{notification_id}/retry",
        data={} if csrf is None else {"csrf": csrf},
        allow_redirects=False,
    )

    assert response.status == 403
    assert failed_at(console, notification_id) == NOW


async def test_retry_puts_it_back_in_the_queue_and_is_audited(console: Console) -> None:
    ticket, notification_id = dead_letter(console)
    await console.login()
    page = await (await console.client.get("/agents/notifications")).text()

    response = await console.client.post(
        f"/agents/notifications/{notification_id}/retry", data={"csrf": hidden(page, "csrf")}, allow_redirects=False
    )

    assert response.status == 303 and response.headers["Location"] == "/agents/notifications?aviso=reintentada"
    after = await (await console.client.get(response.headers["Location"])).text()
    assert "La notificación volvió a la cola de envío." in after and "No hay notificaciones fallidas." in after
    assert failed_at(console, notification_id) is None
    due = due_notifications(console.session_factory, now=datetime.now(timezone.utc) + timedelta(seconds=1))
    assert [(item.id, item.attempts) for item in due] == [(notification_id, 0)]
    incident = await (await console.client.get(f"/agents/incidents/{ticket}")).text()
    assert f"Reintentó la notificación {notification_id} (correo) tras 1 intento fallido" in incident
    assert ESCAPED_ERROR in incident

    # A second click, or an unknown notification, changes nothing and says so.
    for target in (notification_id, notification_id + 1000):
        again = await console.client.post(
            f"/agents/notifications/{target}/retry", data={"csrf": hidden(page, "csrf")}, allow_redirects=False
        )
        assert again.headers["Location"] == "/agents/notifications?aviso=no_fallida"
