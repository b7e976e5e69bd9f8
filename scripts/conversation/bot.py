"""Recognising what the bot says, from its text and buttons only.

Every response of domain.yml (every variant of it) becomes a pattern whose
`{placeholders}` match anything; a bot message is the response whose pattern
matches it with the most literal text. `utter_ask_<slot>` asks the question
`<slot>` (custom `action_ask_*` actions send those same responses). The
simulated customer sees nothing else: never a slot or a tracker.
"""

from __future__ import annotations

import re
import tarfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from scripts.conversation.banks import ROOT

DOMAIN = ROOT / "domain.yml"
MODEL = ROOT / "models" / "noc.tar.gz"

TICKET_NUMBER = re.compile(r"\bINC-\d{4}-\d{6,}\b")
CHANGE_NUMBER = re.compile(r"\bCHG-\d{4}-\d{6,}\b")
_PLACEHOLDER = re.compile(r"\\\{[A-Za-z_][A-Za-z0-9_]*\\\}")

# Responses that ask the customer something although they are not utter_ask_*.
ASKING_RESPONSES = {
    "utter_greet": "symptom",
    "utter_how_can_help": "symptom",
}
# Responses that end a conversation, and how.
TICKET = "ticket"
HANDOFF = "handoff"
CANCEL = "cancel"
CHANGE = "change"
CHANGE_DECLINED = "change_declined"
HANDOFF_FAILED = "handoff_failed"
TERMINAL_RESPONSES = {
    "utter_incident_opened": TICKET,
    "utter_resolved_first_contact": TICKET,
    "utter_handoff_started": HANDOFF,
    "utter_handoff_started_hours": HANDOFF,
    "utter_handoff_failed": HANDOFF_FAILED,
    "utter_intake_cancelled": CANCEL,
    "utter_request_cancelled": CANCEL,
    "utter_change_request_opened": CHANGE,
    "utter_change_request_not_confirmed": CHANGE_DECLINED,
}
SUMMARY_RESPONSES = ("utter_summary", "utter_change_summary")


@dataclass(frozen=True)
class Template:
    response: str
    variant: str  # "" for the unconditional text, else "slot=value" of its condition
    pattern: re.Pattern[str]
    literal: int  # characters of fixed text: the most specific match wins


@dataclass(frozen=True)
class BotMessage:
    text: str
    buttons: tuple[tuple[str, str], ...]  # (title, payload)
    response: str | None  # the domain response it is, None if none matched
    variant: str = ""

    @property
    def question(self) -> str | None:
        return question_of(self.response)

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"text": self.text, "response": self.response}
        if self.variant:
            data["variant"] = self.variant
        if self.buttons:
            data["buttons"] = [{"title": t, "payload": p} for t, p in self.buttons]
        return data


@dataclass(frozen=True)
class BotTurn:
    """What the bot answered to one customer message."""

    messages: tuple[BotMessage, ...]
    questions: tuple[str, ...] = field(default=())  # asked in this turn, in order
    terminal: str | None = None
    number: str | None = None  # ticket or change number given in this turn

    @property
    def question(self) -> str | None:
        """The question the customer is expected to answer next (the last one asked)."""
        return self.questions[-1] if self.questions else None

    @property
    def variant(self) -> str:
        for message in reversed(self.messages):
            if message.question:
                return message.variant
        return ""

    @property
    def responses(self) -> tuple[str | None, ...]:
        return tuple(m.response for m in self.messages)


def question_of(response: str | None) -> str | None:
    if response is None:
        return None
    if response in ASKING_RESPONSES:
        return ASKING_RESPONSES[response]
    if response == "utter_ask_ticket_choices":
        return "ticket"
    if response.startswith("utter_ask_"):
        return response.removeprefix("utter_ask_")
    return None


def _variant(raw: Mapping[str, Any]) -> str:
    conditions = raw.get("condition") or []
    return ",".join(f"{c.get('name')}={c.get('value')}".lower() for c in conditions if isinstance(c, dict))


def _template(response: str, raw: Mapping[str, Any]) -> Template | None:
    text = raw.get("text")
    if not isinstance(text, str) or not text.strip():
        return None
    escaped = re.escape(text.strip())
    literal = len(_PLACEHOLDER.sub("", escaped).replace("\\", ""))
    pattern = re.compile(_PLACEHOLDER.sub(lambda _: "(?:.*?)", escaped), re.DOTALL)
    return Template(response=response, variant=_variant(raw), pattern=pattern, literal=literal)


def templates_from_domain(domain: Mapping[str, Any]) -> tuple[Template, ...]:
    found = []
    for response, variants in (domain.get("responses") or {}).items():
        for raw in variants or []:
            if isinstance(raw, dict):
                template = _template(str(response), raw)
                if template:
                    found.append(template)
    return tuple(sorted(found, key=lambda t: -t.literal))


def model_domain(model: Path = MODEL) -> dict[str, Any]:
    """The domain packed in the trained model: what the running server says, even if domain.yml changed since."""
    if not model.exists():
        return {}
    with tarfile.open(model, "r:gz") as archive:
        for member in archive:
            if member.name.endswith("domain_provider/domain.yml"):
                handle = archive.extractfile(member)
                return yaml.safe_load(handle.read()) if handle else {}
    return {}


@lru_cache(maxsize=4)
def load_templates(model: Path = MODEL, domain: Path = DOMAIN) -> tuple[Template, ...]:
    """The responses of the model's domain, and of domain.yml for any the model does not have."""
    packed = templates_from_domain(model_domain(model))
    known = {t.response for t in packed}
    on_disk = templates_from_domain(yaml.safe_load(domain.read_text(encoding="utf-8"))) if domain.exists() else ()
    merged = [*packed, *(t for t in on_disk if t.response not in known)]
    return tuple(sorted(merged, key=lambda t: -t.literal))


def recognise(text: str, templates: Sequence[Template]) -> tuple[str | None, str]:
    """(response, variant) of the most specific template matching the whole text."""
    stripped = text.strip()
    for template in templates:  # longest literal first
        if template.pattern.fullmatch(stripped):
            return template.response, template.variant
    return None, ""


def read_turn(raw_messages: Iterable[Mapping[str, Any]], templates: Sequence[Template]) -> BotTurn:
    """A REST webhook answer (a list of {text, buttons?}) as a recognised turn."""
    messages = []
    questions: list[str] = []
    terminal = number = None
    for raw in raw_messages:
        text = str(raw.get("text") or "")
        buttons = tuple(
            (str(b.get("title") or ""), str(b.get("payload") or ""))
            for b in raw.get("buttons") or []
            if isinstance(b, dict)
        )
        response, variant = recognise(text, templates) if text else (None, "")
        message = BotMessage(text=text, buttons=buttons, response=response, variant=variant)
        messages.append(message)
        if message.question:
            questions.append(message.question)
        if response in TERMINAL_RESPONSES and terminal is None:
            terminal = TERMINAL_RESPONSES[response]
            found = (CHANGE_NUMBER if terminal == CHANGE else TICKET_NUMBER).search(text)
            number = found.group() if found else None
    return BotTurn(messages=tuple(messages), questions=tuple(questions), terminal=terminal, number=number)
