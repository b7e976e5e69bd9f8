"""What the ticket forms do once filled: tell the status, or escalate one level."""

from __future__ import annotations

import asyncio
from datetime import datetime
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.intake_form import now_utc
from actions.ticket_forms import clear_ticket_request, readable_ticket
from noc.db.db import get_session_factory
from noc.db.escalations import escalate_incident
from noc.domain.contacts import contact_kwargs
from noc.domain.escalation import get_escalation_book
from noc.domain.escalation_rules import (
    CONTACT_CURRENT_FIRST,
    ESCALATE,
    LAST_LEVEL,
    decide_escalation,
)
from noc.domain.severity import format_duration, get_severity_table
from noc.domain.timeparse import format_local

# A target passed on these is not worth pointing out.
CLOSED_STATUSES = ("resuelto", "cerrado", "resuelto_primer_contacto")


def _slot_events(values: dict[str, Any]) -> list[EventType]:
    return [SlotSet(name, value) for name, value in values.items()]


def _minutes_between(start: str | None, end: datetime) -> int:
    if not start:
        return 0
    return max(0, int((end - datetime.fromisoformat(start)).total_seconds() // 60))


def response_minutes(severity: int | None) -> int:
    """The severity's first-response time; an unclassified ticket waits the longest one."""
    table = get_severity_table()
    if severity is not None:
        return table.level(severity).response_minutes
    return max(level.response_minutes for level in table.levels.values())


class ActionTicketStatus(Action):
    def name(self) -> str:
        return "action_ticket_status"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        # Never the ticket_verified slot: the tracker is the caller's to write.
        record = await readable_ticket(tracker)
        if record is None:
            return _slot_events(clear_ticket_request())
        now = now_utc()
        elapsed = _minutes_between(record["created_at"], now)
        common = {"ticket": record["ticket"], "status_label": record["status"].replace("_", " ")}
        if record["severity"] is None:
            dispatcher.utter_message(
                response="utter_ticket_status_unclassified", elapsed=format_duration(elapsed), **common
            )
        else:
            level = get_severity_table().level(record["severity"])
            dispatcher.utter_message(
                response="utter_ticket_status",
                severity=level.severity,
                severity_name=level.name,
                elapsed=format_duration(elapsed),
                restoration_target=format_duration(level.restoration_minutes),
                **common,
            )
            if elapsed > level.restoration_minutes and record["status"] not in CLOSED_STATUSES:
                dispatcher.utter_message(response="utter_ticket_target_overdue")
        last_update = record.get("last_agent_update_at")
        if last_update:
            dispatcher.utter_message(
                response="utter_ticket_last_update", since_update=format_duration(_minutes_between(last_update, now))
            )
        else:
            dispatcher.utter_message(response="utter_ticket_no_update")
        return _slot_events(clear_ticket_request())



class ActionEscalateTicket(Action):
    def name(self) -> str:
        return "action_escalate_ticket"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        # Never the ticket_verified slot: the tracker is the caller's to write.
        record = await readable_ticket(tracker)
        if record is None:
            return _slot_events(clear_ticket_request())
        book = get_escalation_book()
        now = now_utc()
        minutes = response_minutes(record["severity"])

        def decide(level: int, reached_at: datetime):
            return decide_escalation(
                level=level,
                max_level=book.max_level(record["region"]),
                contacted_without_answer=tracker.get_slot("level_exhausted") is True,
                reached_level_at=reached_at,
                response_minutes=minutes,
                now=now,
            )

        decision = await asyncio.to_thread(
            partial(
                escalate_incident,
                get_session_factory(),
                ticket=record["ticket"],
                decide=decide,
                actor=f"customer:{tracker.sender_id}",
                now=now,
            )
        )
        if decision is None:
            return _slot_events(clear_ticket_request())
        contact = book.contact(record["region"], decision.level) or book.general
        contact_message = {"region_name": _region_name(record), **contact_kwargs(contact)}
        if decision.outcome == ESCALATE:
            dispatcher.utter_message(response="utter_escalated", ticket=record["ticket"], level=decision.level)
            dispatcher.utter_message(response="utter_escalation_contact", **contact_message)
        elif decision.outcome == LAST_LEVEL:
            dispatcher.utter_message(
                response="utter_escalation_last_level", ticket=record["ticket"], level=decision.level
            )
        elif decision.outcome == CONTACT_CURRENT_FIRST:
            dispatcher.utter_message(response="utter_escalation_contact_current_first", level=decision.level)
            dispatcher.utter_message(response="utter_escalation_contact", **contact_message)
        else:
            zone = ZoneInfo(book.timezone_for(record["country"]))
            dispatcher.utter_message(
                response="utter_escalation_too_early",
                level=decision.level,
                response_target=format_duration(minutes),
                wait_until=format_local(decision.wait_until.astimezone(zone)),
            )
        return _slot_events(clear_ticket_request())


def _region_name(record: dict[str, Any]) -> str:
    book = get_escalation_book()
    region = book.regions.get(record["region"]) if record["region"] else None
    return region.name if region else book.general.role

