"""Rasa's socketio channel for the web chat widget, with session persistence that works.

Enabled in ``credentials.yml`` as ``actions.channels.webchat.WebChatInput:``
with the same keys as Rasa's ``socketio:`` (``user_message_evt``,
``bot_message_evt``, ``session_persistence``). Its name stays ``socketio``, so
the records' channel is still ``web`` (``actions.conversation.CHANNEL_NAMES``).

Why not Rasa's own: Rasa 3.6's ``session_request`` handler calls
``sio.enter_room(sid, session_id)`` without ``await`` (RasaHQ/rasa#13027).
Since python-socketio 5.10 ``AsyncServer.enter_room`` is a coroutine, so the
call does nothing ("coroutine ... was never awaited"): the socket never joins
its session's room, and every answer of the bot, emitted to that room, reaches
nobody. This class replaces that one handler and keeps the rest of Rasa's channel.
"""

from __future__ import annotations

import inspect
import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput
from sanic import Blueprint

# What a session id the widget sends may look like (it sends uuid4().hex, as
# Rasa does); anything else gets a fresh id instead of becoming a sender id.
SESSION_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")


def session_id_from(data: Any) -> str:
    session_id = data.get("session_id") if isinstance(data, dict) else None
    if isinstance(session_id, str) and SESSION_ID.fullmatch(session_id):
        return session_id
    return uuid.uuid4().hex


class WebChatInput(SocketIOInput):
    """``socketio`` channel whose ``session_request`` joins the session's room."""

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = super().blueprint(on_new_message)
        sio = self.sio
        assert sio is not None  # set by SocketIOInput.blueprint

        async def session_request(sid: str, data: Any) -> None:
            session_id = session_id_from(data)
            if self.session_persistence:
                # Awaitable since python-socketio 5.10, a plain call before.
                entered = sio.enter_room(sid, session_id, namespace=self.namespace)
                if inspect.isawaitable(entered):
                    await entered
            await sio.emit("session_confirm", session_id, room=sid, namespace=self.namespace)

        # Replaces the handler SocketIOInput.blueprint registered for the event.
        sio.on("session_request", namespace=self.namespace)(session_request)
        return blueprint
