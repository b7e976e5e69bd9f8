"""Shared test set-up: no test reads the developer's .env or database."""

from __future__ import annotations

import os

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
    import pytest

    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        for fixture, tier in TIER_FIXTURES.items():
            if fixture in fixtures:
                item.add_marker(getattr(pytest.mark, tier))
        if any(item.get_closest_marker(tier) for tier in SLOW_TIERS):
            continue
        item.add_marker(pytest.mark.db if fixtures & DB_FIXTURES else pytest.mark.unit)
