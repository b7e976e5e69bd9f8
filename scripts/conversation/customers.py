"""Simulated customers: a truth, a plan, and answers picked from the phrase banks (pure, no I/O).

A customer is reactive. It opens with a phrase of opening.yml (or
change_opening.yml) and then, each time the bot asks a question, answers it
with a phrase of that question's bank, in its own half, that agrees with what
it knows:

- a yes/no question: an answer whose `expect` agrees with the truth on every
  key (the yes/no facts are decided when the customer is made);
- a text question whose fact it has not stated yet: any usable answer, and
  what that answer states becomes the truth;
- a question about a fact it already stated: an answer stating the same value,
  else its earlier words, else the bare value (a person repeats themselves).

It sees only the bot's text and buttons (`scripts.conversation.bot`): never a
slot or a tracker. Its plan adds the trouble real customers bring: an unusable
answer before the usable one, a request for a person or a cancellation in the
middle, a "no" to the summary followed by a correction. Each customer carries
the record the conversation must produce (`expected_record`).
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from scripts.conversation.banks import Answer, Bank, Half
from scripts.conversation.bot import BotTurn

Flow = Literal["intake", "change"]

# Facts answered by yes or no; a customer decides them all when it is made.
YES_NO = (
    "power_ok",
    "rebooted",
    "problem_persists",
    "confirmed",
    "channel_phone_ok",
    "restores_service",
    "change_confirmed",
    "level_exhausted",
)
# Facts whose value is a text the customer gives.
TEXT_FIELDS = ("company", "service_id", "contact_name", "contact_phone", "contact_email", "country")
# Facts where the bank only says "some value" (`true`).
SOME_VALUE = ("started", "desired_date", "change_description")
# The fields a correction may change (correction.yml).
CORRECTABLE = TEXT_FIELDS

# What each flow must learn, besides the confirmation.
INTAKE_ITEMS = (
    "company",
    "service_id",
    "contact_name",
    "contact_phone",
    "country",
    "contact_email",
    "symptom_kind",
    "started",
    "power_ok",
    "rebooted",
    "problem_persists",
)
CHANGE_ITEMS = (
    "company",
    "service_id",
    "contact_name",
    "contact_email",
    "change_description",
    "restores_service",
    "desired_date",
)
# Questions that confirm or correct rather than ask for a missing item.
CONFIRMING_QUESTIONS = ("confirmed", "correction_field", "change_confirmed")

# The fact each question asks for, when it is not the question's own name.
QUESTION_KEYS: dict[str, str | None] = {
    "symptom": "symptom_kind",
    "symptom_kind": "symptom_kind",
    "correction_field": None,
    "verify_service_id": "service_id",
    "verify_email": "contact_email",
}
# The bank answering each question, when it is not the question's own name.
QUESTION_BANKS: dict[str, str | None] = {
    "symptom_kind": None,  # buttons only
    "correction_field": "correction",
    "verify_service_id": None,
    "verify_email": None,
    "ticket_choices": "ticket",
}

# Questions of the ticket status and escalation flows: an intake or change customer has no ticket.
NOT_MINE = ("ticket", "ticket_choices", "verify_service_id", "verify_email", "level_exhausted")
# Bot turns in a row without a question after which the customer gives up.
MAX_SILENT_TURNS = 3

# Reply kinds.
OPENING = "opening"
USABLE = "usable"  # a usable bank answer to the question asked
REPEAT = "repeat"  # a fact already stated, said again
UNUSABLE = "unusable"  # an answer stating nothing ({} of the bank, or unusable.yml)
BUTTON = "button"
REQUEST_HUMAN = "request_human"
CANCEL = "cancel"
DENY_SUMMARY = "deny_summary"  # "no" to the summary, naming what is wrong
CORRECTION = "correction"  # a correction.yml phrase
CANNOT_ANSWER = "cannot_answer"  # a question this customer has no answer to
REPHRASE = "rephrase"  # the bot asked nothing: the pending question answered again
USABLE_KINDS = (USABLE, REPEAT, BUTTON, DENY_SUMMARY, CORRECTION, REPHRASE)
UNUSABLE_KINDS = (UNUSABLE, CANNOT_ANSWER)

# Outcomes a customer expects.
TICKET, HANDOFF, CANCELLED, CHANGE = "ticket", "handoff", "cancel", "change"

# How often the plan brings trouble.
UNUSABLE_RATE = 0.15
REQUEST_HUMAN_RATE = 0.05
CANCEL_RATE = 0.05
CORRECTION_RATE = 0.10
CHANGE_RATE = 0.10
# Latent yes/no facts: the probability of "yes".
LATENT_YES = {
    "power_ok": 0.85,
    "rebooted": 0.55,
    "problem_persists": 0.88,
    "confirmed": 1.0,
    "channel_phone_ok": 0.8,
    "restores_service": 0.3,
    "change_confirmed": 1.0,
    "level_exhausted": 0.6,
}
# A customer picks answers of its own region this often (a coherent person).
SAME_REGION = 0.7
# Asking for a person or cancelling that the bot ignores is said this many times, then the customer leaves.
MAX_INSISTENCE = 2

# Country codes (ISO 3166) by international dialling prefix, longest first when matching.
DIAL_CODES = {
    "1787": "PR", "1939": "PR", "1809": "DO", "1829": "DO", "1849": "DO",
    "57": "CO", "51": "PE", "52": "MX", "54": "AR", "56": "CL", "58": "VE", "593": "EC", "591": "BO",
    "595": "PY", "598": "UY", "502": "GT", "503": "SV", "504": "HN", "505": "NI", "506": "CR", "507": "PA",
}  # fmt: skip
COUNTRY_NAMES = {
    "CO": "Colombia", "PE": "Perú", "MX": "México", "AR": "Argentina", "CL": "Chile", "VE": "Venezuela",
    "EC": "Ecuador", "BO": "Bolivia", "PY": "Paraguay", "UY": "Uruguay", "GT": "Guatemala", "SV": "El Salvador",
    "HN": "Honduras", "NI": "Nicaragua", "CR": "Costa Rica", "PA": "Panamá", "DO": "República Dominicana",
    "PR": "Puerto Rico",
}  # fmt: skip
# Words of a "no" to the summary that name the wrong field.
FIELD_WORDS = (
    ("contact_email", ("correo", "mail", "email")),
    ("service_id", ("id del servicio", "servicio", "circuito", " id ")),
    ("company", ("empresa",)),
    ("contact_phone", ("telefono", "numero", "celular")),
    ("contact_name", ("nombre", "apellido", "apeliido")),
    ("country", ("pais",)),
)


def fold(text: str) -> str:
    """Lower case, no accents, single spaces, no trailing punctuation: names compared as people read them."""
    decomposed = unicodedata.normalize("NFKD", str(text).casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.sub(r"\s+", " ", plain).strip().rstrip(".,;: ").strip()


def phone_country(phone: str | None) -> str | None:
    """The country of an E.164 number's dialling prefix."""
    if not phone or not phone.startswith("+"):
        return None
    digits = phone[1:]
    for size in (4, 3, 2):
        code = DIAL_CODES.get(digits[:size])
        if code:
            return code
    return None


def same_value(key: str, left: Any, right: Any) -> bool:
    """Whether two statements of a fact say the same (case and accents aside for texts)."""
    if isinstance(left, bool) or isinstance(right, bool) or left is None or right is None:
        return left == right
    if key in ("service_id", "country"):
        return str(left).strip().upper() == str(right).strip().upper()
    if key == "contact_phone":
        return re.sub(r"[^\d+]", "", str(left)) == re.sub(r"[^\d+]", "", str(right))
    return fold(str(left)) == fold(str(right))


def field_named(text: str) -> str | None:
    """The field a "no, the X is wrong" names, in the customer's own words."""
    flat = f" {fold(text)} "
    for name, words in FIELD_WORDS:
        if any(word in flat for word in words):
            return name
    return None


@dataclass(frozen=True)
class Plan:
    unusable_rate: float = UNUSABLE_RATE
    request_human_at: int | None = None  # asks for a person instead of answering the n-th question
    cancel_at: int | None = None  # cancels instead of answering the n-th question
    correct: bool = False  # says "no" to the first summary and corrects one field
    correct_directly: bool = False  # with a correction.yml phrase, not a plain "no, the X is wrong"


@dataclass(frozen=True)
class Reply:
    text: str
    kind: str
    question: str | None  # the question answered (None for the opening)
    states: Mapping[str, Any] = field(default_factory=dict)
    source: str = ""  # bank:index, "value" or "button"
    # Questions the bot may rightly ask again because of this reply ("no" to the summary...).
    invites: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "kind": self.kind,
            "question": self.question,
            "states": dict(self.states),
            "source": self.source,
        }


@dataclass
class Customer:
    """One simulated customer; `reply` advances its state, so use it for one conversation only."""

    index: int
    half: Half
    flow: Flow
    region: str
    opening: Answer
    plan: Plan
    banks: Mapping[str, Bank]
    rng: random.Random
    truth: dict[str, Any] = field(default_factory=dict)
    # Fact -> the number of the customer message that stated it (1 = the opening).
    stated: dict[str, int] = field(default_factory=dict)
    # Texts this customer used for each fact, to repeat itself.
    said: dict[str, str] = field(default_factory=dict)
    opening_states: tuple[str, ...] = ()
    messages_sent: int = 0
    questions_answered: int = 0
    times_asked: dict[str, int] = field(default_factory=dict)
    pending: str | None = None  # the last question asked
    asked_human: int = 0
    cancelled: int = 0
    silent_turns: int = 0
    corrected: bool = False
    correcting: str | None = None  # the field said to be wrong, whose new value is still to give
    corrections: list[dict[str, Any]] = field(default_factory=list)

    @property
    def id(self) -> str:
        return f"{self.half}-{self.index:04d}"

    @property
    def expected_outcome(self) -> str:
        if self.asked_human:
            return HANDOFF
        if self.cancelled:
            return CANCELLED
        return CHANGE if self.flow == "change" else TICKET

    # -- answers --------------------------------------------------------------------

    def opening_reply(self) -> Reply:
        self._state(self.opening.expect)
        self.opening_states = tuple(self.opening.expect)
        return self._send(Reply(self.opening.text, OPENING, None, self.opening.expect, _source(self.opening)))

    def reply(self, turn: BotTurn) -> Reply | None:
        """The answer to what the bot just said; None when this customer gives up."""
        question = turn.question
        if question is None:
            self.silent_turns += 1
            if self.pending is None or self.asked_human or self.cancelled or self.silent_turns >= MAX_SILENT_TURNS:
                return None
            return self._send(self._rephrase(self.pending))
        self.silent_turns = 0
        self.pending = question
        self.times_asked[question] = self.times_asked.get(question, 0) + 1
        first_ask = self.times_asked[question] == 1
        upcoming = self.questions_answered + 1
        self.questions_answered = upcoming
        # An ignored request for a person or a cancellation is repeated, then the customer leaves.
        if self.asked_human:
            if self.asked_human >= MAX_INSISTENCE:
                return None
            return self._send(self._request(REQUEST_HUMAN, question))
        if self.cancelled:
            if self.cancelled >= MAX_INSISTENCE:
                return None
            return self._send(self._request(CANCEL, question))
        if self.plan.request_human_at == upcoming:
            return self._send(self._request(REQUEST_HUMAN, question))
        if self.plan.cancel_at == upcoming:
            return self._send(self._request(CANCEL, question))
        if question == "confirmed" and self.plan.correct and not self.corrected:
            return self._send(self._deny_summary())
        if question == "confirmed" and self.correcting:
            # The summary again, but the field said to be wrong was never asked: say the new value.
            return self._send(self._correction(self.correcting, question="confirmed", with_value=True))
        if question == "correction_field":
            return self._send(self._correction(self.correcting))
        if first_ask and self.rng.random() < self.plan.unusable_rate:
            unusable = self._unusable(question)
            if unusable:
                return self._send(unusable)
        return self._send(self._answer(question, turn))

    def _send(self, reply: Reply) -> Reply:
        self.messages_sent += 1
        return reply

    def _answer(self, question: str, turn: BotTurn) -> Reply:
        key = QUESTION_KEYS.get(question, question)
        if question in NOT_MINE:
            return self._cannot_answer(question)
        if question == "symptom_kind":
            return self._button(turn)
        if key is not None and key == self.correcting:
            return self._new_value(question, key)
        bank = self._bank(question)
        if bank is None or key is None:
            return self._cannot_answer(question)
        if key in YES_NO:
            return self._yes_no(question, key, bank)
        if key in self.stated:
            return self._repeat(question, key, bank)
        return self._first_statement(question, bank)

    def _yes_no(self, question: str, key: str, bank: Bank) -> Reply:
        if key == "problem_persists":
            # Asked whether it continues after rebooting: the customer has rebooted by now.
            self.truth["rebooted"] = True
        candidates = [a for a in bank.usable(self.half) if self._agrees(a.expect, strict_yes_no=True)]
        if not candidates:
            return self._cannot_answer(question)
        answer = self._pick(candidates)
        self._state(answer.expect, question=question)
        if key == "problem_persists" and "rebooted" not in self.stated:
            self.stated["rebooted"] = self.messages_sent + 1
        invites = ("power_ok",) if key == "power_ok" and answer.expect.get("power_ok") is False else ()
        return Reply(answer.text, USABLE, question, answer.expect, _source(answer), invites)

    def _first_statement(self, question: str, bank: Bank) -> Reply:
        candidates = [a for a in bank.usable(self.half) if self._agrees(a.expect)]
        if not candidates:
            return self._cannot_answer(question)
        answer = self._pick(self._coherent(candidates))
        self._state(answer.expect, question=question)
        key = QUESTION_KEYS.get(question, question)
        if key:
            self.said[key] = answer.text
        return Reply(answer.text, USABLE, question, answer.expect, _source(answer))

    def _repeat(self, question: str, key: str, bank: Bank) -> Reply:
        """A fact already stated, said again: the same value in other words if the bank has them."""
        same = [
            a
            for a in bank.usable(self.half)
            if key in a.expect and self._agrees(a.expect) and (key in SOME_VALUE or _equal(key, a.expect, self.truth))
        ]
        if same:
            answer = self._pick(same)
            self._state(answer.expect, question=question)
            return Reply(answer.text, REPEAT, question, answer.expect, _source(answer))
        if key in self.said:
            return Reply(self.said[key], REPEAT, question, {key: self.truth[key]}, "earlier words")
        text = value_text(key, self.truth[key])
        if text is None:
            return self._cannot_answer(question)
        return Reply(text, REPEAT, question, {key: self.truth[key]}, "value")

    def _button(self, turn: BotTurn) -> Reply:
        buttons = [b for m in turn.messages for b in m.buttons]
        kind = self.truth.get("symptom_kind")
        chosen = next((b for b in buttons if kind and f'"{kind}"' in b[1]), None)
        if chosen is None and buttons and kind is None:
            chosen = self.rng.choice(buttons)
        if chosen is None:
            return self._cannot_answer("symptom_kind")
        found = re.search(r'"symptom_kind"\s*:\s*"(\w+)"', chosen[1])
        states = {"symptom_kind": found.group(1)} if found else {}
        self._state(states, question="symptom_kind")
        return Reply(chosen[1], BUTTON, "symptom_kind", states, f"button:{chosen[0]}")

    def _unusable(self, question: str) -> Reply | None:
        bank = self._bank(question)
        own = list(bank.unusable(self.half)) if bank else []
        general = list(self.banks["unusable"].unusable(self.half)) if "unusable" in self.banks else []
        pool = own if own and (not general or self.rng.random() < 0.5) else general
        if not pool:
            return None
        answer = self.rng.choice(pool)
        return Reply(answer.text, UNUSABLE, question, {}, _source(answer))

    def _cannot_answer(self, question: str) -> Reply:
        bank = self._bank(question)
        pool = list(bank.unusable(self.half)) if bank else []
        if not pool and "unusable" in self.banks:
            pool = list(self.banks["unusable"].unusable(self.half))
        answer = self.rng.choice(pool) if pool else None
        text = answer.text if answer else "no sé"
        return Reply(text, CANNOT_ANSWER, question, {}, _source(answer) if answer else "fixed")

    def _rephrase(self, question: str) -> Reply:
        """The bot asked nothing: answer the pending question again, in other words if possible."""
        reply = self._answer(question, BotTurn(messages=()))
        return Reply(reply.text, REPHRASE if reply.kind in USABLE_KINDS else reply.kind, question, reply.states,
                     reply.source, reply.invites)  # fmt: skip

    def _request(self, kind: str, question: str) -> Reply:
        bank = self.banks["request_human" if kind == REQUEST_HUMAN else "cancel"]
        answer = self.rng.choice(bank.usable(self.half))
        if kind == REQUEST_HUMAN:
            self.asked_human += 1
        else:
            self.cancelled += 1
        return Reply(answer.text, kind, question, answer.expect, _source(answer))

    # -- the correction after the summary --------------------------------------------------

    def _deny_summary(self) -> Reply:
        self.corrected = True
        if self.plan.correct_directly:
            return self._correction(None, question="confirmed")
        denials = [
            a
            for a in self._bank_or_empty("confirmed").usable(self.half)
            if a.expect.get("confirmed") is False and field_named(a.text) in CORRECTABLE
        ]
        if not denials:
            return self._correction(None, question="confirmed")
        answer = self._pick(denials)
        named = field_named(answer.text)
        self.correcting = named
        self.corrections.append({"field": named, "how": "deny", "text": answer.text})
        invites = ("confirmed", "correction_field", *(_questions_for(named)))
        return Reply(answer.text, DENY_SUMMARY, "confirmed", answer.expect, _source(answer), invites)

    def _correction(self, wanted: str | None, *, question: str = "correction_field", with_value: bool = False) -> Reply:
        """A correction.yml phrase: a new value for a field, or just the field that is wrong."""
        entries = [a for a in self._bank_or_empty("correction").usable(self.half) if _corrects(a) in CORRECTABLE]
        if with_value:
            entries = [a for a in entries if "correct_field" not in a.expect] or entries
        if wanted:
            entries = [a for a in entries if _corrects(a) == wanted] or entries
        if not entries:
            return self._cannot_answer(question)
        answer = self._pick(entries)
        target = _corrects(answer)
        self.corrected = True
        if "correct_field" in answer.expect:
            self.correcting = target
            self.corrections.append({"field": target, "how": "names the field", "text": answer.text})
            invites = ("confirmed", "correction_field", *(_questions_for(target)))
            return Reply(answer.text, CORRECTION, question, answer.expect, _source(answer), invites)
        self.correcting = None
        old = self.truth.get(target)
        self._state(answer.expect, question=question, overwrite=True)
        self.said.pop(str(target), None)
        self.corrections.append({"field": target, "how": "new value", "text": answer.text, "old": old})
        invites = ("confirmed", "correction_field", *(_questions_for(target)))
        return Reply(answer.text, CORRECTION, question, answer.expect, _source(answer), invites)

    def _new_value(self, question: str, key: str) -> Reply:
        """The value of a field said to be wrong: a different one, which becomes the truth."""
        bank = self._bank(question)
        if bank is None:
            return self._cannot_answer(question)
        others = {k: v for k, v in self.truth.items() if k != key}
        candidates = [
            a
            for a in bank.usable(self.half)
            if key in a.expect
            and not _equal(key, a.expect, self.truth)
            and all(k == key or k not in others or same_value(k, others[k], v) for k, v in a.expect.items())
        ] or [a for a in bank.usable(self.half) if key in a.expect]
        if not candidates:
            return self._cannot_answer(question)
        answer = self._pick(candidates)
        old = self.truth.get(key)
        self._state(answer.expect, question=question, overwrite=True)
        self.said[key] = answer.text
        self.correcting = None
        self.corrections.append({"field": key, "how": "answered", "text": answer.text, "old": old})
        return Reply(answer.text, USABLE, question, answer.expect, _source(answer), ("confirmed",))

    # -- the truth --------------------------------------------------------------------------

    def _state(self, expect: Mapping[str, Any], *, question: str | None = None, overwrite: bool = False) -> None:
        number = self.messages_sent + 1
        for key, value in expect.items():
            if key in ("correct_field", "cancel", "handoff"):
                continue
            if key in self.stated and not overwrite and key not in YES_NO:
                continue
            self.truth[key] = value
            self.stated.setdefault(key, number)
            if overwrite:
                self.stated[key] = number

    def _agrees(self, expect: Mapping[str, Any], *, strict_yes_no: bool = False) -> bool:
        for key, value in expect.items():
            if key in self.truth:
                if not same_value(key, self.truth[key], value):
                    return False
            elif strict_yes_no and key in YES_NO:
                return False
        return True

    def _coherent(self, candidates: Sequence[Answer]) -> list[Answer]:
        """Answers that fit the country this customer is in (a phone's prefix and the country agree)."""
        country = self.truth.get("country") or phone_country(self.truth.get("contact_phone"))

        def fits(answer: Answer) -> bool:
            stated = answer.expect.get("country") or phone_country(answer.expect.get("contact_phone"))
            return country is None or stated is None or stated == country

        fitting = [a for a in candidates if fits(a)]
        return fitting or list(candidates)

    def _pick(self, candidates: Sequence[Answer]) -> Answer:
        own = [a for a in candidates if a.region == self.region]
        if own and self.rng.random() < SAME_REGION:
            return self.rng.choice(own)
        return self.rng.choice(list(candidates))

    def _bank(self, question: str) -> Bank | None:
        name = QUESTION_BANKS.get(question, question)
        return self.banks.get(name) if name else None

    def _bank_or_empty(self, name: str) -> Bank:
        return self.banks.get(name) or Bank(question=name, asked="", answers=())

    # -- what the conversation must produce -------------------------------------------------

    def stated_value(self, key: str) -> Any:
        return self.truth.get(key) if key in self.stated else None

    def items_needed(self) -> tuple[str, ...]:
        """What the flow had to learn for this customer (a query or a power cut needs less)."""
        if self.flow == "change":
            return CHANGE_ITEMS
        skipped: set[str] = set()
        if self.truth.get("symptom_kind") == "consulta":
            skipped |= {"started", "power_ok", "rebooted", "problem_persists"}
        if self.stated_value("power_ok") is False:
            skipped |= {"rebooted", "problem_persists"}
        return tuple(i for i in INTAKE_ITEMS if i not in skipped)

    def items_missing_after_opening(self) -> tuple[str, ...]:
        given = set(self.opening_states)
        if "contact_phone" in given and phone_country(self.truth.get("contact_phone")):
            given.add("country")
        return tuple(i for i in self.items_needed() if i not in given)

    def expected_record(self) -> dict[str, Any]:
        """The record's fields as this customer stated them; None = must be empty."""
        country = self.stated_value("country") or phone_country(self.stated_value("contact_phone"))
        record: dict[str, Any] = {
            "company": self.stated_value("company"),
            "service_id": self.stated_value("service_id"),
            "contact_name": self.stated_value("contact_name"),
            "contact_email": self.stated_value("contact_email"),
            "country": country,
        }
        if self.flow == "change":
            record["description"] = True if "change_description" in self.stated else None
            return record
        record.update(
            {
                "contact_phone": self.stated_value("contact_phone"),
                "symptom_kind": self.stated_value("symptom_kind"),
                "started": True if "started" in self.stated else None,
                "power_ok": self.stated_value("power_ok"),
                "rebooted": self.stated_value("rebooted"),
                "problem_persists": self.stated_value("problem_persists"),
            }
        )
        return record

    def snapshot(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "half": self.half,
            "flow": self.flow,
            "region": self.region,
            "plan": {
                "request_human_at": self.plan.request_human_at,
                "cancel_at": self.plan.cancel_at,
                "correct": self.plan.correct,
                "correct_directly": self.plan.correct_directly,
            },
            "truth": dict(self.truth),
            "stated": dict(self.stated),
            "opening_states": list(self.opening_states),
            "corrections": list(self.corrections),
            "expected_outcome": self.expected_outcome,
        }


def value_text(key: str, value: Any) -> str | None:
    """The bare value as a customer would type it again."""
    if value is None or isinstance(value, bool):
        return None
    if key == "country":
        return COUNTRY_NAMES.get(str(value).upper(), str(value))
    return str(value)


def _equal(key: str, expect: Mapping[str, Any], truth: Mapping[str, Any]) -> bool:
    return key in expect and key in truth and same_value(key, expect[key], truth[key])


def _corrects(answer: Answer) -> str | None:
    if "correct_field" in answer.expect:
        return str(answer.expect["correct_field"])
    keys = [k for k in answer.expect if k in CORRECTABLE]
    return keys[0] if keys else None


def _questions_for(field_name: str | None) -> tuple[str, ...]:
    return (field_name,) if field_name else ()


def _source(answer: Answer) -> str:
    return f"{answer.bank}:{answer.index}"


def make_customer(index: int, half: Half, banks: Mapping[str, Bank], rng: random.Random) -> Customer:
    flow: Flow = "change" if "change_opening" in banks and rng.random() < CHANGE_RATE else "intake"
    openings = banks["change_opening" if flow == "change" else "opening"].half(half)
    opening = rng.choice(openings)
    trouble = rng.random()
    request_at = cancel_at = None
    if trouble < REQUEST_HUMAN_RATE:
        request_at = rng.randint(1, 5)
    elif trouble < REQUEST_HUMAN_RATE + CANCEL_RATE:
        cancel_at = rng.randint(1, 5)
    correct = flow == "intake" and request_at is None and cancel_at is None and rng.random() < CORRECTION_RATE
    plan = Plan(
        request_human_at=request_at,
        cancel_at=cancel_at,
        correct=correct,
        correct_directly=correct and rng.random() < 0.5,
    )
    customer = Customer(
        index=index, half=half, flow=flow, region=opening.region, opening=opening, plan=plan, banks=banks, rng=rng
    )
    # The yes/no facts are decided now; the opening may state some of them (it wins).
    for key, chance in LATENT_YES.items():
        customer.truth[key] = rng.random() < chance
    customer.truth.update({k: v for k, v in opening.expect.items() if k in YES_NO})
    return customer


def generate(count: int, *, seed: int, half: Half, banks: Mapping[str, Bank]) -> list[Customer]:
    """`count` customers of one half; the same seed gives the same customers and the same answers."""
    offset = 0 if half == "train" else 500_009
    return [make_customer(i, half, banks, random.Random(seed * 1_000_003 + offset + i)) for i in range(count)]


def generate_both(count: int, *, seed: int, banks: Mapping[str, Bank]) -> list[Customer]:
    """`count` customers split between the halves (train first)."""
    train = (count + 1) // 2
    return generate(train, seed=seed, half="train", banks=banks) + generate(
        count - train, seed=seed, half="heldout", banks=banks
    )
