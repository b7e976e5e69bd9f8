"""Pure helpers of the Twilio channel: sender ids, numbered menus, splitting, TwiML.

No I/O and no Rasa imports, so everything here is unit-tested directly.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from twilio.twiml.messaging_response import MessagingResponse

from noc.domain.conversation import SMS, WHATSAPP

# Twilio refuses a message body longer than 1,600 characters (SMS and WhatsApp).
# Twilio counts UTF-16 code units, so an emoji counts as two.
BODY_LIMIT = 1600

WHATSAPP_PREFIX = "whatsapp:"

_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
# "2", " 2 ", "2.", "2)" -> 2. Nothing else: "2 sedes" is an answer, not a choice.
_CHOICE = re.compile(r"^\s*(\d{1,2})\s*[.)]?\s*$")
# Cut points, best first: paragraph, line, end of sentence, word.
_CUTS = (
    re.compile(r"\n\s*\n"),
    re.compile(r"\n"),
    re.compile(r"(?<=[.!?…:;])\s+"),
    re.compile(r"\s+"),
)


@dataclass(frozen=True)
class Sender:
    """Who wrote: ``channel`` is "sms" or "whatsapp", ``number`` the address without prefix."""

    channel: str
    number: str

    @property
    def sender_id(self) -> str:
        """Rasa sender id: ``whatsapp:+573001234567`` or ``sms:+51987654321``."""
        return f"{self.channel}:{self.number}"

    @property
    def e164(self) -> str | None:
        """The number when it is a phone number in E.164 form (short codes etc. are not)."""
        return self.number if _E164.match(self.number) else None


def parse_sender(from_: str) -> Sender | None:
    """Twilio's ``From``: ``whatsapp:+573001234567`` (WhatsApp) or ``+51987654321`` (SMS)."""
    value = (from_ or "").strip()
    channel = SMS
    if value.lower().startswith(WHATSAPP_PREFIX):
        channel = WHATSAPP
        value = value[len(WHATSAPP_PREFIX) :].strip()
    value = re.sub(r"[\s\-().]", "", value)
    if not value:
        return None
    return Sender(channel=channel, number=value)


def parse_choice(body: str | None) -> int | None:
    """The number of a body that is only a small number ("2", " 2 ", "2.", "2)").

    Whether it picks a menu option depends on the menu the sender was shown,
    which only the store knows.
    """
    match = _CHOICE.match(body or "")
    return int(match.group(1)) if match else None


def twilio_length(text: str) -> int:
    """Length as Twilio counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def _prefix_within(text: str, limit: int) -> int:
    """Number of characters of ``text`` whose UTF-16 length fits in ``limit``."""
    used = 0
    for index, char in enumerate(text):
        used += 2 if ord(char) > 0xFFFF else 1
        if used > limit:
            return index
    return len(text)


def _cut_point(text: str, limit: int) -> tuple[int, int]:
    """(end of this part, start of the next) for a ``text`` longer than ``limit``."""
    fits = _prefix_within(text, limit)
    window = text[: fits + 1]  # a separator may start right at the limit
    for pattern in _CUTS:
        best = None
        for match in pattern.finditer(window):
            if 0 < match.start() <= fits:
                best = match
        if best is not None:
            return best.start(), best.end()
    return fits, fits


def split_text(text: str, limit: int = BODY_LIMIT) -> list[str]:
    """Split ``text`` into parts of at most ``limit`` (UTF-16) characters.

    Cuts at a blank line if there is one within the limit, else at a line
    break, else after the end of a sentence, else between words; a word longer
    than the limit is cut where it must be. Parts are stripped; none is empty.
    """
    if limit < 1:
        raise ValueError("limit must be positive")
    parts: list[str] = []
    rest = text.strip()
    while rest:
        if twilio_length(rest) <= limit:
            parts.append(rest)
            break
        end, start = _cut_point(rest, limit)
        part = rest[:end].strip()
        if part:
            parts.append(part)
        rest = rest[start:].strip()
    return parts


def numbered_options(buttons: Sequence[Mapping[str, Any]], start: int = 1) -> str:
    """``1. Sí`` / ``2. No`` lines for the buttons' titles."""
    return "\n".join(
        f"{number}. {button.get('title') or button.get('payload') or ''}".rstrip()
        for number, button in enumerate(buttons, start=start)
    )


@dataclass(frozen=True)
class Reply:
    """What the customer is sent back and which payload each menu number stands for."""

    bodies: list[str]
    payloads: list[str]


def render_reply(messages: Iterable[Mapping[str, Any]], limit: int = BODY_LIMIT) -> Reply:
    """Turn the bot's messages (``CollectingOutputChannel.messages``) into message bodies.

    All messages of one turn go into as few bodies as possible (Twilio does not
    guarantee that several ``<Message>`` arrive in order), separated by a blank
    line, and are split only when longer than ``limit``. Buttons become a
    numbered list, numbered on across the turn; ``payloads[n - 1]`` is what the
    customer means by answering ``n``. Images and attachments are written as
    their URL; custom JSON has no text form and is left out.
    """
    blocks: list[str] = []
    payloads: list[str] = []
    for message in messages:
        lines: list[str] = []
        if message.get("text"):
            lines.append(str(message["text"]).strip())
        buttons = [b for b in message.get("buttons") or [] if b.get("payload") or b.get("title")]
        if buttons:
            lines.append(numbered_options(buttons, start=len(payloads) + 1))
            payloads.extend(str(b.get("payload") or b.get("title")) for b in buttons)
        for key in ("image", "attachment"):
            if message.get(key):
                lines.append(str(message[key]).strip())
        block = "\n".join(line for line in lines if line)
        if block:
            blocks.append(block)
    return Reply(bodies=split_text("\n\n".join(blocks), limit), payloads=payloads)


def build_twiml(bodies: Iterable[str]) -> str:
    """TwiML ``<Response>`` with one ``<Message>`` per body (none: an empty response)."""
    response = MessagingResponse()
    for body in bodies:
        response.message(body)
    return str(response)


def empty_twiml() -> str:
    return build_twiml(())
