"""Persistent incident store (SQLAlchemy 1.4 in 2.0 style, Alembic migrations)."""

from noc.db.db import (
    get_engine,
    get_session_factory,
    make_engine,
    make_session_factory,
)
from noc.db.repository import (
    NewIncident,
    OpenResult,
    TranscriptEntry,
    get_incident,
    list_incidents,
    open_incident,
)

__all__ = [
    "NewIncident",
    "OpenResult",
    "TranscriptEntry",
    "get_engine",
    "get_incident",
    "get_session_factory",
    "list_incidents",
    "make_engine",
    "make_session_factory",
    "open_incident",
]
