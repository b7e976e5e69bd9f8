"""Trackers and a domain for calling actions directly, without a Rasa server."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from rasa_sdk import Tracker

ROOT = Path(__file__).resolve().parents[2]


@lru_cache(maxsize=1)
def domain() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))


def make_tracker(
    slots: dict[str, Any] | None = None,
    *,
    requested: str | None = None,
    intent: str = "inform",
    text: str = "",
    entities: list[dict[str, Any]] | None = None,
    events: list[dict[str, Any]] | None = None,
    sender_id: str = "test-sender",
    active_loop: str | None = "incident_form",
) -> Tracker:
    all_slots = {name: None for name in domain()["slots"]}
    all_slots.update(slots or {})
    all_slots["requested_slot"] = requested
    return Tracker(
        sender_id=sender_id,
        slots=all_slots,
        latest_message={"intent": {"name": intent, "confidence": 0.99}, "entities": entities or [], "text": text},
        events=events or [],
        paused=False,
        followup_action=None,
        active_loop={"name": active_loop} if active_loop else {},
        latest_action_name="action_listen",
    )


def responses(dispatcher: Any) -> list[str]:
    return [m.get("response") for m in dispatcher.messages]
