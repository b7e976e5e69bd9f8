"""Actions around the form: cancelling it and giving the Service Desk contact."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.contacts import contact_kwargs
from actions.escalation import get_escalation_book
from actions.intake_form import count_bad_answer
from actions.intake_slots import clear_report


class ActionCancelIntake(Action):
    def name(self) -> str:
        return "action_cancel_intake"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        dispatcher.utter_message(response="utter_intake_cancelled")
        return clear_report()


class ActionGiveServiceDesk(Action):
    """Until agent handoff exists, a request for a person gets the regional Service Desk."""

    def name(self) -> str:
        return "action_give_service_desk"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        book = get_escalation_book()
        region = book.region_for_country(tracker.get_slot("country"))
        contact = book.contact(region.slug if region else None, 1)
        dispatcher.utter_message(response="utter_service_desk_contact", **contact_kwargs(contact))
        return []


class ActionNotAnAnswer(Action):
    """A message the form could not use as the answer to its question.

    Counts like a refused value, so the third one offers the Service Desk too.
    """

    def name(self) -> str:
        return "action_not_an_answer"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        dispatcher.utter_message(response="utter_not_an_answer")
        counted = count_bad_answer(tracker.get_slot("requested_slot"), dispatcher, tracker)
        return [SlotSet(name, value) for name, value in counted.items()]
