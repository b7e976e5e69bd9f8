"""The widget in chromium against a stand-in Rasa (fake_rasa.py): fast, no model needed.

Covers what the real conversation can't provoke at will: markup sent by the
bot, the typing indicator, a server restart, a small screen.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.polling import eventually
from tests.web.conftest import checked_page
from tests.web.fake_rasa import HTML_ANSWER, FakeRasa

PORT = 18391


@pytest.fixture(scope="module")
def fake_rasa(widget_bundle: Path) -> Iterator[FakeRasa]:
    server = FakeRasa(port=PORT, widget_bundle=widget_bundle)
    server.start()
    yield server
    server.close()


@pytest.fixture
def page(browser, fake_rasa: FakeRasa) -> Iterator[Page]:
    fake_rasa.events.clear()
    with checked_page(browser, height=800) as page:
        yield page


def stored_state(page: Page) -> dict:
    raw = page.evaluate("() => Object.entries(sessionStorage).find(([k]) => k.startsWith('noc-chat:'))?.[1]")
    assert raw, "nothing in sessionStorage"
    return json.loads(raw)


def test_bot_markup_is_text_buttons_send_payloads_and_a_restart_is_survived(page: Page, fake_rasa: FakeRasa) -> None:
    page.goto(f"{fake_rasa.url}/")
    launcher = page.get_by_role("button", name="Abrir el chat: Soporte de prueba")
    expect(launcher).to_be_visible()
    # A check that something does not happen needs a wait: a widget that
    # connected on load would have by now (it connects within milliseconds).
    page.wait_for_timeout(300)
    assert fake_rasa.received("session_request") == [], "no connection before the widget is used"

    launcher.click()
    dialog = page.get_by_role("dialog", name="Soporte de prueba")
    expect(dialog).to_be_visible()
    textbox = dialog.get_by_role("textbox", name="Escriba su mensaje")
    expect(textbox).to_be_focused()
    expect(dialog.get_by_role("status").filter(has_text="En línea")).to_be_visible()

    textbox.fill("html")
    textbox.press("Enter")
    typing = page.locator(".typing")
    expect(typing).to_be_visible()  # the fake bot answers after 1 s
    bot = page.locator(".msg--bot .bubble")
    expect(bot).to_have_count(1)
    expect(typing).to_be_hidden()

    # The bot's markup is text: same characters, no element made from it.
    assert bot.first.evaluate("e => e.textContent") == HTML_ANSWER["text"]
    assert bot.first.evaluate("e => getComputedStyle(e).whiteSpace") == "pre-wrap"
    assert "\n" in bot.first.inner_text()
    assert page.locator(".log img, .log b").count() == 0

    replies = dialog.get_by_role("group", name="Respuestas sugeridas").get_by_role("button")
    expect(replies).to_have_count(2)
    title = HTML_ANSWER["quick_replies"][0]["title"]
    assert replies.first.evaluate("e => e.textContent") == title
    replies.first.click()
    user = page.locator(".msg--user .bubble")
    expect(user.last).to_have_text(title)
    eventually(lambda: [m["message"] for m in fake_rasa.received("user_uttered")] == ["html", "/affirm"])
    expect(dialog.get_by_role("group", name="Respuestas sugeridas")).to_have_count(0)
    expect(bot).to_have_count(2)
    assert page.evaluate("() => [window.__nocBotXss ?? null, window.__nocQrXss ?? null]") == [None, None]

    session_id = stored_state(page)["sessionId"]
    assert {m["session_id"] for m in fake_rasa.received("user_uttered")} == {session_id}

    # The server goes away: the widget says so, keeps what is typed, and on
    # reconnection asks for the same session before sending it.
    fake_rasa.stop()
    expect(dialog.get_by_role("status").filter(has_text="Sin conexión")).to_be_visible(timeout=10_000)
    textbox.fill("mientras tanto")
    textbox.press("Enter")
    expect(page.locator(".msg--user.msg--pending")).to_have_count(1)
    fake_rasa.start()
    expect(bot.last).to_have_text("Recibido: mientras tanto", timeout=20_000)
    expect(page.locator(".msg--pending")).to_have_count(0)
    requests = fake_rasa.received("session_request")
    assert len(requests) == 2 and {r["session_id"] for r in requests} == {session_id}

    # A reload shows the same conversation and joins the same session.
    page.reload()
    expect(dialog).to_be_visible()
    expect(page.locator(".msg")).to_have_count(6)
    eventually(lambda: len(fake_rasa.received("session_request")) == 3)
    assert fake_rasa.received("session_request")[-1]["session_id"] == session_id


def test_a_message_whose_socket_died_before_the_ack_is_sent_again_and_answered_once(
    page: Page, fake_rasa: FakeRasa
) -> None:
    page.goto(f"{fake_rasa.url}/")
    page.get_by_role("button", name="Abrir el chat: Soporte de prueba").click()
    dialog = page.get_by_role("dialog", name="Soporte de prueba")
    expect(dialog.get_by_role("status").filter(has_text="En línea")).to_be_visible()
    textbox = dialog.get_by_role("textbox", name="Escriba su mensaje")
    textbox.fill("corte")
    textbox.press("Enter")
    # Answered, then the socket is cut before the acknowledgement: the widget
    # reconnects and sends the message again with the same id.
    eventually(lambda: len(fake_rasa.received("user_uttered")) == 2, timeout=20)
    first, again = fake_rasa.received("user_uttered")
    assert first["message_id"] == again["message_id"] and first["message"] == again["message"] == "corte"
    expect(dialog.get_by_role("status").filter(has_text="En línea")).to_be_visible(timeout=10_000)
    eventually(lambda: stored_state(page)["outbox"] == [])
    # The saved answer came twice, once per copy; it is shown once.
    expect(page.locator(".msg--bot .bubble")).to_have_count(1)
    expect(page.locator(".msg--bot .bubble")).to_have_text("Recibido: corte")
    expect(page.locator(".msg--pending")).to_have_count(0)

    textbox.fill("y ahora")
    textbox.press("Enter")
    expect(page.locator(".msg--bot .bubble").last).to_have_text("Recibido: y ahora")
    expect(page.locator(".msg--bot .bubble")).to_have_count(2)
    assert len(fake_rasa.received("user_uttered")) == 3


def test_keyboard_only(page: Page, fake_rasa: FakeRasa) -> None:
    page.goto(f"{fake_rasa.url}/")
    launcher = page.get_by_role("button", name="Abrir el chat: Soporte de prueba")
    for _ in range(10):
        page.keyboard.press("Tab")
        if launcher.evaluate("e => e.getRootNode().activeElement === e"):
            break
    expect(launcher).to_be_focused()
    assert launcher.evaluate("e => getComputedStyle(e).outlineStyle") != "none", "focus is visible"

    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Soporte de prueba")
    expect(dialog).to_be_visible()
    textbox = dialog.get_by_role("textbox", name="Escriba su mensaje")
    expect(textbox).to_be_focused()
    page.keyboard.type("hola")
    page.keyboard.press("Enter")
    expect(page.locator(".msg--bot .bubble")).to_have_text(["Recibido: hola"])
    expect(textbox).to_have_value("")

    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(launcher).to_be_focused()
    expect(launcher).to_have_attribute("aria-expanded", "false")


def test_small_screen(browser, fake_rasa: FakeRasa) -> None:
    context = browser.new_context(viewport={"width": 360, "height": 640}, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        page.goto(f"{fake_rasa.url}/")
        page.get_by_role("button", name="Abrir el chat: Soporte de prueba").tap()
        dialog = page.get_by_role("dialog", name="Soporte de prueba")
        expect(dialog).to_be_visible()
        assert dialog.bounding_box() == {"x": 0, "y": 0, "width": 360, "height": 640}
        textbox = dialog.get_by_role("textbox", name="Escriba su mensaje")
        box = textbox.bounding_box()
        assert box is not None and box["y"] + box["height"] <= 640
        send = dialog.get_by_role("button", name="Enviar mensaje")
        send_box = send.bounding_box()
        assert send_box is not None and send_box["x"] + send_box["width"] <= 360
        assert send_box["width"] >= 44 and send_box["height"] >= 44, "touch target"
        textbox.fill("hola")
        send.tap()
        expect(page.locator(".msg--bot .bubble")).to_have_text(["Recibido: hola"])
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 360
    finally:
        context.close()


@pytest.mark.parametrize(
    ("rasa_url", "origin", "socket_path"),
    [
        ("http://127.0.0.1:5005", "http://127.0.0.1:5005", "/socket.io"),
        ("http://127.0.0.1:5005/", "http://127.0.0.1:5005", "/socket.io"),
        ("https://chat.noc.example/rasa/", "https://chat.noc.example", "/rasa/socket.io"),
        ("", "http://127.0.0.1:5005", "/socket.io"),
    ],
)
def test_rasa_url_attribute(page: Page, fake_rasa: FakeRasa, rasa_url: str, origin: str, socket_path: str) -> None:
    page.goto(f"{fake_rasa.url}/?rasa={rasa_url}")
    config = page.evaluate("() => window.__nocChatWidget.config")
    assert (config["origin"], config["socketPath"]) == (origin, socket_path)
    assert fake_rasa.received("session_request") == [], "nothing connects before the widget is opened"
