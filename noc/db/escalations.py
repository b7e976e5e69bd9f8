"""Raising an incident's escalation level, once per request, with its audit entry."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from noc.db.models import AuditEvent, Incident
from noc.db.repository import normalize_ticket
from noc.domain.escalation_rules import ESCALATE, EscalationDecision

# decide(level, reached_level_at) -> decision; called with the row locked so two
# simultaneous requests cannot both raise the level.
Decide = Callable[[int, datetime], EscalationDecision]


def escalate_incident(
    session_factory: sessionmaker,
    *,
    ticket: str,
    decide: Decide,
    actor: str,
    now: datetime | None = None,
) -> EscalationDecision | None:
    """Apply ``decide`` to the incident's current level; None if the ticket does not exist."""
    canonical = normalize_ticket(ticket)
    if canonical is None:
        return None
    now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    with session_factory() as s, s.begin():
        # FOR UPDATE on PostgreSQL; SQLite's BEGIN IMMEDIATE already serialises writers.
        row = s.execute(select(Incident).where(Incident.ticket == canonical).with_for_update()).scalar_one_or_none()
        if row is None:
            return None
        decision = decide(row.escalation_level, row.last_escalated_at or row.created_at)
        if decision.outcome == ESCALATE:
            previous = row.escalation_level
            row.escalation_level = decision.level
            row.last_escalated_at = now
            row.updated_at = now
            s.add(
                AuditEvent(
                    incident_id=row.id,
                    actor=actor,
                    action="escalated",
                    detail={"from_level": previous, "to_level": decision.level},
                    at=now,
                )
            )
        return decision
