"""Audit trail: who changed what on an incident or change request, and when.

``record_event`` writes inside the caller's unit of work, so a change and its
audit event are committed (or rolled back) together.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from noc.db.db import READ_ONLY_OPTIONS
from noc.db.models import AuditEvent

_MAX_ACTOR_LENGTH = AuditEvent.__table__.c.actor.type.length
_MAX_ACTION_LENGTH = AuditEvent.__table__.c.action.type.length


def utc_moment(now: datetime | None) -> datetime:
    """``now`` in UTC (the current time when None); a naive value raises ValueError."""
    if now is None:
        return datetime.now(timezone.utc)
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(timezone.utc)


def agent_actor(username: str) -> str:
    """Audit actor of a console agent."""
    return f"agent:{username}"


def api_actor(name: str | None) -> str:
    """Audit actor of a JSON API client, which may name itself."""
    return f"api:{name or 'integracion'}"


def record_event(
    session: Session,
    *,
    incident_id: int | None = None,
    change_request_id: int | None = None,
    actor: str,
    action: str,
    detail: Mapping[str, Any] | None = None,
    at: datetime | None = None,
) -> None:
    """Add an audit event to ``session``'s transaction. Raises ValueError on an empty or too long actor/action."""
    if not actor or len(actor) > _MAX_ACTOR_LENGTH:
        raise ValueError(f"actor must have 1 to {_MAX_ACTOR_LENGTH} characters")
    if not action or len(action) > _MAX_ACTION_LENGTH:
        raise ValueError(f"action must have 1 to {_MAX_ACTION_LENGTH} characters")
    at = utc_moment(at)
    session.add(
        AuditEvent(
            incident_id=incident_id,
            change_request_id=change_request_id,
            actor=actor,
            action=action,
            detail=dict(detail) if detail is not None else None,
            at=at,
        )
    )


def list_events(session_factory: sessionmaker, *, incident_id: int) -> list[dict[str, Any]]:
    """The incident's audit events, oldest first, as JSON-ready dicts."""
    query = (
        select(AuditEvent)
        .where(AuditEvent.incident_id == incident_id)
        .order_by(AuditEvent.at, AuditEvent.id)
    )
    with session_factory() as s, s.begin():
        s.connection(execution_options=READ_ONLY_OPTIONS)
        return [
            {
                "id": row.id,
                "actor": row.actor,
                "action": row.action,
                "detail": row.detail,
                "at": row.at.astimezone(timezone.utc).isoformat(),
            }
            for row in s.execute(query).scalars()
        ]
