"""Who may read or escalate a ticket."""

from __future__ import annotations

import pytest

from noc.domain.ticket_access import owns_ticket, proves_ownership

RECORD = {"sender_id": "whatsapp:+573001234567", "service_id": "CO-MPLS-00123", "contact_email": "ana@banco.co"}


@pytest.mark.parametrize(
    ("sender", "owns"),
    [("whatsapp:+573001234567", True), ("whatsapp:+573009999999", False), ("", False)],
)
def test_owns_ticket(sender: str, owns: bool) -> None:
    assert owns_ticket(RECORD, sender) is owns


def test_a_record_without_sender_is_owned_by_nobody() -> None:
    assert owns_ticket({**RECORD, "sender_id": None}, "") is False


@pytest.mark.parametrize(
    ("service_id", "email", "proved"),
    [
        ("CO-MPLS-00123", "ana@banco.co", True),
        ("co-mpls-00123", " ANA@banco.co ", True),  # case and spacing aside
        ("CO-MPLS-00124", "ana@banco.co", False),
        ("CO-MPLS-00123", "otra@banco.co", False),
        (None, "ana@banco.co", False),
        ("CO-MPLS-00123", None, False),
        ("", "", False),
    ],
)
def test_proves_ownership(service_id, email, proved: bool) -> None:
    assert proves_ownership(RECORD, service_id=service_id, email=email) is proved


def test_a_ticket_without_email_cannot_be_proved() -> None:
    assert proves_ownership({**RECORD, "contact_email": None}, service_id="CO-MPLS-00123", email="") is False
