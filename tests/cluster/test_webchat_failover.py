"""A web chat customer whose Rasa server dies mid-turn: the widget resends, nothing is lost or doubled.

The widget in chromium on the web server's demo page, talking to the cluster
through nginx (ip_hash keeps its socket on one server). Its message's turn is
held on that server (the action servers frozen), the server is SIGKILLed: the
widget reconnects to the other server and sends the message again with the
same id (noc/rasa_plugins/channels/webchat.py), which takes it; the customer sees the
next question once, and the conversation and the agents' log hold the
message once.
"""

from __future__ import annotations

import signal
import time
from collections import Counter
from collections.abc import Iterator

import pytest
import requests
from playwright.sync_api import Page, expect
from sqlalchemy.engine import Engine

from tests.cluster.cluster import ACTION_BACKEND_PORTS, RASA_BACKENDS, Cluster
from tests.cluster.test_failover import logged_user_texts, rasa_port, user_events
from tests.cluster.test_faults import signal_servers, wait_restarted
from tests.web.conftest import browser, checked_page, widget_bundle  # noqa: F401 - the browser fixtures of tests/web
from tests.web.test_widget_browser import WidgetChat

# Long enough for the message to reach its server and wait on the action servers.
IN_HAND_SECONDS = 2.0
ANSWER_SECONDS = 90


@pytest.fixture
def page(browser) -> Iterator[Page]:  # noqa: F811 - the fixture imported above
    with checked_page(browser) as page:
        yield page


def socket_backend(cluster: Cluster) -> int:
    """Which Rasa server nginx's ip_hash gives this machine's sockets (the widget's too)."""
    handshake = requests.get(f"{cluster.front_url}/socket.io/?EIO=4&transport=polling", timeout=10)
    handshake.raise_for_status()
    return RASA_BACKENDS.index(handshake.headers["X-NOC-Upstream"].split(",")[-1].strip())


def test_a_web_chat_message_whose_server_dies_is_resent_and_answered_once(
    cluster: Cluster, database: Engine, page: Page
) -> None:
    page.goto(f"{cluster.web_url}/")
    page.get_by_role("button", name="Abrir el chat: Soporte NOC").click()
    chat = WidgetChat(page)
    assert "empresa" in chat.type("el enlace de la sede norte está caído desde ayer").lower()
    session_id = page.evaluate("() => JSON.parse(sessionStorage.getItem(Object.keys(sessionStorage)[0])).sessionId")
    holder = socket_backend(cluster)
    shown = chat.bot.count()

    signal_servers(cluster, ACTION_BACKEND_PORTS, signal.SIGSTOP)
    try:
        chat.textbox.fill("Banco Andino")
        chat.textbox.press("Enter")
        time.sleep(IN_HAND_SECONDS)
        signal_servers(cluster, (rasa_port(holder),), signal.SIGKILL)
    finally:
        signal_servers(cluster, ACTION_BACKEND_PORTS, signal.SIGCONT)
    try:
        expect(chat.bot).to_have_count(shown + 1, timeout=ANSWER_SECONDS * 1000)
        expect(chat.bot.last).to_contain_text("ID del servicio")
        page.wait_for_timeout(2000)  # a second copy of the answer would have come by now
        expect(chat.bot).to_have_count(shown + 1)
        expect(page.locator(".msg--pending")).to_have_count(0)

        users = user_events(database, session_id)
        assert Counter(event["message_id"] for event in users).most_common(1)[0][1] == 1, users
        assert [event["text"] for event in users].count("Banco Andino") == 1
        assert logged_user_texts(database, session_id).count("Banco Andino") == 1
        # The intake goes on from there, on the server left.
        assert "nombre" in chat.type("CO-MPLS-00123")
    finally:
        wait_restarted(cluster, {f"rasa-{holder + 1}": f"{cluster.backend_urls[holder]}/"})
