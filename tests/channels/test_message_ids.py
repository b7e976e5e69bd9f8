"""noc.rasa_plugins.message_ids and run_turn: a message id the conversation holds is answered, not processed again."""

from __future__ import annotations

from typing import Any

import pytest
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.processor import MessageProcessor
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from noc.rasa_plugins import message_ids
from noc.rasa_plugins.message_ids import once_per_message_id, saved_answers
from noc.rasa_plugins.turns import AlreadyHandled, run_turn

YES_NO = [{"title": "Sí", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}]


def listen() -> ActionExecuted:
    return ActionExecuted(ACTION_LISTEN_NAME)


def conversation() -> list[Any]:
    return [
        listen(),
        UserUttered("el enlace está caído", message_id="m1"),
        BotUttered("Entiendo."),
        ActionExecuted("validate_incident_form"),
        SlotSet("symptom", "sin servicio"),
        BotUttered("¿El equipo está encendido?", data={"buttons": YES_NO}),
        listen(),
        # An agent's reply, appended by the bridge after the turn.
        BotUttered("Soy Laura, del NOC.", metadata={"agent": "laura"}),
        UserUttered("sí", message_id="m2"),
        BotUttered("¿Ya reinició el equipo?"),
        listen(),
        # Paused for an agent: the message is kept, the bot says nothing.
        UserUttered("¿hay alguien?", message_id="m3"),
    ]


def texts(answers: list[dict[str, Any]] | None) -> list[str] | None:
    return None if answers is None else [answer["text"] for answer in answers]


def test_the_saved_answers_are_the_bot_messages_of_that_turn() -> None:
    events = conversation()
    assert texts(saved_answers(events, "m1")) == ["Entiendo.", "¿El equipo está encendido?"]
    assert saved_answers(events, "m1")[1]["buttons"] == YES_NO
    assert texts(saved_answers(events, "m2")) == ["¿Ya reinició el equipo?"]
    assert saved_answers(events, "m3") == []
    assert saved_answers(events, "other") is None


class Calls:
    def __init__(self) -> None:
        self.messages: list[UserMessage] = []

    async def handle(self, _processor: Any, message: UserMessage, tracker: DialogueStateTracker) -> None:
        self.messages.append(message)


async def test_a_message_id_the_conversation_holds_is_refused_with_its_answers() -> None:
    calls = Calls()
    tracker = DialogueStateTracker.from_events("ana", conversation())
    message = UserMessage("sí", CollectingOutputChannel(), "ana", message_id="m2")
    with pytest.raises(AlreadyHandled) as refused:
        await once_per_message_id(calls.handle)(None, message, tracker)  # type: ignore[arg-type]
    assert texts(refused.value.answers) == ["¿Ya reinició el equipo?"]
    assert calls.messages == []


async def test_a_new_message_id_is_processed() -> None:
    calls = Calls()
    tracker = DialogueStateTracker.from_events("ana", conversation())
    message = UserMessage("sí", CollectingOutputChannel(), "ana", message_id="m4")
    await once_per_message_id(calls.handle)(None, message, tracker)  # type: ignore[arg-type]
    assert calls.messages == [message]


async def test_run_turn_sends_the_saved_answers_to_the_channel() -> None:
    collector = CollectingOutputChannel()

    async def handled_before(message: UserMessage) -> None:
        raise AlreadyHandled(message.message_id, saved_answers(conversation(), "m1") or [])

    await run_turn(handled_before, UserMessage("el enlace está caído", collector, "ana", message_id="m1"))
    assert collector.messages == [
        {"recipient_id": "ana", "text": "Entiendo."},
        {"recipient_id": "ana", "text": "¿El equipo está encendido?", "buttons": YES_NO},
    ]


def test_installing_twice_wraps_once() -> None:
    original = MessageProcessor._handle_message_with_tracker
    try:
        message_ids.install()
        message_ids.install()
        installed = MessageProcessor._handle_message_with_tracker
        assert installed.__wrapped__ is getattr(original, "__wrapped__", original)
    finally:
        MessageProcessor._handle_message_with_tracker = original  # type: ignore[method-assign]
