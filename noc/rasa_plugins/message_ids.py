"""A message is processed once per message id, whichever server it reaches and however often.

A message can reach the Rasa servers twice: nginx resends a webhook POST to
another server when the first one's connection broke before any answer (the
server was killed: docs/production.md), and Twilio redelivers a message it
got no answer to. If the first server had already saved the turn when it
died, a second run would record the customer's message twice and answer it
twice.

So before Rasa logs a user message, it looks in the conversation for a user
event with the same ``message_id`` (the Twilio ``MessageSid``; for REST, the
request's ``X-Request-ID``, which nginx keeps the same on every server it
tries). Found, the message is not processed again: :class:`AlreadyHandled`
carries the bot's saved answers to it, and ``noc.rasa_plugins.turns.run_turn``
sends them to the channel in place of a new answer. The check runs on the
conversation read under its lock, after any earlier turn of it has been saved
or abandoned, so two copies of one message are never both processed.

Rasa 3.6 has no hook for this, hence the wrap of
``MessageProcessor._handle_message_with_tracker``, installed once by the Rasa
server at start-up (``noc.rasa_plugins.tracker_store.EnvTrackerStore``).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any

from rasa.core.channels.channel import UserMessage
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import ActionExecuted, BotUttered, Event, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from noc.rasa_plugins.turns import AlreadyHandled

if TYPE_CHECKING:
    # The action server imports every module of ``actions``: not Rasa's processor for it.
    from rasa.core.processor import MessageProcessor

logger = logging.getLogger(__name__)

HandleWithTracker = Callable[["MessageProcessor", UserMessage, DialogueStateTracker], Awaitable[None]]


def saved_answers(events: Iterable[Event], message_id: str) -> list[dict[str, Any]] | None:
    """The bot's messages answering the user message ``message_id`` in ``events``; None if it is not there.

    The answers are the bot messages after it up to the end of that turn (the
    next ``action_listen`` or user message), as Rasa sent them to the channel.
    An agent's message (``metadata.agent``) is not the bot's answer.
    """
    answers: list[dict[str, Any]] | None = None
    for event in events:
        if answers is None:
            if isinstance(event, UserUttered) and event.message_id == message_id:
                answers = []
            continue
        if isinstance(event, UserUttered) or (
            isinstance(event, ActionExecuted) and event.action_name == ACTION_LISTEN_NAME
        ):
            break
        if isinstance(event, BotUttered) and not event.metadata.get("agent"):
            answers.append(event.message())
    return answers


def once_per_message_id(handle: HandleWithTracker) -> HandleWithTracker:
    """``_handle_message_with_tracker`` that refuses a message already in the conversation."""

    async def handle_once(self: MessageProcessor, message: UserMessage, tracker: DialogueStateTracker) -> None:
        answers = saved_answers(tracker.events, message.message_id) if message.message_id else None
        if answers is not None:
            logger.warning(
                "Message %s of %s is already in the conversation: not processed again, its saved answer is sent",
                message.message_id,
                message.sender_id,
            )
            raise AlreadyHandled(message.message_id, answers)
        await handle(self, message, tracker)

    handle_once.__wrapped__ = handle  # type: ignore[attr-defined]
    return handle_once


def install() -> None:
    """Put the check in place (again: nothing is wrapped twice)."""
    from rasa.core.processor import MessageProcessor

    current = MessageProcessor._handle_message_with_tracker
    original = getattr(current, "__wrapped__", current)
    MessageProcessor._handle_message_with_tracker = once_per_message_id(original)  # type: ignore[method-assign]


def installed() -> bool:
    from rasa.core.processor import MessageProcessor

    return hasattr(MessageProcessor._handle_message_with_tracker, "__wrapped__")
