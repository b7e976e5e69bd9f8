"""Whole intakes over the Twilio channel (WhatsApp and SMS) against the three real servers.

The servers are the stack the end-to-end tests share (tests/conftest.py).

Twilio is played by this test: form-encoded, signed webhooks to the Rasa server,
the bot's answers read from the TwiML of each HTTP response. The conversation
is driven by what the bot last asked, not by a fixed script, so it follows the
form whether it asks for the phone or asks to confirm the number the customer
writes from.
"""

from __future__ import annotations

import re
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

import pytest
import requests
from twilio.request_validator import RequestValidator

from tests.e2e.servers import TWILIO_ACCOUNT_SID, Servers
from tests.e2e.servers import TWILIO_AUTH_TOKEN as TOKEN
from tests.e2e.servers import TWILIO_WEBHOOK as WEBHOOK

TICKET = re.compile(r"INC-\d{4}-\d{6}")
MAX_TURNS = 25


def messages_of(twiml: str) -> list[str]:
    return [m.text or "" for m in ET.fromstring(twiml).findall("Message")]


@dataclass
class Phone:
    """A customer's phone talking to the bot through Twilio."""

    from_: str
    history: list[tuple[str, list[str]]] = field(default_factory=list)

    def post(self, params: dict[str, str], *, sign: bool = True) -> requests.Response:
        headers = {}
        if sign:
            headers["X-Twilio-Signature"] = RequestValidator(TOKEN).compute_signature(WEBHOOK, params)
        return requests.post(WEBHOOK, data=params, headers=headers, timeout=60)

    def params(self, body: str, sid: str | None = None, **extra: str) -> dict[str, str]:
        whatsapp = self.from_.startswith("whatsapp:")
        return {
            "MessageSid": sid or f"SM{uuid.uuid4().hex}",
            "AccountSid": TWILIO_ACCOUNT_SID,
            "From": self.from_,
            "To": "whatsapp:+14155238886" if whatsapp else "+14155550100",
            "Body": body,
            "NumMedia": "0",
            **extra,
        }

    def say(self, body: str, **extra: str) -> list[str]:
        response = self.post(self.params(body, **extra))
        assert response.status_code == 200, response.text
        assert response.headers["Content-Type"].startswith("text/xml")
        texts = messages_of(response.text)
        self.history.append((body, texts))
        return texts

    def transcript(self) -> str:
        return "\n".join(f"> {u}\n" + "\n".join(f"< {b}" for b in bots) for u, bots in self.history)


@dataclass(frozen=True)
class Customer:
    symptom: str
    company: str
    service_id: str
    name: str
    phone: str
    country: str
    email: str
    # How this customer answers yes/no questions: "sí" typed, or "1" from the numbered list.
    yes: str


def last_question(texts: list[str]) -> str:
    """The last thing the bot said (messages of a turn are separated by blank lines)."""
    return "\n\n".join(texts).split("\n\n")[-1].lower()


def answer(question: str, customer: Customer) -> str:
    """What the customer replies to the bot's last question."""
    if "correctos" in question:
        return customer.yes
    if "desde el que nos escribe" in question:  # confirm the channel's number
        return customer.yes
    rules = (
        ("empresa", customer.company),
        ("id del servicio", customer.service_id),
        ("nombre", customer.name),
        ("teléfono", customer.phone),
        ("país", customer.country),
        ("correo", customer.email),
        ("desde cuándo", "desde ayer a las 3 de la tarde"),
        ("describiría la falla", "1"),
        ("encendido", customer.yes),
        ("reinició", customer.yes),
        ("continúa", customer.yes),
        ("problema", customer.symptom),
    )
    for keyword, reply in rules:
        if keyword in question:
            return reply
    raise AssertionError(f"unexpected question: {question!r}")


def complete_intake(phone: Phone, customer: Customer) -> str:
    """Talks until a ticket number appears; returns it."""
    texts = phone.say(customer.symptom)
    for _ in range(MAX_TURNS):
        joined = "\n".join(texts)
        if match := TICKET.search(joined):
            return match.group()
        assert texts, phone.transcript()
        texts = phone.say(answer(last_question(texts), customer))
    raise AssertionError(f"no ticket after {MAX_TURNS} turns:\n{phone.transcript()}")


def get_incident(servers: Servers, ticket: str) -> dict:
    response = requests.get(
        f"{servers.web_url}/api/incidents/{ticket}",
        headers={"Authorization": f"Bearer {servers.token}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize(
    ("from_", "customer", "channel", "sender_id"),
    [
        (
            "whatsapp:+573001234567",
            Customer(
                symptom="el enlace de la sede norte está caído desde ayer",
                company="Banco Andino",
                service_id="CO-MPLS-00123",
                name="Ana Ruiz",
                phone="+57 300 123 4567",
                country="Colombia",
                email="ana.ruiz@bancoandino.com.co",
                yes="1",
            ),
            "whatsapp",
            "whatsapp:+573001234567",
        ),
        (
            "+51987654321",
            Customer(
                symptom="el servicio de internet de la planta no tiene conexión desde hace dos horas",
                company="Minera Los Andes",
                service_id="PE-INT-4501",
                name="Luis Paz",
                phone="+51 987 654 321",
                country="Perú",
                email="luis.paz@mineraandes.pe",
                yes="sí",
            ),
            "sms",
            "sms:+51987654321",
        ),
    ],
    ids=["whatsapp", "sms"],
)
def test_whole_intake_over_twilio(servers: Servers, from_: str, customer: Customer, channel: str, sender_id: str):
    phone = Phone(from_)
    ticket = complete_intake(phone, customer)

    record = get_incident(servers, ticket)
    assert record["channel"] == channel, phone.transcript()
    assert record["sender_id"] == sender_id
    assert record["company"] == customer.company
    assert record["service_id"] == customer.service_id
    assert record["contact_phone"] == from_.removeprefix("whatsapp:")
    assert record["contact_email"] == customer.email
    user_lines = [m["text"] for m in record["transcript"] if m["role"] == "user"]
    assert any(customer.symptom in line for line in user_lines), user_lines
    if customer.yes == "1":
        # A numbered answer was sent as the button's payload; the agent reads its title.
        assert "1" not in user_lines and "/affirm" not in user_lines, user_lines


def test_forged_request_is_refused(servers: Servers) -> None:
    phone = Phone("whatsapp:+573009999999")
    params = phone.params("hola")
    assert phone.post(params, sign=False).status_code == 403
    other = RequestValidator("other-token").compute_signature(WEBHOOK, params)
    forged = requests.post(WEBHOOK, data=params, headers={"X-Twilio-Signature": other}, timeout=60)
    assert forged.status_code == 403


def test_retry_is_answered_once(servers: Servers) -> None:
    phone = Phone("whatsapp:+573008888888")
    params = phone.params("hola")
    first = phone.post(params)
    retry = phone.post(params)
    assert first.status_code == retry.status_code == 200
    assert messages_of(first.text)
    assert messages_of(retry.text) == []


def test_media_without_text_gets_the_domain_text(servers: Servers) -> None:
    phone = Phone("+51911111111")
    texts = phone.say("", NumMedia="1", MediaContentType0="image/jpeg", MediaUrl0="https://api.twilio.com/m/1")
    assert texts == ["Por ahora solo puedo leer mensajes de texto. Escríbame en palabras, por favor."]
