"""The change-request form ("Solicitudes de cambio"): validation, summary, record.

The customer's identity slots are shared with the intake (asked once per
conversation); the change itself, whether it restores a service, and the
date wanted are this form's own. The type and the earliest date come from
``escalation_tables/change_types.yml`` (``noc.domain.change_types``).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from actions.form_reading import ReadsAnswers
from actions.intake_form import CustomerIdentityValidation, Result, accept, in_company_name, now_utc, reject
from noc.db.change_requests import NewChangeRequest, open_change_request
from noc.db.db import get_session_factory
from noc.domain.change_fields import ASAP, clean_change_description, parse_desired_date
from noc.domain.change_types import ChangeClass, classify_change, get_change_table
from noc.domain.conversation import channel_name, channel_phone, intake_key
from noc.domain.escalation import get_escalation_book
from noc.domain.phones import normalize_phone
from noc.domain.places import country_from_place
from noc.domain.timeparse import format_local

logger = logging.getLogger(__name__)

FORM_NAME = "change_request_form"
CHANGE_SLOTS = ("change_description", "restores_service", "desired_date", "change_confirmed")


def _country(tracker: Tracker) -> str | None:
    """The customer's country if the conversation knows it (slot, else the channel's number)."""
    # The slot may hold a place named in passing ("Montevideo"): this form does not
    # validate the country, so it is read here; the store takes ISO codes only.
    place = tracker.get_slot("country") or ""
    # "santa lucia" of the company "clinica santa lucia" is no country.
    country = None if in_company_name(tracker, place) else country_from_place(place)
    if country:
        return country
    phone = normalize_phone(channel_phone(tracker.events) or tracker.get_slot("contact_phone") or "")
    return phone.country if phone else None


def _local_now(tracker: Tracker) -> tuple[datetime, str, str | None]:
    country = _country(tracker)
    tz = get_escalation_book().timezone_for(country)
    return now_utc().astimezone(ZoneInfo(tz)), tz, country


def _desired(tracker: Tracker, today: date) -> date | None:
    parsed = parse_desired_date(tracker.get_slot("desired_date"), today=today)
    return parsed if isinstance(parsed, date) else None


def classify(tracker: Tracker) -> ChangeClass:
    now, tz, country = _local_now(tracker)
    return classify_change(
        description=tracker.get_slot("change_description") or "",
        restores_service=tracker.get_slot("restores_service") is True,
        desired=_desired(tracker, now.date()),
        now=now,
        country=country,
        tz=tz,
    )


class ValidateChangeRequestForm(ReadsAnswers, CustomerIdentityValidation, FormValidationAction):
    DIGRESSIONS = frozenset({"greet", "thank", "bot_challenge", "out_of_scope", "request_human", "cancel"})

    def name(self) -> str:
        return "validate_change_request_form"

    def validate_change_description(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Result:
        description = clean_change_description(value)
        if description:
            return accept("change_description", description, tracker)
        return reject("change_description", dispatcher, tracker)

    def validate_desired_date(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Result:
        now, _, _ = _local_now(tracker)
        parsed = parse_desired_date(value if isinstance(value, str) else None, today=now.date())
        if parsed is None:
            return reject("desired_date", dispatcher, tracker)
        return accept("desired_date", value if parsed != ASAP else value.strip(), tracker)

    def validate_change_confirmed(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Result:
        return {"change_confirmed": value if isinstance(value, bool) else None}


class ActionAskChangeConfirmed(Action):
    """Shows the request with its type and dates, then asks to confirm."""

    def name(self) -> str:
        return "action_ask_change_confirmed"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        change = classify(tracker)
        dispatcher.utter_message(
            response="utter_change_summary",
            change_type_name=change.name,
            lead_time=get_change_table().types[change.change_type].lead_time,
            earliest=format_local(change.earliest_at),
            scheduled=format_local(change.scheduled_for),
        )
        dispatcher.utter_message(response="utter_ask_change_confirmed")
        return []


def clear_change_request() -> list[EventType]:
    return [SlotSet(slot, None) for slot in CHANGE_SLOTS]


class ActionSubmitChangeRequest(Action):
    def name(self) -> str:
        return "action_submit_change_request"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        if tracker.get_slot("change_confirmed") is not True:
            dispatcher.utter_message(response="utter_change_request_not_confirmed")
            return clear_change_request()
        change = classify(tracker)
        now, _, country = _local_now(tracker)
        book = get_escalation_book()
        region = book.region_for_country(country)
        request = NewChangeRequest(
            idempotency_key=intake_key(tracker.sender_id, tracker.events, FORM_NAME),
            company=tracker.get_slot("company"),
            service_id=tracker.get_slot("service_id"),
            contact_name=tracker.get_slot("contact_name"),
            contact_phone=tracker.get_slot("contact_phone") or channel_phone(tracker.events),
            contact_email=tracker.get_slot("contact_email"),
            country=country,
            region=region.slug if region else None,
            description=tracker.get_slot("change_description"),
            change_type=change.change_type,
            desired_date=_desired(tracker, now.date()),
            earliest_at=change.earliest_at,
            channel=channel_name(tracker.get_latest_input_channel()),
            sender_id=tracker.sender_id,
            reason=change.reason,
        )
        try:
            result = await asyncio.to_thread(open_change_request, get_session_factory(), request=request)
        except (SQLAlchemyError, ValueError):
            logger.exception("could not record the change request of %s", tracker.sender_id)
            dispatcher.utter_message(response="utter_change_request_failed")
            return [SlotSet("change_confirmed", None), FollowupAction(FORM_NAME)]
        dispatcher.utter_message(
            response="utter_change_request_opened",
            number=result.number,
            change_type_name=change.name,
            earliest=format_local(change.earliest_at),
            scheduled=format_local(change.scheduled_for),
        )
        return clear_change_request()

