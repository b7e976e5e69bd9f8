"""The console in Debian's chromium, against a real web server process and a fake Rasa bridge.

An agent logs in, finds a handed-off incident whose transcript carries
markup, watches a new customer message arrive live, answers through the
bridge, changes the status and reads the audit trail, while nothing the
customer wrote ever runs as script. Another finds a handoff e-mail the
outbox gave up on and puts it back in the queue.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from noc.db.agents import create_agent
from noc.db.conversation_log import LoggedMessage, append_messages
from noc.db.db import make_engine, make_session_factory
from noc.db.migrate import upgrade
from noc.db.models import Notification
from noc.db.repository import TranscriptEntry, open_incident
from noc.settings import PROJECT_ROOT
from tests.api.conftest import make_incident
from tests.console.fake_bridge import FakeBridge, ThreadedServer
from tests.console.seed import add_failed_notification, add_handoff
from tests.e2e.servers import wait_for
from tests.web.conftest import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS

WEB_PORT = 15331
BRIDGE_PORT = 15332
TOKEN = "browser-console-token"
PASSWORD = "clave-del-navegador-1"
SENDER = "whatsapp:+573001112233"
SCRIPT_TEXT = "<script>window.__pwned=1</script>"
IMG_TEXT = "<img src=x onerror=\"window.__pwned=2\">el enlace sigue caído"
LIVE_TEXT = "¿Hay novedades? <img src=x onerror=\"window.__pwned=3\">"
# What a failing SMTP server or webhook answered ends up in the page: text only.
FAILED_ERROR = "no se pudo enviar el correo por SMTP: <h1 onclick=\"window.__pwned=4\">550</h1> buzón lleno"


@dataclass
class Stack:
    url: str
    ticket: str
    other_ticket: str
    handoff_id: int
    session_factory: sessionmaker
    bridge: FakeBridge


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("console-browser")
    database_url = f"sqlite:///{tmp / 'console.db'}"
    upgrade(database_url)
    engine = make_engine(database_url)
    session_factory = make_session_factory(engine)
    now = datetime.now(timezone.utc)
    ticket = open_incident(
        session_factory,
        incident=make_incident(
            "browser-1",
            status="derivado",
            company="Banco Andino",
            region="colombia",
            sender_id=SENDER,
            channel="whatsapp",
            transcript=(
                TranscriptEntry(role="user", text=SCRIPT_TEXT, at=now - timedelta(minutes=4)),
                TranscriptEntry(role="bot", text="¿Cuál es el nombre de su empresa?", at=now - timedelta(minutes=3)),
                TranscriptEntry(role="user", text=IMG_TEXT, at=now - timedelta(minutes=2)),
            ),
        ),
        now=now - timedelta(minutes=1),
    ).ticket
    other = open_incident(
        session_factory, incident=make_incident("browser-2", company="Tiendas Ñandú", region="peru"), now=now
    ).ticket
    handoff_id = add_handoff(session_factory, ticket=ticket, at=now, reason="customer_request")
    create_agent(session_factory, username="ana", display_name="Ana Operadora", password=PASSWORD)

    # The Rasa side logs what the agent wrote through its event broker: do the same.
    bridge = FakeBridge(
        channel="whatsapp",
        on_message=lambda body: append_messages(
            session_factory,
            messages=[
                LoggedMessage(
                    sender_id=body["sender_id"], role="agent", text=body["text"], at=datetime.now(timezone.utc)
                )
            ],
        ),
    )
    env = {
        **os.environ,
        "WEB_PORT": str(WEB_PORT),
        "DATABASE_URL": database_url,
        "AGENT_API_TOKEN": TOKEN,
        "RASA_URL": f"http://127.0.0.1:{BRIDGE_PORT}",
        "CONSOLE_COOKIE_SECURE": "false",
        # No notification worker: a requeued notification stays queued for the test to see.
        "HANDOFF_WEBHOOK_URL": "",
        "SMTP_HOST": "",
    }
    with ThreadedServer(bridge.app(), BRIDGE_PORT), open(tmp / "web.log", "w") as log:
        command = [sys.executable, "-m", "noc.web"]
        proc = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_for(f"http://127.0.0.1:{WEB_PORT}/api/health", [proc], 60)
            yield Stack(f"http://127.0.0.1:{WEB_PORT}", ticket, other, handoff_id, session_factory, bridge)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
            engine.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} not found: `make chromium` installs Debian's chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1360, "height": 1000}, locale="es-CO")
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    # A CSP violation (our own script or style blocked) shows up as a console error;
    # HTTP errors (the 401 of a failed login, the missing favicon) are expected.
    page.on(
        "console",
        lambda message: message.type == "error"
        and not message.text.startswith("Failed to load resource")
        and problems.append(message.text),
    )
    yield page
    context.close()
    assert problems == [], problems


def test_agent_works_a_handed_off_incident(page: Page, stack: Stack) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    # Not logged in: the console sends the agent to the login form.
    page.goto(f"{stack.url}/agents")
    expect(page.get_by_role("heading", name="Iniciar sesión")).to_be_visible()
    page.get_by_label("Usuario").fill("ana")
    page.get_by_label("Contraseña").fill("no-es-esta")
    page.get_by_role("button", name="Entrar").click()
    expect(page.get_by_role("alert")).to_have_text("Usuario o contraseña incorrectos.")
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Entrar").click()
    expect(page.get_by_role("heading", name="Incidentes")).to_be_visible()

    # The waiting handoff is listed first and marked; the search narrows to it.
    rows = page.locator("table.incidents tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text(stack.ticket)
    expect(rows.first).to_contain_text("Esperando agente")
    page.get_by_role("searchbox", name="Buscar").fill("andino")
    page.get_by_role("button", name="Filtrar").click()
    expect(rows).to_have_count(1)
    expect(page.get_by_role("link", name=stack.other_ticket)).to_have_count(0)
    page.get_by_role("link", name=stack.ticket).click()

    # The transcript reads as text, markup included.
    expect(page.get_by_role("heading", name=stack.ticket)).to_be_visible()
    chat = page.locator("#chat")
    customer = chat.locator(".msg--user .text")
    expect(customer).to_have_text([SCRIPT_TEXT, IMG_TEXT])
    expect(page.locator(".details")).to_contain_text("Service Desk")  # Colombia's level-1 contact

    # The customer writes while the page is open: it shows up by itself.
    append_messages(
        stack.session_factory,
        messages=[LoggedMessage(sender_id=SENDER, role="user", text=LIVE_TEXT, at=datetime.now(timezone.utc))],
    )
    expect(customer).to_have_text([SCRIPT_TEXT, IMG_TEXT, LIVE_TEXT], timeout=10_000)

    # Take it, answer the customer through the bridge.
    page.get_by_role("button", name="Tomar el incidente").click()
    expect(page.get_by_role("status").filter(has_text="Tomó el incidente.")).to_be_visible()
    page.get_by_label("Responder al cliente").fill("Estamos revisando su enlace, le aviso en 15 minutos.")
    page.get_by_role("button", name="Enviar").click()
    expect(page.get_by_role("status").filter(has_text="Mensaje enviado al cliente.")).to_be_visible()
    assert stack.bridge.received("message") == [
        {"sender_id": SENDER, "text": "Estamos revisando su enlace, le aviso en 15 minutos.", "agent": "Ana Operadora"}
    ]
    expect(chat.locator(".msg--agent .text")).to_have_text(["Estamos revisando su enlace, le aviso en 15 minutos."])

    # Change the status: the audit trail says who did what.
    page.get_by_label("Estado", exact=True).select_option(label="En progreso")
    page.get_by_role("button", name="Cambiar estado").click()
    expect(page.get_by_role("status").filter(has_text="Estado actualizado.")).to_be_visible()
    audit = page.locator(".audit tbody tr")
    expect(audit.last).to_contain_text("Cambió el estado de «Derivado a un agente» a «En progreso»")
    expect(audit.last).to_contain_text("ana")
    expect(page.locator(".audit")).to_contain_text("Respondió al cliente (entregado por WhatsApp)")

    # Nothing the customer wrote ran or became markup.
    assert page.evaluate("() => window.__pwned ?? null") is None
    assert chat.locator("img, script, b").count() == 0
    chat.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "console-incident.png"), full_page=True)


def test_agent_requeues_a_notification_that_was_given_up(page: Page, stack: Stack) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    notification_id = add_failed_notification(
        stack.session_factory, handoff_id=stack.handoff_id, at=datetime.now(timezone.utc), error=FAILED_ERROR
    )
    page.goto(f"{stack.url}/agents")
    page.get_by_label("Usuario").fill("ana")
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Entrar").click()

    # The incident list, where agents look first, says a notification was given up.
    banner = page.locator(".failed-notifications")
    expect(banner).to_contain_text("Una notificación de derivación no se pudo entregar")
    banner.get_by_role("link", name="ver notificaciones fallidas").click()

    expect(page.get_by_role("heading", name="Notificaciones fallidas")).to_be_visible()
    rows = page.locator("table.notifications tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(stack.ticket)
    expect(rows.first).to_contain_text("servicedesk@noc.example.com")
    expect(rows.first.locator(".last-error")).to_have_text(FAILED_ERROR)
    assert rows.first.locator("h1").count() == 0
    page.screenshot(path=str(ARTIFACTS / "console-notifications.png"), full_page=True)

    rows.first.get_by_role("button", name="Reintentar").click()
    expect(page.get_by_role("status")).to_have_text("La notificación volvió a la cola de envío.")
    expect(page.get_by_text("No hay notificaciones fallidas.")).to_be_visible()
    with stack.session_factory() as s:
        row = s.execute(select(Notification).where(Notification.id == notification_id)).scalar_one()
    assert row.failed_at is None and row.attempts == 0 and row.delivered_at is None

    # The banner is gone and the incident's audit trail says who requeued it.
    page.get_by_role("link", name="Incidentes").click()
    expect(page.get_by_role("heading", name="Incidentes")).to_be_visible()
    expect(page.locator(".failed-notifications")).to_have_count(0)
    page.goto(f"{stack.url}/agents/incidents/{stack.ticket}")
    expect(page.locator(".audit tbody tr").last).to_contain_text(
        f"Reintentó la notificación {notification_id} (correo) tras 1 intento fallido"
    )
    assert page.evaluate("() => window.__pwned ?? null") is None
