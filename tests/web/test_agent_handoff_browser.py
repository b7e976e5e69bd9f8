"""Issue 4's "done when", in two chromium windows against the real servers: a
customer asks the widget for an agent, the conversation shows up in the agent
console with its transcript, the agent's reply reaches the widget, and the
hand back lets the bot continue the intake where it was."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from noc.db.agents import create_agent
from noc.db.db import make_engine, make_session_factory
from tests.e2e.servers import Servers
from tests.polling import eventually
from tests.web.test_widget_browser import TICKET, WidgetChat

PASSWORD = "clave-de-prueba-123"
REPLY = "Hola, soy Ana del NOC: ya estoy revisando su enlace."


@pytest.fixture(scope="module")
def agent(servers: Servers) -> str:
    engine = make_engine(servers.database_url)
    try:
        create_agent(make_session_factory(engine), username="ana", display_name="Ana Ruiz", password=PASSWORD)
    finally:
        engine.dispose()
    return "ana"


@pytest.fixture
def two_pages(browser) -> Iterator[tuple[Page, Page]]:
    customer_context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="es-CO")
    agent_context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="es-CO")
    errors: list[str] = []
    pages = (customer_context.new_page(), agent_context.new_page())
    for page in pages:
        page.on("pageerror", lambda error: errors.append(str(error)))
    yield pages
    customer_context.close()
    agent_context.close()
    assert errors == [], errors


def user_lines(servers: Servers, page: Page) -> list[str]:
    """What the widget's customer wrote, as the conversation log holds it."""
    state = json.loads(page.evaluate("() => sessionStorage.getItem(Object.keys(sessionStorage)[0])"))
    return [m["text"] for m in servers.conversation_log(state["sessionId"]) if m["role"] == "user"]


def test_agent_takes_over_from_the_widget_and_hands_back(
    two_pages: tuple[Page, Page], servers: Servers, agent: str, artifacts: Path
) -> None:
    customer_page, agent_page = two_pages
    customer_page.goto(f"{servers.web_url}/")
    customer_page.get_by_role("button", name="Abrir el chat: Soporte NOC").click()
    customer = WidgetChat(customer_page)
    assert "empresa" in customer.type("el internet de la oficina está intermitente desde esta mañana").lower()
    assert "ID del servicio" in customer.type("Banco Andino")
    answer = customer.type("quiero hablar con un agente")
    ticket = TICKET.search(answer)
    assert ticket and "agente" in answer, answer

    # Paused: what the customer writes now is for the agent; the bot stays quiet.
    bot_messages = customer.bot.count()
    customer.textbox.fill("¿Sigue ahí? Tenemos una reunión a las 3")
    customer.textbox.press("Enter")
    expect(customer.user.last).to_have_text("¿Sigue ahí? Tenemos una reunión a las 3")
    # The turn is over once its message is in the conversation log (saved with
    # the turn, after any answer was sent): only then is "no answer" known.
    eventually(lambda: "¿Sigue ahí? Tenemos una reunión a las 3" in user_lines(servers, customer_page))
    expect(customer.bot).to_have_count(bot_messages)

    # The agent logs in and finds the conversation waiting, with its transcript.
    agent_page.goto(f"{servers.web_url}/agents")
    agent_page.get_by_label("Usuario").fill(agent)
    agent_page.get_by_label("Contraseña").fill(PASSWORD)
    agent_page.get_by_role("button", name="Entrar").click()
    expect(agent_page.get_by_role("heading", name="Incidentes")).to_be_visible()
    agent_page.get_by_role("link", name=ticket.group()).click()
    chat = agent_page.locator("#chat")
    expect(chat.locator(".msg--user .text")).to_contain_text(
        ["Banco Andino", "quiero hablar con un agente", "¿Sigue ahí? Tenemos una reunión a las 3"]
    )

    # While the page is open, a new customer message appears without reloading.
    customer.textbox.fill("Es la sede norte")
    customer.textbox.press("Enter")
    expect(chat.locator(".msg--user .text").last).to_have_text("Es la sede norte", timeout=15_000)

    # The agent's reply reaches the widget.
    agent_page.get_by_role("button", name="Tomar el incidente").click()
    agent_page.get_by_label("Responder al cliente").fill(REPLY)
    agent_page.get_by_role("button", name="Enviar").click()
    expect(agent_page.get_by_role("status").filter(has_text=re.compile("Mensaje enviado"))).to_be_visible()
    expect(customer.bot.last).to_have_text(REPLY, timeout=15_000)
    expect(chat.locator(".msg--agent .text")).to_have_text([REPLY], timeout=15_000)

    # Handed back: the bot says so and asks the question it was waiting on.
    agent_page.get_by_role("button", name="Devolver la conversación al asistente").click()
    expect(customer.bot.last).to_contain_text("ID del servicio", timeout=15_000)
    assert "nombre" in customer.type("CO-MPLS-00123").lower()
    customer_page.screenshot(path=str(artifacts / "handoff-widget.png"))
    agent_page.reload()
    expect(agent_page.locator(".audit")).to_contain_text("Devuelto al asistente")
    agent_page.screenshot(path=str(artifacts / "handoff-console.png"), full_page=True)
