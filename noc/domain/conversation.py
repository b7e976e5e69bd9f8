"""Facts about a conversation read from its tracker events (no Rasa imports)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import Any

# The record's `channel` of the Twilio channel's two kinds of conversation,
# also the prefixes of their sender ids (``sms:+57...``, ``whatsapp:+57...``).
SMS = "sms"
WHATSAPP = "whatsapp"

# Rasa's input channel names -> the record's `channel` values.
CHANNEL_NAMES = {
    "rest": "rest",
    "socketio": "web",
    "cmdline": "shell",
}


def channel_name(input_channel: str | None) -> str:
    if not input_channel:
        return "desconocido"
    return CHANNEL_NAMES.get(input_channel, input_channel)


def transcript_from_events(events: Iterable[Mapping[str, Any]]) -> list[tuple[str, str, datetime]]:
    """(role, text, at) for each user and bot message, oldest first.

    A button press arrives as its payload ("/affirm"); the agent reads the
    button's title instead, taken from the bot message that offered it.
    """
    transcript: list[tuple[str, str, datetime]] = []
    button_titles: dict[str, str] = {}
    for event in events:
        kind = event.get("event")
        text = event.get("text")
        at = datetime.fromtimestamp(float(event.get("timestamp") or 0), tz=timezone.utc)
        if kind == "bot":
            buttons = (event.get("data") or {}).get("buttons") or []
            button_titles = {b.get("payload"): b.get("title") for b in buttons if b.get("payload")}
            if text:
                transcript.append(("bot", str(text), at))
        elif kind == "user" and text is not None:
            shown = button_titles.get(text, text)
            transcript.append(("user", str(shown), at))
    return transcript


def intake_key(sender_id: str, events: Iterable[Mapping[str, Any]], form: str) -> str:
    """Identifies one intake: the sender plus the moment its form was activated.

    Confirming twice, or a retried action call, yields the same key, so the
    record store opens the incident once.
    """
    started = 0.0
    for event in events:
        if event.get("event") == "active_loop" and event.get("name") == form:
            started = float(event.get("timestamp") or 0)
    return f"{sender_id}:{started:.6f}"


def channel_phone(events: Iterable[Mapping[str, Any]]) -> str | None:
    """The sender's number that an SMS/WhatsApp channel put in the message metadata."""
    for event in reversed(list(events)):
        if event.get("event") == "user":
            phone = (event.get("metadata") or {}).get("channel_phone")
            if phone:
                return str(phone)
    return None
