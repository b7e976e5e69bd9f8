"""noc.rasa_plugins.channels.rest: input checks and rate limits, in a real Sanic server with a fake Rasa agent."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from rasa.core.channels.channel import UserMessage

from noc.domain.conversation import channel_name
from noc.rasa_plugins import turns
from noc.rasa_plugins.channels.rest import MAX_MESSAGE_CHARS, Refusal, RestInput, RestMessage, clean_text, parse_message
from noc.rasa_plugins.channels.twilio import BOT_FAILED, DOMAIN_PATH, read_channel_responses
from noc.settings import Settings
from tests.channels.conftest import FakeAgent, RememberingAgent, start_channel, stop_channel
from tests.security.conftest import NOTICE, limited_settings

URL = "/webhooks/rest/webhook"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"sender": "ana", "message": "hola"}, RestMessage("ana", "hola")),
        ({"sender": "ana", "message": ""}, RestMessage("ana", "")),
        ({"sender": "ana", "message": "a\x00b\x07c\td\ne"}, RestMessage("ana", "abc\td\ne")),
        ({"sender": "ana", "message": "x\ud800y"}, RestMessage("ana", "x?y")),
        ({"sender": "s" * 255, "message": "hola"}, RestMessage("s" * 255, "hola")),
        ({"sender": "ana", "message": "m" * MAX_MESSAGE_CHARS}, RestMessage("ana", "m" * MAX_MESSAGE_CHARS)),
        ({"sender": "ana", "message": "m" * (MAX_MESSAGE_CHARS + 1)}, 413),
        ({"sender": "s" * 256, "message": "hola"}, 400),
        ({"message": "hola"}, 400),  # Rasa would file it under the conversation "default"
        ({"sender": None, "message": "hola"}, 400),
        ({"sender": "", "message": "hola"}, 400),
        ({"sender": "   ", "message": "hola"}, 400),
        ({"sender": 42, "message": "hola"}, 400),
        ({"sender": ["ana"], "message": "hola"}, 400),
        ({"sender": "ana\nFAKE LOG LINE", "message": "hola"}, 400),
        ({"sender": "ana\x00", "message": "hola"}, 400),
        ({"sender": "ana\udc80", "message": "hola"}, 400),
        ({"sender": "ana"}, 400),
        # A WhatsApp/SMS customer's conversation, reachable by knowing the phone number.
        ({"sender": "whatsapp:+573001234567", "message": "sí"}, 400),
        ({"sender": "sms:+51987654321", "message": "sí"}, 400),
        ({"sender": " WhatsApp:+573001234567", "message": "sí"}, 400),
        ({"sender": "rest:ana", "message": "hola"}, RestMessage("rest:ana", "hola")),
        ({"sender": "ana", "message": None}, 400),
        ({"sender": "ana", "message": {"text": "hola"}}, 400),
        ([], 400),
        ("hola", 400),
        (None, 400),
    ],
)
def test_parse_message(body: Any, expected: RestMessage | int) -> None:
    parsed = parse_message(body)
    if isinstance(expected, int):
        assert isinstance(parsed, Refusal) and parsed.status == expected and parsed.error
    else:
        assert parsed == expected


@pytest.mark.parametrize(("text", "cleaned"), [("ñandú 🙂", "ñandú 🙂"), ("\x1b[31mrojo", "[31mrojo"), ("\x7f", "")])
def test_clean_text(text: str, cleaned: str) -> None:
    assert clean_text(text) == cleaned


class RestClient:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    async def post(
        self, body: Any = None, *, raw: bytes | None = None, headers: dict[str, str] | None = None, query: str = ""
    ) -> tuple[int, dict[str, str], Any]:
        kwargs: dict[str, Any] = {"data": raw} if raw is not None else {"json": body}
        async with (
            aiohttp.ClientSession() as session,
            session.post(f"{self.base_url}{URL}{query}", headers=headers or {}, **kwargs) as response,
        ):
            text = await response.text()
            try:
                decoded = await response.json(content_type=None)
            except ValueError:
                decoded = text
            return response.status, dict(response.headers), decoded

    async def say(self, sender: str, text: str = "hola", **kwargs: Any) -> tuple[int, dict[str, str], Any]:
        return await self.post({"sender": sender, "message": text}, **kwargs)


@pytest.fixture
def channel_settings() -> Settings:
    return limited_settings(rate_limit_sender_per_minute=3, rate_limit_ip_per_minute=10)


@contextlib.asynccontextmanager
async def serving(channel: RestInput, agent: FakeAgent) -> AsyncIterator[RestClient]:
    server, base_url = await start_channel(channel, agent)
    try:
        yield RestClient(base_url)
    finally:
        await stop_channel(server)


@pytest.fixture
async def rest(channel_settings: Settings, notice_domain: Path) -> AsyncIterator[tuple[RestClient, FakeAgent]]:
    agent = FakeAgent()
    async with serving(RestInput(channel_settings, domain_path=notice_domain), agent) as client:
        yield client, agent


async def test_a_message_reaches_the_bot_as_rest_without_client_metadata(rest) -> None:
    client, agent = rest
    forged = {"input_channel": "whatsapp", "metadata": {"channel_phone": "+573001234567"}}
    status, _, body = await client.post({"sender": "ana", "message": "hola", **forged})
    assert status == 200 and body == [{"recipient_id": "ana", "text": "eco: hola"}]
    message = agent.received[0]
    assert (message.sender_id, message.input_channel, message.metadata) == ("ana", "rest", None)
    assert channel_name(message.input_channel) == "rest"


@pytest.mark.parametrize(
    ("raw", "content_type"),
    [
        (b"{not json", "application/json"),
        (b"\xff\xfe\x00garbage", "application/json"),
        (b"[1, 2, 3]", "application/json"),
        (b'"just a string"', "application/json"),
        (b"sender=ana&message=hola", "application/x-www-form-urlencoded"),
        (b"", "application/json"),
    ],
)
async def test_bad_bodies_get_400_json_and_reach_nobody(rest, raw: bytes, content_type: str) -> None:
    client, agent = rest
    status, _, body = await client.post(raw=raw, headers={"Content-Type": content_type})
    assert status == 400 and isinstance(body, dict) and body["error"]
    assert agent.received == []


async def test_streaming_still_works(rest) -> None:
    client, _ = rest
    status, _, body = await client.say("ana", "hola", query="?stream=true")
    assert status == 200 and "eco: hola" in str(body)


async def test_sender_limit_answers_429_with_the_domain_notice(rest) -> None:
    client, agent = rest
    for _ in range(3):
        assert (await client.say("ana"))[0] == 200
    status, headers, body = await client.say("ana")
    assert status == 429 and int(headers["Retry-After"]) >= 1
    assert body == [{"recipient_id": "ana", "text": NOTICE}]
    assert len(agent.received) == 3  # the refused message never reached the bot
    assert (await client.say("bea"))[0] == 200  # other senders go on


async def test_ip_limit_covers_all_senders_and_ignores_forged_forwarded_for(rest) -> None:
    client, _ = rest
    statuses = [(await client.say(f"sender-{n}", headers={"X-Forwarded-For": f"198.51.100.{n}"}))[0] for n in range(12)]
    assert statuses == [200] * 10 + [429] * 2


@pytest.mark.parametrize("channel_settings", [limited_settings(rate_limit_ip_per_minute=2, trusted_proxy_hops=1)])
async def test_behind_a_trusted_proxy_the_forwarded_client_counts(rest) -> None:
    client, _ = rest
    first = [(await client.say(f"a{n}", headers={"X-Forwarded-For": "198.51.100.1"}))[0] for n in range(3)]
    other = (await client.say("b", headers={"X-Forwarded-For": "6.6.6.6, 198.51.100.2"}))[0]
    assert first == [200, 200, 429] and other == 200


@pytest.fixture
async def rest_real_domain(channel_settings: Settings) -> AsyncIterator[tuple[RestClient, FakeAgent]]:
    agent = FakeAgent()
    async with serving(RestInput(channel_settings), agent) as client:
        yield client, agent


async def test_a_failed_turn_is_answered_with_the_domain_error(rest_real_domain) -> None:
    client, agent = rest_real_domain

    def action_server_away(message: UserMessage) -> list[dict[str, Any]]:
        # What the guarded RemoteAction does when the action server is not there.
        turns.fail_current_turn("action server unreachable")
        return [{"text": "¿Cuál es el nombre de su empresa?"}]

    agent.script = action_server_away
    status, _, body = await client.say("ana", "Banco Andino")
    error_text = read_channel_responses(DOMAIN_PATH)[BOT_FAILED]
    assert status == 200 and body == [{"recipient_id": "ana", "text": error_text}]


async def test_a_bot_that_raises_is_answered_with_the_domain_error(rest_real_domain) -> None:
    client, agent = rest_real_domain
    agent.fail = True  # e.g. the lock store (Redis) is down
    status, _, body = await client.say("ana", "hola")
    assert status == 200 and body == [{"recipient_id": "ana", "text": read_channel_responses(DOMAIN_PATH)[BOT_FAILED]}]


@pytest.fixture
async def rest_remembering(channel_settings: Settings) -> AsyncIterator[tuple[RestClient, RememberingAgent]]:
    agent = RememberingAgent()
    async with serving(RestInput(channel_settings), agent) as client:
        yield client, agent


@pytest.mark.parametrize(
    ("header", "message_id"),
    [
        ("0f8e7c1d2b3a49586f7e6d5c4b3a2918", "0f8e7c1d2b3a49586f7e6d5c4b3a2918"),  # nginx's $request_id
        ("3b241101-e2bb-4255-8caf-4136c566a962", "3b241101-e2bb-4255-8caf-4136c566a962"),
        ("pedido:42.1_a", "pedido:42.1_a"),
        ("x" * 129, None),
        ("dos palabras", None),
        ("<script>", None),
        ("", None),
    ],
)
async def test_the_request_id_is_the_message_id(rest, header: str, message_id: str | None) -> None:
    client, agent = rest
    assert (await client.say("ana", headers={"X-Request-ID": header}))[0] == 200
    received = agent.received[0].message_id
    if message_id is None:
        assert received != header and len(received) == 32  # Rasa's own random id
    else:
        assert received == message_id


async def test_a_message_sent_again_with_its_request_id_gets_the_saved_answer(rest_remembering) -> None:
    client, agent = rest_remembering
    first = await client.say("ana", "el enlace está caído", headers={"X-Request-ID": "req-1"})
    # nginx resending it to another server after the first one saved the turn and died.
    again = await client.say("ana", "el enlace está caído", headers={"X-Request-ID": "req-1"})
    other = await client.say("ana", "el enlace está caído", headers={"X-Request-ID": "req-2"})
    assert first[0] == again[0] == other[0] == 200
    assert first[2] == again[2] == other[2] == [{"recipient_id": "ana", "text": "eco: el enlace está caído"}]
    assert [m.message_id for m in agent.processed] == ["req-1", "req-2"]
    # The same id in another conversation is another message.
    assert (await client.say("bea", "hola", headers={"X-Request-ID": "req-1"}))[2][0]["text"] == "eco: hola"
