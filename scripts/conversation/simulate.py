"""Running simulated customers against the real servers, over the REST channel.

A conversation stops at a ticket (or change request number), a handoff, a
cancellation, when the customer gives up, or after MAX_TURNS customer
messages. Afterwards the record is read back through the web server's API,
as an agent would (Bearer token), never from the bot's tracker.
"""

from __future__ import annotations

import socket
import threading
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import requests

from scripts.conversation import bot
from scripts.conversation.bot import BotTurn, Template, load_templates, read_turn
from scripts.conversation.customers import Customer, Reply

MAX_TURNS = 40
STOPPED = "stopped"  # the customer gave up (an ignored request, a question it cannot place)
TURN_LIMIT = "turn_limit"
ERROR = "error"


@dataclass(frozen=True)
class Endpoints:
    rasa_url: str
    web_url: str
    token: str


class Client:
    """The REST channel and the record API, one HTTP session per thread."""

    def __init__(self, endpoints: Endpoints, timeout: float = 60) -> None:
        self.endpoints = endpoints
        self.timeout = timeout
        self.http = requests.Session()

    def say(self, sender: str, text: str) -> list[dict[str, Any]]:
        response = self.http.post(
            f"{self.endpoints.rasa_url}/webhooks/rest/webhook",
            json={"sender": sender, "message": text},
            timeout=self.timeout,
        )
        response.raise_for_status()
        data = response.json()
        return data if isinstance(data, list) else []

    def _get(self, path: str) -> requests.Response:
        return self.http.get(
            f"{self.endpoints.web_url}{path}",
            headers={"Authorization": f"Bearer {self.endpoints.token}"},
            timeout=self.timeout,
        )

    def incident(self, ticket: str) -> dict[str, Any] | None:
        response = self._get(f"/api/incidents/{ticket}")
        return response.json() if response.status_code == 200 else None

    def change_request(self, number: str) -> dict[str, Any] | None:
        response = self._get(f"/api/change-requests/{number}")
        return response.json() if response.status_code == 200 else None

    def incidents_of(self, sender: str) -> list[dict[str, Any]]:
        response = self._get(f"/api/incidents?sender_id={sender}")
        return response.json().get("incidents", []) if response.status_code == 200 else []

    def change_requests_of(self, sender: str) -> list[dict[str, Any]]:
        response = self._get(f"/api/change-requests?sender_id={sender}")
        return response.json().get("change_requests", []) if response.status_code == 200 else []


@dataclass
class Exchange:
    customer: Reply
    bot: BotTurn

    def as_dict(self) -> dict[str, Any]:
        return {
            "customer": self.customer.as_dict(),
            "bot": [m.as_dict() for m in self.bot.messages],
            "questions": list(self.bot.questions),
            "terminal": self.bot.terminal,
        }


@dataclass
class Conversation:
    customer: Customer
    sender: str
    exchanges: list[Exchange] = field(default_factory=list)
    outcome: str = STOPPED
    number: str | None = None
    record: dict[str, Any] | None = None
    other_records: list[str] = field(default_factory=list)  # tickets/numbers of this sender besides `number`
    error: str | None = None

    @property
    def questions(self) -> list[str]:
        """Every question the bot asked, in order."""
        return [q for e in self.exchanges for q in e.bot.questions]

    def transcript(self) -> str:
        lines = []
        for exchange in self.exchanges:
            reply = exchange.customer
            lines.append(f"> {reply.text}    [{reply.kind}{' → ' + reply.question if reply.question else ''}]")
            for message in exchange.bot.messages:
                label = message.response or "?"
                buttons = f" [{' | '.join(t for t, _ in message.buttons)}]" if message.buttons else ""
                text = message.text.replace("\n", " / ")
                lines.append(f"< {text}{buttons}    ({label})")
        lines.append(f"= {self.outcome}{' ' + self.number if self.number else ''}")
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        return {
            "customer": self.customer.snapshot(),
            "sender": self.sender,
            "outcome": self.outcome,
            "number": self.number,
            "questions": self.questions,
            "exchanges": [e.as_dict() for e in self.exchanges],
            "record": self.record,
            "other_records": self.other_records,
            "error": self.error,
        }


def run_customer(
    customer: Customer, client: Client, templates: Sequence[Template], *, run_id: str, max_turns: int = MAX_TURNS
) -> Conversation:
    conversation = Conversation(customer=customer, sender=f"conv-{run_id}-{customer.id}")
    reply: Reply | None = customer.opening_reply()
    try:
        while reply is not None:
            if len(conversation.exchanges) >= max_turns:
                conversation.outcome = TURN_LIMIT
                break
            turn = read_turn(client.say(conversation.sender, reply.text), templates)
            conversation.exchanges.append(Exchange(reply, turn))
            if turn.terminal:
                conversation.outcome = turn.terminal
                conversation.number = turn.number
                break
            reply = customer.reply(turn)
        read_records(conversation, client)
    except requests.RequestException as exc:
        conversation.outcome = ERROR
        conversation.error = f"{type(exc).__name__}: {exc}"
    return conversation


def read_records(conversation: Conversation, client: Client) -> None:
    """The record the conversation produced, and any other one of the same sender."""
    number = conversation.number
    if number and conversation.outcome == bot.CHANGE:
        conversation.record = client.change_request(number)
    elif number:
        conversation.record = client.incident(number)
    others = [i["ticket"] for i in client.incidents_of(conversation.sender)]
    others += [c["number"] for c in client.change_requests_of(conversation.sender)]
    conversation.other_records = [n for n in others if n != number]


def busy_ports(ports: Sequence[int], host: str = "127.0.0.1") -> list[int]:
    """Ports something already listens on: starting our servers there would talk to someone else's."""
    busy = []
    for port in ports:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.settimeout(0.5)
            if probe.connect_ex((host, port)) == 0:
                busy.append(port)
    return busy


def run_all(
    customers: Sequence[Customer],
    endpoints: Endpoints,
    *,
    workers: int = 4,
    run_id: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[Conversation]:
    """Every customer's conversation, `workers` at a time (each its own sender), in customer order."""
    templates = load_templates()
    run = run_id or uuid.uuid4().hex[:6]
    results: list[Conversation | None] = [None] * len(customers)
    finished: list[int] = []
    lock = threading.Lock()

    def one(position: int) -> None:
        client = Client(endpoints)
        results[position] = run_customer(customers[position], client, templates, run_id=run)
        with lock:
            finished.append(position)
            count = len(finished)
        if progress:
            progress(count, len(customers))

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        list(pool.map(one, range(len(customers))))
    return [c for c in results if c is not None]
