"""Human handoff: the bot stores the conversation, tells the agents and pauses.

The agents' console hands the conversation back (or closes it) through the
Rasa server's agent bridge (``noc.rasa_plugins.channels.agent_bridge``), which resumes
the tracker and triggers the external intents answered here.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from actions.intake_slots import clear_report
from actions.intake_submit import incident_from_slots, known_symptom_kind
from noc.db.db import get_session_factory
from noc.db.handoffs import open_handoff
from noc.db.repository import NewIncident
from noc.domain.escalation import get_escalation_book
from noc.domain.severity import classify, format_duration, get_severity_table
from noc.notify.hook import queue_handoff_notifications

logger = logging.getLogger(__name__)

FORM_NAME = "incident_form"
STATUS_ESCALATED = "derivado"
LOW_CONFIDENCE_INTENT = "nlu_fallback"
# The offer the customer answered by asking for an agent tells why the handoff happens.
OFFER_REASONS = {
    "utter_offer_agent": "failed_answers",
    "utter_offer_agent_low_confidence": "low_confidence",
    "utter_offer_agent_severity_1": "severity_1",
}


def handoff_reason(events: Iterable[Mapping[str, Any]]) -> str:
    """Why this handoff: the offer the bot made just before the request, else the customer asked."""
    seen_request = False
    for event in reversed(list(events)):
        kind = event.get("event")
        if kind == "user":
            if seen_request:
                break
            seen_request = True
        elif kind == "bot" and seen_request:
            reason = OFFER_REASONS.get((event.get("metadata") or {}).get("utter_action"))
            if reason:
                return reason
    return "customer_request"


def conversation_key(sender_id: str, events: Iterable[Mapping[str, Any]], form: str) -> str:
    """The intake's key (same as the confirmed record's) or, with no intake, the session's."""
    form_started = session_started = None
    for event in events:
        if event.get("event") == "active_loop" and event.get("name") == form:
            form_started = float(event.get("timestamp") or 0)
        elif event.get("event") == "session_started":
            session_started = float(event.get("timestamp") or 0)
    if form_started is not None:
        return f"{sender_id}:{form_started:.6f}"
    return f"{sender_id}:session:{session_started or 0:.6f}"


def consecutive_low_confidence(events: Iterable[Mapping[str, Any]]) -> int:
    """How many of the latest user messages in a row the NLU was unsure about."""
    count = 0
    for event in reversed(list(events)):
        if event.get("event") != "user":
            continue
        if ((event.get("parse_data") or {}).get("intent") or {}).get("name") != LOW_CONFIDENCE_INTENT:
            break
        count += 1
    return count


def partial_incident(tracker: Tracker) -> NewIncident:
    """Whatever the intake has collected so far, to hand to an agent."""
    symptom_kind = known_symptom_kind(tracker)
    verdict = None
    if symptom_kind:
        verdict = classify(
            get_severity_table(),
            symptom_kind=symptom_kind,
            power_ok=tracker.get_slot("power_ok"),
            problem_persists=tracker.get_slot("problem_persists"),
        )
    return incident_from_slots(
        tracker,
        idempotency_key=conversation_key(tracker.sender_id, tracker.events, FORM_NAME),
        status=STATUS_ESCALATED,
        started_at=None,
        started_text=tracker.get_slot("started"),
        verdict=verdict,
        # From a change request, what the customer asked is the case's description,
        # in their words: without it the agent's record held no word of the request.
        symptom_fallback=tracker.get_slot("change_description"),
    )


class ActionHandoff(Action):
    """Stores the conversation for the agents, says when one will answer, and pauses the bot."""

    def name(self) -> str:
        return "action_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        incident = partial_incident(tracker)
        try:
            result = await asyncio.to_thread(
                open_handoff,
                get_session_factory(),
                incident=incident,
                reason=handoff_reason(tracker.events),
                notify=queue_handoff_notifications,
            )
        except (SQLAlchemyError, ValueError):
            logger.exception("could not hand %s to an agent", tracker.sender_id)
            dispatcher.utter_message(response="utter_handoff_failed")
            return []
        book = get_escalation_book()
        if result.severity is not None:
            level = get_severity_table().level(result.severity)
            dispatcher.utter_message(
                response="utter_handoff_started",
                ticket=result.ticket,
                response_target=format_duration(level.response_minutes),
            )
        else:
            contact = book.contact(result.region, 1)
            dispatcher.utter_message(
                response="utter_handoff_started_hours", ticket=result.ticket, contact_hours=contact.hours
            )
        return [SlotSet("ticket", result.ticket), ConversationPaused()]


class ActionAgentHandback(Action):
    """An agent gave the conversation back: the bot says so and continues where it was."""

    def name(self) -> str:
        return "action_agent_handback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        dispatcher.utter_message(response="utter_agent_handed_back")
        return []


class ActionAgentClosed(Action):
    """An agent closed the conversation: the bot says goodbye and forgets the unfinished report."""

    def name(self) -> str:
        return "action_agent_closed"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        dispatcher.utter_message(response="utter_agent_closed")
        return clear_report()


class ActionLowConfidence(Action):
    """A message the bot did not understand; the second in a row also offers an agent."""

    def name(self) -> str:
        return "action_low_confidence"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        dispatcher.utter_message(response="utter_please_rephrase")
        if consecutive_low_confidence(tracker.events) >= 2:
            dispatcher.utter_message(response="utter_offer_agent_low_confidence")
        return []
