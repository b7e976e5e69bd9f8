"""Twilio channel fixtures: a migrated SQLite database and the channel in a real Sanic server.

The channel's blueprint is mounted with Rasa's own ``register`` (the same call
``rasa run`` makes), on a Sanic server listening on a free loopback port, and
talked to over HTTP with aiohttp. A fake agent stands in for Rasa: it records
every ``UserMessage`` and answers through the message's output channel.
"""

from __future__ import annotations

import asyncio
import socket
import uuid
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import aiohttp
import pytest
from rasa.core.channels.channel import UserMessage, register
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sanic import Sanic
from twilio.request_validator import RequestValidator

from noc.db.migrate import upgrade
from noc.rasa_plugins.channels.twilio import TwilioInput
from noc.rasa_plugins.message_ids import once_per_message_id
from noc.settings import Settings, load_settings
from tests.db_env import database_url

TOKEN = "test-token-twilio"
PUBLIC_BASE_URL = "https://noc.example.com"
WEBHOOK_PATH = "/webhooks/twilio/webhook"
WHATSAPP_FROM = "whatsapp:+573001234567"
SMS_FROM = "+51987654321"

# What the fake bot says back: text -> Rasa messages (dicts as in domain responses).
Script = Callable[[UserMessage], list[dict[str, Any]]]


def echo(message: UserMessage) -> list[dict[str, Any]]:
    return [{"text": f"eco: {message.text}"}]


def twilio_settings(**changes: Any) -> Settings:
    base = replace(
        load_settings(),
        twilio_auth_token=TOKEN,
        public_base_url=PUBLIC_BASE_URL,
        twilio_validate_signature=True,
    )
    return replace(base, **changes)


def messages_of(twiml: str) -> list[str]:
    """Texts of the ``<Message>`` elements of a TwiML response."""
    root = ET.fromstring(twiml)
    assert root.tag == "Response", twiml
    return [element.text or "" for element in root.findall("Message")]


@dataclass
class FakeAgent:
    """Stands in for ``rasa.core.agent.Agent`` (``register`` calls ``handle_message``)."""

    script: Script = echo
    received: list[UserMessage] = field(default_factory=list)
    delay: float = 0.0
    fail: bool = False

    async def handle_message(self, message: UserMessage) -> None:
        self.received.append(message)
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.fail:
            raise RuntimeError("the bot broke")
        for bot_message in self.script(message):
            await message.output_channel.send_response(message.sender_id, dict(bot_message))

    @property
    def texts(self) -> list[str]:
        return [m.text for m in self.received]


@dataclass
class RememberingAgent(FakeAgent):
    """A fake agent that keeps each conversation as Rasa events, one message at a time
    (the conversation lock), and lets the Rasa server's own check refuse a message
    id the conversation already holds (``noc.rasa_plugins.message_ids``)."""

    conversations: dict[str, DialogueStateTracker] = field(default_factory=dict)
    # The messages really processed (``received`` also lists those refused as copies).
    processed: list[UserMessage] = field(default_factory=list)
    locks: defaultdict[str, asyncio.Lock] = field(default_factory=lambda: defaultdict(asyncio.Lock))

    async def handle_message(self, message: UserMessage) -> None:
        self.received.append(message)
        async with self.locks[message.sender_id]:
            tracker = self.conversations.setdefault(
                message.sender_id, DialogueStateTracker.from_events(message.sender_id, [])
            )
            await once_per_message_id(self._process)(None, message, tracker)  # type: ignore[arg-type]

    async def _process(self, _processor: Any, message: UserMessage, tracker: DialogueStateTracker) -> None:
        self.processed.append(message)
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.fail:
            raise RuntimeError("the bot broke")
        # Saved at the end of the turn, as Rasa does: a turn that raised leaves nothing.
        events: list[Any] = [UserUttered(message.text, message_id=message.message_id)]
        for bot_message in self.script(message):
            data = {key: value for key, value in bot_message.items() if key != "text"}
            events.append(BotUttered(bot_message.get("text"), data=data))
        events.append(ActionExecuted(ACTION_LISTEN_NAME))
        for event in events:
            tracker.update(event)
            if isinstance(event, BotUttered):
                await message.output_channel.send_response(message.sender_id, event.message())


@dataclass
class Reply:
    status: int
    content_type: str
    text: str

    @property
    def messages(self) -> list[str]:
        return messages_of(self.text)


@dataclass
class TwilioClient:
    """Posts webhooks the way Twilio does: form-encoded, signed over the public URL."""

    base_url: str
    agent: FakeAgent
    token: str = TOKEN
    counter: int = 0

    def params(self, body: str | None = "hola", *, from_: str = WHATSAPP_FROM, **extra: str) -> dict[str, str]:
        self.counter += 1
        params = {
            "MessageSid": f"SM{uuid.uuid4().hex}",
            "AccountSid": "AC" + "0" * 32,
            "From": from_,
            "To": "whatsapp:+14155238886" if from_.startswith("whatsapp:") else "+14155550100",
            "NumMedia": "0",
            "NumSegments": "1",
        }
        if body is not None:
            params["Body"] = body
        params.update(extra)
        return params

    def sign(self, params: dict[str, str], url: str | None = None, token: str | None = None) -> str:
        return RequestValidator(token or self.token).compute_signature(url or PUBLIC_BASE_URL + WEBHOOK_PATH, params)

    async def post(
        self,
        params: dict[str, str],
        *,
        signature: str | bool | None = True,
        query: str = "",
    ) -> Reply:
        headers = {}
        if signature is True:
            signature = self.sign(params, PUBLIC_BASE_URL + WEBHOOK_PATH + query)
        if signature:
            headers["X-Twilio-Signature"] = signature
        async with (
            aiohttp.ClientSession() as session,
            session.post(f"{self.base_url}{WEBHOOK_PATH}{query}", data=params, headers=headers) as response,
        ):
            return Reply(response.status, response.headers.get("Content-Type", ""), await response.text())

    async def say(self, body: str | None, **kwargs: Any) -> Reply:
        return await self.post(self.params(body, **kwargs))


@pytest.fixture
def database(tmp_path, monkeypatch) -> Iterator[str]:
    """A migrated SQLite file as this process's DATABASE_URL."""
    url = f"sqlite:///{tmp_path / 'twilio.db'}"
    with database_url(monkeypatch, url):
        upgrade(url)
        yield url


async def start_channel(channel: TwilioInput, agent: FakeAgent) -> tuple[Any, str]:
    # Test mode (what sanic-testing sets) lets several apps start in one
    # process; otherwise Sanic 21.12's start-up "touch-up" fails on the second.
    Sanic.test_mode = True
    app = Sanic(f"twilio_test_{uuid.uuid4().hex}", configure_logging=False)
    app.ctx.agent = agent
    register([channel], app, route="/webhooks/")
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = await app.create_server(sock=sock, return_asyncio_server=True, access_log=False)
    await server.startup()
    await server.before_start()
    await server.after_start()
    return server, f"http://127.0.0.1:{sock.getsockname()[1]}"


async def stop_channel(server: Any) -> None:
    await server.before_stop()
    await server.close()
    await server.after_stop()


@pytest.fixture
def agent() -> FakeAgent:
    return FakeAgent()


@pytest.fixture
def channel_settings() -> Settings:
    """Override in a test module (or parametrize) to run the channel with other settings."""
    return twilio_settings()


@pytest.fixture
async def twilio(database: str, agent: FakeAgent, channel_settings: Settings) -> AsyncIterator[TwilioClient]:
    server, base_url = await start_channel(TwilioInput(channel_settings), agent)
    try:
        yield TwilioClient(base_url=base_url, agent=agent)
    finally:
        await stop_channel(server)
