"""A customer's message is handled whole, or not at all.

Rasa 3.6 swallows an action-server failure: its processor logs the exception,
drops the action's events and goes on predicting, so a form turn whose
validation could not run is saved as if the customer had said nothing useful,
and the customer usually hears nothing. Likewise its ``FailSafeTrackerStore``
answers from an empty conversation when the database fails. For a NOC that
loses what the customer gave; here instead:

* every message a channel hands to Rasa runs inside a :class:`Turn`
  (:func:`run_turn`);
* a custom action whose server cannot be reached or does not answer in time
  fails the turn (``noc.rasa_plugins.remote_actions``); so does the
  conversation store failing after its own retries (``noc.rasa_plugins.tracker_store``);
* once a turn failed, no further custom action is called and the conversation
  is not saved: it stays exactly as it was before the message, so the customer
  can send it again and the intake goes on where it was;
* :func:`run_turn` raises :class:`TurnFailed`, and each channel answers with the
  domain's ``utter_channel_error`` (technical problem, data kept, write again).

A message the conversation already holds (the same message id: a copy that
nginx or Twilio delivered again, ``noc.rasa_plugins.message_ids``) is not
processed again: :func:`run_turn` sends the channel the bot's saved answers to
it, as if it had just answered them.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from rasa.core.channels.channel import UserMessage

logger = logging.getLogger(__name__)


class TurnFailed(Exception):
    """The message was not processed; the conversation was left as it was."""


class AlreadyHandled(Exception):
    """The conversation already holds this message: ``answers`` are what the bot answered it then."""

    def __init__(self, message_id: str, answers: list[dict[str, Any]]) -> None:
        super().__init__(f"message {message_id} was already handled")
        self.message_id = message_id
        self.answers = answers


@dataclass
class Turn:
    sender_id: str
    failure: str | None = None

    @property
    def failed(self) -> bool:
        return self.failure is not None

    def fail(self, reason: str) -> None:
        if self.failure is None:
            self.failure = reason
            logger.error("Turn of %s failed (%s): the conversation is left as it was", self.sender_id, reason)


current_turn: ContextVar[Turn | None] = ContextVar("noc_current_turn", default=None)


async def run_turn(on_new_message: Callable[[UserMessage], Awaitable[Any]], message: UserMessage) -> None:
    """Hand ``message`` to Rasa; raises :class:`TurnFailed` when the turn could not be completed."""
    turn = Turn(sender_id=message.sender_id or "")
    token = current_turn.set(turn)
    try:
        await on_new_message(message)
    except AlreadyHandled as handled:
        # Outside the conversation's lock by now: nothing is read or saved here.
        for answer in handled.answers:
            await message.output_channel.send_response(message.sender_id, dict(answer))
        return
    finally:
        current_turn.reset(token)
    if turn.failed:
        raise TurnFailed(turn.failure)


def fail_current_turn(reason: str) -> None:
    """Mark the running turn failed; outside a turn (nothing to roll back) it does nothing."""
    turn = current_turn.get()
    if turn is not None:
        turn.fail(reason)


def turn_failed() -> bool:
    turn = current_turn.get()
    return turn is not None and turn.failed
