"""Rasa's tracker store, chosen by ``DATABASE_URL``.

The rule: Rasa's conversations (table ``events``) are kept in the database of
``DATABASE_URL`` whenever it is one that outlives the process:

* PostgreSQL (production, several Rasa servers share it): Rasa's own
  ``SQLTrackerStore``;
* a SQLite file (the default ``var/noc.db`` of ``make run``, one Rasa server):
  the same store on the project's SQLite engine (``noc.db.db``), so a
  restart of the Rasa server between two messages of an intake loses nothing;
* an in-memory SQLite database (the tests' default) or anything else: memory.

All are Rasa's classes with three changes:

* a turn that failed (``noc.rasa_plugins.turns``) is not saved, so the
  conversation stays as it was before the message; a turn that is saved is
  written in one transaction, so a crash mid-save leaves it whole or absent;
* database errors that a restart or failover causes are retried for a few
  seconds; after that the turn fails instead of Rasa's ``FailSafeTrackerStore``
  answering from an empty conversation;
* the agents' live log (``noc.rasa_plugins.live_log``): the SQL
  stores add a turn's log entries in the transaction that saves the turn, so
  the log never misses a saved turn, even when the server dies right after
  saving; they skip the log's event broker. Other brokers, and the log's
  broker with the in-memory store, get the new events without reading the
  whole conversation back: Rasa's ``stream_events`` retrieves and replays it
  on every save just to count the events already stored, about a tenth of a
  turn's time. Here the count comes from what was saved last (memory) or from
  the count query the SQL store runs anyway.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
from collections.abc import Awaitable, Callable, Iterable, Iterator
from contextvars import ContextVar
from typing import Any, TypeVar

from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import InMemoryTrackerStore, SQLTrackerStore, TrackerStore
from rasa.shared.core.constants import ACTION_SESSION_START_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, Event, split_events
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from noc import rasa_server
from noc.db.conversation_log import add_messages
from noc.db.db import READ_ONLY_OPTIONS, make_engine, make_session_factory, sqlite_file_path
from noc.rasa_plugins.live_log import ConversationLogBroker, new_log_entries
from noc.rasa_plugins.turns import fail_current_turn, turn_failed
from noc.settings import get_settings

logger = logging.getLogger(__name__)

# A PostgreSQL restart (pg_ctl restart -m fast) takes one to three seconds here.
# SQLite errors are retried too: "database is locked" after the busy timeout.
DATABASE_RETRY_SECONDS = (0.2, 0.5, 1.0, 2.0, 3.0)

T = TypeVar("T")


def shares_trackers(database_url: str) -> bool:
    """Whether Rasa's conversations go to the database of ``database_url`` (PostgreSQL only)."""
    return make_url(database_url).get_backend_name() == "postgresql"


def last_session_length(events: Iterable[Event]) -> int:
    """How many events Rasa's in-memory store gives back for the latest session of ``events``."""
    events = list(events)
    sessions = split_events(events, ActionExecuted, {"action_name": ACTION_SESSION_START_NAME})
    return len(events) if len(sessions) <= 1 else len(sessions[-1])


def _skipped(tracker: DialogueStateTracker) -> bool:
    if turn_failed():
        logger.warning("Not saving the conversation of %s: its turn failed", tracker.sender_id)
        return True
    return False


class ConversationsInMemory(InMemoryTrackerStore):
    """Rasa's in-memory store, turn-aware and without the re-read per save."""

    def __init__(self, domain: Domain, event_broker: EventBroker | None = None, **kwargs: Any) -> None:
        super().__init__(domain, event_broker, **kwargs)
        self._stored_lengths: dict[str, int] = {}

    async def save(self, tracker: DialogueStateTracker) -> None:
        if _skipped(tracker):
            return
        if self.event_broker:
            stored = self._stored_lengths.get(tracker.sender_id, 0)
            new_events = list(itertools.islice(tracker.events, stored, None))
            await self._stream_new_events(self.event_broker, new_events, tracker.sender_id)
        self.store[tracker.sender_id] = self.serialise_tracker(tracker)
        self._stored_lengths[tracker.sender_id] = last_session_length(tracker.events)


def _transient(exc: Exception) -> bool:
    return isinstance(exc, OperationalError) or (isinstance(exc, DBAPIError) and exc.connection_invalidated)


class ConversationsInDatabase(SQLTrackerStore):
    """Rasa's SQL store, turn-aware, retrying a database that restarts, one count query per save."""

    async def _with_retries(self, what: str, sender_id: str, call: Callable[[], Awaitable[T]]) -> T:
        pauses = iter(DATABASE_RETRY_SECONDS)
        while True:
            try:
                return await call()
            except Exception as exc:
                pause = next(pauses, None)
                if not _transient(exc) or pause is None:
                    fail_current_turn(f"could not {what} the conversation ({type(exc).__name__})")
                    raise
                logger.warning("Database error on %s of %s, retrying in %.1f s: %s", what, sender_id, pause, exc)
                await asyncio.sleep(pause)

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        async def once() -> DialogueStateTracker | None:
            return await SQLTrackerStore.retrieve(self, sender_id)

        return await self._with_retries("read", sender_id, once)

    async def save(self, tracker: DialogueStateTracker) -> None:
        if _skipped(tracker):
            return

        async def once() -> list[Event]:
            return self._insert_new_events(tracker)

        new_events = await self._with_retries("save", tracker.sender_id, once)
        # After the commit, to brokers other than the live log (written in it).
        if self.event_broker and not isinstance(self.event_broker, ConversationLogBroker):
            await self._stream_new_events(self.event_broker, new_events, tracker.sender_id)

    def _insert_new_events(self, tracker: DialogueStateTracker) -> list[Event]:
        """Rasa's save plus the live log's entries, in one transaction; returns the events inserted."""
        with self.session_scope() as session:
            new_events = list(self._additional_events(session, tracker))
            add_messages(session, messages=new_log_entries(tracker.sender_id, list(tracker.events), len(new_events)))
            for event in new_events:
                data = event.as_dict()
                session.add(
                    self.SQLEvent(
                        sender_id=tracker.sender_id,
                        type_name=event.type_name,
                        timestamp=data.get("timestamp"),
                        intent_name=data.get("parse_data", {}).get("intent", {}).get("name"),
                        action_name=data.get("name"),
                        data=json.dumps(data),
                    )
                )
            session.commit()
        return new_events


# Set while ConversationsInSqliteFile reads a conversation: its session then
# begins DEFERRED (WAL readers never wait for a writer), not IMMEDIATE.
_reading: ContextVar[bool] = ContextVar("sqlite_tracker_reading", default=False)


class ConversationsInSqliteFile(ConversationsInDatabase):
    """The SQL store on the SQLite file of ``make run``, through ``noc.db.db.make_engine``.

    Rasa's own constructor is not used: its engine leaves pysqlite's deferred
    transactions in place, and a save (a count, then inserts) in a deferred
    transaction fails at once under WAL when the action server or the live
    log wrote in between (``SQLITE_BUSY_SNAPSHOT``, busy timeout or not). The
    project's engine begins every write ``IMMEDIATE``, waits up to its busy
    timeout for other writers and uses WAL, the pragmas every other process
    on the file uses. One Rasa server only: its locks are in its memory.
    """

    def __init__(
        self, domain: Domain | None = None, database_url: str = "", event_broker: EventBroker | None = None
    ) -> None:
        self.engine = make_engine(database_url)
        # Rasa's table, created as Rasa creates it on PostgreSQL; migrations/env.py leaves it alone.
        self.Base.metadata.create_all(self.engine)
        self.sessionmaker = make_session_factory(self.engine)
        TrackerStore.__init__(self, domain, event_broker)

    @contextlib.contextmanager
    def session_scope(self) -> Iterator[Session]:
        with self.sessionmaker() as session:
            if _reading.get():
                session.connection(execution_options=READ_ONLY_OPTIONS)
            yield session

    async def _retrieve(self, sender_id: str, fetch_events_from_all_sessions: bool) -> DialogueStateTracker | None:
        token = _reading.set(True)
        try:
            return await super()._retrieve(sender_id, fetch_events_from_all_sessions)
        finally:
            _reading.reset(token)


def tracker_store_for(
    database_url: str, domain: Domain | None = None, event_broker: EventBroker | None = None
) -> TrackerStore:
    if shares_trackers(database_url):
        return ConversationsInDatabase(domain=domain, host=database_url, event_broker=event_broker)
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and sqlite_file_path(url) is not None:
        return ConversationsInSqliteFile(domain, database_url, event_broker)
    return ConversationsInMemory(domain or Domain.empty(), event_broker)


class EnvTrackerStore(TrackerStore):
    """The class ``endpoints.yml`` names; constructing it returns the store for the environment.

    Rasa accepts only a class path for a custom store, so the choice happens in
    ``__new__`` and callers get one of the three classes above. A turn is only
    whole with the processor changes of ``noc.rasa_server`` in place: a server
    started without them (plain ``rasa run``) is told so in its log.
    """

    def __new__(
        cls,
        host: str | None = None,
        domain: Domain | None = None,
        event_broker: EventBroker | None = None,
        **_: Any,
    ) -> TrackerStore:
        if not rasa_server.installed():
            logger.error(
                "Rasa started without the project's changes: action timeouts, message ids and NLU off the "
                "event loop are missing. Start it with `python -m noc.rasa_server run ...`."
            )
        return tracker_store_for(get_settings().database_url, domain, event_broker)
