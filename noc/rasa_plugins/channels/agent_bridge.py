"""The agent console's way into the Rasa server: agents' replies and hand back.

Enabled in ``credentials.yml`` as ``noc.rasa_plugins.channels.agent_bridge.AgentBridgeInput:``.
Both routes need ``Authorization: Bearer <AGENT_API_TOKEN>`` (the web server
and the Rasa server read the same setting); without the setting they answer 503.

``POST /webhooks/agent_bridge/message`` ``{"sender_id", "text", "agent"}``
    appends the agent's message to the conversation (a bot message with
    ``metadata.agent``, so the conversation log shows it as the agent's) and
    delivers it over the customer's own channel when that channel can push
    (the web widget's socket; SMS/WhatsApp through Twilio's REST API). The
    REST channel cannot push: the message is kept and ``delivered`` is false.
``POST /webhooks/agent_bridge/resume`` ``{"sender_id", "agent", "close"}``
    resumes the paused conversation and triggers ``EXTERNAL_agent_handback``
    (or ``EXTERNAL_agent_closed``), which the bot answers on the same channel.

Both take the conversation's lock, like every message Rasa handles.

Requests refused for a missing or wrong token count against the client's IP
(``RATE_LIMIT_IP_PER_MINUTE``, shared with the other channels); over the limit
every request from that IP gets 429 with ``Retry-After``, so the token cannot
be guessed at speed. Authorized requests are not counted: the console's web
server, the only legitimate client, sends all agents' replies from one IP.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, OutputChannel, UserMessage
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import ActionExecuted, BotUttered, ConversationResumed
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from noc.bearer import token_matches
from noc.rasa_plugins.channels.rate_limits import request_ip, too_many_json
from noc.ratelimit.limiter import RateLimiter, ip_limit, limiter_from_settings
from noc.settings import get_settings

log = logging.getLogger(__name__)

MAX_TEXT = 4000
HANDBACK_INTENT = "EXTERNAL_agent_handback"
CLOSED_INTENT = "EXTERNAL_agent_closed"


def _error(status: int, message: str) -> HTTPResponse:
    return response.json({"error": message}, status=status)


def _authorized(request: Request) -> HTTPResponse | None:
    expected = get_settings().agent_api_token
    if expected is None:
        return _error(503, "puente de agentes deshabilitado: falta AGENT_API_TOKEN")
    if not token_matches(request.headers.get("Authorization") or "", expected):
        return _error(401, "no autorizado")
    return None


def _body(request: Request) -> dict[str, Any] | None:
    try:
        body = request.json
    except Exception:  # sanic raises its own error types for bad JSON
        return None
    if not isinstance(body, dict):
        return None
    sender_id = body.get("sender_id")
    if not isinstance(sender_id, str) or not sender_id or len(sender_id) > 255:
        return None
    return body


def answered_input_channels(channel: InputChannel) -> tuple[str, ...]:
    """The input channel names, as a conversation records them, that ``channel`` can answer.

    Rasa's channels record their own name. A channel that records another one
    declares what it records in ``answered_input_channels()``: the Twilio
    channel is named "twilio" but records "whatsapp" or "sms" (the channel the
    customer wrote on), so matching on ``name()`` alone never finds it.
    """
    declared = getattr(channel, "answered_input_channels", None)
    return tuple(declared()) if callable(declared) else (channel.name(),)


def output_channel_for(request: Request, input_channel: str | None) -> OutputChannel | None:
    """The output channel of the conversation's own input channel, if it can push messages."""
    if not input_channel:
        return None
    for channel in getattr(request.app.ctx, "input_channels", []):
        if input_channel in answered_input_channels(channel):
            return channel.get_output_channel()
    return None


class AgentBridgeInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return "agent_bridge"

    def __init__(self, limiter: RateLimiter | None = None) -> None:
        self.limiter = limiter or limiter_from_settings(get_settings())

    async def _admit(self, request: Request) -> HTTPResponse | None:
        """None for an authorized request under the IP limit, else the refusal."""
        check = (ip_limit(get_settings()), request_ip(request, get_settings()))
        decision = await self.limiter.check(check)
        if not decision.allowed:
            return too_many_json(decision, {"error": "demasiadas solicitudes; reintente más tarde"})
        refused = _authorized(request)
        if refused is None:
            await self.limiter.release(check)
        return refused

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        bridge = Blueprint("agent_bridge", __name__)

        @bridge.route("/message", methods=["POST"])
        async def message(request: Request) -> HTTPResponse:
            refused = await self._admit(request)
            if refused is not None:
                return refused
            body = _body(request)
            text = body.get("text") if body else None
            if body is None or not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT:
                return _error(400, "se esperaba sender_id y text (hasta 4000 caracteres)")
            agent_name = str(body.get("agent") or "Agente")[:128]
            sender_id = body["sender_id"]
            rasa_agent = request.app.ctx.agent
            async with rasa_agent.lock_store.lock(sender_id):
                tracker = await rasa_agent.tracker_store.retrieve(sender_id)
                if tracker is None:
                    return _error(404, "conversación no encontrada")
                input_channel = tracker.get_latest_input_channel()
                tracker.update(BotUttered(text, metadata={"agent": agent_name}))
                await rasa_agent.tracker_store.save(tracker)
            output = output_channel_for(request, input_channel)
            delivered = False
            if output is not None:
                try:
                    await output.send_text_message(sender_id, text)
                    delivered = True
                except Exception:  # any channel failure: the message stays in the conversation
                    log.exception("could not deliver an agent's message on %s", input_channel)
            return response.json({"delivered": delivered, "channel": input_channel})

        @bridge.route("/resume", methods=["POST"])
        async def resume(request: Request) -> HTTPResponse:
            refused = await self._admit(request)
            if refused is not None:
                return refused
            body = _body(request)
            if body is None:
                return _error(400, "se esperaba sender_id")
            sender_id = body["sender_id"]
            intent = CLOSED_INTENT if body.get("close") is True else HANDBACK_INTENT
            rasa_agent = request.app.ctx.agent
            async with rasa_agent.lock_store.lock(sender_id):
                tracker = await rasa_agent.tracker_store.retrieve(sender_id)
                if tracker is None:
                    return _error(404, "conversación no encontrada")
                input_channel = tracker.get_latest_input_channel()
                tracker.update(ConversationResumed())
                # A paused conversation stopped right after the handoff, with no
                # action_listen; the rules for the external intent expect one.
                tracker.update(ActionExecuted(ACTION_LISTEN_NAME))
                output = output_channel_for(request, input_channel) or CollectingOutputChannel()
                await rasa_agent.processor.trigger_external_user_uttered(intent, None, tracker, output)
            return response.json({"resumed": True, "channel": input_channel})

        @bridge.listener("after_server_stop")
        async def close_limiter(*_: Any) -> None:
            await self.limiter.close()

        return bridge
