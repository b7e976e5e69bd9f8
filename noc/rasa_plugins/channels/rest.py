"""The REST channel, ``POST /webhooks/rest/webhook``, with input checks and rate limits.

Enabled in ``credentials.yml`` as ``noc.rasa_plugins.channels.rest.RestInput:`` in place
of Rasa's ``rest:``; its name is still ``rest`` (same URL, records say ``rest``).
Differences from Rasa's channel:

* The body must be a JSON object with ``sender`` (text of 1 to 255 characters,
  no control characters) and ``message`` (text of at most 16,000 characters);
  anything else gets 400/413 JSON instead of a 500 or a message filed under
  the conversation ``default``. A sender id of the SMS/WhatsApp channel
  (``sms:...``, ``whatsapp:...``) is refused: anyone knowing a customer's
  phone number could otherwise write into, and read, that conversation. NUL and other control characters (but tab and
  newlines) are dropped from the message and lone surrogates replaced, so the
  database (PostgreSQL refuses NUL) and the logs can always store it.
* The client cannot choose ``input_channel`` or ``metadata``: the record's
  channel stays ``rest``, and the metadata the SMS/WhatsApp channel vouches for
  (``channel_phone``) cannot be forged over REST.
* Per client IP and per sender, at most ``RATE_LIMIT_IP_PER_MINUTE`` and
  ``RATE_LIMIT_SENDER_PER_MINUTE`` messages; beyond that the answer is 429
  with ``Retry-After`` and the domain's ``utter_channel_rate_limited`` as the
  bot's message (the message itself is not processed).
* A message longer than the bot reads (``noc.rasa_plugins.channels.limits``) is
  answered with the domain's ``utter_message_too_long`` (HTTP 200) and never
  reaches the bot; the rate limits count it.
* A message the bot could not process (the action server or the database
  away, the lock store down: ``noc.rasa_plugins.turns``) is answered with the
  domain's ``utter_channel_error`` instead of an empty list; the conversation
  is left as it was before it.
* The request's ``X-Request-ID`` is the message's id: nginx (and ingress-nginx)
  pass the client's own or make one up, the same on every server they try.
  A message whose id the conversation already holds is answered with the
  bot's saved answers and not processed again (``noc.rasa_plugins.message_ids``),
  so nginx may resend a message whose server died to another one. A header
  that does not look like an id (1 to 128 letters, digits and ``._:-``) is
  ignored: the message gets a random id.
"""

from __future__ import annotations

import logging
import re
from asyncio import CancelledError
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import rasa.utils.endpoints
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput as RasaRestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from noc.rasa_plugins.channels.limits import MESSAGE_TOO_LONG, limit_request_sizes, too_long_for_the_bot
from noc.rasa_plugins.channels.rate_limits import request_ip, too_many_json
from noc.rasa_plugins.channels.twilio import BOT_FAILED, DOMAIN_PATH, RATE_LIMITED, read_channel_responses
from noc.rasa_plugins.channels.twiml import SMS, WHATSAPP
from noc.rasa_plugins.turns import run_turn
from noc.ratelimit.limiter import RateLimiter, ip_limit, limiter_from_settings, sender_limit
from noc.settings import Settings, load_settings

logger = logging.getLogger(__name__)

MAX_SENDER_CHARS = 255  # the records' sender_id column
# Above this the request is refused with 413; up to it, a message longer than
# the bot reads (noc.rasa_plugins.channels.limits) still gets the domain's answer.
MAX_MESSAGE_CHARS = 16_000
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
SENDER_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")
# Sender ids other channels give their conversations (noc.rasa_plugins.channels.twiml.Sender.sender_id).
OTHER_CHANNELS_SENDERS = (f"{SMS}:", f"{WHATSAPP}:")
# The message's id (deploy/nginx/noc.conf.j2 sets it): a UUID, nginx's 32 hex digits, a client's own key.
REQUEST_ID_HEADER = "X-Request-ID"
REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


@dataclass(frozen=True)
class RestMessage:
    sender: str
    text: str
    # None: Rasa gives the message a random id.
    message_id: str | None = None


@dataclass(frozen=True)
class Refusal:
    status: int
    error: str


def clean_text(text: str) -> str:
    """The text without control characters (but tab and newlines) and with lone surrogates replaced."""
    text = CONTROL_CHARS.sub("", text)
    return text.encode("utf-8", "replace").decode("utf-8")


def valid_sender(sender: Any) -> bool:
    return (
        isinstance(sender, str)
        and 0 < len(sender) <= MAX_SENDER_CHARS
        and bool(sender.strip())
        and not SENDER_FORBIDDEN.search(sender)
    )


def parse_message(body: Any) -> RestMessage | Refusal:
    """The sender and text of a decoded request body, or why it is refused."""
    if not isinstance(body, dict):
        return Refusal(400, "el cuerpo debe ser un objeto JSON con sender y message")
    sender, text = body.get("sender"), body.get("message")
    if not valid_sender(sender):
        return Refusal(400, f"sender debe ser un texto de 1 a {MAX_SENDER_CHARS} caracteres sin caracteres de control")
    if sender.strip().lower().startswith(OTHER_CHANNELS_SENDERS):
        return Refusal(400, "sender no puede ser una conversación de SMS o WhatsApp")
    if not isinstance(text, str):
        return Refusal(400, "message debe ser un texto")
    if len(text) > MAX_MESSAGE_CHARS:
        return Refusal(413, f"message admite hasta {MAX_MESSAGE_CHARS} caracteres")
    return RestMessage(sender=sender, text=clean_text(text))


def request_message_id(value: str | None) -> str | None:
    """The message id an ``X-Request-ID`` value gives, or None when it is missing or not id-like."""
    value = (value or "").strip()
    return value if REQUEST_ID.fullmatch(value) else None


def _body(request: Request) -> Any:
    try:
        return request.json
    except Exception:  # sanic raises its own error types for bad JSON and bad encodings
        return None


class RestInput(RasaRestInput):
    """Rasa's REST channel with input checks and rate limits (see the module docstring)."""

    @classmethod
    def name(cls) -> str:
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> RestInput:
        return cls(load_settings())

    def __init__(
        self, settings: Settings, *, domain_path: Path = DOMAIN_PATH, limiter: RateLimiter | None = None
    ) -> None:
        self.settings = settings
        self.responses = read_channel_responses(
            domain_path, (RATE_LIMITED, BOT_FAILED, MESSAGE_TOO_LONG), channel=self.name()
        )
        self.limiter = limiter or limiter_from_settings(settings)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("noc_rest_webhook", __name__)
        limit_request_sizes(webhook)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            parsed = parse_message(_body(request))
            if isinstance(parsed, Refusal):
                return response.json({"error": parsed.error}, status=parsed.status)
            parsed = replace(parsed, message_id=request_message_id(request.headers.get(REQUEST_ID_HEADER)))
            decision = await self.limiter.check(
                (ip_limit(self.settings), request_ip(request, self.settings)),
                (sender_limit(self.settings), f"{self.name()}:{parsed.sender}"),
            )
            if not decision.allowed:
                if decision.first_refusal:
                    logger.warning("REST channel: %s is over its message rate limit", parsed.sender)
                text = self.responses.get(RATE_LIMITED)
                return too_many_json(decision, [{"recipient_id": parsed.sender, "text": text}] if text else [])
            if too_long_for_the_bot(parsed.text):
                # Never parsed: NLU on a long text holds the event loop of every conversation.
                text = self.responses.get(MESSAGE_TOO_LONG)
                return response.json([{"recipient_id": parsed.sender, "text": text}] if text else [])
            if rasa.utils.endpoints.bool_arg(request, "stream", default=False):
                return response.stream(
                    self.stream_response(on_new_message, parsed.text, parsed.sender, self.name(), None),
                    content_type="text/event-stream",
                )
            return response.json(await self._answer(on_new_message, parsed))

        @webhook.listener("after_server_stop")
        async def close_limiter(*_: Any) -> None:
            await self.limiter.close()

        return webhook

    async def _answer(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]], message: RestMessage
    ) -> list[dict[str, Any]]:
        collector = CollectingOutputChannel()
        try:
            await run_turn(
                on_new_message,
                UserMessage(
                    message.text,
                    collector,
                    message.sender,
                    input_channel=self.name(),
                    message_id=message.message_id,
                    metadata=None,
                ),
            )
        except CancelledError:
            logger.error("REST channel: the bot timed out on a message from %s", message.sender)
        except Exception:
            # A failed turn (action server or database away, lock store down) was
            # not saved: the client hears why, never a 500 page or silence.
            logger.exception("REST channel: the bot failed on a message from %s", message.sender)
            text = self.responses.get(BOT_FAILED)
            return [{"recipient_id": message.sender, "text": text}] if text else []
        return collector.messages
