"""EnvTrackerStore: Rasa's conversations in PostgreSQL with a PostgreSQL DATABASE_URL, in memory otherwise."""

from __future__ import annotations

import uuid

import pytest
from rasa.core.tracker_store import InMemoryTrackerStore, SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from actions import settings
from actions.stores.tracker import EnvTrackerStore, shares_trackers, tracker_store_for


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
    assert type(tracker_store_for("sqlite:///:memory:", Domain.empty())) is InMemoryTrackerStore


def test_the_class_endpoints_yml_names_builds_the_store_of_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "sqlite:///:memory:")
    settings.get_settings.cache_clear()
    try:
        # What Rasa does with `tracker_store: type: actions.stores.tracker.EnvTrackerStore`.
        store = EnvTrackerStore(host=None, domain=Domain.empty(), event_broker=None)
    finally:
        settings.get_settings.cache_clear()
    assert type(store) is InMemoryTrackerStore


async def test_postgresql_keeps_conversations_for_every_server(postgresql_url: str) -> None:
    domain = Domain.empty()
    sender = f"test-{uuid.uuid4().hex[:8]}"
    one_server = tracker_store_for(postgresql_url, domain)
    other_server = tracker_store_for(postgresql_url, domain)
    assert type(one_server) is SQLTrackerStore
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
