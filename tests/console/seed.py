"""Rows the console tests need that no public store function writes yet (handoffs), and dead letters."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from noc.db.models import Handoff, Incident, Notification
from noc.db.notifications import enqueue_handoff_notifications, mark_failed
from noc.settings import load_settings


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


def add_failed_notification(
    session_factory: sessionmaker,
    *,
    handoff_id: int,
    at: datetime,
    error: str,
    email_to: str = "servicedesk@noc.example.com",
) -> int:
    """Queue the handoff's e-mail and fail its only allowed attempt: a dead letter. Returns its id."""
    settings = replace(load_settings(), handoff_webhook_url=None, smtp_host="smtp.invalid")
    with session_factory() as s, s.begin():
        enqueue_handoff_notifications(
            s, handoff_id=handoff_id, payload={"handoff_id": handoff_id}, email_to=email_to, settings=settings, now=at
        )
        notification_id = s.execute(
            select(func.max(Notification.id)).where(Notification.handoff_id == handoff_id)
        ).scalar_one()
    assert mark_failed(session_factory, notification_id=notification_id, error=error, now=at, max_attempts=1) is None
    return notification_id
