"""Escalation contacts as template variables for the domain's responses."""

from __future__ import annotations

from typing import Any

from noc.domain.escalation import Contact


def contact_kwargs(contact: Contact) -> dict[str, Any]:
    # Suffixed names keep these apart from the customer's own contact_* slots,
    # which the response templates can also see.
    return {
        "level": contact.level,
        "contact_role": contact.role,
        "contact_name_display": contact.name,
        "contact_phone_display": contact.phone,
        "contact_email_display": contact.email,
        "contact_hours": contact.hours,
    }
