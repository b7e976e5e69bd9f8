"""noc.rasa_plugins.remote_actions and turns: Rasa's RemoteAction against action servers down, slow or failing."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

import aiohttp
import jsonschema
import pytest
from aiohttp import web
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.exceptions import RasaException
from rasa.utils.endpoints import ClientResponseError, EndpointConfig

from noc.rasa_plugins import remote_actions, turns
from noc.rasa_plugins.remote_actions import unavailability
from noc.rasa_plugins.turns import Turn, TurnFailed, run_turn


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class ActionServer:
    """An action server whose next answers the test chooses: 200, an HTTP error, or a delay."""

    statuses: list[int] = field(default_factory=list)
    delay: float = 0.0
    body: dict | None = None
    calls: int = 0
    url: str = ""

    async def webhook(self, _: web.Request) -> web.Response:
        self.calls += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        status = self.statuses.pop(0) if self.statuses else 200
        if status != 200:
            return web.json_response({"error": "no"}, status=status)
        return web.json_response(
            self.body or {"events": [{"event": "slot", "name": "company", "value": "Banco Andino"}]}
        )


@pytest.fixture
async def action_server() -> AsyncIterator[ActionServer]:
    server = ActionServer()
    app = web.Application()
    app.router.add_post("/webhook", server.webhook)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    server.url = f"http://127.0.0.1:{port}/webhook"
    yield server
    await runner.cleanup()


@pytest.fixture(autouse=True)
def guard(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # monkeypatch restores Rasa's own run after the test.
    monkeypatch.setattr(RemoteAction, "run", RemoteAction.run)
    monkeypatch.setattr(RemoteAction, "_validate_action_result", RemoteAction._validate_action_result)
    monkeypatch.setattr(remote_actions, "CONNECT_RETRY_SECONDS", (0.05, 0.05))
    # Generous for every test but the timeout's own: on a loaded CI machine the first
    # request of a test once took over 0.5 s before reaching the server (calls == 0).
    remote_actions.install(timeout_seconds=5)
    yield


@pytest.fixture
def turn() -> Iterator[Turn]:
    current = Turn(sender_id="ana")
    token = turns.current_turn.set(current)
    yield current
    turns.current_turn.reset(token)


DOMAIN = Domain.from_dict({"slots": {"company": {"type": "text", "mappings": [{"type": "custom"}]}}})


async def run_action(url: str) -> list:
    action = RemoteAction("validate_incident_form", EndpointConfig(url))
    tracker = DialogueStateTracker("ana", DOMAIN.slots)
    return await action.run(CollectingOutputChannel(), TemplatedNaturalLanguageGenerator({}), tracker, DOMAIN)


async def test_an_answering_action_server_is_untouched(action_server: ActionServer, turn: Turn) -> None:
    events = await run_action(action_server.url)
    assert events == [SlotSet("company", "Banco Andino")]
    assert not turn.failed


async def test_a_refused_connection_fails_the_turn(turn: Turn) -> None:
    with pytest.raises(RasaException):
        await run_action(f"http://127.0.0.1:{free_port()}/webhook")
    assert turn.failed and "unreachable" in (turn.failure or "")


@pytest.mark.parametrize("status", [502, 503])
async def test_a_balancer_with_no_server_behind_fails_the_turn_after_retries(
    action_server: ActionServer, turn: Turn, status: int
) -> None:
    action_server.statuses = [status] * 5
    with pytest.raises(RasaException):
        await run_action(action_server.url)
    assert action_server.calls == 3  # the call and two retries
    assert turn.failed and str(status) in (turn.failure or "")


async def test_a_server_back_within_the_retries_saves_the_turn(action_server: ActionServer, turn: Turn) -> None:
    action_server.statuses = [502, 502]
    assert await run_action(action_server.url) == [SlotSet("company", "Banco Andino")]
    assert action_server.calls == 3 and not turn.failed


async def test_a_slow_action_server_fails_the_turn_at_the_timeout(action_server: ActionServer, turn: Turn) -> None:
    remote_actions.install(timeout_seconds=0.5)
    action_server.delay = 3.0
    started = asyncio.get_running_loop().time()
    with pytest.raises(RasaException, match="timed out"):
        await run_action(action_server.url)
    assert asyncio.get_running_loop().time() - started < 2.5
    assert action_server.calls == 1  # a slow server is not asked twice
    assert turn.failed and "0.5 s" in (turn.failure or "")


async def test_a_failing_action_is_left_to_rasa(action_server: ActionServer, turn: Turn) -> None:
    # A bug in one action (HTTP 500): failing the turn would stick the conversation on it.
    action_server.statuses = [500]
    with pytest.raises(RasaException):
        await run_action(action_server.url)
    assert action_server.calls == 1 and not turn.failed


@pytest.mark.parametrize("status", [401, 403])
async def test_an_action_server_refusing_the_token_fails_the_turn_at_once(
    action_server: ActionServer, turn: Turn, status: int
) -> None:
    # ACTION_SERVER_TOKEN differs between the two servers: the customer hears of
    # a technical problem rather than Rasa going on as if the action had run.
    action_server.statuses = [status, status, status]
    with pytest.raises(RasaException):
        await run_action(action_server.url)
    assert action_server.calls == 1
    assert turn.failed and "ACTION_SERVER_TOKEN" in (turn.failure or "")


async def test_after_a_failure_no_other_action_is_called(action_server: ActionServer, turn: Turn) -> None:
    turn.fail("action server unreachable")
    with pytest.raises(RasaException, match="already failed"):
        await run_action(action_server.url)
    assert action_server.calls == 0


async def test_outside_a_turn_the_failure_is_only_raised() -> None:
    with pytest.raises(RasaException):
        await run_action(f"http://127.0.0.1:{free_port()}/webhook")
    assert turns.current_turn.get() is None


def test_installing_twice_wraps_once() -> None:
    first = RemoteAction.run
    remote_actions.install(timeout_seconds=2)
    assert RemoteAction.run is not first
    assert RemoteAction.run.__wrapped__ is first.__wrapped__  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("cause", "unavailable"),
    [
        (aiohttp.ClientConnectionError("refused"), True),
        (aiohttp.ServerDisconnectedError(), True),
        (ClientResponseError(502, "Bad Gateway", ""), True),
        (ClientResponseError(503, "Service Unavailable", ""), True),
        (ClientResponseError(500, "Internal Server Error", ""), False),
        (ClientResponseError(404, "Not Found", ""), False),
        (ValueError("bad json"), False),
        (None, False),
    ],
)
def test_unavailability(cause: BaseException | None, unavailable: bool) -> None:
    error = RasaException("Failed to execute custom action.")
    error.__cause__ = cause
    assert (unavailability(error) is not None) is unavailable


async def test_run_turn_raises_when_the_turn_failed() -> None:
    async def failing(message: UserMessage) -> None:
        turns.fail_current_turn("action server unreachable")

    async def fine(message: UserMessage) -> None:
        assert turns.current_turn.get() is not None

    await run_turn(fine, UserMessage("hola", sender_id="ana"))
    with pytest.raises(TurnFailed, match="unreachable"):
        await run_turn(failing, UserMessage("hola", sender_id="ana"))
    assert turns.current_turn.get() is None


@pytest.mark.parametrize(
    "body",
    [
        {"events": "not a list"},
        {"events": [{"event": "slot", "name": 3}]},
        {"events": [], "responses": "utter_greet"},
    ],
)
async def test_a_malformed_answer_is_refused_as_rasa_refuses_it(
    action_server: ActionServer, turn: Turn, body: dict
) -> None:
    action_server.body = body
    with pytest.raises(ValidationError, match="Failed to validate Action server response"):
        await run_action(action_server.url)
    with pytest.raises(ValidationError):
        # Rasa's own check says the same of it.
        jsonschema.validate(body, RemoteAction.action_response_format_spec())
    assert not turn.failed
