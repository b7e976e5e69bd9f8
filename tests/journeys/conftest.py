"""One stack of real servers for the journeys: a customer, the bot, a handoff and an agent.

``servers`` starts the three servers of `make run` (the trained model, the
action server, the Rasa server with credentials.yml's channels, the web
server with the console) once for the package, on ports of their own. The
Twilio channel checks real signatures; its REST API, which the Rasa server
calls for messages sent outside a webhook's answer (an agent's reply, the
hand back), is ``FakeTwilioApi``, a local server run by this process.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from twilio.request_validator import RequestValidator

from noc.db.agents import create_agent
from noc.db.db import make_engine, make_session_factory
from tests.e2e.servers import Servers, start_servers, stop_servers

RASA_PORT = 15405
ACTION_PORT = 15455
WEB_PORT = 18480
PUBLIC_BASE_URL = f"http://127.0.0.1:{RASA_PORT}"
WEBHOOK = f"{PUBLIC_BASE_URL}/webhooks/twilio/webhook"

ACCOUNT_SID = "AC" + "1" * 32
AUTH_TOKEN = "journeys-twilio-token"
SMS_NUMBER = "+15005550006"
WHATSAPP_NUMBER = "+14155238886"

AGENT_USERNAME = "laura"
AGENT_NAME = "Laura Gómez"
AGENT_PASSWORD = "clave-de-prueba-journeys"

TICKET = re.compile(r"INC-\d{4}-\d{6}")
T = TypeVar("T")


@dataclass
class FakeTwilioApi:
    """``POST /2010-04-01/Accounts/{sid}/Messages.json`` as Twilio answers it, on a local port."""

    base_url: str = ""
    messages: list[dict[str, str]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def sent_to(self, to: str) -> list[dict[str, str]]:
        with self.lock:
            return [m for m in self.messages if m["To"] == to]

    def handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self
        path = re.compile(r"^/2010-04-01/Accounts/(?P<sid>[^/]+)/Messages\.json$")
        expected_auth = "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                match = path.match(urlsplit(self.path).path)
                if match is None:
                    return self._answer(404, {"code": 20404, "message": "Not found", "status": 404})
                if match["sid"] != ACCOUNT_SID or self.headers.get("Authorization") != expected_auth:
                    with fake.lock:
                        fake.refused.append(self.path)
                    return self._answer(401, {"code": 20003, "message": "Authenticate", "status": 401})
                form = {key: values[0] for key, values in parse_qs(body, keep_blank_values=True).items()}
                with fake.lock:
                    fake.messages.append(form)
                    sid = f"SM{len(fake.messages):032x}"
                self._answer(
                    201,
                    {
                        "sid": sid,
                        "account_sid": ACCOUNT_SID,
                        "to": form.get("To"),
                        "from": form.get("From"),
                        "body": form.get("Body"),
                        "status": "queued",
                    },
                )

            def _answer(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_: Any) -> None:  # keep pytest's output clean
                pass

        return Handler


@pytest.fixture(scope="package")
def fake_twilio() -> Iterator[FakeTwilioApi]:
    fake = FakeTwilioApi()
    server = ThreadingHTTPServer(("127.0.0.1", 0), fake.handler())
    fake.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, name="fake-twilio-api", daemon=True)
    thread.start()
    yield fake
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="package")
def servers(tmp_path_factory: pytest.TempPathFactory, fake_twilio: FakeTwilioApi) -> Iterator[Servers]:
    tmp = tmp_path_factory.mktemp("journeys")
    started, procs = start_servers(
        tmp,
        rasa_port=RASA_PORT,
        action_port=ACTION_PORT,
        web_port=WEB_PORT,
        extra_env={
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TWILIO_SMS_NUMBER": SMS_NUMBER,
            "TWILIO_WHATSAPP_NUMBER": WHATSAPP_NUMBER,
            "TWILIO_API_BASE_URL": fake_twilio.base_url,
            "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
            "TWILIO_VALIDATE_SIGNATURE": "true",
        },
    )
    engine = make_engine(started.database_url)
    try:
        create_agent(
            make_session_factory(engine), username=AGENT_USERNAME, display_name=AGENT_NAME, password=AGENT_PASSWORD
        )
    finally:
        engine.dispose()
    yield started
    stop_servers(procs)


def eventually(probe: Callable[[], T | None], *, timeout: float = 15.0, what: str = "condition") -> T:
    """``probe()``'s first truthy value, polled (the conversation log is written in the background)."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s")
        time.sleep(0.25)


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
