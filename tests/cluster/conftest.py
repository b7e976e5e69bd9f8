"""Fixtures of the production-mode tests: Redis, PostgreSQL and the one cluster of all cluster tests.

The machine's Redis (127.0.0.1:6379, or ``TEST_REDIS_URL``) serves the lock
store's unit tests, each with its own key prefix. Tests that take Redis away
start their own ``redis-server`` on a port of 16000-16999 instead.

``cluster`` is `make run-cluster` on test ports, started once for all of
tests/cluster (loading four servers takes minutes on two cores) on a
PostgreSQL and a Redis of its own, which the tests stop and restart. Package
scope rather than session: it is stopped when the run leaves this folder, not
left eating the two cores and memory through the rest of `make test`. Tests
marked ``stops_cluster`` run after every other test of the folder.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine

from tests.cluster.cluster import POSTGRES_PORT, REDIS_PORT, Cluster, kill_cluster, start_cluster
from tests.cluster.servers import PostgresServer, RedisServer

# The store's PostgreSQL fixtures (see tests/store/conftest.py).
from tests.store.conftest import postgres_admin_engine, postgresql_url  # noqa: F401

__all__ = ["CLOSED_PORT", "MACHINE_REDIS_URL", "PostgresServer", "RedisServer"]

MACHINE_REDIS_URL = "redis://127.0.0.1:6379/0"
# Nothing listens here: a Redis that is down.
CLOSED_PORT = 16999
STOPS_CLUSTER = "stops_cluster"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{STOPS_CLUSTER}: stops the session's cluster, so it runs last")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Whatever the order of files on the command line, nothing may need the
    # cluster after it was stopped: those tests go right after the last test of
    # this folder (not to the end of the session, which would start a second
    # cluster for them after the package's one was torn down).
    here = Path(__file__).parent
    stoppers = [item for item in items if item.get_closest_marker(STOPS_CLUSTER) is not None]
    if not stoppers:
        return
    rest = [item for item in items if item.get_closest_marker(STOPS_CLUSTER) is None]
    ours = [index for index, item in enumerate(rest) if here in item.path.parents]
    at = ours[-1] + 1 if ours else len(rest)
    items[:] = rest[:at] + stoppers + rest[at:]


@pytest.fixture(scope="session")
def redis_url() -> str:
    url = os.environ.get("TEST_REDIS_URL", "").strip() or MACHINE_REDIS_URL
    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis is not reachable at {url}: {exc}", pytrace=False)
    finally:
        client.close()
    return url


@pytest.fixture
def key_prefix(redis_url: str) -> Iterator[str]:
    """A key prefix of this test only; its keys are deleted afterwards."""
    prefix = f"test:{uuid.uuid4().hex[:12]}:"
    yield prefix
    client = redis.Redis.from_url(redis_url)
    try:
        for key in client.scan_iter(f"{prefix}*"):
            client.delete(key)
    finally:
        client.close()


@pytest.fixture(scope="package")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    postgres = PostgresServer(POSTGRES_PORT)
    redis_server = RedisServer(REDIS_PORT)
    started: Cluster | None = None
    try:
        postgres.start()
        redis_server.start()
        started = start_cluster(tmp_path_factory.mktemp("cluster"), postgres=postgres, redis=redis_server)
        yield started
    finally:
        if started is not None:
            kill_cluster(started)
        redis_server.stop()
        postgres.remove()


@pytest.fixture(scope="package")
def database(cluster: Cluster) -> Iterator[Engine]:
    # pool_pre_ping: the faults tests restart this PostgreSQL under the engine.
    engine = create_engine(cluster.database_url, future=True, pool_pre_ping=True)
    yield engine
    engine.dispose()
