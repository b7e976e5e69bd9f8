"""Queues the agents' notifications of a new handoff or a locked ticket (called inside its transaction)."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy.orm import Session

from noc.db.models import Handoff, Incident
from noc.db.notifications import EMAIL_VERIFICATION_LOCK, enqueue_handoff_notifications, enqueue_notifications
from noc.db.verification import VerificationLock
from noc.domain.escalation import get_escalation_book
from noc.notify.payloads import handoff_payload, verification_lock_payload
from noc.settings import get_settings


def _level_one_email(incident: Incident) -> str | None:
    contact = get_escalation_book().contact(incident.region, 1)
    return contact.email if contact else None


def queue_handoff_notifications(session: Session, handoff: Handoff, incident: Incident) -> None:
    """Webhook and e-mail to the region's level-1 address, as the settings allow."""
    enqueue_handoff_notifications(
        session,
        handoff_id=handoff.id,
        payload=handoff_payload(incident=incident, handoff=handoff, transcript=incident.transcript),
        email_to=_level_one_email(incident),
        settings=get_settings(),
        now=datetime.now(timezone.utc),
    )


def queue_lock_notifications(session: Session, incident: Incident, lock: VerificationLock) -> None:
    """The same two notices when a ticket's chat verification is locked (the audit trail has it too)."""
    enqueue_notifications(
        session,
        payload=verification_lock_payload(incident=incident, lock=lock),
        email_to=_level_one_email(incident),
        email_key=EMAIL_VERIFICATION_LOCK,
        settings=get_settings(),
        now=lock.locked_at,
    )
