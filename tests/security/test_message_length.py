"""Messages longer than the bot reads, and request bodies over the servers' limits (issue 11).

A message over ``MAX_BOT_MESSAGE_CHARS`` is answered on every customer channel
with the domain's ``utter_message_too_long`` and never reaches the bot (NLU
on a long text holds the Rasa server's event loop for every conversation).
The end-to-end figure, with the real model: tests/security/test_long_messages_e2e.py.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any
from unittest.mock import AsyncMock

import pytest
from rasa.core.channels.channel import UserMessage

from noc.db import twilio_messages as twilio_store
from noc.db.db import get_session_factory
from noc.rasa_plugins.channels.limits import MAX_BOT_MESSAGE_CHARS, MAX_REQUEST_BYTES, MESSAGE_TOO_LONG
from noc.rasa_plugins.channels.rest import MAX_MESSAGE_CHARS, RestInput
from noc.rasa_plugins.channels.twilio import DOMAIN_PATH, TwilioInput, read_channel_responses
from noc.rasa_plugins.channels.webchat import WebChatInput
from noc.web.server import MAX_BODY_BYTES
from tests.channels.conftest import FakeAgent, TwilioClient, start_channel, stop_channel, twilio_settings
from tests.console.conftest import TOKEN, Console
from tests.security.conftest import limited_settings
from tests.security.test_rest_channel import RestClient

TOO_LONG = read_channel_responses(DOMAIN_PATH, (MESSAGE_TOO_LONG,))[MESSAGE_TOO_LONG]
AT_LIMIT = ("El enlace de la sede norte está caído. " * 60)[:MAX_BOT_MESSAGE_CHARS]
OVER_LIMIT = AT_LIMIT + "x"
SESSION = "0123456789abcdef0123456789abcdef"


def test_the_answer_is_a_spanish_domain_response_for_every_channel() -> None:
    assert "demasiado largo" in TOO_LONG and "partes más cortas" in TOO_LONG
    for channel in ("rest", "socketio", "twilio"):
        assert read_channel_responses(DOMAIN_PATH, (MESSAGE_TOO_LONG,), channel=channel) == {MESSAGE_TOO_LONG: TOO_LONG}


def test_a_full_report_fits_and_the_rest_limit_is_above() -> None:
    report = (
        "Buenos días, les escribe Ana Ruiz de Banco Andino S.A.S. El enlace CO-MPLS-00777 de la sede norte en "
        "Bogotá está caído desde hoy a las 8:15, sin servicio en todas las oficinas. Mi teléfono es "
        "+57 300 123 4567 y mi correo ana.ruiz@bancoandino.com.co."
    )
    assert 4 * len(report) < MAX_BOT_MESSAGE_CHARS < MAX_MESSAGE_CHARS
    assert len(AT_LIMIT) == MAX_BOT_MESSAGE_CHARS


# -- REST ------------------------------------------------------------------------


@pytest.fixture
async def rest() -> AsyncIterator[tuple[RestClient, FakeAgent]]:
    agent = FakeAgent()
    channel = RestInput(limited_settings(rate_limit_sender_per_minute=3, rate_limit_ip_per_minute=100))
    server, base_url = await start_channel(channel, agent)
    try:
        yield RestClient(base_url), agent
    finally:
        await stop_channel(server)


async def test_rest_message_at_the_limit_reaches_the_bot_whole(rest) -> None:
    client, agent = rest
    status, _, body = await client.say("ana", AT_LIMIT)
    assert status == 200 and body == [{"recipient_id": "ana", "text": f"eco: {AT_LIMIT}"}]
    assert agent.texts == [AT_LIMIT]


@pytest.mark.parametrize("query", ["", "?stream=true"])
async def test_rest_longer_message_gets_the_notice_and_never_reaches_the_bot(rest, query: str) -> None:
    client, agent = rest
    status, _, body = await client.say("ana", OVER_LIMIT, query=query)
    # 200, like any answer of the bot: clients that only read 200s still show it.
    assert status == 200 and body == [{"recipient_id": "ana", "text": TOO_LONG}]
    assert agent.received == []


async def test_rest_longer_messages_still_count_against_the_rate_limit(rest) -> None:
    client, agent = rest
    statuses = [(await client.say("ana", OVER_LIMIT))[0] for _ in range(4)]
    assert statuses == [200, 200, 200, 429] and agent.received == []


async def test_rest_beyond_the_channel_maximum_is_still_413(rest) -> None:
    client, agent = rest
    status, _, body = await client.say("ana", "x" * (MAX_MESSAGE_CHARS + 1))
    assert status == 413 and body["error"] and agent.received == []


# -- request bodies of the Rasa server -------------------------------------------------


async def test_the_rasa_server_refuses_bodies_over_its_limit(rest) -> None:
    client, agent = rest
    # Well-formed but padded (extra keys are ignored): only the size limit stops it.
    padded = json.dumps({"sender": "ana", "message": "hola", "relleno": "x" * MAX_REQUEST_BYTES}).encode()
    status, _, _ = await client.post(raw=padded, headers={"Content-Type": "application/json"})
    assert status == 413 and agent.received == []


async def test_the_largest_legitimate_rest_body_fits(rest) -> None:
    client, _ = rest
    # The channel's longest message, every character escaped as a JSON surrogate pair (12 bytes).
    body = json.dumps({"sender": "s" * 255, "message": "🙂" * MAX_MESSAGE_CHARS}).encode()
    assert len(body) < MAX_REQUEST_BYTES
    status, _, answer = await client.post(raw=body, headers={"Content-Type": "application/json"})
    assert status == 200 and answer == [{"recipient_id": "s" * 255, "text": TOO_LONG}]


# -- web chat --------------------------------------------------------------------------


class Recorder:
    def __init__(self) -> None:
        self.messages: list[UserMessage] = []

    async def __call__(self, message: UserMessage) -> None:
        self.messages.append(message)


def webchat(recorder: Recorder) -> WebChatInput:
    channel = WebChatInput("user_uttered", "bot_uttered", None, True, settings=limited_settings())
    channel.blueprint(recorder)
    channel.sio.emit = AsyncMock()
    return channel


async def test_web_chat_longer_message_gets_the_notice_and_never_reaches_the_bot() -> None:
    recorder = Recorder()
    channel = webchat(recorder)
    await channel.sio.handlers["/"]["user_uttered"]("sid-1", {"session_id": SESSION, "message": OVER_LIMIT})
    assert recorder.messages == []
    channel.sio.emit.assert_awaited_once_with("bot_uttered", {"text": TOO_LONG}, room="sid-1", namespace=None)

    await channel.sio.handlers["/"]["user_uttered"]("sid-1", {"session_id": SESSION, "message": AT_LIMIT})
    assert [m.text for m in recorder.messages] == [AT_LIMIT]


def test_web_chat_caps_engine_io_messages() -> None:
    assert webchat(Recorder()).sio.eio.max_http_buffer_size == MAX_REQUEST_BYTES


# -- Twilio ----------------------------------------------------------------------------


@pytest.fixture
async def twilio(database: str) -> AsyncIterator[TwilioClient]:
    agent = FakeAgent()
    server, base_url = await start_channel(TwilioInput(twilio_settings()), agent)
    try:
        yield TwilioClient(base_url=base_url, agent=agent)
    finally:
        await stop_channel(server)


async def test_twilio_longer_message_gets_the_notice_once_and_never_reaches_the_bot(twilio: TwilioClient) -> None:
    params = twilio.params(OVER_LIMIT)
    reply = await twilio.post(params)
    assert reply.status == 200 and reply.messages == [TOO_LONG]
    assert twilio.agent.received == []
    stored = twilio_store.get_message(get_session_factory(), params["MessageSid"])
    assert stored is not None and stored.status == twilio_store.STATUS_UNSUPPORTED
    # Twilio's retry of the same message: not answered twice.
    assert (await twilio.post(params)).messages == []

    assert (await twilio.say(AT_LIMIT)).status == 200
    assert twilio.agent.texts == [AT_LIMIT]


async def test_the_twilio_webhook_refuses_bodies_over_the_limit(twilio: TwilioClient) -> None:
    # Refused on its size, before the signature check reads the form.
    reply = await twilio.post(twilio.params("x" * MAX_REQUEST_BYTES), signature=None)
    assert reply.status == 413 and twilio.agent.received == []


# -- web/API server (aiohttp) -------------------------------------------------------------


async def test_the_web_server_refuses_bodies_over_its_limit(console: Console) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    url = "/api/incidents/INC-2026-000001/status"
    small: Any = {"status": "x" * 30_000}
    response = await console.client.post(url, json=small, headers=headers)
    assert response.status == 400  # read and refused on its content, not its size
    response = await console.client.post(url, data=b"x" * (MAX_BODY_BYTES + 1), headers=headers)
    assert response.status == 413 and (await response.json())["error"] == "solicitud demasiado grande"
