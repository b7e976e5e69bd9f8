"""Rows the console tests need that no public store function writes yet (handoffs)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from actions.store.models import Handoff, Incident


def add_handoff(
    session_factory: sessionmaker,
    *,
    ticket: str,
    at: datetime,
    status: str = "pendiente",
    reason: str = "customer_request",
) -> int:
    with session_factory() as s, s.begin():
        incident = s.execute(select(Incident).where(Incident.ticket == ticket)).scalar_one()
        handoff = Handoff(
            incident_id=incident.id,
            sender_id=incident.sender_id or "",
            channel=incident.channel,
            reason=reason,
            status=status,
            created_at=at,
            updated_at=at,
        )
        s.add(handoff)
        s.flush()
        return handoff.id
