"""Point this process's settings and engine at another DATABASE_URL for a test."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from noc import settings
from noc.db import db

CACHED = (settings.get_settings, db.get_engine, db.get_session_factory)


@contextmanager
def database_url(monkeypatch: pytest.MonkeyPatch, url: str) -> Iterator[None]:
    """The cached settings and engine follow `url` inside, and are reset after."""
    monkeypatch.setenv("DATABASE_URL", url)
    for cached in CACHED:
        cached.cache_clear()
    try:
        yield
    finally:
        if db.get_engine.cache_info().currsize:
            db.get_engine().dispose()
        for cached in CACHED:
            cached.cache_clear()
