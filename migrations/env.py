"""Alembic environment for the incident store.

URL precedence: ``alembic -x url=...``, then ``sqlalchemy.url`` when a caller
set it on the config (``noc.db.migrate.upgrade`` does), then
``DATABASE_URL`` through ``noc.settings.load_settings()``.
"""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context

# Tables defined outside noc.db.models, on the same metadata.
import noc.db.twilio_messages  # noqa: F401
from noc.db.db import make_engine
from noc.db.models import UTCDateTime, metadata
from noc.settings import load_settings

config = context.config

# Only the alembic CLI configures logging from the ini file; programmatic
# callers (noc.db.migrate, tests) keep their own logging setup.
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def _database_url() -> str:
    from_cli = context.get_x_argument(as_dictionary=True).get("url")
    if from_cli:
        return from_cli
    from_config = config.get_main_option("sqlalchemy.url")
    if from_config:
        return from_config
    return load_settings().database_url


def _render_item(type_: str, obj: object, autogen_context: object) -> str | bool:
    # Migrations must not import application types (they change over time):
    # write the plain column type the decorator stores.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


# In production Rasa's SQLTrackerStore keeps conversations in the same
# database (noc/rasa_plugins/tracker_store.py); its table is Rasa's, not ours.
FOREIGN_TABLES = {"events"}


def _include_object(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    return not (type_ == "table" and reflected and name in FOREIGN_TABLES)


def _configure_kwargs(dialect_name: str) -> dict:
    return {
        "target_metadata": metadata,
        "include_object": _include_object,
        "compare_type": True,
        "render_item": _render_item,
        # SQLite can't ALTER most things; batch mode rebuilds the table instead.
        "render_as_batch": dialect_name == "sqlite",
        # SQLite does support transactional DDL once pysqlite stops managing
        # transactions (db.make_engine does that), so a failed migration
        # leaves no half-built schema behind on either backend.
        "transactional_ddl": True,
    }


def run_migrations_offline() -> None:
    url = _database_url()
    context.configure(
        url=url,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        **_configure_kwargs(url.split(":", 1)[0].split("+", 1)[0]),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    # make_engine creates var/ for a SQLite file and sets the same pragmas
    # the application uses.
    engine = make_engine(_database_url())
    try:
        with engine.connect() as connection:
            context.configure(connection=connection, **_configure_kwargs(connection.dialect.name))
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
