"""EnvTrackerStore: Rasa's conversations in the DATABASE_URL's database (PostgreSQL or a SQLite file).

In memory only for an in-memory SQLite database. Also the stores' own rules: a
failed turn is not saved, a turn is saved whole or not at all, database errors
of a restart are retried, a SQLite reader never waits for a writer, and the
event broker gets exactly the events Rasa's own stores would have streamed.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import InMemoryTrackerStore, SQLTrackerStore, TrackerStore
from rasa.shared.core.constants import ACTION_SESSION_START_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, Event, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from noc import settings
from noc.db import db
from noc.db.conversation_log import list_messages
from noc.db.migrate import upgrade
from noc.rasa_plugins import tracker_store as tracker_module
from noc.rasa_plugins import turns
from noc.rasa_plugins.live_log import ConversationLogBroker
from noc.rasa_plugins.tracker_store import (
    ConversationsInDatabase,
    ConversationsInMemory,
    ConversationsInSqliteFile,
    EnvTrackerStore,
    last_session_length,
    shares_trackers,
    tracker_store_for,
)


@pytest.mark.parametrize(
    ("database_url", "expected"),
    [
        ("postgresql://postgres@127.0.0.1:5432/test", True),
        ("postgresql+psycopg2://noc:secreto@db.internal:5432/noc?sslmode=require", True),
        ("sqlite:////work/main/var/noc.db", False),
        ("sqlite:///:memory:", False),
        ("mysql://root@127.0.0.1/test", False),
    ],
)
def test_only_postgresql_shares_the_conversations(database_url: str, expected: bool) -> None:
    assert shares_trackers(database_url) is expected


@pytest.fixture
def sqlite_memory_url() -> str:
    return "sqlite:///:memory:"


@pytest.fixture
def sqlite_file_url(tmp_path: Path) -> str:
    # Migrated, as make run does before starting the servers: the store writes the live log too.
    url = f"sqlite:///{tmp_path / 'var' / 'noc.db'}"
    upgrade(url)
    return url


@pytest.fixture
def postgresql_url(postgresql_url: str) -> str:
    upgrade(postgresql_url)
    return postgresql_url


def dispose(store: TrackerStore) -> None:
    if isinstance(store, SQLTrackerStore):
        store.engine.dispose()


@pytest.mark.parametrize(
    ("url_fixture", "expected"),
    [("sqlite_memory_url", ConversationsInMemory), ("sqlite_file_url", ConversationsInSqliteFile)],
)
def test_the_class_endpoints_yml_names_builds_the_store_of_the_environment(
    url_fixture: str, expected: type, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    monkeypatch.setenv("DATABASE_URL", request.getfixturevalue(url_fixture))
    settings.get_settings.cache_clear()
    try:
        # What Rasa does with `tracker_store: type: noc.rasa_plugins.tracker_store.EnvTrackerStore`.
        store = EnvTrackerStore(host=None, domain=Domain.empty(), event_broker=None)
    finally:
        settings.get_settings.cache_clear()
    dispose(store)
    assert type(store) is expected


async def test_a_sqlite_file_keeps_conversations_across_a_restart(sqlite_file_url: str) -> None:
    domain = Domain.empty()
    before_restart = tracker_store_for(sqlite_file_url, domain)
    tracker = DialogueStateTracker("ana", domain.slots)
    for event in [*new_session(), *turn_events(1), *turn_events(2)]:
        tracker.update(event)
    await before_restart.save(tracker)
    dispose(before_restart)

    after_restart = tracker_store_for(sqlite_file_url, domain)
    try:
        seen = await after_restart.retrieve("ana")
        assert seen is not None
        # Rasa's SQL store gives back the latest session from its SessionStarted on, as on PostgreSQL.
        latest_session = list(tracker.events)[1:]
        assert [event.as_dict() for event in seen.events] == [event.as_dict() for event in latest_session]
        # A turn after the restart adds to it, not a second copy of what was there.
        for event in turn_events(3):
            seen.update(event)
        await after_restart.save(seen)
        again = await after_restart.retrieve("ana")
        assert [e.text for e in again.events if isinstance(e, UserUttered)] == [f"mensaje {n}" for n in (1, 2, 3)]
    finally:
        dispose(after_restart)


async def test_postgresql_keeps_conversations_for_every_server(postgresql_url: str) -> None:
    domain = Domain.empty()
    sender = f"test-{uuid.uuid4().hex[:8]}"
    one_server = tracker_store_for(postgresql_url, domain)
    other_server = tracker_store_for(postgresql_url, domain)
    assert type(one_server) is ConversationsInDatabase
    try:
        tracker = DialogueStateTracker(sender, domain.slots)
        tracker.update(UserUttered("hola"))
        tracker.update(BotUttered("Hola, ¿qué problema presenta?"))
        tracker.update(ActionExecuted("action_listen"))
        await one_server.save(tracker)

        seen = await other_server.retrieve(sender)
        assert seen is not None
        assert [event.type_name for event in seen.events] == ["user", "bot", "action"]
        assert seen.latest_message.text == "hola"
    finally:
        one_server.engine.dispose()
        other_server.engine.dispose()


class RecordingBroker(EventBroker):
    def __init__(self) -> None:
        self.published: list[dict[str, Any]] = []

    def publish(self, event: dict[str, Any]) -> None:
        self.published.append(event)

    def kinds(self) -> list[tuple[str, str | None]]:
        return [(event["event"], event.get("name") or event.get("text")) for event in self.published]


def turn_events(number: int) -> list[Event]:
    return [UserUttered(f"mensaje {number}"), BotUttered(f"respuesta {number}"), ActionExecuted("action_listen")]


def new_session() -> list[Event]:
    return [ActionExecuted(ACTION_SESSION_START_NAME), SessionStarted(), ActionExecuted("action_listen")]


# Conversations as Rasa's processor grows them: turns, and a new session in the middle.
GROWTH = [
    [*new_session(), *turn_events(1)],
    turn_events(2),
    [*turn_events(3), *new_session(), *turn_events(4)],
    turn_events(5),
]


async def save_turn(store: TrackerStore, number: int, sender: str = "ana") -> None:
    """Adds turn ``number`` to the stored conversation (a new one if there is none) and saves it."""
    tracker = await store.retrieve(sender) or DialogueStateTracker(sender, [])
    for event in turn_events(number):
        tracker.update(event)
    await store.save(tracker)


async def stream_through(store: TrackerStore, sender: str) -> None:
    """Saves the conversation of GROWTH step by step, each time from what the store gives back."""
    for step in GROWTH:
        tracker = await store.retrieve(sender) or DialogueStateTracker(sender, [])
        for event in step:
            tracker.update(event)
        await store.save(tracker)


@pytest.mark.parametrize(
    ("events", "expected"),
    [
        ([], 0),
        (turn_events(1), 3),
        ([*new_session(), *turn_events(1)], 6),
        ([*turn_events(1), *new_session(), *turn_events(2)], 6),
        ([*new_session(), *turn_events(1), *new_session()], 3),
    ],
)
def test_last_session_length_is_what_the_in_memory_store_gives_back(events: list[Event], expected: int) -> None:
    assert last_session_length(events) == expected


async def test_the_in_memory_store_streams_what_rasas_own_store_streams() -> None:
    domain = Domain.empty()
    ours, rasas = RecordingBroker(), RecordingBroker()
    await stream_through(ConversationsInMemory(domain, ours), "ana")
    await stream_through(InMemoryTrackerStore(domain, rasas), "ana")
    assert ours.kinds() == rasas.kinds()
    assert [kind for kind in ours.kinds() if kind[0] == "user"] == [("user", f"mensaje {n}") for n in range(1, 6)]


async def test_the_database_store_streams_what_rasas_own_store_streams(postgres_admin_engine: Any) -> None:
    domain = Domain.empty()
    ours, rasas = RecordingBroker(), RecordingBroker()
    for store_class, broker in ((ConversationsInDatabase, ours), (SQLTrackerStore, rasas)):
        with schema_url(postgres_admin_engine) as url:
            store = store_class(domain=domain, host=url, event_broker=broker)
            try:
                await stream_through(store, "ana")
            finally:
                store.engine.dispose()
    assert ours.kinds() == rasas.kinds()
    assert len([kind for kind in ours.kinds() if kind[0] == "user"]) == 5


async def test_the_sqlite_file_store_streams_what_rasas_own_store_streams(tmp_path: Path) -> None:
    domain = Domain.empty()
    ours, rasas = RecordingBroker(), RecordingBroker()
    upgrade(f"sqlite:///{tmp_path / 'ours.db'}")
    stores = [
        ConversationsInSqliteFile(domain, f"sqlite:///{tmp_path / 'ours.db'}", ours),
        SQLTrackerStore(domain=domain, host=f"sqlite:///{tmp_path / 'rasas.db'}", event_broker=rasas),
    ]
    for store in stores:
        try:
            await stream_through(store, "ana")
        finally:
            dispose(store)
    assert ours.kinds() == rasas.kinds()
    assert len([kind for kind in ours.kinds() if kind[0] == "user"]) == 5


@contextlib.contextmanager
def schema_url(admin_engine: Any) -> Iterator[str]:
    """A PostgreSQL schema of its own (the ``postgresql_url`` fixture gives one per test only)."""
    schema = f"test_tracker_{uuid.uuid4().hex[:10]}"
    with admin_engine.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = admin_engine.url.set(query={"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
        upgrade(url)  # the project's tables: ours writes the live log in them
        yield url
    finally:
        with admin_engine.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


@pytest.fixture
def in_a_turn() -> Iterator[turns.Turn]:
    turn = turns.Turn(sender_id="ana")
    token = turns.current_turn.set(turn)
    yield turn
    turns.current_turn.reset(token)


@pytest.fixture
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tracker_module, "DATABASE_RETRY_SECONDS", (0.05, 0.05))


@pytest.mark.parametrize("url_fixture", ["sqlite_memory_url", "sqlite_file_url", "postgresql_url"])
async def test_a_failed_turn_leaves_the_conversation_as_it_was(
    url_fixture: str, in_a_turn: turns.Turn, request: pytest.FixtureRequest
) -> None:
    domain = Domain.empty()
    broker = RecordingBroker()
    store = tracker_store_for(request.getfixturevalue(url_fixture), domain, broker)
    try:
        await save_turn(store, 1)
        published = len(broker.published)

        in_a_turn.fail("action server unreachable")
        await save_turn(store, 2)

        stored = await store.retrieve("ana")
        assert [e.text for e in stored.events if isinstance(e, UserUttered)] == ["mensaje 1"]
        assert len(broker.published) == published, "the live log showed a turn that was not saved"
    finally:
        dispose(store)


async def test_a_turn_the_sqlite_file_refuses_halfway_is_not_saved_at_all(
    sqlite_file_url: str, in_a_turn: turns.Turn
) -> None:
    broker = RecordingBroker()
    store = tracker_store_for(sqlite_file_url, Domain.empty(), broker)
    try:
        await save_turn(store, 1)
        published = len(broker.published)
        # The turn's bot message is refused after its user message was inserted
        # (a full disk, a crash): the user message must not stay behind alone.
        with store.engine.begin() as conn:
            conn.exec_driver_sql(
                "CREATE TRIGGER refuse BEFORE INSERT ON events WHEN NEW.data LIKE '%respuesta 2%' "
                "BEGIN SELECT RAISE(ABORT, 'refused'); END"
            )
        with pytest.raises(IntegrityError, match="refused"):
            await save_turn(store, 2)
        assert in_a_turn.failed

        stored = await store.retrieve("ana")
        assert [(e.type_name, getattr(e, "text", None)) for e in stored.events] == [
            ("user", "mensaje 1"),
            ("bot", "respuesta 1"),
            ("action", None),
        ]
        assert len(broker.published) == published, "the live log showed a turn that was not saved"
    finally:
        dispose(store)


@pytest.mark.parametrize("url_fixture", ["sqlite_file_url", "postgresql_url"])
async def test_a_saved_turn_is_in_the_live_log_even_if_the_server_dies_right_after(
    url_fixture: str, request: pytest.FixtureRequest
) -> None:
    url = request.getfixturevalue(url_fixture)
    engine = db.make_engine(url)
    factory = db.make_session_factory(engine)
    # The log's broker, dead before it wrote anything: the server was killed after the save.
    broker = ConversationLogBroker(factory)
    await broker.close()
    store = tracker_store_for(url, Domain.empty(), broker)
    try:
        tracker = DialogueStateTracker("ana", [])
        menu = BotUttered("¿Está encendido?", data={"buttons": [{"title": "Sí, encendido", "payload": "/affirm"}]})
        for event in [*new_session(), *turn_events(1), menu, UserUttered("/affirm"), BotUttered("Gracias")]:
            tracker.update(event)
        await store.save(tracker)
        logged = [(m["role"], m["text"]) for m in list_messages(factory, sender_id="ana")]
        assert logged == [
            ("user", "mensaje 1"),
            ("bot", "respuesta 1"),
            ("bot", "¿Está encendido?"),
            ("user", "Sí, encendido"),
            ("bot", "Gracias"),
        ]
        # The next turn adds only its own messages, with the title of the button offered before it.
        again = await store.retrieve("ana")
        for event in [UserUttered("/affirm"), BotUttered("Listo")]:
            again.update(event)
        await store.save(again)
        logged = [(m["role"], m["text"]) for m in list_messages(factory, sender_id="ana")]
        assert logged[5:] == [("user", "/affirm"), ("bot", "Listo")]
    finally:
        dispose(store)
        engine.dispose()


async def test_a_turn_whose_log_cannot_be_written_is_not_saved(sqlite_file_url: str, in_a_turn: turns.Turn) -> None:
    store = tracker_store_for(sqlite_file_url, Domain.empty())
    try:
        await save_turn(store, 1)
        with store.engine.begin() as conn:
            conn.exec_driver_sql(
                "CREATE TRIGGER refuse BEFORE INSERT ON conversation_messages WHEN NEW.text = 'mensaje 2' "
                "BEGIN SELECT RAISE(ABORT, 'refused'); END"
            )
        with pytest.raises(IntegrityError, match="refused"):
            await save_turn(store, 2)
        stored = await store.retrieve("ana")
        assert [e.text for e in stored.events if isinstance(e, UserUttered)] == ["mensaje 1"]
    finally:
        dispose(store)


async def test_reading_a_sqlite_conversation_does_not_wait_for_a_writer(
    sqlite_file_url: str, monkeypatch: pytest.MonkeyPatch, quick_retries: None
) -> None:
    monkeypatch.setattr(db, "SQLITE_BUSY_TIMEOUT_SECONDS", 2)
    store = tracker_store_for(sqlite_file_url, Domain.empty())
    try:
        await save_turn(store, 1)
        # The action server (another process) in the middle of opening an incident.
        writer = sqlite3.connect(sqlite_file_url.removeprefix("sqlite:///"), isolation_level=None)
        try:
            writer.execute("BEGIN IMMEDIATE")
            started = time.monotonic()
            seen = await store.retrieve("ana")
            waited = time.monotonic() - started
        finally:
            writer.close()
        assert seen is not None and seen.latest_message.text == "mensaje 1"
        assert waited < 1, f"the read waited {waited:.1f} s for the writer"
    finally:
        dispose(store)


async def test_the_database_store_retries_a_dropped_connection(
    postgresql_url: str, postgres_admin_engine: Any, in_a_turn: turns.Turn, quick_retries: None
) -> None:
    store = tracker_store_for(postgresql_url, Domain.empty())
    try:
        await save_turn(store, 1)
        # What a PostgreSQL restart does to the pooled connections: the server closes them.
        with store.engine.connect() as pooled:
            pid = pooled.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with postgres_admin_engine.connect() as conn:
            assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar_one()
        again = await store.retrieve("ana")
        assert again is not None and again.latest_message.text == "mensaje 1"
        assert not in_a_turn.failed
    finally:
        store.engine.dispose()


async def test_a_database_that_stays_away_fails_the_turn(in_a_turn: turns.Turn, quick_retries: None) -> None:
    # Nothing listens on this port: PostgreSQL is down.
    store = ConversationsInDatabase(domain=Domain.empty(), host="postgresql://postgres@127.0.0.1:16998/none")
    try:
        with pytest.raises(Exception, match=r"16998|connect"):
            await store.retrieve("ana")
        assert in_a_turn.failed and "read" in (in_a_turn.failure or "")
    finally:
        store.engine.dispose()
