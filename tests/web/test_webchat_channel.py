"""noc.rasa_plugins.channels.webchat: the socketio channel's session_request joins the session's room."""

from __future__ import annotations

from unittest.mock import AsyncMock

import pytest

from noc.rasa_plugins.channels.webchat import WebChatInput, session_id_from


async def _noop(_message) -> None:
    return None


def channel(*, session_persistence: bool = True) -> WebChatInput:
    input_channel = WebChatInput.from_credentials(
        {
            "user_message_evt": "user_uttered",
            "bot_message_evt": "bot_uttered",
            "session_persistence": session_persistence,
        }
    )
    assert isinstance(input_channel, WebChatInput)
    input_channel.blueprint(_noop)
    return input_channel


async def test_session_request_awaits_enter_room_and_confirms() -> None:
    web = channel()
    web.sio.enter_room = AsyncMock()
    web.sio.emit = AsyncMock()

    await web.sio.handlers["/"]["session_request"]("sid-1", {"session_id": "a" * 32})

    web.sio.enter_room.assert_awaited_once_with("sid-1", "a" * 32, namespace=None)
    web.sio.emit.assert_awaited_once_with("session_confirm", "a" * 32, room="sid-1", namespace=None)


async def test_without_persistence_no_room_is_entered() -> None:
    web = channel(session_persistence=False)
    web.sio.enter_room = AsyncMock()
    web.sio.emit = AsyncMock()

    await web.sio.handlers["/"]["session_request"]("sid-1", {"session_id": "b" * 32})

    web.sio.enter_room.assert_not_awaited()
    web.sio.emit.assert_awaited_once()


def test_name_stays_socketio_so_records_say_web() -> None:
    from noc.domain.conversation import channel_name

    assert WebChatInput.name() == "socketio"
    assert channel_name(WebChatInput.name()) == "web"


@pytest.mark.parametrize(
    ("data", "kept"),
    [
        ({"session_id": "0123456789abcdef0123456789abcdef"}, True),
        ({"session_id": "tab-1_ok"}, True),
        ({"session_id": None}, False),
        ({}, False),
        (None, False),
        ("0123456789abcdef", False),
        ({"session_id": "short"}, False),
        ({"session_id": "x" * 65}, False),
        ({"session_id": "../../etc/passwd"}, False),
        ({"session_id": 12345678901}, False),
    ],
)
def test_session_ids(data, kept: bool) -> None:
    session_id = session_id_from(data)
    if kept:
        assert session_id == data["session_id"]
    else:
        assert len(session_id) == 32 and int(session_id, 16) >= 0


async def test_a_bot_failure_gets_the_spanish_error_answer_not_silence() -> None:
    async def failing(_message) -> None:
        raise ConnectionError("lock store unreachable")

    web = WebChatInput.from_credentials(
        {"user_message_evt": "user_uttered", "bot_message_evt": "bot_uttered", "session_persistence": True}
    )
    web.blueprint(failing)
    web.sio.emit = AsyncMock()

    await web.sio.handlers["/"]["user_uttered"]("sid-1", {"session_id": "c" * 32, "message": "hola"})

    (call,) = web.sio.emit.await_args_list
    assert call.args[0] == "bot_uttered" and "problema técnico" in call.args[1]["text"]
    assert call.kwargs["room"] == "sid-1"
