"""Store fixtures: every store test runs on SQLite and on PostgreSQL.

PostgreSQL is expected at 127.0.0.1:5432, database ``test``, trust auth (user
``postgres``, else ``root``), or at ``TEST_POSTGRES_URL``. Each test gets its
own freshly created schema, dropped afterwards, so parallel or repeated runs
never see each other's tables. If the server can't be reached the PostgreSQL
tests fail; set ``NO_POSTGRES=1`` to skip them instead.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import sessionmaker

from noc.db.db import make_engine, make_session_factory
from noc.db.migrate import upgrade

PG_CANDIDATE_URLS = (
    "postgresql://postgres@127.0.0.1:5432/test",
    "postgresql://root@127.0.0.1:5432/test",
)
BACKENDS = ("sqlite", "postgresql")

# One prefix per pytest process; the per-test counter makes names unique.
_RUN_ID = uuid.uuid4().hex[:8]
_schema_counter = iter(range(1_000_000))


def _postgres_disabled() -> bool:
    return os.environ.get("NO_POSTGRES", "").strip() == "1"


@pytest.fixture(scope="session")
def postgres_admin_engine() -> Iterator[Engine]:
    """Autocommit engine on the test database, used to create/drop schemas."""
    if _postgres_disabled():
        pytest.skip("NO_POSTGRES=1: PostgreSQL tests skipped")
    override = os.environ.get("TEST_POSTGRES_URL", "").strip()
    candidates = (override,) if override else PG_CANDIDATE_URLS
    failures = []
    for url in candidates:
        engine = create_engine(url, future=True, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except OperationalError as exc:
            engine.dispose()
            failures.append(f"{url}: {str(exc.orig).strip()}")
            continue
        yield engine
        engine.dispose()
        return
    pytest.fail(
        "PostgreSQL is not reachable (set NO_POSTGRES=1 to skip these tests):\n"
        + "\n".join(failures),
        pytrace=False,
    )


@pytest.fixture
def postgresql_url(postgres_admin_engine: Engine) -> Iterator[str]:
    """URL of a new empty schema (via search_path), dropped after the test."""
    schema = f"test_store_{_RUN_ID}_{next(_schema_counter)}"
    with postgres_admin_engine.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = postgres_admin_engine.url.set(query={"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with postgres_admin_engine.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    # The var/ directory doesn't exist yet: make_engine must create it.
    return f"sqlite:///{tmp_path / 'var' / 'noc.db'}"


@pytest.fixture(params=BACKENDS)
def empty_database_url(request: pytest.FixtureRequest) -> str:
    """URL of an empty database on each backend."""
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture
def database_url(empty_database_url: str) -> str:
    """URL of a database migrated to head."""
    upgrade(empty_database_url)
    return empty_database_url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session_factory(engine: Engine) -> sessionmaker:
    return make_session_factory(engine)
