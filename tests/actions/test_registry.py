"""The action server registers every action the domain names, and nothing nameless."""

from __future__ import annotations

from rasa_sdk.executor import ActionExecutor

from tests.actions.helpers import domain

# Rasa runs these itself; everything else in the domain must come from actions/.
RASA_BUILTIN_PREFIXES = ("utter_",)


def test_the_action_server_serves_every_custom_action_of_the_domain() -> None:
    executor = ActionExecutor()
    executor.register_package("actions")  # raises on an action without a name
    custom = {name for name in domain()["actions"] if not name.startswith(RASA_BUILTIN_PREFIXES)}
    assert custom <= set(executor.actions)
