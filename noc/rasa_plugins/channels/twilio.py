"""Twilio input channel for SMS and WhatsApp: ``POST /webhooks/twilio/webhook``.

Enabled in ``credentials.yml`` as ``noc.rasa_plugins.channels.twilio.TwilioInput:`` (no
values: everything comes from ``noc.settings``). One webhook serves an SMS
number and a WhatsApp sender; ``docs/twilio.md`` explains the set-up.

Per request:

1. ``X-Twilio-Signature`` is checked against ``PUBLIC_BASE_URL`` + path (+ query)
   and the form parameters; a missing or wrong signature gets 403 and nothing
   reaches the bot. Without ``TWILIO_AUTH_TOKEN`` or ``PUBLIC_BASE_URL`` every
   request gets 403 (fail closed). ``TWILIO_VALIDATE_SIGNATURE=false`` skips
   the check (local development; a warning is logged at every start).
2. Sender id: ``<channel>:<number>``, i.e. ``whatsapp:+573001234567`` or
   ``sms:+51987654321``. The same number on SMS and on WhatsApp is two
   conversations; ``input_channel`` is ``"whatsapp"`` or ``"sms"`` (the record's
   channel) and the metadata carries ``channel_phone`` (E.164) and
   ``twilio_channel``.
3. Retries: the MessageSid is claimed with an INSERT into ``twilio_messages``
   before anything else. Only the first delivery is processed; a duplicate gets
   an empty ``<Response/>`` (no message) and is not processed. The first
   delivery's TwiML is stored with it for diagnosis, but never replayed:
   "answered once" means the customer gets each answer at most once. A
   delivery whose bot processing raised stays claimed (status ``fallido``) and
   is answered with ``utter_channel_error``: at most once, never twice.
   One exception: a duplicate that finds the first delivery still
   ``procesando`` takes it over, once (``retomado``), because the server
   handling it may have died (nginx resends the request to another server)
   and no answer was given. The MessageSid is the message's Rasa
   ``message_id``: if the conversation already holds it, it is not processed
   again and the bot's saved answer is the TwiML (``noc.rasa_plugins.message_ids``).
4. Media without text, a location or an empty body are answered by the channel
   with ``utter_channel_media_unsupported``, ``utter_channel_location_unsupported``
   or ``utter_channel_empty_message`` from domain.yml (read once, at
   construction) and never reach the bot. A photo with a caption sends the caption.
   So is a body longer than the bot reads (``noc.rasa_plugins.channels.limits``), with
   ``utter_message_too_long``.
   Delivery-status callbacks (``MessageStatus`` sent/delivered/...) are ignored.
5. A body that is only a number ("2", "2.") picks option 2 of the numbered
   list the sender was last shown (stored in ``twilio_menus``): the option's
   payload is sent to the bot instead. Every answer of the bot replaces the menu.
6. The bot's messages are collected and returned as TwiML ``<Message>``
   elements in the HTTP response (no REST call to Twilio), packed into as few
   messages as possible and split under Twilio's 1,600 characters.
7. Messages outside a webhook's answer (an agent's reply and the hand back's
   turn, through ``noc.rasa_plugins.channels.agent_bridge``) go through Twilio's REST
   API (``TwilioRestOutput``). The conversations record ``whatsapp`` or
   ``sms`` as their input channel, not this channel's name: the bridge finds
   this channel through ``answered_input_channels()``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import yaml
from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.headers import parse_content_header
from sanic.request import Request, RequestParameters
from sanic.response import HTTPResponse
from sqlalchemy.orm import sessionmaker
from twilio.request_validator import RequestValidator

from noc.db import twilio_messages as twilio_store
from noc.db.db import get_session_factory
from noc.rasa_plugins.channels.limits import MESSAGE_TOO_LONG, limit_request_sizes, too_long_for_the_bot
from noc.rasa_plugins.channels.rate_limits import request_ip, retry_after
from noc.rasa_plugins.channels.twilio_outgoing import send_text
from noc.rasa_plugins.channels.twiml import (
    SMS,
    WHATSAPP,
    Sender,
    build_twiml,
    empty_twiml,
    parse_choice,
    parse_sender,
    render_reply,
)
from noc.rasa_plugins.turns import run_turn
from noc.ratelimit.limiter import RateLimiter, ip_limit, limiter_from_settings, sender_limit
from noc.ratelimit.window import Decision
from noc.settings import Settings, load_settings

logger = logging.getLogger(__name__)

DOMAIN_PATH = Path(__file__).resolve().parents[3] / "domain.yml"
MEDIA_UNSUPPORTED = "utter_channel_media_unsupported"
EMPTY_MESSAGE = "utter_channel_empty_message"
LOCATION_UNSUPPORTED = "utter_channel_location_unsupported"
BOT_FAILED = "utter_channel_error"
RATE_LIMITED = "utter_channel_rate_limited"
CHANNEL_RESPONSES = (MEDIA_UNSUPPORTED, EMPTY_MESSAGE, LOCATION_UNSUPPORTED, BOT_FAILED, RATE_LIMITED, MESSAGE_TOO_LONG)
# SmsStatus of an inbound message; status callbacks carry sent, delivered, etc.
INBOUND_STATUSES = ("received", "receiving")
# Twilio gives up on a webhook after 15 s.
SLOW_SECONDS = 10.0
TWIML = "text/xml; charset=utf-8"


def read_channel_responses(
    domain_path: Path, names: tuple[str, ...] = CHANNEL_RESPONSES, *, channel: str = "twilio"
) -> dict[str, str]:
    """First text variation of each of ``names`` in the domain (a variation for
    ``channel`` wins over a general one; conditional ones are skipped).

    Channels answer some messages themselves (never reaching the bot), still with the domain's texts.
    """
    try:
        domain = yaml.safe_load(domain_path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        logger.exception("%s channel: cannot read responses from %s", channel, domain_path)
        domain = None
    responses = (domain.get("responses") if isinstance(domain, dict) else None) or {}
    texts: dict[str, str] = {}
    for name in names:
        variations = [
            v for v in responses.get(name) or [] if isinstance(v, dict) and v.get("text") and not v.get("condition")
        ]
        preferred = [v for v in variations if v.get("channel") == channel]
        general = [v for v in variations if not v.get("channel")]
        chosen = (preferred or general or [None])[0]
        if chosen is None:
            logger.warning(
                "%s channel: response %s missing in %s; such messages get no answer", channel, name, domain_path
            )
        else:
            texts[name] = str(chosen["text"]).strip()
    return texts


class TwiMLCollector(CollectingOutputChannel):
    """Collects the bot's messages; named "twilio" so domain responses may have
    ``channel: twilio`` variations (e.g. shorter texts for SMS)."""

    @classmethod
    def name(cls) -> str:
        return "twilio"


def form_params(request: Request) -> RequestParameters:
    """The POSTed form, keeping blank values: Twilio signs ``Body=`` of a media
    message too, and Sanic's ``request.form`` drops it (the signature would fail)."""
    content_type, _ = parse_content_header(request.headers.get("content-type", ""))
    if content_type != "application/x-www-form-urlencoded":
        return RequestParameters()
    try:
        return RequestParameters(parse_qs(request.body.decode("utf-8"), keep_blank_values=True))
    except (UnicodeDecodeError, ValueError):
        return RequestParameters()


def _twiml(body: str, status: int = 200) -> HTTPResponse:
    return response.text(body, status=status, content_type=TWIML)


class TwilioRestOutput(OutputChannel):
    """Messages sent outside a webhook's answer (an agent's reply, the hand back): Twilio's REST API.

    ``send_text_message`` (the agent bridge's call for an agent's reply) raises
    ``TwilioSendError`` when Twilio does not take the message, so the agent is
    told. The bot's own messages (``send_response``, the hand back's turn) are
    written like the webhook's TwiML answers, buttons as a numbered list that
    replaces the sender's menu; a failure there is logged, not raised: the
    message stays in the conversation and the hand back goes through.
    """

    @classmethod
    def name(cls) -> str:
        return "twilio"

    def __init__(self, settings: Settings, session_factory: Callable[[], sessionmaker] | None = None) -> None:
        self.settings = settings
        self._session_factory = session_factory or get_session_factory

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await asyncio.to_thread(send_text, self.settings, sender_id=recipient_id, text=text)

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        reply = render_reply([message])
        if not reply.bodies:  # custom JSON only: nothing the customer could read
            return
        try:
            await self.send_text_message(recipient_id, "\n\n".join(reply.bodies))
            # Like every TwiML answer: the numbers the customer answers now are this message's.
            await asyncio.to_thread(twilio_store.set_menu, self._session_factory(), recipient_id, reply.payloads)
        except Exception:
            logger.exception("Twilio channel: could not send the bot's message to %s", recipient_id)


class TwilioInput(InputChannel):
    """SMS and WhatsApp through Twilio, answered with TwiML (see the module docstring)."""

    @classmethod
    def name(cls) -> str:
        return "twilio"

    @classmethod
    def answered_input_channels(cls) -> tuple[str, ...]:
        """What this channel records as a conversation's input channel (see
        ``noc.rasa_plugins.channels.agent_bridge.answered_input_channels``): the agent
        bridge answers those conversations with this channel's output channel."""
        return (WHATSAPP, SMS)

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> TwilioInput:
        if credentials:
            logger.warning(
                "Twilio channel: the values under noc.rasa_plugins.channels.twilio.TwilioInput in credentials.yml "
                "are ignored; settings come from the environment (TWILIO_*, PUBLIC_BASE_URL)"
            )
        return cls(load_settings())

    def __init__(
        self,
        settings: Settings,
        *,
        domain_path: Path = DOMAIN_PATH,
        session_factory: Callable[[], sessionmaker] | None = None,
        limiter: RateLimiter | None = None,
    ) -> None:
        self.settings = settings
        self.responses = read_channel_responses(domain_path)
        self.limiter = limiter or limiter_from_settings(settings)
        # Called per request, so the engine is created on first use, not at start.
        self._session_factory = session_factory or get_session_factory

    def get_output_channel(self) -> OutputChannel:
        return TwilioRestOutput(self.settings, self._session_factory)

    # -- signature -------------------------------------------------------

    def _validation_problem(self) -> str | None:
        missing = [
            name
            for name, value in (
                ("TWILIO_AUTH_TOKEN", self.settings.twilio_auth_token),
                ("PUBLIC_BASE_URL", self.settings.public_base_url),
            )
            if not value
        ]
        return ", ".join(missing) + " not set" if missing else None

    def _log_start(self) -> None:
        if not self.settings.twilio_validate_signature:
            logger.warning(
                "Twilio channel: TWILIO_VALIDATE_SIGNATURE=false, X-Twilio-Signature is NOT checked: "
                "anyone can post messages as any number. Local development only."
            )
        elif problem := self._validation_problem():
            logger.warning("Twilio channel: %s; every request to the webhook is refused with 403", problem)

    def _signature_ok(self, request: Request, params: RequestParameters) -> bool:
        if not self.settings.twilio_validate_signature:
            return True
        if self._validation_problem():
            return False
        signature = request.headers.get("X-Twilio-Signature")
        if not signature:
            return False
        url = f"{self.settings.public_base_url}{request.path}"
        if request.query_string:
            url += f"?{request.query_string}"
        return RequestValidator(self.settings.twilio_auth_token).validate(url, params, signature)

    # -- webhook -----------------------------------------------------------

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        self._log_start()
        webhook = Blueprint("noc_twilio_webhook", __name__)
        limit_request_sizes(webhook)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            # Before the signature check: forged requests count against their IP too.
            decision = await self.limiter.hit(ip_limit(self.settings), request_ip(request, self.settings))
            if not decision.allowed:
                return self._rate_limited(decision, status=429)
            params = form_params(request)
            if not self._signature_ok(request, params):
                logger.warning("Twilio channel: refused a request without a valid X-Twilio-Signature")
                return response.text("Forbidden", status=403)
            return await self._handle(params, on_new_message)

        @webhook.listener("after_server_stop")
        async def close_limiter(*_: Any) -> None:
            await self.limiter.close()

        return webhook

    def _rate_limited(self, decision: Decision, *, status: int = 200) -> HTTPResponse:
        # One notice per burst: each TwiML message is an SMS/WhatsApp message the NOC pays for.
        text = self.responses.get(RATE_LIMITED) if decision.first_refusal else None
        return response.text(
            build_twiml([text] if text else []), status=status, content_type=TWIML, headers=retry_after(decision)
        )

    async def _handle(
        self, form: RequestParameters, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> HTTPResponse:
        status = (form.get("MessageStatus") or form.get("SmsStatus") or "").strip().lower()
        if status and status not in INBOUND_STATUSES:
            # A delivery-status callback pointed at this URL by mistake: not a customer message.
            logger.info("Twilio channel: ignored a status callback (%s)", status)
            return _twiml(empty_twiml())
        sender = parse_sender(form.get("From") or "")
        message_sid = (form.get("MessageSid") or form.get("SmsMessageSid") or "").strip()
        if sender is None or not message_sid:
            logger.warning("Twilio channel: request without From or MessageSid")
            return _twiml(empty_twiml(), status=400)
        decision = await self.limiter.hit(sender_limit(self.settings), sender.sender_id)
        if not decision.allowed:
            if decision.first_refusal:
                logger.warning("Twilio channel: %s is over its message rate limit", sender.sender_id)
            # 200: Twilio delivers the notice; the message itself is not processed (nor claimed).
            return self._rate_limited(decision)

        body = form.get("Body") or ""
        unsupported = self._unsupported_kind(form, body)
        factory = self._session_factory()
        claim = await asyncio.to_thread(
            twilio_store.claim_message,
            factory,
            message_sid,
            sender.sender_id,
            choice=None if unsupported else parse_choice(body),
        )
        if claim is None:
            logger.info("Twilio channel: %s already received, not processed again", message_sid)
            return _twiml(empty_twiml())
        if claim.taken_over:
            logger.warning("Twilio channel: %s was received before and never answered; taking it over", message_sid)

        if unsupported:
            text = self.responses.get(unsupported)
            twiml = build_twiml([text] if text else [])
            await self._finish(factory, message_sid, twilio_store.STATUS_UNSUPPORTED, twiml)
            return _twiml(twiml)

        collector = TwiMLCollector()
        message = UserMessage(
            claim.payload or body,
            collector,
            sender.sender_id,
            input_channel=sender.channel,
            message_id=message_sid,
            metadata=self._metadata(sender),
        )
        started = time.monotonic()
        try:
            await run_turn(on_new_message, message)
        except Exception:
            logger.exception("Twilio channel: the bot failed on %s from %s", message_sid, sender.sender_id)
            # The customer still gets a Spanish answer, never a bare 500.
            text = self.responses.get(BOT_FAILED)
            twiml = build_twiml([text] if text else [])
            await self._finish(factory, message_sid, twilio_store.STATUS_FAILED, twiml)
            return _twiml(twiml)
        elapsed = time.monotonic() - started
        if elapsed > SLOW_SECONDS:
            logger.warning("Twilio channel: %s took %.1f s (Twilio gives up after 15 s)", message_sid, elapsed)

        reply = render_reply(collector.messages)
        twiml = build_twiml(reply.bodies)
        await self._finish(
            factory, message_sid, twilio_store.STATUS_ANSWERED, twiml, sender=sender, payloads=reply.payloads
        )
        return _twiml(twiml)

    @staticmethod
    def _unsupported_kind(form: Any, body: str) -> str | None:
        if (form.get("Latitude") or "").strip() and (form.get("Longitude") or "").strip():
            return LOCATION_UNSUPPORTED
        if body.strip():
            # Never parsed: NLU on a long text holds the event loop of every conversation.
            return MESSAGE_TOO_LONG if too_long_for_the_bot(body) else None
        try:
            media = int(form.get("NumMedia") or 0)
        except ValueError:
            media = 0
        return MEDIA_UNSUPPORTED if media > 0 else EMPTY_MESSAGE

    @staticmethod
    def _metadata(sender: Sender) -> dict[str, Any]:
        metadata: dict[str, Any] = {"twilio_channel": sender.channel}
        if sender.e164:
            metadata["channel_phone"] = sender.e164
        return metadata

    async def _finish(
        self,
        factory: sessionmaker,
        message_sid: str,
        status: str,
        twiml: str | None,
        *,
        sender: Sender | None = None,
        payloads: list[str] | None = None,
    ) -> None:
        # The customer's answer matters more than the bookkeeping: log, don't fail.
        try:
            await asyncio.to_thread(
                twilio_store.finish_message,
                factory,
                message_sid,
                status=status,
                response_twiml=twiml,
                menu_sender=sender.sender_id if sender else None,
                menu_payloads=payloads or (),
            )
        except Exception:
            logger.exception("Twilio channel: could not store the outcome of %s", message_sid)
