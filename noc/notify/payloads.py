"""What a notification says: the JSON payloads of a handoff and of a locked ticket (no I/O).

Built by the action server inside the transaction that creates the handoff or
the lock (``noc.notify.hook``); sent by the web server (``noc.notify.worker``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any, Protocol
from urllib.parse import quote

from noc.db.verification import VerificationLock

SIGNATURE_HEADER = "X-NOC-Signature"
TIMESTAMP_HEADER = "X-NOC-Timestamp"
DELIVERY_HEADER = "X-NOC-Delivery"
EVENT_HEADER = "X-NOC-Event"
HANDOFF_EVENT = "handoff.created"
LOCK_EVENT = "ticket.verification_locked"


class IncidentView(Protocol):
    ticket: str
    severity: int | None
    region: str | None
    contact_name: str | None
    contact_phone: str | None
    contact_email: str | None


class HandoffView(Protocol):
    id: int
    channel: str
    sender_id: str
    reason: str
    created_at: datetime


class MessageView(Protocol):
    role: str
    text: str
    at: datetime


def _iso(value: datetime) -> str:
    return value.astimezone(timezone.utc).isoformat()


def console_path(ticket: str) -> str:
    """Path of the incident's page in the agents' console."""
    return f"/agents/incidents/{quote(ticket, safe='')}"


def handoff_payload(
    *, incident: IncidentView, handoff: HandoffView, transcript: Iterable[MessageView]
) -> dict[str, Any]:
    """JSON-ready description of a new handoff, for the webhook and the e-mail.

    Takes anything with the attributes of the ORM rows (``Incident``,
    ``Handoff``; ``TranscriptMessage``, ``ConversationMessage`` or
    ``TranscriptEntry`` for the transcript), so the caller can pass the rows
    it has just written inside the handoff's transaction. Times are ISO 8601 in UTC.
    """
    return {
        "event": HANDOFF_EVENT,
        "handoff_id": handoff.id,
        "ticket": incident.ticket,
        "severity": incident.severity,
        "region": incident.region,
        "contact": {
            "name": incident.contact_name,
            "phone": incident.contact_phone,
            "email": incident.contact_email,
        },
        "channel": handoff.channel,
        "sender_id": handoff.sender_id,
        "reason": handoff.reason,
        "created_at": _iso(handoff.created_at),
        "console_path": console_path(incident.ticket),
        "transcript": [{"role": m.role, "text": m.text, "at": _iso(m.at)} for m in transcript],
    }


def verification_lock_payload(*, incident: IncidentView, lock: VerificationLock) -> dict[str, Any]:
    """JSON-ready description of a ticket whose chat verification was just locked.

    Names the SMS/WhatsApp numbers that tried, never other sender ids (each is
    the key to its conversation). Times are ISO 8601 in UTC.
    """
    return {
        "event": LOCK_EVENT,
        "ticket": incident.ticket,
        "severity": incident.severity,
        "region": incident.region,
        "failures": lock.failures,
        "window_minutes": int(lock.window.total_seconds() // 60),
        "conversations": lock.conversations,
        "phone_senders": list(lock.phone_senders),
        "locked_at": _iso(lock.locked_at),
        "locked_until": _iso(lock.locked_until),
        "console_path": console_path(incident.ticket),
    }
