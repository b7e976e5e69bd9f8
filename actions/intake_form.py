"""Validation of the incident intake form: one `validate_<slot>` per checklist item.

Each validator returns `{slot: value_or_None}`; a rejected value utters
`utter_invalid_<slot>` and the form asks again. How a message is read before
these validators see it, and how bad answers are counted (re-ask, re-ask with
help, offer a person, hand off), is `actions.form_reading`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions.form_reading import (
    CORRECTING_QUESTIONS,
    HAND_OFF,
    OFFER_AGENT,
    ReadsAnswers,
    correcting,
    latest_text,
    value_before_latest_message,
)
from noc.domain.answers import asks_back, is_hedge, outage_beyond_site
from noc.domain.conversation import channel_phone
from noc.domain.escalation import get_escalation_book
from noc.domain.phones import normalize_phone
from noc.domain.places import country_from_place, is_place_name
from noc.domain.severity import get_severity_table, pick_symptom_kind
from noc.domain.symptoms import kinds_in_text
from noc.domain.timeparse import parse_since
from noc.domain.validators import (
    CORRECTABLE_FIELDS,
    clean_company,
    clean_person_name,
    clean_symptom,
    company_without_person,
    correction_field,
    expand_company_entity,
    expand_person_entity,
    has_accented_email,
    is_a_sentence,
    normalize_email,
    normalize_service_id,
    person_name_from_answer,
    person_without_company,
    says_what_happens,
)

Result = dict[str, Any]

# The symptom kind of a query: nothing is down, so no triage.
QUERY_KIND = "consulta"

# Slots that depend on a corrected one and must be asked again with it.
DEPENDENT_SLOTS = {"contact_phone": ("pending_local_phone",)}


def latest_entity_values(tracker: Tracker, entity: str) -> list[str]:
    return [
        str(e.get("value"))
        for e in tracker.latest_message.get("entities", [])
        if e.get("entity") == entity and e.get("value") is not None
    ]


# Words that open a time expression in a longer message.
_TIME_CUE = re.compile(r"\b(?:desde|hace|ayer|anoche|hoy|esta mañana|esta manana|esta tarde|ya van|llevamos)\b", re.I)


def since_candidates(text: str) -> list[str]:
    """The pieces of a message that may say since when: from each time cue to the end of its clause."""
    found = []
    for match in _TIME_CUE.finditer(text):
        clause = re.split(r"[,.;:!?]| y | pero ", text[match.start() :], maxsplit=1)[0]
        found.append(clause.strip())
    return found


# Words right before a place: "la sede de Miraflores" names a place, not a company.
_PLACE_BEFORE = re.compile(
    r"\b(?:sede|sucursal|oficina|planta|tienda|local|agencia|bodega|ciudad|zona|barrio|distrito|provincia|"
    r"estado|departamento)\s+(?:de\s+|del\s+|en\s+)?$",
    re.IGNORECASE,
)


def plausible_company(text: str, value: str) -> bool:
    """A company named in passing: it starts with a capital or a digit, and is not a place.

    "igual" in "sigue igual" or "Miraflores" in "la sede de Miraflores" tagged as
    a company are not one; asked for, the customer's answer is taken as given.
    """
    if not (value[:1].isupper() or value[:1].isdigit()):
        return False
    if is_place_name(value) or value.split()[-1].lower() in _TRAILING_PARTICLES:
        return False  # "Cancún", "DNS del": a place, or words cut before the name they lead to
    start = text.find(value)
    return start < 0 or not _PLACE_BEFORE.search(text[:start])


_TRAILING_PARTICLES = {"de", "del", "la", "las", "los", "y", "en", "e"}


def plausible_person(text: str, value: str) -> bool:
    """A person named in passing: "la luz" or "hay luz" tagged as the name Luz is not one.

    A single word the customer wrote in lower case is a common noun more often
    than a name; asked for, the customer's answer is taken as given.
    """
    start = text.find(value)
    written = text[start : start + len(value)] if start >= 0 else value
    return len(value.split()) > 1 or not written.islower()


# A whole answer longer than this is a sentence around the name, not the name.
MAX_NAME_WORDS = 7


def whole_answer_around(tracker: Tracker, slot: str, value: str, clean: Callable[[str], str | None]) -> str | None:
    """The cleaned whole answer when `slot` was asked and it holds the entity ("maria del pilar salas").

    Rasa fills the slot from the entity first, and the model may tag only part
    of a name; when the answer is the name (with a lead-in like "somos"), the
    whole of it is the value.
    """
    if tracker.get_slot("requested_slot") != slot:
        return None
    whole = clean(latest_text(tracker))
    if whole and value[:1].isupper():
        # "se llama Alimentos La Ceiba C.A.": the customer capitalised the name, not the lead-in.
        at = whole.casefold().find(value.casefold())
        if at > 0 and whole[:at] == whole[:at].lower():
            whole = whole[at:]
    if (
        whole
        and value.casefold() in whole.casefold()
        and len(whole) > len(value)
        and len(whole.split()) <= MAX_NAME_WORDS
    ):
        return whole
    return None


def message_with(tracker: Tracker, value: str) -> str:
    """The customer's latest message that contains `value`, or the latest message."""
    for event in reversed(tracker.events):
        if event.get("event") == "user" and value in str(event.get("text") or ""):
            return str(event["text"])
    return latest_text(tracker)


def now_utc() -> datetime:
    return datetime.now(timezone.utc)


def reject(
    slot: str,
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    *,
    response: str | None = None,
) -> Result:
    """Utter why `slot` was refused; the form counts the bad answer (`form_reading`).

    A value picked up in passing for a question not asked yet is dropped
    silently: the customer hears about it only when the question comes. Doubt
    ("no sé", "déjeme ver") is not a wrong value: the form just asks again.
    """
    if tracker.get_slot("requested_slot") != slot:
        return {slot: value_before_latest_message(tracker, slot)}
    text = latest_text(tracker)
    if not (text and is_hedge(text)):
        dispatcher.utter_message(response=response or f"utter_invalid_{slot}")
    return {slot: None}


def count_bad_answer(slot: str | None, dispatcher: CollectingDispatcher, tracker: Tracker) -> Result:
    """One more bad answer to the question for `slot`, outside the form's own reading.

    The third offers an agent; from the fourth on, `handoff` is True and the
    caller hands the conversation to a person instead of asking a fifth time.
    """
    same_slot = tracker.get_slot("invalid_slot") == slot
    count = int(tracker.get_slot("invalid_count") or 0) + 1 if same_slot else 1
    if count == OFFER_AGENT:
        dispatcher.utter_message(response="utter_offer_agent")
    if count >= HAND_OFF:
        dispatcher.utter_message(response="utter_handoff_after_retries")
    return {"invalid_slot": slot, "invalid_count": float(count), "handoff": count >= HAND_OFF}


def accept(slot: str, value: Any, tracker: Tracker) -> Result:
    result: Result = {slot: value}
    if tracker.get_slot("invalid_slot") == slot:
        result.update({"invalid_slot": None, "invalid_count": 0.0})
    return result


class CustomerIdentityValidation:
    """Who the customer is: shared by every form that asks for it."""

    def validate_company(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Result:
        if isinstance(value, str):
            # Rasa fills the slot from the first mapping with a value, the entity,
            # which may hold only part of the name.
            value = whole_answer_around(tracker, "company", value, clean_company) or expand_company_entity(
                message_with(tracker, value), value
            )
            # "Florencia Benítez del Estudio Contable…" tagged whole: the person is not the company.
            people = [*latest_entity_values(tracker, "person"), tracker.get_slot("contact_name")]
            value = company_without_person(value, people)
            asked = tracker.get_slot("requested_slot") == "company"
            if not asked and not plausible_company(message_with(tracker, value), value):
                return reject("company", dispatcher, tracker)
            if asked and (is_a_sentence(value) or asks_back(latest_text(tracker))):
                # "es la misma que ya tienen registrada" says no name.
                return reject("company", dispatcher, tracker)
        company = clean_company(value)
        return accept("company", company, tracker) if company else reject("company", dispatcher, tracker)

    def validate_service_id(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Result:
        service_id = normalize_service_id(value)
        return accept("service_id", service_id, tracker) if service_id else reject("service_id", dispatcher, tracker)

    def validate_contact_name(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Result:
        if isinstance(value, str):
            asked = tracker.get_slot("requested_slot") == "contact_name"
            named = latest_entity_values(tracker, "person")
            if value in named:
                # "mi nombre es José Gregorio Pérez Rondón, pusieron solo José Pérez": the whole name.
                value = max(named, key=len)
            if not asked and not plausible_person(message_with(tracker, value), value):
                return reject("contact_name", dispatcher, tracker)
            if asked and asks_back(latest_text(tracker)):
                return reject("contact_name", dispatcher, tracker)  # "¿qué es eso?" is no name
            # Rasa fills the slot from the first mapping with a value, the entity,
            # which may hold only part of a compound name (perhaps from an earlier
            # message, before the form started).
            value = whole_answer_around(tracker, "contact_name", value, person_name_from_answer) or (
                expand_person_entity(message_with(tracker, value), value)
            )
            # "Florencia Benítez del Estudio Contable Pereyra": the company is not the name.
            value = person_without_company(value)
            if value is None:
                return reject("contact_name", dispatcher, tracker)
        name = clean_person_name(value)
        if not name and tracker.get_slot("requested_slot") == "contact_name":
            name = person_name_from_answer(str(value or ""))
        return accept("contact_name", name, tracker) if name else reject("contact_name", dispatcher, tracker)

    def validate_contact_email(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Result:
        email = normalize_email(value)
        if email:
            return accept("contact_email", email, tracker)
        accented = has_accented_email(latest_text(tracker))
        response = "utter_invalid_contact_email_accents" if accented else None
        return reject("contact_email", dispatcher, tracker, response=response)


class ValidateIncidentForm(ReadsAnswers, CustomerIdentityValidation, FormValidationAction):
    DIGRESSIONS = frozenset(
        {"greet", "thank", "goodbye", "bot_challenge", "ask_capabilities", "out_of_scope", "request_human", "cancel"}
    )

    def name(self) -> str:
        return "validate_incident_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        skipped: set[str] = set()
        if tracker.get_slot("contact_phone") or not channel_phone(tracker.events):
            skipped.add("channel_phone_ok")
        # Asked only after a plain "no" to the summary.
        if not tracker.get_slot("awaiting_correction"):
            skipped.add("correction_field")
        # Rebooting equipment without power is pointless, and a solved problem
        # needs no confirmation: it is recorded as resolved at first contact.
        if tracker.get_slot("power_ok") is False:
            skipped.update(("rebooted", "problem_persists"))
        if tracker.get_slot("problem_persists") is False:
            skipped.update(("correction_field", "confirmed"))
        # A query (severity 4) has no outage to date or to troubleshoot.
        if tracker.get_slot("symptom_kind") == QUERY_KIND:
            skipped.update(("started", "power_ok", "rebooted", "problem_persists"))
        slots = [slot for slot in domain_slots if slot not in skipped]
        if (
            "symptom" in slots
            and not tracker.get_slot("symptom")
            and tracker.get_slot("requested_slot") in (None, "symptom")
            and latest_text(tracker).strip()
            and is_hedge(latest_text(tracker))
        ):
            # "un momento" to the greeting's "¿qué problema presenta?" starts the form (the
            # model hears an answer) but says nothing: the problem is asked again, not the
            # next question, as a doubt to any other question re-asks it.
            slots.remove("symptom")
            slots.insert(0, "symptom")
        # A local phone waits for the country: ask the country first.
        if tracker.get_slot("pending_local_phone") and not tracker.get_slot("country") and "country" in slots:
            slots.remove("country")
            slots.insert(slots.index("contact_phone"), "country")
        return slots

    def extract_symptom_kind(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Result:
        """The kind from the customer's words when the model tagged none ("cero servicio").

        Read when the kind is asked, or from the description of the problem
        (the opening or the answer to the symptom question) while still unknown.
        """
        asked = tracker.get_slot("requested_slot")
        if latest_entity_values(tracker, "symptom_kind") or latest_text(tracker).startswith("/"):
            return {}
        if asked != "symptom_kind" and (tracker.get_slot("symptom_kind") or asked not in (None, "symptom")):
            return {}
        kind = pick_symptom_kind(get_severity_table(), kinds_in_text(latest_text(tracker)))
        return {"symptom_kind": kind} if kind else {}

    def extract_started(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Result:
        """Since when, said in passing when the model tagged no time ("…caído desde hace como 2 horas")."""
        if tracker.get_slot("started") or tracker.get_slot("requested_slot") == "started":
            return {}
        if latest_entity_values(tracker, "since") or latest_text(tracker).startswith("/"):
            return {}
        tz = get_escalation_book().timezone_for(tracker.get_slot("country"))
        now = now_utc().astimezone(ZoneInfo(tz))
        for text in since_candidates(latest_text(tracker)):
            if parse_since(text, tz=tz, now=now):
                return {"started": text}
        return {}

    def validate_channel_phone_ok(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Result:
        phone = normalize_phone(channel_phone(tracker.events))
        if value is not True or not phone.e164:
            return {"channel_phone_ok": False}
        result = {"channel_phone_ok": True, "contact_phone": phone.e164}
        if not stated_country(tracker):
            result["country"] = phone.country
        return result

    def validate_contact_phone(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Result:
        phone = normalize_phone(value, country=tracker.get_slot("country"))
        if tracker.get_slot("requested_slot") == "contact_phone" and (phone.error or not phone.e164):
            # Rasa takes the entity first, which may have lost the "+58" or the
            # "(787)": the whole answer is read as well.
            whole = normalize_phone(latest_text(tracker), country=tracker.get_slot("country"))
            if whole.e164:
                phone, value = whole, latest_text(tracker)
        if tracker.get_slot("requested_slot") == "service_id" and _same_digits(
            str(value), normalize_service_id(latest_text(tracker)) or ""
        ):
            # "el número de servicio es 7781203345": the service ID, not a phone.
            return {"contact_phone": value_before_latest_message(tracker, "contact_phone")}
        if phone.error and tracker.get_slot("requested_slot") != "contact_phone":
            # A number in passing that is not a phone ("el circuito es 4401239876"): ignored.
            return {"contact_phone": value_before_latest_message(tracker, "contact_phone")}
        if phone.error == "needs_country":
            dispatcher.utter_message(response="utter_phone_needs_country")
            return {"contact_phone": None, "pending_local_phone": str(value)}
        if phone.error or not phone.e164:
            return reject("contact_phone", dispatcher, tracker)
        result = accept("contact_phone", phone.e164, tracker)
        result["pending_local_phone"] = None
        # The phone's country code gives the region when the customer has not named
        # where the service is: "en Caracas" outranks a +51 mobile.
        if phone.country and not stated_country(tracker):
            result["country"] = phone.country
        return result

    def validate_country(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Result:
        asked = tracker.get_slot("requested_slot") == "country"
        country = country_from_place(value) or _iso_code(value)
        if not asked and isinstance(value, str) and in_company_name(tracker, value):
            country = None
        if not country:
            if asked:
                return reject("country", dispatcher, tracker)
            # A place mentioned in passing that we do not know ("aguantá" tagged as a
            # location): the country stays what it was before this message.
            return {"country": value_before_latest_message(tracker, "country")}
        before = value_before_latest_message(tracker, "country")
        if not asked and before and before != country and not correcting(tracker, tracker.get_slot("requested_slot")):
            # A country already known stays: another place in passing is not a correction.
            return {"country": before}
        result = accept("country", country, tracker)
        pending = tracker.get_slot("pending_local_phone")
        if pending:
            phone = normalize_phone(pending, country=country)
            result["pending_local_phone"] = None
            if phone.e164:
                result["contact_phone"] = phone.e164
            else:
                dispatcher.utter_message(response="utter_invalid_contact_phone")
        return result

    def validate_symptom(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Result:
        symptom = clean_symptom(value)
        if symptom and not says_what_happens(
            symptom,
            [
                str(e.get("value"))
                for e in tracker.latest_message.get("entities", [])
                if e.get("entity") in ("person", "company", "location")
            ],
        ):
            # "buenas tardes, les escribe Ana María Ruiz" opens the conversation but
            # describes no problem: the description is asked when its turn comes.
            symptom = None
        asked = tracker.get_slot("requested_slot")
        if symptom and asked not in (None, "symptom") and not self.names_a_failure(tracker):
            # In passing, while another question is asked, only words about a failure
            # describe one: "el circuito es CO-DIA-55120" heard as a report is the ID.
            symptom = None
        return accept("symptom", symptom, tracker) if symptom else reject("symptom", dispatcher, tracker)

    @staticmethod
    def kinds_named(tracker: Tracker) -> list[str]:
        """The kinds the latest message names: tagged, or in its words (not a button's payload).

        "Solo algunas computadoras no tienen internet": the model tags the failure,
        the words also give the scope, which decides the severity.
        """
        named = latest_entity_values(tracker, "symptom_kind")
        if not latest_text(tracker).startswith("/"):
            named += kinds_in_text(latest_text(tracker))
        return named

    def names_a_failure(self, tracker: Tracker) -> bool:
        """A kind of failure the severity table knows, tagged or in the words of the message."""
        return pick_symptom_kind(get_severity_table(), self.kinds_named(tracker)) is not None

    def validate_symptom_kind(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Result:
        # Rasa keeps only the last entity of a message; the severity needs all of them.
        # Once known, the kind changes only when asked or corrected: "sigue sin servicio"
        # after a reboot does not turn "intermitente" into a total outage.
        named = [str(value or "").strip().lower()]
        asked = tracker.get_slot("requested_slot")
        first_time = value_before_latest_message(tracker, "symptom_kind") is None
        if first_time or asked in ("symptom", "symptom_kind", *CORRECTING_QUESTIONS):
            named += self.kinds_named(tracker)
        kind = pick_symptom_kind(get_severity_table(), named)
        return accept("symptom_kind", kind, tracker) if kind else reject("symptom_kind", dispatcher, tracker)

    def validate_started(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Result:
        tz = get_escalation_book().timezone_for(tracker.get_slot("country"))
        now = now_utc().astimezone(ZoneInfo(tz))
        candidates = [str(value).strip() if value else ""]
        if tracker.get_slot("requested_slot") == "started":
            # The model may tag only part of the answer ("tipo 11" in "desde anoche
            # tipo 11"): the whole answer is read too, then its pieces ("desde hace
            # rato, como dos horas").
            candidates.append(latest_text(tracker).strip())
            candidates += [piece.strip() for piece in re.split(r"[,;]", latest_text(tracker))]
        elif value:
            # Said in passing ("…en Monterrey desde hace como 2 horas, el módem…"):
            # the part of the message where the time is, if the entity missed some of it.
            candidates += since_candidates(message_with(tracker, str(value)))
        for text in candidates:
            if text and parse_since(text, tz=tz, now=now):
                # The slot keeps the customer's words; the timestamp is computed again at
                # submission, when the country (and so the time zone) is surely known.
                return accept("started", text, tracker)
        return reject("started", dispatcher, tracker)

    def validate_power_ok(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Result:
        if value is False and not tracker.get_slot("power_warned") and not outage_beyond_site(latest_text(tracker)):
            dispatcher.utter_message(response="utter_restore_power_first")
            return {"power_ok": None, "power_warned": True}
        if value is False:
            dispatcher.utter_message(response="utter_power_problem_noted")
        return {"power_ok": value}

    def validate_rebooted(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Result:
        if value is False and tracker.get_slot("problem_persists") is None:
            dispatcher.utter_message(response="utter_please_reboot")
        return {"rebooted": value}

    def validate_problem_persists(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Result:
        # Whoever answers "does it continue after rebooting?" has rebooted.
        return {"problem_persists": value, "rebooted": True}

    def validate_confirmed(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Result:
        if value is True:
            return {"confirmed": True}
        corrected_now = set(tracker.slots_to_validate()) - {"confirmed", "requested_slot"}
        if corrected_now:
            # "el correo está mal, es ..." already carried the new value: show the summary again.
            return {"confirmed": None}
        for field in latest_entity_values(tracker, "field"):
            if field in CORRECTABLE_FIELDS:
                return {"confirmed": None, **clear_field(field)}
        return {"confirmed": None, "awaiting_correction": True}

    def validate_correction_field(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Result:
        done = {"correction_field": None, "awaiting_correction": False}
        if set(tracker.slots_to_validate()) & set(CORRECTABLE_FIELDS):
            # "el correo está mal, es ..." named the field and gave the new value at once.
            return done
        field = value if value in CORRECTABLE_FIELDS else correction_field(value)
        if not field:
            return reject("correction_field", dispatcher, tracker)
        return {**done, **clear_field(field)}


def clear_field(field: str) -> Result:
    cleared: Result = {field: None}
    for dependent in DEPENDENT_SLOTS.get(field, ()):
        cleared[dependent] = None
    return cleared


def _same_digits(one: str, other: str) -> bool:
    digits = re.sub(r"\D", "", one)
    return bool(digits) and digits == re.sub(r"\D", "", other)


def stated_country(tracker: Tracker) -> str | None:
    """The country known before this message, or named in it ("la sede de Caracas")."""
    before = value_before_latest_message(tracker, "country")
    if before:
        return before
    for place in latest_entity_values(tracker, "location"):
        country = None if in_company_name(tracker, place) else country_from_place(place) or _iso_code(place)
        if country:
            return country
    return None


def in_company_name(tracker: Tracker, place: str) -> bool:
    """ "Monterrey" in "Autopartes Monterrey SA de CV" names the company, not where the service is."""
    text = latest_text(tracker).casefold()
    names = [expand_company_entity(latest_text(tracker), name) for name in latest_entity_values(tracker, "company")]
    names.append(tracker.get_slot("company"))
    bare = place.strip(" .,;:").casefold()
    inside = [str(n).casefold() for n in names if n and bare != str(n).casefold() and bare in str(n).casefold()]
    if not inside:
        return False
    # "Textiles Arequipa S.A.C., … en la planta de Arequipa": a mention outside the name is a place.
    spans = [(m.start(), m.end()) for name in inside for m in re.finditer(re.escape(name), text)]
    return all(any(s <= m.start() < e for s, e in spans) for m in re.finditer(re.escape(bare), text))


def _iso_code(value: Any) -> str | None:
    text = str(value or "").strip().upper()
    region = get_escalation_book().region_for_country(text) if len(text) == 2 else None
    return text if region else None
