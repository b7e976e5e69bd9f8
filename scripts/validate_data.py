"""`rasa data validate --fail-on-warnings`, aware of responses uttered outside stories.

Rasa 3.6's validator counts a response as used only when a story or rule names
it, so every question a form asks (`utter_ask_<slot>`) and every response a
custom action utters is reported as unused, and `--fail-on-warnings` fails on
them. This runs Rasa's own command with one change: those responses, found in
the form definitions and in the `response="utter_..."` calls under actions/,
count as used; and intents named ``EXTERNAL_*`` (Rasa's convention for intents
triggered by the server, never typed: here the agent bridge's hand back) are
not expected in the NLU data. Every other check and warning is Rasa's,
unchanged. It also fails when the action code names a response that the
domain lacks.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml
from rasa.__main__ import main as rasa_main
from rasa.validator import Validator

ROOT = Path(__file__).resolve().parent.parent
# Any response named in the code: `response="utter_..."` calls, and the
# channels, which read a few responses from the domain themselves.
RESPONSE_CALL = re.compile(r"""["'](utter_[a-z0-9_]+)["']""")
# `reject("<slot>", ...)` in the form validation utters `utter_invalid_<slot>`.
REJECT_CALL = re.compile(r"""reject\(\s*["'](\w+)["']""")
# Responses uttered by Rasa's own default actions (action_default_fallback).
RASA_DEFAULT_RESPONSES = {"utter_default"}
# Quoted "utter_*" strings in the code that are not responses: the key under
# which Rasa names the response in a bot event's metadata.
NOT_RESPONSES = {"utter_action"}
EXTERNAL_PREFIX = "EXTERNAL_"


def responses_in_actions() -> set[str]:
    found: set[str] = set()
    # The actions, and the Rasa server's channels that answer with domain responses.
    for path in [*(ROOT / "actions").rglob("*.py"), *(ROOT / "noc").rglob("*.py")]:
        code = path.read_text(encoding="utf-8")
        found.update(set(RESPONSE_CALL.findall(code)) - NOT_RESPONSES)
        found.update(f"utter_invalid_{slot}" for slot in REJECT_CALL.findall(code))
    return found


def form_questions(domain: dict) -> set[str]:
    slots = {slot for form in (domain.get("forms") or {}).values() for slot in form.get("required_slots", [])}
    # Slots a FormValidationAction adds to a form at run time are asked the same way.
    slots.update(name for name in domain.get("slots", {}) if f"utter_ask_{name}" in domain.get("responses", {}))
    return {f"utter_ask_{slot}" for slot in slots}


def main() -> int:
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    used_by_actions = responses_in_actions()
    missing = sorted(used_by_actions - set(domain.get("responses", {})))
    if missing:
        print(f"actions/ or noc/ utter responses missing from domain.yml: {', '.join(missing)}", file=sys.stderr)
        return 1
    outside_stories = used_by_actions | form_questions(domain) | RASA_DEFAULT_RESPONSES
    gather = Validator._gather_utterance_actions

    def gather_story_utterances(self: Validator) -> set[str]:
        return gather(self) - outside_stories

    Validator._gather_utterance_actions = gather_story_utterances
    non_default_intents = Validator._non_default_intents

    def typed_intents(self: Validator) -> list[str]:
        return [intent for intent in non_default_intents(self) if not intent.startswith(EXTERNAL_PREFIX)]

    Validator._non_default_intents = typed_intents
    sys.argv = ["rasa", "data", "validate", "--fail-on-warnings", *sys.argv[1:]]
    try:
        rasa_main()
    except SystemExit as exit_:
        return int(exit_.code or 0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
