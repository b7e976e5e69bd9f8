"""The widget on the demo page, in chromium, against the real servers: a whole intake."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Locator, Page, expect

from tests.e2e.servers import Servers
from tests.web.conftest import checked_page

TICKET = re.compile(r"INC-\d{4}-\d{6}")
ANSWER_TIMEOUT = 60.0
QUIET_SECONDS = 1.5
XSS = '<img src=x onerror="window.__nocXss=1"><script>window.__nocXss=2</script>'


class WidgetChat:
    """The customer, typing into the widget (or clicking its buttons)."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.dialog = page.get_by_role("dialog", name="Soporte NOC")
        self.textbox = self.dialog.get_by_role("textbox", name="Escriba su mensaje")
        self.bot = page.locator(".msg--bot .bubble")
        self.user = page.locator(".msg--user .bubble")

    def type(self, text: str) -> str:
        return self._answer(lambda: (self.textbox.fill(text), self.textbox.press("Enter")), text)

    def click(self, title: str) -> str:
        button = self.quick_replies().get_by_role("button", name=title, exact=True)
        return self._answer(button.click, title)

    def quick_replies(self) -> Locator:
        return self.dialog.get_by_role("group", name="Respuestas sugeridas")

    def _answer(self, act, shown: str) -> str:
        before = self.bot.count()
        act()
        expect(self.user.last).to_have_text(shown)
        # Answers come as several bot_uttered events: wait until quiet.
        deadline = time.monotonic() + ANSWER_TIMEOUT
        expect(self.bot).not_to_have_count(before, timeout=ANSWER_TIMEOUT * 1000)
        count, quiet_since = self.bot.count(), time.monotonic()
        while time.monotonic() - quiet_since < QUIET_SECONDS and time.monotonic() < deadline:
            time.sleep(0.1)
            if self.bot.count() != count:
                count, quiet_since = self.bot.count(), time.monotonic()
        return "\n".join(self.bot.all_text_contents()[before:])


@pytest.fixture
def page(browser) -> Iterator[Page]:
    with checked_page(browser) as page:
        yield page


def test_intake_through_the_widget(browser, page: Page, servers: Servers, artifacts: Path) -> None:
    page.goto(f"{servers.web_url}/")
    expect(page).to_have_title(re.compile("Centro de Operaciones de Red"))

    # Keyboard only: Tab to the launcher, Enter opens, typing + Enter sends.
    launcher = page.get_by_role("button", name="Abrir el chat: Soporte NOC")
    for _ in range(30):
        page.keyboard.press("Tab")
        if launcher.evaluate("e => e.getRootNode().activeElement === e"):
            break
    expect(launcher).to_be_focused()
    page.keyboard.press("Enter")
    chat = WidgetChat(page)
    expect(chat.dialog).to_be_visible()
    expect(chat.textbox).to_be_focused()

    assert "problema" in chat.type("hola")
    assert "empresa" in chat.type("el enlace de la sede norte está caído desde ayer").lower()
    assert "ID del servicio" in chat.type("Banco Andino")
    assert "nombre" in chat.type("CO-MPLS-00123")
    assert "teléfono" in chat.type("Ana Ruiz")
    assert "correo" in chat.type("+57 300 123 4567")
    assert "encendido" in chat.type("ana.ruiz@bancoandino.com.co")
    # A quick reply: its title is shown as the customer's message.
    assert "reinició" in chat.click("Sí")
    expect(chat.quick_replies().get_by_role("button")).to_have_text(["Sí", "No"])

    # Reload in the middle: the history is back, with the pending buttons,
    # and the conversation goes on in the same session.
    shown_before = chat.page.locator(".msg").all_text_contents()
    page.reload()
    chat = WidgetChat(page)
    expect(chat.dialog).to_be_visible()
    expect(page.locator(".msg")).to_have_text(shown_before)
    expect(chat.dialog.get_by_role("status").filter(has_text="En línea")).to_be_visible(timeout=15_000)
    assert "continúa" in chat.click("Sí")
    summary = chat.type("sí, sigue igual")
    assert "Banco Andino" in summary and "ana.ruiz@bancoandino.com.co" in summary, summary
    answer = chat.click("Sí, registrar")

    ticket = TICKET.search(answer)
    assert ticket, answer
    expect(page.locator(".ticket").first).to_have_text(ticket.group())
    expect(page.locator(".typing")).to_be_hidden()
    page.screenshot(path=str(artifacts / "widget-finished.png"))

    record = requests.get(
        f"{servers.web_url}/api/incidents/{ticket.group()}",
        headers={"Authorization": f"Bearer {servers.token}"},
        timeout=10,
    )
    assert record.status_code == 200, record.text
    state = json.loads(page.evaluate("() => sessionStorage.getItem(Object.keys(sessionStorage)[0])"))
    assert record.json()["channel"] == "web"
    assert record.json()["sender_id"] == state["sessionId"]
    transcript = [m["text"] for m in record.json()["transcript"] if m["role"] == "user"]
    assert "Banco Andino" in transcript

    # Markup typed by the customer is shown as text and never runs.
    chat.type(XSS)
    assert chat.user.last.evaluate("e => e.textContent") == XSS
    assert page.locator(".log img, .log script").count() == 0
    assert page.evaluate("() => window.__nocXss ?? null") is None

    # Esc closes the panel and gives the focus back to the launcher.
    chat.textbox.focus()
    page.keyboard.press("Escape")
    expect(chat.dialog).to_be_hidden()
    expect(launcher).to_be_focused()

    # The same finished conversation on a 360x640 phone (the tab's storage,
    # copied to a new browser context, opens it as a reload would).
    key = page.evaluate("() => Object.keys(sessionStorage)[0]")
    state["open"] = True
    state["messages"] = [m for m in state["messages"] if m["text"] != XSS]
    phone = browser.new_context(viewport={"width": 360, "height": 640}, is_mobile=True, has_touch=True)
    try:
        phone.add_init_script(f"sessionStorage.setItem({json.dumps(key)}, {json.dumps(json.dumps(state))})")
        small = phone.new_page()
        small.goto(f"{servers.web_url}/")
        dialog = small.get_by_role("dialog", name="Soporte NOC")
        expect(dialog).to_be_visible()
        assert dialog.bounding_box() == {"x": 0, "y": 0, "width": 360, "height": 640}
        expect(small.locator(".ticket").first).to_have_text(ticket.group())
        expect(dialog.get_by_role("status").filter(has_text="En línea")).to_be_visible(timeout=15_000)
        small.locator(".ticket").first.scroll_into_view_if_needed()
        small.screenshot(path=str(artifacts / "widget-finished-360x640.png"))
    finally:
        phone.close()
