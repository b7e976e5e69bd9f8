"""The journeys on real servers: a customer, the bot, a handoff and an agent.

``servers`` is the stack the end-to-end tests share (tests/conftest.py): the
three servers of `make run` (the trained model, the action server, the Rasa
server with credentials.yml's channels, the web server with the console).
The Twilio channel checks real signatures; its REST API, which the Rasa
server calls for messages sent outside a webhook's answer (an agent's
reply, the hand back), is ``FakeTwilioApi``, a local server run by this
process.
"""

from __future__ import annotations

import re
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from twilio.request_validator import RequestValidator

from noc.db.agents import create_agent
from noc.db.db import make_engine, make_session_factory
from tests.e2e.servers import TWILIO_ACCOUNT_SID as ACCOUNT_SID
from tests.e2e.servers import TWILIO_AUTH_TOKEN as AUTH_TOKEN
from tests.e2e.servers import TWILIO_SMS_NUMBER as SMS_NUMBER
from tests.e2e.servers import TWILIO_WEBHOOK as WEBHOOK
from tests.e2e.servers import TWILIO_WHATSAPP_NUMBER as WHATSAPP_NUMBER
from tests.e2e.servers import Servers
from tests.polling import eventually

AGENT_USERNAME = "laura"
AGENT_NAME = "Laura Gómez"
AGENT_PASSWORD = "clave-de-prueba-journeys"

TICKET = re.compile(r"INC-\d{4}-\d{6}")
T = TypeVar("T")


@pytest.fixture(scope="package", autouse=True)
def agent_account(servers: Servers) -> None:
    """The journeys' agent, in the shared stack's database."""
    engine = make_engine(servers.database_url)
    try:
        create_agent(
            make_session_factory(engine), username=AGENT_USERNAME, display_name=AGENT_NAME, password=AGENT_PASSWORD
        )
    finally:
        engine.dispose()


def messages_of(twiml: str) -> list[str]:
    root = ET.fromstring(twiml)
    assert root.tag == "Response", twiml
    return [m.text or "" for m in root.findall("Message")]


@dataclass
class Phone:
    """A customer's phone: Twilio's signed webhooks to the Rasa server, the bot's TwiML answers back."""

    from_: str
    history: list[tuple[str, list[str]]] = field(default_factory=list)

    @property
    def whatsapp(self) -> bool:
        return self.from_.startswith("whatsapp:")

    def say(self, body: str) -> list[str]:
        params = {
            "MessageSid": f"SM{uuid.uuid4().hex}",
            "AccountSid": ACCOUNT_SID,
            "From": self.from_,
            "To": f"whatsapp:{WHATSAPP_NUMBER}" if self.whatsapp else SMS_NUMBER,
            "Body": body,
            "NumMedia": "0",
            "SmsStatus": "received",
        }
        signature = RequestValidator(AUTH_TOKEN).compute_signature(WEBHOOK, params)
        response = requests.post(WEBHOOK, data=params, headers={"X-Twilio-Signature": signature}, timeout=60)
        assert response.status_code == 200, response.text
        assert response.headers["Content-Type"].startswith("text/xml")
        texts = messages_of(response.text)
        self.history.append((body, texts))
        return texts

    def transcript(self) -> str:
        return "\n".join(f"> {u}\n" + "\n".join(f"< {b}" for b in bots) for u, bots in self.history)


def hidden(page: str, name: str) -> str:
    """Value of the first hidden input called ``name`` on the page."""
    marker = f'name="{name}" value="'
    start = page.index(marker) + len(marker)
    return page[start : page.index('"', start)]


@dataclass
class AgentConsole:
    """An agent in the console, over HTTP like a browser: session cookie and the forms' CSRF token."""

    web_url: str
    http: requests.Session = field(default_factory=requests.Session)
    csrf: str = ""

    def login(self, username: str = AGENT_USERNAME, password: str = AGENT_PASSWORD) -> None:
        page = self.http.get(f"{self.web_url}/agents/login", timeout=10)
        assert page.status_code == 200, page.text
        response = self.http.post(
            f"{self.web_url}/agents/login",
            data={"username": username, "password": password, "csrf": hidden(page.text, "csrf"), "next": "/agents"},
            allow_redirects=False,
            timeout=10,
        )
        assert response.status_code == 303, response.text
        listing = self.http.get(f"{self.web_url}/agents", timeout=10)
        assert listing.status_code == 200 and "Incidentes" in listing.text, listing.text
        self.csrf = hidden(listing.text, "csrf")

    def page(self, ticket: str) -> str:
        response = self.http.get(f"{self.web_url}/agents/incidents/{ticket}", timeout=10)
        assert response.status_code == 200, response.text
        return response.text

    def post(self, ticket: str, form: str, **data: str) -> str:
        """Submits one of the incident page's forms; returns the notice it redirects with (``aviso``)."""
        response = self.http.post(
            f"{self.web_url}/agents/incidents/{ticket}/{form}",
            data={"csrf": self.csrf, **data},
            allow_redirects=False,
            timeout=30,
        )
        assert response.status_code == 303, f"{form}: {response.status_code} {response.text[-2000:]}"
        location = urlsplit(response.headers["Location"])
        assert location.path == f"/agents/incidents/{ticket}", location
        return parse_qs(location.query).get("aviso", [""])[0]

    def take(self, ticket: str) -> str:
        return self.post(ticket, "take")

    def reply(self, ticket: str, text: str) -> str:
        return self.post(ticket, "reply", text=text)

    def hand_back(self, ticket: str) -> str:
        return self.post(ticket, "hand-back")

    def close(self, ticket: str) -> str:
        return self.post(ticket, "close")

    def transcript(self, ticket: str) -> list[tuple[str, str]]:
        """(role, text) of the conversation as the incident page's live view shows it."""
        response = self.http.get(f"{self.web_url}/agents/incidents/{ticket}/messages", params={"after": 0}, timeout=10)
        assert response.status_code == 200, response.text
        return [(m["role"], m["text"]) for m in response.json()["messages"]]

    def wait_for_message(self, ticket: str, role: str, text: str) -> list[tuple[str, str]]:
        return eventually(
            lambda: (lines := self.transcript(ticket)) and (role, text) in lines and lines,
            what=f"{role} message {text!r} in the console's transcript of {ticket}",
        )


@pytest.fixture
def console(servers: Servers) -> Iterator[AgentConsole]:
    agent = AgentConsole(servers.web_url)
    agent.login()
    yield agent
    agent.http.close()


def api_get(servers: Servers, path: str) -> Any:
    response = requests.get(
        f"{servers.web_url}{path}", headers={"Authorization": f"Bearer {servers.token}"}, timeout=10
    )
    assert response.status_code == 200, response.text
    return response.json()


def handoff_of(servers: Servers, ticket: str) -> dict[str, Any]:
    handoffs = [h for h in api_get(servers, "/api/handoffs")["handoffs"] if h["ticket"] == ticket]
    assert len(handoffs) == 1, handoffs
    return handoffs[0]
