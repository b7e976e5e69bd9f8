"""Rasa's tracker store, chosen by ``DATABASE_URL``.

The rule: a PostgreSQL ``DATABASE_URL`` puts Rasa's conversations (table
``events``) in that same database, through Rasa's own ``SQLTrackerStore``;
anything else (the default SQLite file of ``make run``) keeps them in memory.
Several Rasa servers need the shared store, and SQLite on one machine's disk
cannot be one.
"""

from __future__ import annotations

from typing import Any

from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import InMemoryTrackerStore, SQLTrackerStore, TrackerStore
from rasa.shared.core.domain import Domain
from sqlalchemy.engine import make_url

from actions.settings import get_settings


def shares_trackers(database_url: str) -> bool:
    """Whether Rasa's conversations go to the database of ``database_url`` (PostgreSQL only)."""
    return make_url(database_url).get_backend_name() == "postgresql"


def tracker_store_for(
    database_url: str, domain: Domain | None = None, event_broker: EventBroker | None = None
) -> TrackerStore:
    if shares_trackers(database_url):
        return SQLTrackerStore(domain=domain, host=database_url, event_broker=event_broker)
    return InMemoryTrackerStore(domain or Domain.empty(), event_broker)


class EnvTrackerStore(TrackerStore):
    """The class ``endpoints.yml`` names; constructing it returns Rasa's own store for the environment.

    Rasa accepts only a class path for a custom store, so the choice happens in
    ``__new__`` and callers get a plain ``SQLTrackerStore`` or
    ``InMemoryTrackerStore``, exactly what Rasa would have built itself.
    """

    def __new__(
        cls,
        host: str | None = None,
        domain: Domain | None = None,
        event_broker: EventBroker | None = None,
        **_: Any,
    ) -> TrackerStore:
        return tracker_store_for(get_settings().database_url, domain, event_broker)
