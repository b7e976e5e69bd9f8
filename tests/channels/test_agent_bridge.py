"""The agent bridge delivers an agent's reply over the customer's own channel.

The Twilio channel is named "twilio" but its conversations record "whatsapp"
or "sms" as their input channel; the bridge must still find it (issue 11).
The bridge and the channels run in a real Sanic app, mounted with Rasa's
``register`` as ``rasa run`` does; Twilio's REST API is a local fake.
"""

from __future__ import annotations

import logging
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest
from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, OutputChannel, register
from rasa.core.lock_store import InMemoryLockStore
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sanic import Sanic

from noc.db import twilio_messages as twilio_store
from noc.db.db import get_session_factory
from noc.rasa_plugins.channels.agent_bridge import AgentBridgeInput, answered_input_channels, output_channel_for
from noc.rasa_plugins.channels.rest import RestInput
from noc.rasa_plugins.channels.twilio import TwilioInput, TwilioRestOutput
from noc.settings import get_settings
from tests.channels.conftest import stop_channel
from tests.channels.test_twilio_outgoing import (
    SMS_NUMBER,
    WHATSAPP_NUMBER,
    FakeTwilio,
    serve_fake_twilio,
    settings_for,
)

BRIDGE_TOKEN = "bridge-test-token"
WHATSAPP_SENDER = "whatsapp:+573001234567"
SMS_SENDER = "sms:+51987654321"


class PushChannel(InputChannel):
    """A channel that records its own name, like Rasa's socketio channel."""

    @classmethod
    def name(cls) -> str:
        return "push"

    def get_output_channel(self) -> OutputChannel:
        return CollectingOutputChannel()


@pytest.fixture
async def fake_twilio(aiohttp_server) -> FakeTwilio:
    return await serve_fake_twilio(aiohttp_server)


def request_with(*channels: InputChannel) -> Any:
    """What the bridge reads of a Sanic request: the app's registered input channels."""
    return SimpleNamespace(app=SimpleNamespace(ctx=SimpleNamespace(input_channels=list(channels))))


def test_a_channel_answers_its_own_name_unless_it_declares_others(fake_twilio: FakeTwilio) -> None:
    assert answered_input_channels(PushChannel()) == ("push",)
    assert set(answered_input_channels(TwilioInput(settings_for(fake_twilio)))) == {"whatsapp", "sms"}


@pytest.mark.parametrize("recorded", ["whatsapp", "sms"])
def test_twilio_conversations_are_answered_through_twilio(fake_twilio: FakeTwilio, recorded: str) -> None:
    request = request_with(RestInput(settings_for(fake_twilio)), PushChannel(), TwilioInput(settings_for(fake_twilio)))

    assert isinstance(output_channel_for(request, recorded), TwilioRestOutput)
    assert isinstance(output_channel_for(request, "push"), CollectingOutputChannel)
    # The REST channel cannot push; "twilio" is no conversation's channel.
    for unanswerable in ("rest", "twilio", None):
        assert output_channel_for(request, unanswerable) is None


@pytest.fixture
def bridge_token(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("AGENT_API_TOKEN", BRIDGE_TOKEN)
    get_settings.cache_clear()
    yield BRIDGE_TOKEN
    get_settings.cache_clear()


@pytest.fixture
async def rasa(bridge_token: str, fake_twilio: FakeTwilio) -> AsyncIterator[tuple[str, InMemoryTrackerStore]]:
    """A Rasa-like server with the bridge and the Twilio channel; yields (base URL, tracker store)."""
    tracker_store = InMemoryTrackerStore(Domain.empty())
    Sanic.test_mode = True  # several apps in one process (see tests/channels/conftest.py)
    app = Sanic(f"bridge_test_{uuid.uuid4().hex}", configure_logging=False)
    app.ctx.agent = SimpleNamespace(lock_store=InMemoryLockStore(), tracker_store=tracker_store)
    register([TwilioInput(settings_for(fake_twilio)), AgentBridgeInput()], app, route="/webhooks/")
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = await app.create_server(sock=sock, return_asyncio_server=True, access_log=False)
    await server.startup()
    await server.before_start()
    await server.after_start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}", tracker_store
    finally:
        await stop_channel(server)


async def customer_wrote(tracker_store: InMemoryTrackerStore, sender_id: str, channel: str) -> None:
    # What the Twilio channel records: the customer's channel, not "twilio".
    tracker = DialogueStateTracker.from_events(
        sender_id, [UserUttered("quiero hablar con una persona", input_channel=channel)]
    )
    await tracker_store.save(tracker)


async def agent_reply(base_url: str, sender_id: str, text: str) -> dict[str, Any]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{base_url}/webhooks/agent_bridge/message",
            json={"sender_id": sender_id, "text": text, "agent": "Ana"},
            headers={"Authorization": f"Bearer {BRIDGE_TOKEN}"},
        ) as response,
    ):
        assert response.status == 200, await response.text()
        return await response.json()


@pytest.mark.parametrize(
    ("sender_id", "channel", "to", "from_"),
    [
        (WHATSAPP_SENDER, "whatsapp", WHATSAPP_SENDER, f"whatsapp:{WHATSAPP_NUMBER}"),
        (SMS_SENDER, "sms", "+51987654321", SMS_NUMBER),
    ],
    ids=["whatsapp", "sms"],
)
async def test_an_agents_reply_reaches_twilio(
    rasa: tuple[str, InMemoryTrackerStore], fake_twilio: FakeTwilio, sender_id: str, channel: str, to: str, from_: str
) -> None:
    base_url, tracker_store = rasa
    await customer_wrote(tracker_store, sender_id, channel)

    answer = await agent_reply(base_url, sender_id, "Soy Ana, del NOC: ya reviso su enlace.")

    assert answer == {"delivered": True, "channel": channel}
    assert [(r["To"], r["From"], r["Body"]) for r in fake_twilio.requests] == [
        (to, from_, "Soy Ana, del NOC: ya reviso su enlace.")
    ]
    tracker = await tracker_store.retrieve(sender_id)
    assert tracker.latest_bot_utterance.text == "Soy Ana, del NOC: ya reviso su enlace."
    assert tracker.latest_bot_utterance.metadata == {"agent": "Ana"}


async def test_a_reply_twilio_refuses_is_kept_but_not_delivered(
    rasa: tuple[str, InMemoryTrackerStore], fake_twilio: FakeTwilio
) -> None:
    base_url, tracker_store = rasa
    await customer_wrote(tracker_store, WHATSAPP_SENDER, "whatsapp")

    answer = await agent_reply(base_url, WHATSAPP_SENDER, "RECHAZAR este mensaje")

    assert answer == {"delivered": False, "channel": "whatsapp"}
    assert len(fake_twilio.requests) == 1
    assert (await tracker_store.retrieve(WHATSAPP_SENDER)).latest_bot_utterance.text == "RECHAZAR este mensaje"


async def test_the_bots_messages_outside_a_webhook_answer_are_numbered_like_twiml(
    database: str, fake_twilio: FakeTwilio
) -> None:
    # The hand back's turn: the form asks its pending question again, with buttons.
    output = TwilioRestOutput(settings_for(fake_twilio))
    await output.send_response(WHATSAPP_SENDER, {"text": "El agente le devolvió la conversación."})
    await output.send_response(
        WHATSAPP_SENDER,
        {
            "text": "¿El equipo está encendido?",
            "buttons": [{"title": "Sí", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}],
        },
    )

    assert [r["Body"] for r in fake_twilio.requests] == [
        "El agente le devolvió la conversación.",
        "¿El equipo está encendido?\n1. Sí\n2. No",
    ]
    # The customer's "1" in the next webhook picks /affirm.
    assert twilio_store.get_menu(get_session_factory(), WHATSAPP_SENDER) == ["/affirm", "/deny"]
    await output.send_response(WHATSAPP_SENDER, {"text": "Gracias."})
    assert twilio_store.get_menu(get_session_factory(), WHATSAPP_SENDER) is None


async def test_a_bot_message_twilio_refuses_does_not_break_the_turn(
    database: str, fake_twilio: FakeTwilio, caplog: pytest.LogCaptureFixture
) -> None:
    output = TwilioRestOutput(settings_for(fake_twilio))

    with caplog.at_level(logging.ERROR, logger="noc.rasa_plugins.channels.twilio"):
        await output.send_response(SMS_SENDER, {"text": "RECHAZAR"})

    assert len(fake_twilio.requests) == 1
    assert "could not send the bot's message" in caplog.text
