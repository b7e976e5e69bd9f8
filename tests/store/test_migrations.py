"""The Alembic migrations are the only source of the schema: check them."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from noc.db import migrate
from noc.db.db import make_engine
from noc.db.models import metadata

APP_TABLES = {"incidents", "transcript_messages", "ticket_counters"}


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return set(inspect(conn).get_table_names())
    finally:
        engine.dispose()


def _schema_diff(url: str) -> list:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            return compare_metadata(context, metadata)
    finally:
        engine.dispose()


def test_upgrade_head_creates_tables(empty_database_url: str) -> None:
    assert not (_tables(empty_database_url) & APP_TABLES)

    migrate.upgrade(empty_database_url)

    assert _tables(empty_database_url) >= APP_TABLES | {"alembic_version"}


def test_upgrade_is_repeatable(empty_database_url: str) -> None:
    migrate.upgrade(empty_database_url)
    migrate.upgrade(empty_database_url)

    assert _tables(empty_database_url) >= APP_TABLES


def test_migrated_schema_matches_models(database_url: str) -> None:
    assert _schema_diff(database_url) == []


def test_downgrade_to_base_and_back(database_url: str) -> None:
    migrate.downgrade(database_url, "base")
    assert not (_tables(database_url) & APP_TABLES)

    migrate.upgrade(database_url)
    assert _schema_diff(database_url) == []


def test_alembic_x_url_argument(empty_database_url: str) -> None:
    # What `alembic -x url=... upgrade head` does.
    cfg = migrate.alembic_config("sqlite:///never-used.db")
    cfg.set_main_option("sqlalchemy.url", "")
    cfg.cmd_opts = argparse.Namespace(x=[f"url={empty_database_url}"])

    command.upgrade(cfg, "head")

    assert _tables(empty_database_url) >= APP_TABLES


def test_main_migrates_the_database_from_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db_file = tmp_path / "nested" / "var" / "noc.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{db_file}")

    migrate.main()

    assert db_file.is_file()
    assert _tables(f"sqlite:///{db_file}") >= APP_TABLES
