"""The one place that reads the environment.

Values come from real environment variables first, then from `.env` at the
project root (python-dotenv never overrides a variable that is already set).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from dotenv import load_dotenv

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"La variable {name} debe ser un número entero, no {raw!r}") from exc


@dataclass(frozen=True)
class Settings:
    database_url: str
    agent_api_token: str | None
    rasa_port: int
    action_port: int
    web_port: int
    web_host: str
    rasa_url: str
    # Time zone used for "since when" while the customer's country is still unknown.
    default_timezone: str


def default_database_url() -> str:
    return f"sqlite:///{PROJECT_ROOT / 'var' / 'noc.db'}"


def load_settings() -> Settings:
    """Read settings now (call again after changing os.environ in tests)."""
    load_dotenv(PROJECT_ROOT / ".env", override=False)
    rasa_port = _int("RASA_PORT", 5005)
    return Settings(
        database_url=os.environ.get("DATABASE_URL", "").strip() or default_database_url(),
        agent_api_token=os.environ.get("AGENT_API_TOKEN", "").strip() or None,
        rasa_port=rasa_port,
        action_port=_int("ACTION_PORT", 5055),
        web_port=_int("WEB_PORT", 8080),
        web_host=os.environ.get("WEB_HOST", "127.0.0.1").strip() or "127.0.0.1",
        rasa_url=os.environ.get("RASA_URL", "").strip() or f"http://127.0.0.1:{rasa_port}",
        default_timezone=os.environ.get("DEFAULT_TIMEZONE", "").strip() or "America/Bogota",
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings of this process, read once on first use."""
    return load_settings()
