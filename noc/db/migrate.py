"""Apply the Alembic migrations: ``python -m noc migrate``."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from alembic import command
from alembic.config import Config

from noc.settings import load_settings

ALEMBIC_INI = Path(__file__).resolve().parents[2] / "alembic.ini"


def alembic_config(url: str) -> Config:
    """Alembic config from the repository's alembic.ini, pointed at ``url``."""
    cfg = Config(str(ALEMBIC_INI))
    # The ini file is read through ConfigParser interpolation, so a literal
    # "%" (e.g. "%3D" in a search_path option) must be doubled.
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["configure_logger"] = False
    return cfg


def upgrade(url: str) -> None:
    """Bring the database at ``url`` to the latest schema revision."""
    command.upgrade(alembic_config(url), "head")


def downgrade(url: str, revision: str = "base") -> None:
    """Step the database at ``url`` back to ``revision`` (default: empty)."""
    command.downgrade(alembic_config(url), revision)


def main(argv: Sequence[str] = ()) -> None:
    """``python -m noc migrate``: upgrade the database of DATABASE_URL to the latest schema."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    upgrade(load_settings().database_url)

