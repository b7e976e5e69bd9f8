"""Actions around the form: cancelling it and answering what the form could not use."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.handoff import consecutive_low_confidence
from actions.intake_form import count_bad_answer
from actions.intake_slots import clear_report


class ActionCancelIntake(Action):
    def name(self) -> str:
        return "action_cancel_intake"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        dispatcher.utter_message(response="utter_intake_cancelled")
        return clear_report()


class ActionNotAnAnswer(Action):
    """A message the form could not use as the answer to its question.

    Counts like a refused value, so the third one offers an agent; so do two
    messages in a row the NLU was unsure about.
    """

    def name(self) -> str:
        return "action_not_an_answer"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        dispatcher.utter_message(response="utter_not_an_answer")
        counted = count_bad_answer(tracker.get_slot("requested_slot"), dispatcher, tracker)
        handoff = counted.pop("handoff")
        events: list[EventType] = [SlotSet(name, value) for name, value in counted.items()]
        if handoff:
            return [*events, FollowupAction("action_handoff")]
        if counted["invalid_count"] < 3 and consecutive_low_confidence(tracker.events) >= 2:
            dispatcher.utter_message(response="utter_offer_agent_low_confidence")
        return events
