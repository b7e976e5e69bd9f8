"""Change-request store tests run on SQLite and PostgreSQL, with the store's fixtures."""

from tests.store.conftest import (  # noqa: F401
    database_url,
    empty_database_url,
    engine,
    postgres_admin_engine,
    postgresql_url,
    session_factory,
    sqlite_url,
)
