"""How every form reads a customer's message: the answer to the question asked first.

A mixin for the four `FormValidationAction`s. Per message:

1. Yes/no slots have `custom` mappings: their answer is read here from the
   words (`noc.domain.answers`), with the model's affirm/deny as a fallback, so
   "sí, con energía" is a yes and "mmm" fills nothing.
2. A digression (asking for a person, a greeting, a question about the bot…)
   interrupts the form only when the model is sure and no answer was read;
   then the form rejects itself and the rules answer.
3. Triage facts stated in passing fill their slots if still empty; a slot
   already filled changes only through an explicit correction, so a stray
   entity ("El enlace…" read as a company) cannot overwrite it.
4. When the question asked is still unanswered, the bad answer is counted:
   the first re-asks, the second re-asks with an example or buttons, the third
   offers a person, the fourth hands off — the fifth ask never comes.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any, ClassVar

from rasa_sdk import Tracker
from rasa_sdk.events import ActionExecutionRejected, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from noc.domain.answers import (
    YES_NO_SLOTS,
    asks_back,
    concept_reading,
    is_hedge,
    read_triage,
    read_yes_no,
    says_more_than_yes_no,
)
from noc.domain.change_fields import parse_desired_date
from noc.domain.phones import normalize_phone
from noc.domain.timeparse import parse_since
from noc.domain.validators import normalize_email, normalize_text

# Bad answers in a row to one question: re-ask, re-ask with help, offer a person, hand off.
REASK_AGAIN, REASK_HELP, OFFER_AGENT, HAND_OFF = 1, 2, 3, 4

# How sure the model must be before a message interrupts the form.
DIGRESSION_CONFIDENCE = 0.6
# Out of scope is where the model puts what it does not know: it must be surer.
OUT_OF_SCOPE_CONFIDENCE = 0.8
# Asking for a person or cancelling outranks a yes/no read in the same message
# ("no, mejor páseme con alguien") only when the model is this sure.
OVERRIDE_CONFIDENCE = 0.9
OVERRIDING_INTENTS = ("request_human", "cancel")
# An e-mail or a phone number has a shape: an answer without one is no answer,
# and the model leaning this far to a digression is enough ("mejor no lo
# registre, ya funciona" to the e-mail question). Same as the fallback threshold.
SHAPED_SLOTS = ("contact_email", "contact_phone")
LEANING_CONFIDENCE = 0.4

# Slots that change only through an explicit correction once filled.
CORRECTING_QUESTIONS = ("confirmed", "correction_field")

# Courtesies interrupt only when they are all the message says.
SMALL_TALK = ("greet", "thank", "goodbye")

# Bookkeeping slots: setting them is not progress in the form.
BOOKKEEPING_SLOTS = ("requested_slot", "invalid_slot", "invalid_count", "reask")


def made_progress(filled: dict[str, Any], before: dict[str, Any]) -> bool:
    """Whether the message set some slot to a new value, besides bookkeeping."""
    return any(
        value is not None and value != before.get(slot)
        for slot, value in filled.items()
        if slot not in BOOKKEEPING_SLOTS
    )


def values_before_latest_message(tracker: Tracker) -> dict[str, Any]:
    """Every slot's value before the latest user message, in one pass over the events."""
    values: dict[str, Any] = {}
    seen_user = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            seen_user = True
        elif seen_user and event.get("event") == "slot":
            values.setdefault(event.get("name"), event.get("value"))
    return values


def value_before_latest_message(tracker: Tracker, slot: str) -> Any:
    """The slot's value before the latest user message set it."""
    return values_before_latest_message(tracker).get(slot)


def completes(value: Any, before: Any) -> bool:
    """The new value holds every word of the old and more: the customer completing it
    ("María Alejandra González Pérez" after "maria alejandra gonzalez"), not a stray entity."""
    if not isinstance(value, str) or not isinstance(before, str):
        return False
    new, old = normalize_text(value).split(), normalize_text(before).split()
    return len(new) > len(old) > 0 and all(word in new for word in old)


# Entities that give another field of the report than the yes/no question asked.
FIELD_ENTITIES = ("person", "company", "email", "phone", "service_id")


def about_another_field(tracker: Tracker) -> bool:
    """The message corrects or gives another field: a bare yes/no in it may be about that."""
    intent, confidence = latest_intent(tracker)
    if intent == "correct" and confidence >= DIGRESSION_CONFIDENCE:
        return True
    return any(e.get("entity") in FIELD_ENTITIES for e in tracker.latest_message.get("entities", []))


def reads_as_answer(slot: str | None, text: str) -> bool:
    """Whether the reader of the question asked finds its answer in the text (a date, a time, an e-mail…)."""
    if not text or text.startswith("/"):
        return False
    now = datetime.now(timezone.utc)
    if slot == "desired_date":
        return parse_desired_date(text, today=now.date()) is not None
    if slot == "started":
        return parse_since(text, tz="UTC", now=now) is not None
    if slot == "contact_email":
        return normalize_email(text) is not None
    if slot == "contact_phone":
        phone = normalize_phone(text)
        return phone.e164 is not None or phone.error == "needs_country"
    return False


# Words for a person, without which a message of doubt does not ask for one.
_PERSON_WORD = re.compile(
    r"\b(?:agente|persona|humano|alguien|asesor|asesora|operador|operadora|ejecutivo|ejecutiva|tecnico|técnico|"
    r"ingeniero|ingeniera|supervisor|encargado|gente)\b"
)


# Slots whose validators accept almost any short text: the form's own fallback
# offers them only text that looks like a name.
NAME_SLOTS = ("company", "contact_name")


def looks_like_a_name(text: str) -> bool:
    """Short, with a capital or a digit: "Yanira Batista", not "es la misma que ya tienen registrada"."""
    words = text.split()
    return len(words) <= 6 and any(word[:1].isupper() or word[:1].isdigit() for word in words)


def takes_free_text(domain: DomainDict, slot: str) -> bool:
    """Whether the domain maps the customer's text to `slot` when it is asked."""
    mappings = (domain.get("slots", {}).get(slot) or {}).get("mappings") or []
    return any(mapping.get("type") == "from_text" and mapping.get("conditions") for mapping in mappings)


def latest_intent(tracker: Tracker) -> tuple[str | None, float]:
    intent = tracker.latest_message.get("intent") or {}
    return intent.get("name"), float(intent.get("confidence") or 0.0)


def leaning_intent(tracker: Tracker) -> tuple[str | None, float]:
    """The model's intent, or under a fallback for ambiguity the intent it ranked first."""
    intent, confidence = latest_intent(tracker)
    if intent != "nlu_fallback":
        return intent, confidence
    ranked = [i for i in tracker.latest_message.get("intent_ranking") or [] if i.get("name") != "nlu_fallback"]
    if not ranked:
        return intent, confidence
    return ranked[0].get("name"), float(ranked[0].get("confidence") or 0.0)


def latest_text(tracker: Tracker) -> str:
    return str(tracker.latest_message.get("text") or "")


def correcting(tracker: Tracker, asked: str | None) -> bool:
    """The customer may change filled slots with this message: a correction, or the summary's questions."""
    intent, _ = latest_intent(tracker)
    return intent == "correct" or asked in CORRECTING_QUESTIONS


def answered_after_listen(tracker: Tracker) -> bool:
    """The form validates a fresh customer message (not its activation, nor a return after a rule).

    Rasa calls the validation action with a copy of the tracker that ends with
    the form's own `ActionExecuted` (and the slot candidates); what counts is
    the action before it: `action_listen` means the customer just wrote.
    """
    form = (tracker.active_loop or {}).get("name")
    actions = [e.get("name") for e in reversed(tracker.events) if e.get("event") == "action"]
    if actions and actions[0] == form:
        actions = actions[1:]
    return bool(actions) and actions[0] == "action_listen"


class ReadsAnswers:
    """Mixed into a `FormValidationAction` before it; see the module docstring."""

    # Intents that have a rule inside this form, so rejecting the form lets that rule answer.
    DIGRESSIONS: ClassVar[frozenset[str]] = frozenset({"request_human", "cancel"})

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        asked = tracker.get_slot("requested_slot")
        fresh = bool(asked) and answered_after_listen(tracker)
        if fresh and self.is_digression(tracker, asked):
            return self.yield_to_rules(dispatcher, tracker, asked)
        # Rasa already applied its own mappings to the tracker's slots: "before" is before the message.
        before = values_before_latest_message(tracker)
        events = await super().run(dispatcher, tracker, domain)  # type: ignore[misc]
        if not fresh:
            return events
        filled = {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
        if filled.get(asked) is not None:
            return events + self.answered(tracker)
        if made_progress(filled, before):
            # Not the answer asked for, but something usable ("+57…" to the company question,
            # a power problem to note): the form goes on without counting a bad answer.
            return events
        return events + self.bad_answer(dispatcher, tracker, asked, uttered=_uttered(dispatcher))

    @staticmethod
    def answered(tracker: Tracker) -> list[EventType]:
        if tracker.get_slot("invalid_slot") is None and tracker.get_slot("reask") is None:
            return []
        return [SlotSet("invalid_slot", None), SlotSet("invalid_count", 0.0), SlotSet("reask", None)]

    # -- digressions ----------------------------------------------------------------

    def is_digression(self, tracker: Tracker, asked: str) -> bool:
        intent, confidence = latest_intent(tracker)
        text = latest_text(tracker)
        names_a_person = bool(_PERSON_WORD.search(text.lower()))
        leaning = intent == "nlu_fallback" and names_a_person
        if leaning:
            # "humano" to the company question: the model was torn between asking for a
            # person and asking whether it talks to one; either way it is no company.
            intent, confidence = leaning_intent(tracker)
        if intent not in self.DIGRESSIONS or (text.startswith("/") and intent not in OVERRIDING_INTENTS):
            return False
        if intent in SMALL_TALK and (says_more_than_yes_no(text) or tracker.latest_message.get("entities")):
            # "Buenas, soy Juan Pérez" greets and answers, and "Yanira Batista" alone
            # may be heard as a greeting: a message with an entity is an answer.
            return False
        if is_hedge(text) and (intent != "request_human" or not names_a_person):
            # "Déjeme preguntar" is not a cancellation, nor "un momento por favor" a request
            # for a person, whatever the model heard; "un momento, páseme con un agente" is.
            return False
        if intent == "cancel" and asks_back(text):
            # "¿qué significa registrar?" asks about the question; it cancels nothing.
            return False
        answered = reads_as_answer(asked, text)
        threshold = OUT_OF_SCOPE_CONFIDENCE if intent == "out_of_scope" else DIGRESSION_CONFIDENCE
        if leaning or (asked in SHAPED_SLOTS and intent in OVERRIDING_INTENTS and not answered):
            threshold = LEANING_CONFIDENCE
        if confidence < threshold:
            return False
        if answered and not (intent in OVERRIDING_INTENTS and confidence >= OVERRIDE_CONFIDENCE):
            # "para mañana" to the date question is the date, even if the model heard "cancel".
            return False
        if asked in YES_NO_SLOTS and read_yes_no(asked, text, intent=intent, confidence=confidence) is not None:
            if concept_reading(asked, text) is not None and asked not in ("confirmed", "change_confirmed"):
                # "no, es una mejora" answers whether the change restores a service, however
                # sure the model is that it cancels; "no, mejor páseme con alguien" does not. At
                # the summary, "mejor cancele la solicitud" is both a "no" and a cancellation.
                return False
            return intent in OVERRIDING_INTENTS and confidence >= OVERRIDE_CONFIDENCE and says_more_than_yes_no(text)
        return True

    def yield_to_rules(self, dispatcher: CollectingDispatcher, tracker: Tracker, asked: str) -> list[EventType]:
        """Let the rules answer; the form asks again afterwards, and that ask is counted."""
        count = self.next_count(tracker, asked)
        before = values_before_latest_message(tracker)
        events: list[EventType] = [
            # Rasa's own mappings already set what the message held, and no validator will
            # see it: "¿cuál equipo? tenemos como tres cajitas" must not leave "cajitas" as
            # the country, nor a from_text mapping the question as the answer.
            *(
                SlotSet(slot, before.get(slot))
                for slot, value in tracker.slots_to_validate().items()
                if slot != asked and value != before.get(slot)
            ),
            SlotSet(asked, before.get(asked)),
            SlotSet("invalid_slot", asked),
            SlotSet("invalid_count", float(count)),
        ]
        intent, _ = latest_intent(tracker)
        if count >= HAND_OFF and intent not in OVERRIDING_INTENTS:
            # Four times in a row the question did not get an answer: no fifth ask.
            dispatcher.utter_message(response="utter_handoff_after_retries")
            return events + hand_off(self.form_name())  # type: ignore[attr-defined]
        return [*events, ActionExecutionRejected(self.form_name())]  # type: ignore[attr-defined]

    # -- reading -----------------------------------------------------------------------

    async def get_extraction_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        events = await super().get_extraction_events(dispatcher, tracker, domain)  # type: ignore[misc]
        required = await self.required_slots(  # type: ignore[attr-defined]
            self.domain_slots(domain),
            dispatcher,
            tracker,
            domain,  # type: ignore[attr-defined]
        )
        readings = self.read_message(tracker, required)
        asked = tracker.get_slot("requested_slot")
        if (
            asked
            and answered_after_listen(tracker)
            and asked not in readings
            and asked not in tracker.slots_to_validate()
            and takes_free_text(domain, asked)
        ):
            # The domain's from_text mapping skips messages whose intent it lists
            # under not_intent: a name heard as "goodbye" ("Yanira Batista") or a
            # circuit number heard as a ticket question came to nothing. Not a
            # digression (checked before), so the text is offered to the validator.
            text = latest_text(tracker)
            intent, confidence = latest_intent(tracker)
            # "sí" to the date question is no date; "para hoy mismo si se puede" is one.
            bare_yes_no = (
                intent in ("affirm", "deny") and confidence >= DIGRESSION_CONFIDENCE and not says_more_than_yes_no(text)
            )
            usable = text and not text.startswith("/") and not is_hedge(text) and not bare_yes_no
            if usable and (asked not in NAME_SLOTS or looks_like_a_name(text)):
                readings[asked] = text
        return events + [SlotSet(slot, value) for slot, value in readings.items()]

    def read_message(self, tracker: Tracker, required: list[str]) -> dict[str, Any]:
        """The yes/no answer to the question asked, and the triage facts stated in passing."""
        asked = tracker.get_slot("requested_slot")
        text = latest_text(tracker)
        intent, confidence = latest_intent(tracker)
        readings: dict[str, Any] = {}
        if asked in YES_NO_SLOTS and answered_after_listen(tracker):
            value = read_yes_no(asked, text, intent=intent, confidence=confidence)
            if value is not None and about_another_field(tracker) and concept_reading(asked, text) is None:
                # "no, espera, el nombre es María Alejandra González": the "no" is about the
                # name, not the question asked (here it would have closed the case as solved).
                value = None
            if value is not None:
                readings[asked] = value
        if text.startswith("/"):
            return readings
        known_reboot = readings.get("rebooted", tracker.get_slot("rebooted"))
        for slot, value in read_triage(text, asked=asked, rebooted=known_reboot).items():
            if slot in required and slot not in readings and tracker.get_slot(slot) is None:
                readings[slot] = value
        return readings

    async def get_validation_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        asked = tracker.get_slot("requested_slot")
        if answered_after_listen(tracker):
            tracker.add_slots(self.kept_values(tracker, asked))
        return await super().get_validation_events(dispatcher, tracker, domain)  # type: ignore[misc]

    def kept_values(self, tracker: Tracker, asked: str | None) -> list[EventType]:
        """Undo what this message set by the way: unusable text, and filled slots not being corrected."""
        changing = correcting(tracker, asked)
        kept: list[EventType] = []
        values_before = values_before_latest_message(tracker)
        for slot, value in tracker.slots_to_validate().items():
            before = values_before.get(slot)
            if slot == asked:
                if asked not in YES_NO_SLOTS and is_hedge(latest_text(tracker)):
                    kept.append(SlotSet(slot, None))
            elif before is not None and value != before and not changing and not completes(value, before):
                kept.append(SlotSet(slot, before))
        return kept

    # -- bad answers ---------------------------------------------------------------------

    @staticmethod
    def next_count(tracker: Tracker, asked: str) -> int:
        same = tracker.get_slot("invalid_slot") == asked
        return int(tracker.get_slot("invalid_count") or 0) + 1 if same else 1

    def bad_answer(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, asked: str, *, uttered: bool
    ) -> list[EventType]:
        """The question asked got no usable answer: count it, and say what comes next."""
        count = self.next_count(tracker, asked)
        events: list[EventType] = [SlotSet("invalid_slot", asked), SlotSet("invalid_count", float(count))]
        if count >= HAND_OFF:
            dispatcher.utter_message(response="utter_handoff_after_retries")
            return events + hand_off(self.form_name())  # type: ignore[attr-defined]
        if count == OFFER_AGENT:
            dispatcher.utter_message(response="utter_offer_agent")
            return [*events, SlotSet("reask", "help")]
        if not uttered:
            dispatcher.utter_message(response="utter_not_an_answer")
        return [*events, SlotSet("reask", "help" if count == REASK_HELP else "again")]


def hand_off(form: str) -> list[EventType]:
    """Leave the form for a person, who receives the partial report."""
    return [SlotSet("reask", None), ActionExecutionRejected(form), FollowupAction("action_handoff")]


def _uttered(dispatcher: CollectingDispatcher) -> bool:
    """Whether a validator already said why the answer was refused."""
    return bool(dispatcher.messages)
