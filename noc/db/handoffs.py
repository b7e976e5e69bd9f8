"""Handoffs: a conversation handed from the bot to the NOC's agents.

``open_handoff`` stores, in one transaction, the incident the conversation is
about (the confirmed one if the intake was already confirmed, otherwise what
was collected so far as a partial incident with status ``derivado``), the
handoff row the console lists, and the agents' notifications (outbox, sent
with retries by the web server's worker). Asking again while a handoff of the
same incident is still waiting or taken returns that one: no duplicates.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from noc.db.models import (
    HANDOFF_PENDING,
    HANDOFF_REASONS,
    HANDOFF_TAKEN,
    STATUS_ESCALATED,
    Handoff,
    Incident,
    TicketCounter,
)
from noc.db.repository import (
    NewIncident,
    column_values,
    format_ticket,
    next_counter_value,
    transcript_rows,
    validate_incident,
)

# Called inside the transaction with the session, the new handoff and its
# incident, to queue the agents' notifications in the same unit of work.
NotifyHook = Callable[[Session, Handoff, Incident], None]


@dataclass(frozen=True)
class HandoffResult:
    ticket: str
    handoff_id: int
    created: bool
    severity: int | None
    region: str | None


def open_handoff(
    session_factory: sessionmaker,
    *,
    incident: NewIncident,
    reason: str,
    notify: NotifyHook | None = None,
    now: datetime | None = None,
) -> HandoffResult:
    """Hand the conversation of ``incident.idempotency_key`` to the agents, at most once at a time."""
    if reason not in HANDOFF_REASONS:
        raise ValueError(f"unknown handoff reason {reason!r}")
    now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    validate_incident(incident)
    with session_factory() as s, s.begin():
        row = s.execute(
            select(Incident).where(Incident.idempotency_key == incident.idempotency_key)
        ).scalar_one_or_none()
        if row is None:
            row = _partial_incident(s, incident=incident, now=now)
        waiting = s.execute(
            select(Handoff)
            .where(Handoff.incident_id == row.id, Handoff.status.in_((HANDOFF_PENDING, HANDOFF_TAKEN)))
            .order_by(Handoff.id.desc())
        ).scalars().first()
        if waiting is not None:
            return HandoffResult(row.ticket, waiting.id, False, row.severity, row.region)
        handoff = Handoff(
            incident_id=row.id,
            sender_id=incident.sender_id or "",
            channel=incident.channel,
            reason=reason,
            status=HANDOFF_PENDING,
            created_at=now,
            updated_at=now,
        )
        s.add(handoff)
        s.flush()
        if notify is not None:
            notify(s, handoff, row)
        return HandoffResult(row.ticket, handoff.id, True, row.severity, row.region)


def _partial_incident(s: Session, *, incident: NewIncident, now: datetime) -> Incident:
    row = Incident(
        **{**column_values(incident), "status": STATUS_ESCALATED},
        ticket=format_ticket(year=now.year, number=next_counter_value(s, counter=TicketCounter, year=now.year)),
        created_at=now,
        updated_at=now,
        transcript=transcript_rows(incident),
    )
    s.add(row)
    s.flush()
    return row
