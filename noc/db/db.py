"""Engine and session factories. Nothing here connects at import time."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, Engine, create_engine, make_url
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import QueuePool

from noc.settings import get_settings

# How long a SQLite writer waits for another writer's lock before failing.
SQLITE_BUSY_TIMEOUT_SECONDS = 30

# Execution option read by the SQLite "begin" hook. Writers get
# BEGIN IMMEDIATE by default; read-only units of work may ask for DEFERRED.
SQLITE_BEGIN_OPTION = "sqlite_begin"
READ_ONLY_OPTIONS: dict[str, Any] = {SQLITE_BEGIN_OPTION: "DEFERRED"}


def sqlite_file_path(url: URL) -> Path | None:
    """The file of a SQLite ``url``; None for an in-memory database (nothing outlives the process)."""
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def _configure_sqlite(engine: Engine, *, file_backed: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the sqlite3 module (it would emit
        # its own deferred BEGIN lazily), so the "begin" hook below decides.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_SECONDS * 1000}")
            if file_backed:
                # WAL lets readers proceed while one writer holds the lock.
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A deferred transaction that reads and then writes cannot wait for
        # the lock under WAL (SQLITE_BUSY_SNAPSHOT fails at once, busy timeout
        # or not), so write units of work take the write lock up front. That
        # serialises ticket numbering and idempotency checks as a side effect.
        mode = connection.get_execution_options().get(SQLITE_BEGIN_OPTION, "IMMEDIATE")
        if mode not in ("DEFERRED", "IMMEDIATE", "EXCLUSIVE"):
            raise ValueError(f"invalid {SQLITE_BEGIN_OPTION} option: {mode!r}")
        connection.exec_driver_sql(f"BEGIN {mode}")


def make_engine(url: str) -> Engine:
    """Create an engine for ``url`` (SQLite or PostgreSQL).

    SQLite: the parent directory of a file database is created, connections
    are pooled and may be shared across threads, a busy timeout, WAL and foreign keys are
    enabled, and every transaction begins IMMEDIATE unless the connection
    carries ``READ_ONLY_OPTIONS``. PostgreSQL: connections are pinged before
    use so a restarted server doesn't surface as a failed request.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = sqlite_file_path(parsed)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            parsed,
            future=True,
            # SQLAlchemy 1.4 opens and closes a SQLite file connection (with its
            # PRAGMAs) for every unit of work; 2.0 pools them, as here. The live
            # conversation log alone spent a third of its time on that.
            poolclass=QueuePool if path is not None else None,
            connect_args={
                "check_same_thread": False,
                "timeout": SQLITE_BUSY_TIMEOUT_SECONDS,
            },
        )
        _configure_sqlite(engine, file_backed=path is not None)
        return engine
    return create_engine(parsed, future=True, pool_pre_ping=True)


def make_session_factory(engine: Engine) -> sessionmaker:
    """Session factory for one unit of work per ``with factory() as s, s.begin():``."""
    return sessionmaker(bind=engine, future=True, expire_on_commit=False)


@lru_cache(maxsize=1)
def get_engine() -> Engine:
    """Engine for this process's ``DATABASE_URL``, created on first use."""
    return make_engine(get_settings().database_url)


@lru_cache(maxsize=1)
def get_session_factory() -> sessionmaker:
    """Session factory bound to ``get_engine()``, created on first use."""
    return make_session_factory(get_engine())
