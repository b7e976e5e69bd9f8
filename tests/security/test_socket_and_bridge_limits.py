"""Rate limits of the widget's socket messages (per session and IP) and of the agent bridge (per IP)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from unittest.mock import AsyncMock

import aiohttp
import pytest
from rasa.core.channels.channel import UserMessage
from rasa.core.lock_store import InMemoryLockStore

from noc.rasa_plugins.channels.agent_bridge import AgentBridgeInput
from noc.rasa_plugins.channels.webchat import WebChatInput, socket_message
from noc.settings import get_settings
from tests.channels.conftest import start_channel, stop_channel
from tests.security.conftest import NOTICE, limited_settings

SESSION = "0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize(
    ("data", "persistence", "expected"),
    [
        ({"session_id": SESSION, "message": "hola"}, True, (SESSION, "hola")),
        ({"session_id": SESSION, "message": "a\x00b"}, True, (SESSION, "ab")),
        ({"session_id": SESSION}, True, (SESSION, "")),
        ({"message": "hola"}, False, ("sid-1", "hola")),
        ({"message": "hola"}, True, None),  # no session: Rasa drops it too
        ({"session_id": "../../x", "message": "hola"}, True, None),
        ({"session_id": {"$ne": 1}, "message": "hola"}, True, None),
        ({"session_id": SESSION, "message": ["hola"]}, True, None),
        ({"session_id": SESSION, "message": "x" * 16_001}, True, None),
        ("hola", True, None),
        (None, False, None),
        ([SESSION, "hola"], True, None),
    ],
)
def test_socket_message(data: Any, persistence: bool, expected: tuple[str, str] | None) -> None:
    assert socket_message(data, "sid-1", session_persistence=persistence) == expected


class Recorder:
    def __init__(self) -> None:
        self.messages: list[UserMessage] = []

    async def __call__(self, message: UserMessage) -> None:
        self.messages.append(message)


def webchat(notice_domain: Path, recorder: Recorder, **limits: int) -> WebChatInput:
    channel = WebChatInput(
        "user_uttered", "bot_uttered", None, True, settings=limited_settings(**limits), domain_path=notice_domain
    )
    channel.blueprint(recorder)
    channel.sio.emit = AsyncMock()
    channel.sio.enter_room = AsyncMock()
    return channel


async def send(channel: WebChatInput, sid: str, data: Any) -> None:
    await channel.sio.handlers["/"]["user_uttered"](sid, data)


async def test_a_session_over_its_limit_gets_one_notice(notice_domain: Path) -> None:
    recorder = Recorder()
    channel = webchat(notice_domain, recorder, rate_limit_sender_per_minute=2)
    for n in range(5):
        await send(channel, "sid-1", {"session_id": SESSION, "message": f"m{n}", "metadata": {"channel_phone": "+1"}})
    await send(channel, "sid-2", {"session_id": "f" * 32, "message": "otra sesión"})

    assert [m.text for m in recorder.messages] == ["m0", "m1", "otra sesión"]
    assert {(m.input_channel, m.metadata is None) for m in recorder.messages} == {("socketio", True)}
    channel.sio.emit.assert_awaited_once_with("bot_uttered", {"text": NOTICE}, room="sid-1", namespace=None)


async def test_the_ip_of_the_socket_counts_for_all_its_sessions(notice_domain: Path) -> None:
    recorder = Recorder()
    channel = webchat(notice_domain, recorder, rate_limit_ip_per_minute=3)
    request = SimpleNamespace(ip="198.51.100.1", headers={"X-Forwarded-For": "1.1.1.1"})
    channel.sio.get_environ = lambda sid, namespace=None: {"sanic.request": request}
    for n in range(5):
        await send(channel, f"sid-{n}", {"session_id": f"{n}" * 32, "message": "hola"})
    assert len(recorder.messages) == 3


async def test_malformed_events_are_dropped(notice_domain: Path) -> None:
    recorder = Recorder()
    channel = webchat(notice_domain, recorder)
    for data in (None, "hola", {"session_id": 1}, {"session_id": SESSION, "message": {"a": 1}}):
        await send(channel, "sid-1", data)
    # An event emitted without data, or with several values, reaches the handlers with fewer or more arguments.
    for event in ("user_uttered", "session_request"):
        await channel.sio.handlers["/"][event]("sid-1")
    assert recorder.messages == []
    await channel.sio.handlers["/"]["session_request"]("sid-1", {"session_id": SESSION}, "extra", 3)
    await channel.sio.handlers["/"]["user_uttered"]("sid-1", {"session_id": SESSION, "message": "hola"}, "extra")
    assert [m.text for m in recorder.messages] == ["hola"]


class NoTrackers:
    async def retrieve(self, sender_id: str) -> None:
        return None


@pytest.fixture
def bridge_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("AGENT_API_TOKEN", "bridge-token")
    monkeypatch.setenv("RATE_LIMIT_IP_PER_MINUTE", "3")
    monkeypatch.setenv("REDIS_URL", "")
    get_settings.cache_clear()
    yield "bridge-token"
    get_settings.cache_clear()


@pytest.fixture
async def bridge_url(bridge_env: str) -> AsyncIterator[str]:
    rasa_agent = SimpleNamespace(lock_store=InMemoryLockStore(), tracker_store=NoTrackers())
    server, base_url = await start_channel(AgentBridgeInput(), rasa_agent)
    try:
        yield f"{base_url}/webhooks/agent_bridge"
    finally:
        await stop_channel(server)


async def post(url: str, token: str) -> tuple[int, str | None]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, json={"sender_id": "nadie", "text": "hola"}, headers={"Authorization": f"Bearer {token}"})
        as response,
    ):
        return response.status, response.headers.get("Retry-After")


async def test_bridge_counts_refused_tokens_per_ip(bridge_url: str, bridge_env: str) -> None:
    # Authorized requests (the console's web server) are not counted...
    for path in ("message", "resume") * 5:
        assert (await post(f"{bridge_url}/{path}", bridge_env))[0] == 404
    # ...wrong tokens are, and over the limit the IP is refused before its token is looked at.
    wrong = [(await post(f"{bridge_url}/message", f"guess-{n}"))[0] for n in range(4)]
    status, retry_after = await post(f"{bridge_url}/resume", bridge_env)

    assert wrong == [401, 401, 401, 429]
    assert status == 429 and retry_after is not None and int(retry_after) >= 1
