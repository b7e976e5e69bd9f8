"""Queues the agents' notifications of a new handoff (called inside its transaction)."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy.orm import Session

from actions.escalation import get_escalation_book
from actions.notify import handoff_payload
from actions.settings import get_settings
from actions.store.models import Handoff, Incident
from actions.store.notifications import enqueue_handoff_notifications


def queue_handoff_notifications(session: Session, handoff: Handoff, incident: Incident) -> None:
    """Webhook and e-mail to the region's level-1 address, as the settings allow."""
    contact = get_escalation_book().contact(incident.region, 1)
    enqueue_handoff_notifications(
        session,
        handoff_id=handoff.id,
        payload=handoff_payload(incident=incident, handoff=handoff, transcript=incident.transcript),
        email_to=contact.email if contact else None,
        settings=get_settings(),
        now=datetime.now(timezone.utc),
    )
