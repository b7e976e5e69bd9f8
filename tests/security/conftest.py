"""Security test fixtures: rate-limit counters on both backends, settings with chosen limits.

Redis is expected at 127.0.0.1:6379 (or ``TEST_REDIS_URL``); each test uses its
own key prefix and deletes its keys. If Redis can't be reached the Redis tests
fail; set ``NO_REDIS=1`` to skip them instead.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import redis
import yaml

from noc.rasa_plugins.channels.twilio import RATE_LIMITED
from noc.ratelimit.counters import Counters, MemoryCounters, RedisCounters
from noc.settings import Settings, load_settings
from tests.channels.conftest import database  # noqa: F401 - a migrated SQLite as DATABASE_URL
from tests.console.conftest import *  # noqa: F403 - the console app on SQLite, with all its fixtures
from tests.store.conftest import *  # noqa: F403 - the two-backend store fixtures, for the retention tests

REDIS_URL = os.environ.get("TEST_REDIS_URL", "").strip() or "redis://127.0.0.1:6379/0"
# What the channels answer over a limit, from a test domain (domain.yml's own text is
# checked by tests/channels/test_twilio_channel.py with the other channel responses).
NOTICE = "Demasiados mensajes seguidos (prueba)."


def limited_settings(**changes: Any) -> Settings:
    """This process's settings with in-memory counters and the given limits."""
    return replace(load_settings(), **{"redis_url": None, "trusted_proxy_hops": 0, **changes})


@pytest.fixture
def notice_domain(tmp_path: Path) -> Path:
    """A domain file whose only response is the rate-limit notice."""
    path = tmp_path / "domain.yml"
    path.write_text(yaml.safe_dump({"responses": {RATE_LIMITED: [{"text": NOTICE}]}}, allow_unicode=True))
    return path


@pytest.fixture(scope="session")
def redis_url() -> str:
    if os.environ.get("NO_REDIS", "").strip() == "1":
        pytest.skip("NO_REDIS=1: Redis tests skipped")
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis is not reachable at {REDIS_URL} (set NO_REDIS=1 to skip): {exc}", pytrace=False)
    return REDIS_URL


@pytest.fixture(params=["memory", "redis"])
async def counters(request: pytest.FixtureRequest) -> AsyncIterator[Counters]:
    if request.param == "memory":
        yield MemoryCounters()
        return
    url = request.getfixturevalue("redis_url")
    prefix = f"test:ratelimit:{uuid.uuid4().hex}"
    found = RedisCounters(url, prefix=prefix)
    try:
        yield found
    finally:
        await found.close()
        client = redis.Redis.from_url(url)
        keys = list(client.scan_iter(f"{prefix}:*"))
        if keys:
            client.delete(*keys)
        client.close()
