"""How the Rasa server calls the action server: Rasa's ``RemoteAction.run`` with two changes.

1. The turn rules (``noc.rasa_plugins.turns``): a custom action whose server
   cannot be reached (connection refused or reset, or the load balancer
   answering 502/503 because no action server is up) fails the turn after a
   short retry (a server restarting, the balancer noticing a dead one); one
   that has not answered within ``ACTION_TIMEOUT_SECONDS`` fails it at once
   (Rasa would wait five minutes), and so does an action server refusing
   the Rasa server's token (401/403: the two ``ACTION_SERVER_TOKEN`` differ).
   Once a turn failed no other custom action is called. An action server answering 500 (a bug in one action) is left to
   Rasa's own handling: failing the turn would stick the conversation on it.
2. The action server's answer is checked against Rasa's schema with one
   validator built once: Rasa's ``jsonschema.validate`` re-checks the schema
   itself and builds a validator on every call (about 7 ms of each call here,
   three quarters of the check).

Rasa 3.6 has no setting or hook for either, hence the wrap, installed once by
the Rasa server at start-up (``noc.rasa_plugins.tracker_store.EnvTrackerStore``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from functools import lru_cache
from typing import Any

import aiohttp
from jsonschema import ValidationError
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.shared.exceptions import RasaException
from rasa.utils.endpoints import ClientResponseError

from noc.rasa_plugins.turns import fail_current_turn, turn_failed

logger = logging.getLogger(__name__)

# Statuses nginx gives when no action server behind it could take the request.
UNAVAILABLE_STATUSES = frozenset({502, 503})
# The action server refusing the Rasa server's ACTION_SERVER_TOKEN
# (noc/action_server/__init__.py): a configuration error no retry mends.
REFUSED_STATUSES = frozenset({401, 403})
# A refused connection is retried after these pauses; a timeout is not retried:
# the customer has already waited.
CONNECT_RETRY_SECONDS = (0.3, 1.0)


def refusal(exc: BaseException) -> str | None:
    """Why ``exc`` means the action server refused the Rasa server's token, or None."""
    cause = exc.__cause__ or exc.__context__
    if isinstance(cause, ClientResponseError) and cause.status in REFUSED_STATUSES:
        return f"action server refused the Rasa server (HTTP {cause.status}): check ACTION_SERVER_TOKEN on both"
    return None


def unavailability(exc: BaseException) -> str | None:
    """Why ``exc`` (raised by Rasa's ``RemoteAction.run``) means the action server is not there, or None."""
    cause = exc.__cause__ or exc.__context__
    # Rasa's EndpointConfig raises its own ClientResponseError for HTTP errors.
    if isinstance(cause, ClientResponseError) and cause.status in UNAVAILABLE_STATUSES:
        return f"action server unavailable (HTTP {cause.status})"
    if isinstance(cause, aiohttp.ClientConnectionError):
        return f"action server unreachable ({type(cause).__name__})"
    return None


RemoteRun = Callable[..., Awaitable[list]]


def guarded(run: RemoteRun, *, timeout_seconds: float) -> RemoteRun:
    """``RemoteAction.run`` with the turn rules of this module."""

    async def guarded_run(self: RemoteAction, *args: Any, **kwargs: Any) -> list:
        if turn_failed():
            raise RasaException(f"not calling '{self.name()}': this turn already failed")
        pauses = iter(CONNECT_RETRY_SECONDS)
        while True:
            try:
                return await asyncio.wait_for(run(self, *args, **kwargs), timeout_seconds)
            except asyncio.TimeoutError as exc:
                fail_current_turn(f"action '{self.name()}' took more than {timeout_seconds:g} s")
                raise RasaException(f"action '{self.name()}' timed out") from exc
            except RasaException as exc:
                refused = refusal(exc)
                if refused is not None:
                    fail_current_turn(f"{refused} for '{self.name()}'")
                    raise
                reason = unavailability(exc)
                if reason is None:
                    raise
                pause = next(pauses, None)
                if pause is None:
                    fail_current_turn(f"{reason} for '{self.name()}'")
                    raise
                logger.warning("%s for '%s'; retrying in %.1f s", reason, self.name(), pause)
                await asyncio.sleep(pause)

    guarded_run.__wrapped__ = run  # type: ignore[attr-defined]
    return guarded_run


@lru_cache(maxsize=1)
def _response_validator() -> Any:
    schema = RemoteAction.action_response_format_spec()
    return validator_for(schema)(schema)


def validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    """Rasa's ``RemoteAction._validate_action_result``, with the validator built once."""
    try:
        _response_validator().validate(result)
    except ValidationError as exc:
        exc.message += ". Failed to validate Action server response from API."
        raise
    return True


def install(timeout_seconds: float) -> None:
    """Put both changes in place (again: the timeout changes, nothing is wrapped twice)."""
    current = RemoteAction.run
    original = getattr(current, "__wrapped__", current)
    RemoteAction.run = guarded(original, timeout_seconds=timeout_seconds)  # type: ignore[method-assign]
    RemoteAction._validate_action_result = validate_action_result  # type: ignore[method-assign]


def installed() -> bool:
    return hasattr(RemoteAction.run, "__wrapped__")
