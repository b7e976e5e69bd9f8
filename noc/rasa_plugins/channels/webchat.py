"""Rasa's socketio channel for the web chat widget, with session persistence that works.

Enabled in ``credentials.yml`` as ``noc.rasa_plugins.channels.webchat.WebChatInput:``
with the same keys as Rasa's ``socketio:`` (``user_message_evt``,
``bot_message_evt``, ``session_persistence``). Its name stays ``socketio``, so
the records' channel is still ``web`` (``noc.domain.conversation.CHANNEL_NAMES``).

Why not Rasa's own: Rasa 3.6's ``session_request`` handler calls
``sio.enter_room(sid, session_id)`` without ``await`` (RasaHQ/rasa#13027).
Since python-socketio 5.10 ``AsyncServer.enter_room`` is a coroutine, so the
call does nothing ("coroutine ... was never awaited"): the socket never joins
its session's room, and every answer of the bot, emitted to that room, reaches
nobody. This class replaces that handler and keeps the rest of Rasa's channel.

It also replaces the user-message handler: a message must be an object with a
valid ``session_id`` and a text ``message`` (anything else is dropped instead
of raising in the socket server), client metadata is not passed on (it could
forge what the SMS/WhatsApp channel vouches for), and each session and client
IP is held to the rate limits; the first message over a limit is answered with
the domain's ``utter_channel_rate_limited``, the following ones not at all.
A message longer than the bot reads (``noc.rasa_plugins.channels.limits``) is answered
with the domain's ``utter_message_too_long`` and never reaches the bot.

Messages carry an id, and the server acknowledges each one (socket.io's ack)
once the bot has answered it, or refused it with a notice. The widget keeps a
message in its outbox until then and sends it again, with the same id, when
its socket died first (a Rasa server killed: the widget reconnects, perhaps
to another server). The id is the message's ``message_id`` in the
conversation, so a copy is processed once (``noc.rasa_plugins.message_ids``)
and answered with the saved answers. Every answer the bot emits for a message
is tagged ``reply_to`` (its id) and ``index`` (0, 1, ... in the turn), the same
for the copy's saved answers, so the widget shows none of them twice.
"""

from __future__ import annotations

import inspect
import logging
import re
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import socketio
from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from sanic import Blueprint

from noc.rasa_plugins.channels.limits import (
    MAX_REQUEST_BYTES,
    MESSAGE_TOO_LONG,
    limit_request_sizes,
    too_long_for_the_bot,
)
from noc.rasa_plugins.channels.rate_limits import request_ip
from noc.rasa_plugins.channels.rest import MAX_MESSAGE_CHARS, clean_text, request_message_id
from noc.rasa_plugins.channels.twilio import BOT_FAILED, DOMAIN_PATH, RATE_LIMITED, read_channel_responses
from noc.rasa_plugins.turns import run_turn
from noc.ratelimit.client_ip import UNKNOWN
from noc.ratelimit.limiter import RateLimiter, ip_limit, limiter_from_settings, sender_limit
from noc.settings import Settings, get_settings

logger = logging.getLogger(__name__)

# What a session id the widget sends may look like (it sends uuid4().hex, as
# Rasa does); anything else gets a fresh id instead of becoming a sender id.
SESSION_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")


def session_id_from(data: Any) -> str:
    session_id = data.get("session_id") if isinstance(data, dict) else None
    if isinstance(session_id, str) and SESSION_ID.fullmatch(session_id):
        return session_id
    return uuid.uuid4().hex


def socket_message(data: Any, sid: str, *, session_persistence: bool) -> tuple[str, str] | None:
    """(sender id, text) of a user-message event, or None when the event is malformed."""
    if not isinstance(data, dict):
        return None
    text = data.get("message", "")
    if not isinstance(text, str) or len(text) > MAX_MESSAGE_CHARS:
        return None
    if not session_persistence:
        return sid, clean_text(text)
    session_id = data.get("session_id")
    if not isinstance(session_id, str) or not SESSION_ID.fullmatch(session_id):
        return None
    return session_id, clean_text(text)


def socket_message_id(data: Any) -> str | None:
    """The id a user-message event gives its message (1 to 128 letters, digits and ``._:-``), or None."""
    value = data.get("message_id") if isinstance(data, dict) else None
    return request_message_id(value) if isinstance(value, str) else None


# What the server acknowledges a user-message event with.
ACK_ANSWERED = "answered"  # the bot answered it (or answered a copy of it before)
ACK_REFUSED = "refused"  # answered with a notice instead: too long, too many, the bot failed
ACK_MALFORMED = "malformed"  # dropped, not a message


class AnswerOutput(SocketIOOutput):
    """Rasa's socket output, tagging each answer with the message it answers and its place in the turn."""

    def __init__(self, sio: socketio.AsyncServer, bot_message_evt: str, reply_to: str | None) -> None:
        super().__init__(sio, bot_message_evt)
        self.reply_to = reply_to
        self.sent = 0

    async def _send_message(self, socket_id: str, response: Any) -> None:
        if self.reply_to is not None and isinstance(response, dict):
            response = {**response, "reply_to": self.reply_to, "index": self.sent}
            self.sent += 1
        await super()._send_message(socket_id, response)


def share_emits_through_redis(sio: socketio.AsyncServer, redis_url: str) -> None:
    """Gives ``sio`` socket.io's Redis client manager, before any client connects.

    Each Rasa server holds only its own sockets. An emit that starts on another
    server (an agent's reply through the bridge, which any server may take) is
    published on Redis and every server delivers it to the sockets of its room.
    AsyncServer's constructor does just this with ``client_manager``; the
    manager starts listening on Redis at the first connection.
    """
    # A Redis that is down must not hang a turn in the emit.
    manager = socketio.AsyncRedisManager(redis_url, channel="noc:socketio", redis_options={"socket_connect_timeout": 2})
    sio.manager = manager
    manager.set_server(sio)
    sio.manager_initialized = False


class WebChatInput(SocketIOInput):
    """``socketio`` channel whose ``session_request`` joins the session's room."""

    def __init__(
        self,
        *args: Any,
        settings: Settings | None = None,
        limiter: RateLimiter | None = None,
        domain_path: Path = DOMAIN_PATH,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.settings = settings or get_settings()
        self.limiter = limiter or limiter_from_settings(self.settings)
        self.responses = read_channel_responses(
            domain_path, (RATE_LIMITED, BOT_FAILED, MESSAGE_TOO_LONG), channel=self.name()
        )

    def _client_ip(self, sid: str) -> str:
        environ = self.sio.get_environ(sid, namespace=self.namespace) if self.sio else None
        request = (environ or {}).get("sanic.request")
        return request_ip(request, self.settings) if request is not None else UNKNOWN

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = super().blueprint(on_new_message)
        sio = self.sio
        assert sio is not None  # set by SocketIOInput.blueprint
        # Engine.IO's own cap on a polling request or web socket message (1 MB by default).
        sio.eio.max_http_buffer_size = MAX_REQUEST_BYTES
        limit_request_sizes(blueprint)
        if self.settings.redis_url:
            share_emits_through_redis(sio, self.settings.redis_url)

        # Defaults and *_: a client may emit an event with no data or several values,
        # which socketio passes as missing or extra arguments.
        async def session_request(sid: str, data: Any = None, *_: Any) -> None:
            session_id = session_id_from(data)
            if self.session_persistence:
                # Awaitable since python-socketio 5.10, a plain call before.
                entered = sio.enter_room(sid, session_id, namespace=self.namespace)
                if inspect.isawaitable(entered):
                    await entered
            await sio.emit("session_confirm", session_id, room=sid, namespace=self.namespace)

        # The return value is the event's acknowledgement (sent when the client asked for one).
        async def handle_message(sid: str, data: Any = None, *_: Any) -> str:
            message = socket_message(data, sid, session_persistence=self.session_persistence)
            if message is None:
                logger.info("Web chat: dropped a malformed message event")
                return ACK_MALFORMED
            sender_id, text = message
            message_id = socket_message_id(data)
            decision = await self.limiter.check(
                (ip_limit(self.settings), self._client_ip(sid)),
                (sender_limit(self.settings), f"{self.name()}:{sender_id}"),
            )
            if not decision.allowed:
                notice = self.responses.get(RATE_LIMITED)
                if decision.first_refusal and notice:
                    await sio.emit(self.bot_message_evt, {"text": notice}, room=sid, namespace=self.namespace)
                return ACK_REFUSED
            if too_long_for_the_bot(text):
                # Never parsed: NLU on a long text holds the event loop of every conversation.
                notice = self.responses.get(MESSAGE_TOO_LONG)
                if notice:
                    await sio.emit(self.bot_message_evt, {"text": notice}, room=sid, namespace=self.namespace)
                return ACK_REFUSED
            output = AnswerOutput(sio, self.bot_message_evt, message_id)
            try:
                await run_turn(
                    on_new_message,
                    UserMessage(
                        text, output, sender_id, input_channel=self.name(), message_id=message_id, metadata=None
                    ),
                )
            except Exception:
                # The lock store (Redis) down, or a failed turn (noc.rasa_plugins.turns):
                # the customer hears it instead of silence.
                logger.exception("Web chat: the bot failed on a message from %s", sender_id)
                failed = self.responses.get(BOT_FAILED)
                if failed:
                    await sio.emit(self.bot_message_evt, {"text": failed}, room=sid, namespace=self.namespace)
                return ACK_REFUSED
            return ACK_ANSWERED

        # Replace the handlers SocketIOInput.blueprint registered for these events.
        sio.on("session_request", namespace=self.namespace)(session_request)
        sio.on(self.user_message_evt, namespace=self.namespace)(handle_message)

        @blueprint.listener("after_server_stop")
        async def close_limiter(*_: Any) -> None:
            await self.limiter.close()

        return blueprint
