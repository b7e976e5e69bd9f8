"""The two forms about an existing ticket: its status, and an escalation request.

Both ask for the ticket (offering the sender's own) and, unless this
conversation opened it, for its service ID and e-mail as proof of ownership.
Three wrong proofs end one request; every wrong proof also counts against the
ticket in the database (``noc.db.verification``), and too many from
any conversations lock its chat verification for a while: the right answer is
refused then too, and the agents are told once.

What the ticket actions finally show is decided by ``readable_ticket`` from
the store and the proof itself, never from the ``ticket_verified`` slot: a
tracker is whatever the caller of the action server sends.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from datetime import datetime
from functools import partial
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions.form_reading import ReadsAnswers
from noc.db.db import get_session_factory
from noc.db.repository import get_incident, list_incidents, normalize_ticket
from noc.db.verification import (
    FailureOutcome,
    VerificationLimit,
    record_verification_failure,
    verification_locked_until,
)
from noc.domain.contacts import contact_kwargs
from noc.domain.escalation import get_escalation_book
from noc.domain.ticket_access import MAX_VERIFY_ATTEMPTS, owns_ticket, proves_ownership
from noc.domain.validators import normalize_email, normalize_service_id
from noc.notify.hook import queue_lock_notifications
from noc.settings import get_settings

Result = dict[str, Any]
VERIFY_SLOTS = ("verify_service_id", "verify_email")
# Tickets of this conversation offered as buttons when asking which one.
OFFERED_TICKETS = 3


async def find_ticket(ticket: str | None) -> dict[str, Any] | None:
    if not ticket:
        return None
    return await asyncio.to_thread(get_incident, get_session_factory(), ticket=ticket)


def clear_ticket_request() -> Result:
    return {"ticket_verified": None, "verify_attempts": None, "level_exhausted": None, **dict.fromkeys(VERIFY_SLOTS)}


async def locked_until(ticket: str) -> datetime | None:
    """Until when the ticket's chat verification is locked (None: open)."""
    return await asyncio.to_thread(verification_locked_until, get_session_factory(), ticket=ticket)


async def count_failure(ticket: str, sender_id: str) -> FailureOutcome | None:
    """Record a wrong proof against the ticket; the outcome says whether it is locked now."""
    return await asyncio.to_thread(
        partial(
            record_verification_failure,
            get_session_factory(),
            ticket=ticket,
            sender_id=sender_id,
            limit=VerificationLimit.from_settings(get_settings()),
            on_lock=queue_lock_notifications,
        )
    )


def locked_out(dispatcher: CollectingDispatcher) -> Result:
    """Tell the customer the ticket's verification is locked and end this request's tries."""
    dispatcher.utter_message(response="utter_ticket_verification_locked")
    return {
        "ticket_verified": False,
        "verify_attempts": float(MAX_VERIFY_ATTEMPTS),
        **dict.fromkeys(VERIFY_SLOTS),
    }


async def readable_ticket(tracker: Tracker) -> dict[str, Any] | None:
    """The ticket of the request when this conversation may see or escalate it, else None.

    Recomputed from the store: the conversation opened the ticket, or the
    service ID and e-mail it gave match and the ticket's verification is not
    locked. A proof that does not match here never came through the form (whose
    validation clears a wrong one): it counts as a failure like any other.
    """
    record = await find_ticket(tracker.get_slot("ticket"))
    if record is None:
        return None
    if owns_ticket(record, tracker.sender_id):
        return record
    service_id, email = (tracker.get_slot(slot) for slot in VERIFY_SLOTS)
    if not service_id or not email:
        return None
    if not proves_ownership(record, service_id=service_id, email=email):
        await count_failure(record["ticket"], tracker.sender_id)
        return None
    if await locked_until(record["ticket"]) is not None:
        return None
    return record


class TicketFormValidation(ReadsAnswers, FormValidationAction, ABC):
    """What both ticket forms validate; subclasses name the form."""

    DIGRESSIONS = frozenset({"request_human", "cancel"})

    @abstractmethod
    def name(self) -> str: ...

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        # A ticket known before the form starts (named in the request, or the
        # one just opened) is validated by Rasa on activation like any answer.
        if (tracker.get_slot("verify_attempts") or 0) >= MAX_VERIFY_ATTEMPTS:
            return []
        if tracker.get_slot("ticket_verified"):
            return [slot for slot in domain_slots if slot not in VERIFY_SLOTS]
        return domain_slots

    async def validate_ticket(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Result:
        ticket = normalize_ticket(value) if isinstance(value, str) else None
        record = await find_ticket(ticket)
        if record is None:
            dispatcher.utter_message(response="utter_invalid_ticket")
            return {"ticket": None, "ticket_verified": None}
        owner = owns_ticket(record, tracker.sender_id)
        if not owner and await locked_until(record["ticket"]) is not None:
            # Asking for a service ID and e-mail that would be refused anyway.
            return {"ticket": record["ticket"], **locked_out(dispatcher)}
        # A proof given for another ticket earlier in the request proves nothing here.
        return {"ticket": record["ticket"], "ticket_verified": owner, **dict.fromkeys(VERIFY_SLOTS)}

    def validate_verify_service_id(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Result:
        service_id = normalize_service_id(value)
        if service_id is None:
            dispatcher.utter_message(response="utter_invalid_verify_service_id")
        return {"verify_service_id": service_id}

    async def validate_verify_email(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Result:
        email = normalize_email(value)
        if email is None:
            dispatcher.utter_message(response="utter_invalid_verify_email")
            return {"verify_email": None}
        record = await find_ticket(tracker.get_slot("ticket"))
        if record is not None and await locked_until(record["ticket"]) is not None:
            # Locked: even the right answer is refused, or the lock would only
            # slow the guessing down.
            return locked_out(dispatcher)
        if record is not None and proves_ownership(
            record, service_id=tracker.get_slot("verify_service_id"), email=email
        ):
            return {"verify_email": email, "ticket_verified": True, "verify_attempts": None}
        if record is not None:
            outcome = await count_failure(record["ticket"], tracker.sender_id)
            if outcome is not None and outcome.locked_until is not None:
                return locked_out(dispatcher)
        attempts = (tracker.get_slot("verify_attempts") or 0) + 1
        if attempts >= MAX_VERIFY_ATTEMPTS:
            dispatcher.utter_message(response="utter_ticket_access_denied")
        else:
            dispatcher.utter_message(response="utter_ticket_not_verified")
        return {"verify_email": None, "verify_service_id": None, "verify_attempts": float(attempts)}


class ValidateStatusForm(TicketFormValidation):
    def name(self) -> str:
        return "validate_status_form"


class ValidateEscalationForm(TicketFormValidation):
    def name(self) -> str:
        return "validate_escalation_form"


class ActionAskTicket(Action):
    """Asks which ticket, offering this conversation's latest ones as buttons."""

    def name(self) -> str:
        return "action_ask_ticket"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        own = await asyncio.to_thread(
            list_incidents, get_session_factory(), sender_id=tracker.sender_id, limit=OFFERED_TICKETS
        )
        if not own:
            dispatcher.utter_message(response="utter_ask_ticket")
            return []
        buttons = [
            {"title": f"{row['ticket']} ({row['status'].replace('_', ' ')})", "payload": row["ticket"]} for row in own
        ]
        dispatcher.utter_message(response="utter_ask_ticket_choices", buttons=buttons)
        return []


class ActionAskLevelExhausted(Action):
    """Asks whether the ticket's current level was contacted without an answer, naming that contact."""

    def name(self) -> str:
        return "action_ask_level_exhausted"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        record = await find_ticket(tracker.get_slot("ticket"))
        if record is None:
            return []
        contact = get_escalation_book().contact(record["region"], record["escalation_level"])
        if contact is None:
            contact = get_escalation_book().general
        dispatcher.utter_message(response="utter_ask_level_exhausted", **contact_kwargs(contact))
        return []
