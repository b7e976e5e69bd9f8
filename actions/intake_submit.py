"""The end of an intake: the summary to confirm, then the incident record."""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import datetime
from zoneinfo import ZoneInfo

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from actions.intake_form import now_utc
from actions.intake_slots import clear_report
from noc.db.db import get_session_factory
from noc.db.repository import NewIncident, TranscriptEntry, open_incident
from noc.domain.contacts import contact_kwargs
from noc.domain.conversation import channel_name, channel_phone, intake_key, transcript_from_events
from noc.domain.escalation import get_escalation_book
from noc.domain.severity import SYMPTOM_KINDS, Classification, classify, format_duration, get_severity_table
from noc.domain.timeparse import format_local, parse_since

logger = logging.getLogger(__name__)
_ISO_COUNTRY = re.compile(r"[A-Z]{2}")

FORM_NAME = "incident_form"
STATUS_OPEN = "abierto"
STATUS_RESOLVED_FIRST_CONTACT = "resuelto_primer_contacto"
# A critical incident is offered an agent right after it is opened.
CRITICAL_SEVERITY = 1


def started_time(tracker: Tracker) -> str:
    book = get_escalation_book()
    tz = book.timezone_for(tracker.get_slot("country"))
    text = tracker.get_slot("started") or ""
    parsed = parse_since(text, tz=tz, now=now_utc().astimezone(ZoneInfo(tz)))
    return format_local(parsed) if parsed else text


class ActionAskChannelPhoneOk(Action):
    """Asks to confirm the number the customer writes from (SMS/WhatsApp)."""

    def name(self) -> str:
        return "action_ask_channel_phone_ok"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        dispatcher.utter_message(response="utter_ask_channel_phone_ok", channel_phone=channel_phone(tracker.events))
        return []


class ActionAskConfirmed(Action):
    """Asks for confirmation by showing everything collected."""

    def name(self) -> str:
        return "action_ask_confirmed"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        book = get_escalation_book()
        country = tracker.get_slot("country")
        dispatcher.utter_message(
            response="utter_summary",
            country_display=book.country_name(country) or country or "",
            started_time=started_time(tracker),
        )
        dispatcher.utter_message(response="utter_ask_confirmed")
        return []


def build_incident(tracker: Tracker, *, status: str) -> NewIncident:
    book = get_escalation_book()
    tz = book.timezone_for(tracker.get_slot("country"))
    started_text = tracker.get_slot("started") or ""
    return incident_from_slots(
        tracker,
        idempotency_key=intake_key(tracker.sender_id, tracker.events, FORM_NAME),
        status=status,
        started_at=parse_since(started_text, tz=tz, now=now_utc().astimezone(ZoneInfo(tz))),
        started_text=started_text,
        verdict=classify(
            get_severity_table(),
            symptom_kind=tracker.get_slot("symptom_kind"),
            power_ok=tracker.get_slot("power_ok"),
            problem_persists=tracker.get_slot("problem_persists"),
        ),
    )


def known_symptom_kind(tracker: Tracker) -> str | None:
    """The slot's kind if the severity table knows it.

    The incident form validates the kind, but a handoff from another form (a change
    request) finds whatever words the entity extractor tagged in the slot.
    """
    kind = tracker.get_slot("symptom_kind")
    return kind if kind in SYMPTOM_KINDS else None


def incident_from_slots(
    tracker: Tracker,
    *,
    idempotency_key: str,
    status: str,
    started_at: datetime | None,
    started_text: str | None,
    verdict: Classification | None,
    symptom_fallback: str | None = None,
) -> NewIncident:
    """The record of what the intake's slots hold (a confirmed report, or a partial one for an agent).

    `symptom_fallback` is recorded as the symptom when the slot is empty (a
    handoff from a change request records what was asked).
    """
    book = get_escalation_book()
    country = tracker.get_slot("country")
    if country is not None and not _ISO_COUNTRY.fullmatch(str(country)):
        # Only an ISO code reaches the record: a word that slipped into the slot must not
        # make the report impossible to save (or to hand to an agent).
        logger.warning("country slot %r is no ISO code: recorded without a country", country)
        country = None
    region = book.region_for_country(country)
    return NewIncident(
        idempotency_key=idempotency_key,
        status=status,
        company=tracker.get_slot("company"),
        service_id=tracker.get_slot("service_id"),
        contact_name=tracker.get_slot("contact_name"),
        contact_phone=tracker.get_slot("contact_phone"),
        contact_email=tracker.get_slot("contact_email"),
        country=country,
        region=region.slug if region else None,
        symptom=tracker.get_slot("symptom") or symptom_fallback,
        symptom_kind=known_symptom_kind(tracker),
        started_at=started_at,
        timezone=book.timezone_for(country),
        started_text=started_text,
        power_ok=tracker.get_slot("power_ok"),
        rebooted=tracker.get_slot("rebooted"),
        problem_persists=tracker.get_slot("problem_persists"),
        severity=verdict.severity if verdict else None,
        severity_reason=verdict.reason if verdict else None,
        channel=channel_name(tracker.get_latest_input_channel()),
        sender_id=tracker.sender_id,
        escalation_level=1,
        transcript=tuple(TranscriptEntry(role=r, text=t, at=a) for r, t, a in transcript_from_events(tracker.events)),
    )


class ActionSubmitIntake(Action):
    """Opens the incident (or records a problem solved by rebooting) and answers."""

    def name(self) -> str:
        return "action_submit_intake"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        resolved = tracker.get_slot("problem_persists") is False
        if not resolved and tracker.get_slot("confirmed") is not True:
            return [FollowupAction(FORM_NAME)]
        incident = build_incident(tracker, status=STATUS_RESOLVED_FIRST_CONTACT if resolved else STATUS_OPEN)
        try:
            result = await asyncio.to_thread(
                open_incident, get_session_factory(), incident=incident
            )
        except (SQLAlchemyError, ValueError):
            # ValueError: the store refused a value; the customer still gets an answer.
            logger.exception("could not open the incident for %s", tracker.sender_id)
            dispatcher.utter_message(response="utter_submit_failed")
            return [SlotSet("confirmed", None), FollowupAction(FORM_NAME)]

        if resolved:
            dispatcher.utter_message(response="utter_resolved_first_contact", ticket=result.ticket)
        else:
            self.utter_opened(dispatcher, incident, result.ticket)
        if incident.severity == CRITICAL_SEVERITY and not resolved:
            dispatcher.utter_message(response="utter_offer_agent_severity_1")
        else:
            dispatcher.utter_message(response="utter_anything_else")
        return [*clear_report(), SlotSet("ticket", result.ticket)]

    @staticmethod
    def utter_opened(dispatcher: CollectingDispatcher, incident: NewIncident, ticket: str) -> None:
        level = get_severity_table().level(incident.severity)
        dispatcher.utter_message(
            response="utter_incident_opened",
            ticket=ticket,
            severity=level.severity,
            severity_name=level.name,
            response_target=format_duration(level.response_minutes),
            restoration_target=format_duration(level.restoration_minutes),
        )
        book = get_escalation_book()
        contact = book.contact(incident.region, 1)
        region = book.regions.get(incident.region) if incident.region else None
        dispatcher.utter_message(
            response="utter_escalation_contact",
            region_name=region.name if region else book.general.role,
            **contact_kwargs(contact),
        )
        dispatcher.utter_message(response="utter_escalation_policy")
