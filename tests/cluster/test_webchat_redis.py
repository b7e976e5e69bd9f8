"""The web chat channel shares its socket.io emits through Redis when REDIS_URL is set.

test_webchat_cluster.py checks the effect across two real Rasa servers; these
check the swap itself, which must happen before any client connects.
"""

from __future__ import annotations

import dataclasses

import socketio

from noc.rasa_plugins.channels.webchat import WebChatInput
from noc.settings import get_settings


async def _noop(_message: object) -> None:
    return None


def channel(redis_url: str | None) -> WebChatInput:
    input_channel = WebChatInput.from_credentials(
        {"user_message_evt": "user_uttered", "bot_message_evt": "bot_uttered", "session_persistence": True}
    )
    assert isinstance(input_channel, WebChatInput)
    input_channel.settings = dataclasses.replace(get_settings(), redis_url=redis_url)
    input_channel.blueprint(_noop)
    return input_channel


def test_with_redis_the_server_uses_the_redis_manager(redis_url: str) -> None:
    sio = channel(redis_url).sio
    assert isinstance(sio.manager, socketio.AsyncRedisManager)
    assert sio.manager.redis_url == redis_url
    # Wired as AsyncServer(client_manager=...) does; it initializes (listens on Redis) at the first connection.
    assert sio.manager.server is sio
    assert sio.manager_initialized is False


def test_without_redis_nothing_changes() -> None:
    sio = channel(None).sio
    # python-socketio's default: this server's own sockets only.
    assert type(sio.manager) is socketio.AsyncManager
