"""Shared test set-up: no test reads the developer's .env or database."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.e2e.fake_twilio import FakeTwilioApi
    from tests.e2e.servers import Servers

# Set before any project module reads settings: tests never touch var/noc.db
# or a token in the developer's .env (load_dotenv does not override these).
os.environ.setdefault("AGENT_API_TOKEN", "test-token")
os.environ.setdefault("ACTION_SERVER_TOKEN", "test-action-token")
os.environ.setdefault("DATABASE_URL", "sqlite:///:memory:")
# A developer .env with REDIS_URL must not put the tests' counters in a shared Redis.
os.environ.setdefault("REDIS_URL", "")
os.environ.setdefault("DEFAULT_TIMEZONE", "America/Bogota")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")


# --- The servers most end-to-end tests share (tests/e2e/servers.py) ---


@pytest.fixture(scope="session")
def twilio_api() -> Iterator[FakeTwilioApi]:
    from tests.e2e.fake_twilio import serve_fake_twilio_api

    with serve_fake_twilio_api() as fake:
        yield fake


@pytest.fixture(scope="session")
def servers(tmp_path_factory: pytest.TempPathFactory, twilio_api: FakeTwilioApi) -> Iterator[Servers]:
    """The three servers of `make run`, started once for the run, when a test first needs them."""
    from tests.e2e.servers import start_shared_servers, stop_servers

    started = start_shared_servers(tmp_path_factory.mktemp("shared_stack"), twilio_api_base_url=twilio_api.base_url)
    yield started
    # The processes now: a test may have restarted one (tests/e2e/test_restart.py).
    stop_servers(list(started.processes.values()))


# --- Tiers (`make test-fast` runs unit and db; `make test` runs everything) ---
#
# A test's tier follows from what it uses, so a new test lands in the right
# one without a decorator: the fixtures that start a browser, the cluster,
# the three servers or the trained model. Modules that start their own
# processes say so with ``pytestmark = pytest.mark.stack``.
TIER_FIXTURES = {
    "browser": "browser",
    "cluster": "cluster",
    "servers": "stack",
    "sample": "stack",
    "stack": "stack",
    "parse": "model",
}
DB_FIXTURES = {
    "database_url",
    "empty_database_url",
    "postgresql_url",
    "postgres_admin_engine",
    "sqlite_url",
    "redis_url",
}
SLOW_TIERS = ("browser", "cluster", "stack", "model")


def pytest_collection_modifyitems(config, items) -> None:
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        for fixture, tier in TIER_FIXTURES.items():
            if fixture in fixtures:
                item.add_marker(getattr(pytest.mark, tier))
        if any(item.get_closest_marker(tier) for tier in SLOW_TIERS):
            continue
        item.add_marker(pytest.mark.db if fixtures & DB_FIXTURES else pytest.mark.unit)
