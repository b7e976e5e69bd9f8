"""The bounded async driver: N customers at once over REST and signed Twilio webhooks (aiohttp).

Bounded three ways: a fixed number of conversations, at most ``MAX_TURNS``
messages each, and a wall-clock cap after which no message is sent (plus each
request's own timeout). Every request goes to loopback addresses only: the
caller passes the URL of a server it started.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass

import aiohttp
from twilio.request_validator import RequestValidator

from scripts.load.customers import (
    MAX_TURNS,
    MOODBOT,
    TWILIO_CHANNELS,
    Customer,
    next_message,
    ticket_opened,
    turn_problem,
)
from scripts.load.stats import Conversation, Turn

REST_PATH = "/webhooks/rest/webhook"
TWILIO_PATH = "/webhooks/twilio/webhook"
# Twilio's own numbers the customers write to (docs/twilio.md, tests/channels).
TWILIO_TO = {"whatsapp": "whatsapp:+14155238886", "sms": "+14155550100"}
ACCOUNT_SID = "AC" + "0" * 32
# nginx waits 90 s for a Rasa server (deploy/nginx/noc.conf.j2): a longer wait would only see nginx's 504.
DEFAULT_REQUEST_TIMEOUT = 90.0


@dataclass(frozen=True)
class Endpoint:
    base_url: str
    # None: REST only (the bare `rasa init` bot has no Twilio channel).
    twilio_token: str | None = None
    # The URL the signature is computed on (PUBLIC_BASE_URL); the base URL when None.
    public_base_url: str | None = None

    def twilio_params(self, customer: Customer, text: str) -> dict[str, str]:
        return {
            "MessageSid": f"SM{uuid.uuid4().hex}",
            "AccountSid": ACCOUNT_SID,
            "From": customer.address,
            "To": TWILIO_TO[customer.channel],
            "Body": text,
            "NumMedia": "0",
            "SmsStatus": "received",
        }

    def twilio_signature(self, params: dict[str, str]) -> str:
        if self.twilio_token is None:
            raise ValueError("this endpoint has no Twilio channel")
        url = (self.public_base_url or self.base_url).rstrip("/") + TWILIO_PATH
        return RequestValidator(self.twilio_token).compute_signature(url, params)


def twiml_texts(body: str) -> list[str]:
    """The ``<Message>`` texts of a TwiML answer."""
    return [message.text or "" for message in ET.fromstring(body).findall("Message")]


async def send(http: aiohttp.ClientSession, endpoint: Endpoint, customer: Customer, text: str, timeout: float) -> Turn:
    """One message and the bot's answer, timed from sending to the whole answer read."""
    message_id = None
    if customer.channel in TWILIO_CHANNELS:
        params = endpoint.twilio_params(customer, text)
        message_id = params["MessageSid"]
        request = http.post(
            endpoint.base_url + TWILIO_PATH,
            data=params,
            headers={"X-Twilio-Signature": endpoint.twilio_signature(params)},
            timeout=aiohttp.ClientTimeout(total=timeout),
        )
    else:
        request = http.post(
            endpoint.base_url + REST_PATH,
            json={"sender": customer.sender_id, "message": text},
            timeout=aiohttp.ClientTimeout(total=timeout),
        )
    started = time.perf_counter()
    try:
        async with request as response:
            body = await response.text()
            status = response.status
            upstream = response.headers.get("X-NOC-Upstream")
    except asyncio.TimeoutError:
        return Turn(text, message_id, None, time.perf_counter() - started, error="timeout")
    except aiohttp.ClientError as exc:
        return Turn(text, message_id, None, time.perf_counter() - started, error=f"connection_{type(exc).__name__}")
    seconds = time.perf_counter() - started
    if status != 200:
        return Turn(text, message_id, status, seconds, error=f"http_{status}", upstream=upstream)
    try:
        if message_id is not None:
            bot_texts = twiml_texts(body)
        else:
            bot_texts = [message.get("text", "") for message in rest_messages(body)]
    except (ValueError, ET.ParseError, AttributeError):
        return Turn(text, message_id, status, seconds, error="unreadable_answer", upstream=upstream)
    # The moodbot says nothing to some of its messages ("ok"): that is its normal answer.
    problem = None if customer.channel == MOODBOT else turn_problem(bot_texts)
    return Turn(text, message_id, status, seconds, bot_texts, problem, upstream)


def rest_messages(body: str) -> list[dict]:
    """The bot's messages of a REST answer (a JSON list of objects)."""
    value = json.loads(body)
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise ValueError("not a list of messages")
    return value


async def converse(
    http: aiohttp.ClientSession,
    endpoint: Endpoint,
    customer: Customer,
    conversation: Conversation,
    *,
    timeout: float,
    deadline: float,
) -> None:
    """One customer from the first message to the ticket (or to the first error), into ``conversation``."""
    bot_texts: list[str] = []
    while True:
        text = next_message(customer, [turn.text for turn in conversation.turns], bot_texts)
        if text is None:
            if customer.channel == MOODBOT:
                conversation.finished = True
            elif len(conversation.turns) >= MAX_TURNS:
                conversation.error = "no_ticket_in_max_turns"
            else:
                conversation.error = "unexpected_question"
            return
        if time.monotonic() > deadline:
            conversation.error = "time_cap"
            return
        turn = await send(http, endpoint, customer, text, timeout)
        conversation.turns.append(turn)
        if (ticket := ticket_opened(turn.bot_texts)) is not None:
            conversation.ticket = ticket
            conversation.finished = True
            return
        if turn.error:
            conversation.error = turn.error
            return
        bot_texts = turn.bot_texts


async def run_conversations(
    endpoint: Endpoint,
    customers: Sequence[Customer],
    *,
    concurrency: int,
    time_cap: float,
    timeout: float = DEFAULT_REQUEST_TIMEOUT,
) -> tuple[list[Conversation], float]:
    """All customers, ``concurrency`` at a time; the conversations and the wall time they took."""
    queue: asyncio.Queue[Customer] = asyncio.Queue()
    for customer in customers:
        queue.put_nowait(customer)
    results: list[Conversation] = []
    deadline = time.monotonic() + time_cap
    connector = aiohttp.TCPConnector(limit=concurrency)

    async def worker() -> None:
        while time.monotonic() <= deadline:
            try:
                customer = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            # Listed before it starts, so that one cut short by the hard cap is still counted.
            conversation = Conversation(customer.sender_id, customer.channel)
            results.append(conversation)
            await converse(http, endpoint, customer, conversation, timeout=timeout, deadline=deadline)

    started = time.perf_counter()
    async with aiohttp.ClientSession(connector=connector) as http:
        workers = [asyncio.create_task(worker()) for _ in range(min(concurrency, len(customers)))]
        # A message already sent when the cap passes still gets its own timeout, no more.
        done, pending = await asyncio.wait(workers, timeout=time_cap + timeout + 10)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        for task in done:
            task.result()  # a bug in the driver must not pass for a quiet run
    wall = time.perf_counter() - started
    for conversation in results:
        if not conversation.finished and conversation.error is None:
            conversation.error = "cancelled"
    # Customers never started because of the cap are conversations that did not finish.
    while not queue.empty():
        customer = queue.get_nowait()
        results.append(Conversation(customer.sender_id, customer.channel, error="time_cap"))
    return results, wall
