"""Every conversation's messages for the agents, live: what the log holds and who writes it.

The agent console reads each conversation from ``conversation_messages``
(``noc.db.conversation_log``): user and bot messages, pause and resume,
including what a customer writes while the bot is paused for an agent, which
no action ever sees. :func:`new_log_entries` says which of a conversation's
new events are logged, and how.

* Conversations kept in the database (PostgreSQL, ``make run``'s SQLite file):
  the tracker store adds the entries in the very transaction that saves the
  turn (``noc.rasa_plugins.tracker_store``), so a turn is in the log exactly when it is
  in the conversation, even if the server dies right after saving it.
* Conversations kept in memory (the tests' default): the event broker below,
  enabled in ``endpoints.yml``::

      event_broker:
        type: noc.rasa_plugins.live_log.ConversationLogBroker

  Rasa publishes each new event when it saves a tracker; ``publish`` runs on
  Rasa's event loop, so it only queues it and one background thread writes
  batches. A database error is logged and the batch dropped. The database
  stores skip this broker: they have written the entries already.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from rasa.core.brokers.broker import EventBroker
from rasa.shared.core.constants import EXTERNAL_MESSAGE_PREFIX
from rasa.shared.core.events import BotUttered, Event
from rasa.utils.endpoints import EndpointConfig
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import sessionmaker

from noc.db.conversation_log import LoggedMessage, append_messages
from noc.domain.conversation import channel_name

log = logging.getLogger(__name__)

# System notes the console renders in Spanish. Intents the agent bridge
# triggers ("EXTERNAL: ...") are not the customer's words and are left out.
PAUSED = "paused"
RESUMED = "resumed"
_STOP = object()
# Senders whose last offered buttons are remembered (a press arrives as its payload).
_MAX_REMEMBERED_MENUS = 10_000
_BATCH = 200


def message_from_event(
    event: Mapping[str, Any], button_titles: dict[str, str] | None = None
) -> LoggedMessage | None:
    """The log entry for one published Rasa event, or None for events not shown to agents."""
    sender_id = event.get("sender_id")
    if not isinstance(sender_id, str) or not sender_id:
        return None
    kind = event.get("event")
    at = datetime.fromtimestamp(float(event.get("timestamp") or 0), tz=timezone.utc)
    text = event.get("text")
    metadata = event.get("metadata") or {}
    if kind == "user" and isinstance(text, str) and not text.startswith(EXTERNAL_MESSAGE_PREFIX):
        shown = (button_titles or {}).get(text, text)
        return LoggedMessage(
            sender_id=sender_id, role="user", text=shown, at=at, channel=channel_name(event.get("input_channel"))
        )
    if kind == "bot" and isinstance(text, str) and text:
        role = "agent" if metadata.get("agent") else "bot"
        return LoggedMessage(sender_id=sender_id, role=role, text=text, at=at)
    if kind == "pause":
        return LoggedMessage(sender_id=sender_id, role="system", text=PAUSED, at=at)
    if kind == "resume":
        return LoggedMessage(sender_id=sender_id, role="system", text=RESUMED, at=at)
    return None


def offered_buttons(event: Mapping[str, Any]) -> dict[str, str]:
    """payload -> title of the buttons a bot event offers (a press arrives as its payload)."""
    buttons = (event.get("data") or {}).get("buttons") or []
    return {b["payload"]: b.get("title") for b in buttons if b.get("payload")}


def new_log_entries(sender_id: str, events: Sequence[Event], new_count: int) -> list[LoggedMessage]:
    """The log entries of the last ``new_count`` of a conversation's ``events``.

    A pressed button is logged with the title the latest bot message before it
    offered, as the customer saw it.
    """
    start = len(events) - new_count
    menu: dict[str, str] = {}
    for event in reversed(events[:start]):
        if isinstance(event, BotUttered):
            menu = offered_buttons(event.as_dict())
            break
    entries = []
    for event in events[start:]:
        data = {**event.as_dict(), "sender_id": sender_id}
        if data.get("event") == "bot":
            menu = offered_buttons(data)
        entry = message_from_event(data, menu)
        if entry is not None:
            entries.append(entry)
    return entries


class ConversationLogBroker(EventBroker):
    def __init__(self, session_factory: sessionmaker) -> None:
        self._session_factory = session_factory
        self._queue: queue.Queue[Any] = queue.Queue()
        self._menus: OrderedDict[str, dict[str, str]] = OrderedDict()
        self._thread = threading.Thread(target=self._write_loop, name="conversation-log", daemon=True)
        self._thread.start()

    @classmethod
    async def from_endpoint_config(
        cls, broker_config: EndpointConfig, event_loop: asyncio.AbstractEventLoop | None = None
    ) -> ConversationLogBroker:
        from noc.db.db import get_session_factory

        return cls(get_session_factory())

    def publish(self, event: dict[str, Any]) -> None:
        sender_id = event.get("sender_id")
        if event.get("event") == "bot" and isinstance(sender_id, str):
            self._menus[sender_id] = offered_buttons(event)
            self._menus.move_to_end(sender_id)
            while len(self._menus) > _MAX_REMEMBERED_MENUS:
                self._menus.popitem(last=False)
        message = message_from_event(event, self._menus.get(sender_id) if isinstance(sender_id, str) else None)
        if message is not None:
            self._queue.put(message)

    def flush(self, timeout: float = 10.0) -> None:
        """Wait until everything published so far is written (tests, shutdown)."""
        done = threading.Event()
        self._queue.put(done)
        done.wait(timeout)

    async def close(self) -> None:
        self._queue.put(_STOP)
        await asyncio.to_thread(self._thread.join, 10)

    def _write_loop(self) -> None:
        while True:
            item = self._queue.get()
            batch: list[LoggedMessage] = []
            markers: list[threading.Event] = []
            stop = False
            while True:
                if item is _STOP:
                    stop = True
                elif isinstance(item, threading.Event):
                    markers.append(item)
                else:
                    batch.append(item)
                if stop or len(batch) >= _BATCH:
                    break
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
            if batch:
                try:
                    append_messages(self._session_factory, messages=batch)
                except (SQLAlchemyError, ValueError):
                    log.exception("Could not write %d conversation messages to the log", len(batch))
            for marker in markers:
                marker.set()
            if stop:
                return
