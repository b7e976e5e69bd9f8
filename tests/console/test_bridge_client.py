"""The agent bridge client against a local fake of the Rasa side."""

from __future__ import annotations

import socket
from dataclasses import replace

import pytest
from aiohttp import web

from noc.settings import Settings, load_settings
from noc.web import bridge_client
from noc.web.bridge_client import BridgeError, Delivery, hand_back, send_agent_message
from tests.console.fake_bridge import FakeBridge


def settings_for(bridge: FakeBridge, token: str | None = "secreto") -> Settings:
    return replace(load_settings(), rasa_url=str(bridge.server.make_url("")), agent_api_token=token)


async def test_message_is_posted_with_the_token(bridge: FakeBridge) -> None:
    bridge.channel = "whatsapp"

    delivery = await send_agent_message(
        settings_for(bridge), sender_id="whatsapp:+573001234567", text="Hola, soy Ana «NOC»", agent_name="Ana"
    )

    assert delivery == Delivery(delivered=True, channel="whatsapp")
    [call] = bridge.calls
    assert call.path == "message"
    assert call.body == {"sender_id": "whatsapp:+573001234567", "text": "Hola, soy Ana «NOC»", "agent": "Ana"}
    assert call.authorization == "Bearer secreto"


async def test_undelivered_message_is_reported(bridge: FakeBridge) -> None:
    bridge.delivered = False

    delivery = await send_agent_message(settings_for(bridge), sender_id="s", text="t", agent_name="a")

    assert delivery.delivered is False


@pytest.mark.parametrize("close", [True, False])
async def test_hand_back(bridge: FakeBridge, close: bool) -> None:
    await hand_back(settings_for(bridge), sender_id="abc", agent_name="Ana", close=close)

    assert bridge.received("resume") == [{"sender_id": "abc", "agent": "Ana", "close": close}]


@pytest.mark.parametrize("status", [401, 404, 500, 503])
async def test_http_errors_raise(bridge: FakeBridge, status: int) -> None:
    bridge.status = status

    with pytest.raises(BridgeError, match=str(status)):
        await send_agent_message(settings_for(bridge), sender_id="s", text="t", agent_name="a")
    with pytest.raises(BridgeError, match=str(status)):
        await hand_back(settings_for(bridge), sender_id="s", agent_name="a", close=False)


async def test_timeout_raises(bridge: FakeBridge, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bridge_client, "TIMEOUT_SECONDS", 0.2)
    bridge.delay = 2

    with pytest.raises(BridgeError, match="no respondió"):
        await send_agent_message(settings_for(bridge), sender_id="s", text="t", agent_name="a")


async def test_connection_refused_raises() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = replace(load_settings(), rasa_url=f"http://127.0.0.1:{port}", agent_api_token="x")

    with pytest.raises(BridgeError, match="conectar"):
        await hand_back(settings, sender_id="s", agent_name="a", close=True)


async def test_without_a_token_nothing_is_sent(bridge: FakeBridge) -> None:
    with pytest.raises(BridgeError, match="AGENT_API_TOKEN"):
        await send_agent_message(settings_for(bridge, token=None), sender_id="s", text="t", agent_name="a")
    assert bridge.calls == []


async def test_a_non_json_answer_raises(aiohttp_server) -> None:
    async def html_page(request: web.Request) -> web.Response:
        return web.Response(text="<html>ok</html>", content_type="text/html")

    app = web.Application()
    app.router.add_post("/webhooks/agent_bridge/message", html_page)
    server = await aiohttp_server(app)
    settings = replace(load_settings(), rasa_url=str(server.make_url("")), agent_api_token="x")

    with pytest.raises(BridgeError, match="inválida"):
        await send_agent_message(settings, sender_id="s", text="t", agent_name="a")
