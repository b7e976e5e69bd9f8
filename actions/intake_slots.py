"""Which slots belong to one intake, and how to clear them after it ends."""

from __future__ import annotations

from rasa_sdk.events import SlotSet

# The customer's identity survives a finished report, so a second report in the
# same conversation only shows them for confirmation instead of asking again.
IDENTITY_SLOTS = ("company", "contact_name", "contact_phone", "contact_email", "country")

REPORT_SLOTS = (
    "service_id",
    "pending_local_phone",
    "symptom",
    "symptom_kind",
    "started",
    "power_ok",
    "power_warned",
    "rebooted",
    "problem_persists",
    "confirmed",
    "awaiting_correction",
    "correction_field",
    "invalid_slot",
    "invalid_count",
    "reask",
    "requested_slot",
)


def clear_report() -> list[SlotSet]:
    return [SlotSet(slot, None) for slot in REPORT_SLOTS]


def clear_everything() -> list[SlotSet]:
    return [SlotSet(slot, None) for slot in IDENTITY_SLOTS] + clear_report()
