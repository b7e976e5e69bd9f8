"""Who may read or escalate a ticket (pure logic, no Rasa).

The conversation that opened a ticket owns it. Anyone else must give the
ticket's service ID and contact e-mail, both matching; a mismatch never says
which of the two was wrong, and the third one ends the attempt.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Any

from noc.domain.validators import normalize_email, normalize_service_id

MAX_VERIFY_ATTEMPTS = 3


def owns_ticket(record: Mapping[str, Any], sender_id: str) -> bool:
    owner = record.get("sender_id")
    return bool(owner) and owner == sender_id


def _same(given: str | None, stored: str | None) -> bool:
    if not given or not stored:
        return False
    return hmac.compare_digest(given.encode(), stored.encode())


def proves_ownership(record: Mapping[str, Any], *, service_id: str | None, email: str | None) -> bool:
    """Both the service ID and the e-mail match the ticket's (case and spacing aside)."""
    stored_service = normalize_service_id(record.get("service_id"))
    # Case-insensitive as a whole: nobody types a mailbox's case the same way twice.
    stored_email = (normalize_email(record.get("contact_email")) or "").lower()
    service_ok = _same(normalize_service_id(service_id), stored_service)
    email_ok = _same((normalize_email(email) or "").lower(), stored_email)
    return service_ok and email_ok
