"""The action server registers every action the domain names, and nothing nameless."""

from __future__ import annotations

from typing import Any

from rasa_sdk.executor import ActionExecutor
from rasa_sdk.forms import ValidationAction

from tests.actions.helpers import domain

# Rasa runs these itself; everything else in the domain must come from actions/.
RASA_BUILTIN_PREFIXES = ("utter_",)


def domain_actions() -> dict[str, dict[str, Any]]:
    """The domain's actions by name, with their settings (``- name:`` with ``send_domain``, or a plain name)."""
    actions: dict[str, dict[str, Any]] = {}
    for entry in domain()["actions"]:
        if isinstance(entry, str):
            actions[entry] = {}
        else:
            ((name, settings),) = entry.items()
            actions[name] = settings or {}
    return actions


def registered() -> ActionExecutor:
    executor = ActionExecutor()
    executor.register_package("actions")  # raises on an action without a name
    return executor


def test_the_action_server_serves_every_custom_action_of_the_domain() -> None:
    custom = {name for name in domain_actions() if not name.startswith(RASA_BUILTIN_PREFIXES)}
    assert custom <= set(registered().actions)


def test_every_form_validator_is_sent_the_domain() -> None:
    # endpoints.yml enables Rasa's selective domain: a validator without
    # send_domain would get no forms and no slot mappings, and validate nothing.
    executor = registered()
    validators = {
        name
        for name in domain_actions()
        if name in executor.actions and isinstance(getattr(executor.actions[name], "__self__", None), ValidationAction)
    }
    assert validators >= {"validate_incident_form", "validate_status_form", "validate_escalation_form"}
    for name in validators:
        assert domain_actions()[name].get("send_domain") is True, name
