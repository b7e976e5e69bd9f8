"""EnvTrackerStore: Rasa's conversations in PostgreSQL with a PostgreSQL DATABASE_URL, in memory otherwise.

Also the stores' own rules: a failed turn is not saved, PostgreSQL errors of a
restart are retried, and the event broker gets exactly the events Rasa's own
stores would have streamed.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import InMemoryTrackerStore, SQLTrackerStore, TrackerStore
from rasa.shared.core.constants import ACTION_SESSION_START_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, Event, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import text

from actions import settings
from actions.channels import turns
from actions.stores import tracker as tracker_module
from actions.stores.tracker import (
    ConversationsInDatabase,
    ConversationsInMemory,
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


def test_sqlite_keeps_conversations_in_memory() -> None:
    assert type(tracker_store_for("sqlite:///:memory:", Domain.empty())) is ConversationsInMemory


def test_the_class_endpoints_yml_names_builds_the_store_of_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "sqlite:///:memory:")
    settings.get_settings.cache_clear()
    try:
        # What Rasa does with `tracker_store: type: actions.stores.tracker.EnvTrackerStore`.
        store = EnvTrackerStore(host=None, domain=Domain.empty(), event_broker=None)
    finally:
        settings.get_settings.cache_clear()
    assert type(store) is ConversationsInMemory


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


@contextlib.contextmanager
def schema_url(admin_engine: Any) -> Iterator[str]:
    """A PostgreSQL schema of its own (the ``postgresql_url`` fixture gives one per test only)."""
    schema = f"test_tracker_{uuid.uuid4().hex[:10]}"
    with admin_engine.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield admin_engine.url.set(query={"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    finally:
        with admin_engine.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


@pytest.fixture
def sqlite_memory_url() -> str:
    return "sqlite:///:memory:"


@pytest.fixture
def in_a_turn() -> Iterator[turns.Turn]:
    turn = turns.Turn(sender_id="ana")
    token = turns.current_turn.set(turn)
    yield turn
    turns.current_turn.reset(token)


@pytest.fixture
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tracker_module, "DATABASE_RETRY_SECONDS", (0.05, 0.05))


@pytest.mark.parametrize("url_fixture", ["sqlite_memory_url", "postgresql_url"])
async def test_a_failed_turn_leaves_the_conversation_as_it_was(
    url_fixture: str, in_a_turn: turns.Turn, request: pytest.FixtureRequest
) -> None:
    domain = Domain.empty()
    broker = RecordingBroker()
    store = tracker_store_for(request.getfixturevalue(url_fixture), domain, broker)
    try:
        tracker = DialogueStateTracker("ana", [])
        for event in turn_events(1):
            tracker.update(event)
        await store.save(tracker)
        published = len(broker.published)

        tracker = await store.retrieve("ana")
        for event in turn_events(2):
            tracker.update(event)
        in_a_turn.fail("action server unreachable")
        await store.save(tracker)

        stored = await store.retrieve("ana")
        assert [e.text for e in stored.events if isinstance(e, UserUttered)] == ["mensaje 1"]
        assert len(broker.published) == published, "the live log showed a turn that was not saved"
    finally:
        if isinstance(store, SQLTrackerStore):
            store.engine.dispose()


async def test_the_database_store_retries_a_dropped_connection(
    postgresql_url: str, postgres_admin_engine: Any, in_a_turn: turns.Turn, quick_retries: None
) -> None:
    store = tracker_store_for(postgresql_url, Domain.empty())
    try:
        tracker = DialogueStateTracker("ana", [])
        for event in turn_events(1):
            tracker.update(event)
        await store.save(tracker)
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
