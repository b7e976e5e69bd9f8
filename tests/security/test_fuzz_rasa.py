"""Fuzzing the Rasa server's channels (REST, Twilio, agent bridge, widget socket) on one real server.

Two customers talk to the bot first: A over REST and W over WhatsApp. Then
hostile requests come as other senders, including W's own sender id over
REST (which the REST channel must refuse). No request may get a 5xx, A's and
W's conversation logs must be unchanged, and A must go on where it was.
The servers log at DEBUG, so the logs hold every message: the phone number
and e-mail a customer writes must appear there only masked.
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

from tests.e2e.servers import Servers, start_servers, stop_servers
from tests.polling import eventually
from tests.security.fuzz_http import json_values, printable, texts
from tests.web.socketio_client import RasaSocket
from tests.web.socketio_client import texts as socket_texts

RASA_PORT = 17005
PUBLIC_BASE_URL = f"http://127.0.0.1:{RASA_PORT}"
TWILIO_WEBHOOK = f"{PUBLIC_BASE_URL}/webhooks/twilio/webhook"
TWILIO_TOKEN = "fuzz-twilio-token"
A_SENDER = f"fuzz-a-{uuid.uuid4().hex[:12]}"
W_FROM = "whatsapp:+573009876543"
W_SENDER = W_FROM  # the Twilio channel's sender id for a WhatsApp number
PHONE, EMAIL = "+57 310 555 0199", "maria.lopez@bancoandino.com.co"
EXAMPLES = settings(
    max_examples=80, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
TIMEOUT = 60


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    tmp = tmp_path_factory.mktemp("fuzz_rasa")
    started, procs = start_servers(
        tmp,
        rasa_port=RASA_PORT,
        action_port=17055,
        web_port=17080,
        extra_env={
            "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
            "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
            "TWILIO_VALIDATE_SIGNATURE": "true",
            "REDIS_URL": "",
            # Limits off: the fuzzing must reach the bot, not the limiter (tested on its own).
            "RATE_LIMIT_SENDER_PER_MINUTE": "0",
            "RATE_LIMIT_IP_PER_MINUTE": "0",
            "LOG_LEVEL": "DEBUG",
        },
    )
    try:
        yield started
    finally:
        stop_servers(procs)


def rest(servers: Servers, body: Any = None, *, raw: bytes | None = None, query: str = "", **headers: str):
    data = raw if raw is not None else json.dumps(body).encode()
    return requests.post(
        f"{servers.rasa_url}/webhooks/rest/webhook{query}",
        data=data,
        headers={"Content-Type": "application/json", **headers},
        timeout=TIMEOUT,
    )


def twilio(params: dict[str, str], *, sign: bool = True) -> requests.Response:
    headers = {"X-Twilio-Signature": RequestValidator(TWILIO_TOKEN).compute_signature(TWILIO_WEBHOOK, params)}
    return requests.post(TWILIO_WEBHOOK, data=params, headers=headers if sign else {}, timeout=TIMEOUT)


def say_rest(servers: Servers, sender: str, text: str) -> str:
    response = rest(servers, {"sender": sender, "message": text})
    assert response.status_code == 200, response.text
    return "\n".join(m.get("text", "") for m in response.json())


def conversation(servers: Servers, sender: str) -> list[tuple]:
    """The sender's rows of the live conversation log (written by the Rasa server's event broker)."""
    path = servers.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        return db.execute(
            "SELECT role, text, at, channel FROM conversation_messages WHERE sender_id = ? ORDER BY id", (sender,)
        ).fetchall()


def settled(servers: Servers, sender: str, at_least: int) -> list[tuple]:
    # The broker writes right after the answer; give it a moment.
    deadline = time.monotonic() + 10
    while len(rows := conversation(servers, sender)) < at_least and time.monotonic() < deadline:
        time.sleep(0.2)
    return rows


@pytest.fixture(scope="module")
def before(servers: Servers) -> dict[str, list[tuple]]:
    """A and W have started their reports; their conversation logs as they stand."""
    assert "empresa" in say_rest(servers, A_SENDER, "el enlace de la sede norte está caído desde ayer").lower()
    say_rest(servers, A_SENDER, "Banco Andino")
    sid = f"SM{uuid.uuid4().hex}"
    reply = twilio(
        {
            "MessageSid": sid,
            "AccountSid": "AC" + "0" * 32,
            "From": W_FROM,
            "To": "whatsapp:+14155238886",
            "Body": "el enlace está caído desde ayer",
            "NumMedia": "0",
        }
    )
    assert reply.status_code == 200 and "<Message>" in reply.text, reply.text
    return {A_SENDER: settled(servers, A_SENDER, 4), W_SENDER: settled(servers, W_SENDER, 2)}


def unchanged(servers: Servers, before: dict[str, list[tuple]], what: str) -> None:
    for sender, rows in before.items():
        assert conversation(servers, sender) == rows, f"{sender}'s conversation changed by {what}"


def not_the_customers(sender: Any) -> bool:
    return sender != A_SENDER


# -- REST -----------------------------------------------------------------------

# Most requests are well formed with hostile text, so they reach the bot; the rest are garbage.
new_senders = st.uuids().map(lambda u: f"fuzz-{u.hex[:12]}")
senders = st.one_of(texts, printable, st.sampled_from([W_SENDER, "sms:+573009876543", "default", "", " "]))
well_formed = st.fixed_dictionaries(
    {"sender": new_senders, "message": texts}, optional={"input_channel": texts, "metadata": json_values}
)
rest_bodies = st.one_of(
    well_formed,
    well_formed,
    well_formed,
    st.fixed_dictionaries(
        {"sender": senders, "message": st.one_of(texts, json_values)},
        optional={"input_channel": texts, "metadata": json_values, "stream": json_values},
    ),
    json_values,
).filter(lambda body: not (isinstance(body, dict) and body.get("sender") == A_SENDER))


@EXAMPLES
@given(
    body=st.one_of(rest_bodies.map(lambda b: json.dumps(b).encode()), st.binary(max_size=200)),
    query=st.sampled_from(["", "?stream=true", "?stream=%00", "?x=" + "y" * 300]),
    content_type=st.sampled_from(["application/json", "text/plain", "application/x-www-form-urlencoded"]),
)
def test_rest_gets_no_5xx(servers: Servers, before: dict, body: bytes, query: str, content_type: str) -> None:
    response = rest(servers, raw=body, query=query, **{"Content-Type": content_type})
    assert response.status_code < 500, (body[:300], response.status_code, response.text[:300])
    unchanged(servers, before, f"REST {body[:200]!r}")


# -- Twilio ---------------------------------------------------------------------

twilio_values = st.one_of(texts, st.sampled_from(["0", "1", "-1", "99999999999", "1e5", "received", "sent"]))
odd_fields = st.dictionaries(
    st.sampled_from(["To", "NumMedia", "Latitude", "Longitude", "SmsStatus", "MessageStatus", "MediaUrl0"]),
    twilio_values,
    max_size=3,
)
from_values = st.one_of(
    st.integers(10**9, 10**12).map(lambda n: f"whatsapp:+57{n}"),
    st.integers(10**8, 10**11).map(lambda n: f"+51{n}"),
    texts,
    st.sampled_from(["whatsapp:", "sms:+1", "+", "whatsapp:abc", "12345"]),
).filter(lambda value: value.strip() != W_FROM)
sids = st.one_of(st.uuids().map(lambda u: f"SM{u.hex}"), st.uuids().map(lambda u: f"SM{u.hex}"), st.just(""), printable)
twilio_forms = st.builds(
    lambda sid, from_, body, odd: {"MessageSid": sid, "From": from_, "Body": body, "NumMedia": "0", **odd},
    sids,
    from_values,
    texts,
    st.one_of(st.just({}), odd_fields),
)


def form_safe(params: dict[str, str]) -> dict[str, str]:
    # Form values travel as UTF-8; a lone surrogate cannot (the client would fail, not the server).
    return {k: v.encode("utf-8", "replace").decode("utf-8") for k, v in params.items()}


@EXAMPLES
@given(params=twilio_forms.map(form_safe), sign=st.booleans())
def test_twilio_gets_no_5xx(servers: Servers, before: dict, params: dict[str, str], sign: bool) -> None:
    response = twilio(params, sign=sign)
    assert response.status_code < 500, (params, response.status_code, response.text[:300])
    if not sign:
        assert response.status_code == 403
    unchanged(servers, before, f"Twilio {params}")


# -- agent bridge ------------------------------------------------------------------


@EXAMPLES
@given(
    path=st.sampled_from(["message", "resume"]),
    body=json_values.filter(lambda b: not (isinstance(b, dict) and b.get("sender_id") in (A_SENDER, W_SENDER))),
    authorization=st.one_of(st.none(), printable, st.just("Bearer e2e-token")),
)
def test_agent_bridge_gets_no_5xx(
    servers: Servers, before: dict, path: str, body: Any, authorization: str | None
) -> None:
    headers = {"Content-Type": "application/json", **({"Authorization": authorization} if authorization else {})}
    # json.dumps, not requests' json=: NaN and infinities are hostile input worth sending.
    response = requests.post(
        f"{servers.rasa_url}/webhooks/agent_bridge/{path}", data=json.dumps(body), headers=headers, timeout=TIMEOUT
    )
    assert response.status_code < 500, (body, response.status_code, response.text[:300])
    unchanged(servers, before, f"bridge {body}")


# -- widget socket ------------------------------------------------------------------

socket_events = st.tuples(
    st.sampled_from(["user_uttered", "session_request", "bot_uttered", "message"]),
    st.one_of(
        json_values,
        st.fixed_dictionaries(
            {"session_id": st.one_of(texts, st.uuids().map(lambda u: u.hex)), "message": st.one_of(texts, json_values)},
            optional={"metadata": st.one_of(json_values, texts)},
        ),
    ),
).filter(lambda event: not (isinstance(event[1], dict) and event[1].get("session_id") == A_SENDER))


@pytest.fixture
async def socket(servers: Servers) -> Any:
    client = RasaSocket(servers.rasa_url)
    await client.connect()
    yield client
    await client.close()


@EXAMPLES
@given(event=socket_events)
async def test_socket_events_break_nothing(servers: Servers, before: dict, socket: RasaSocket, event: tuple) -> None:
    await socket.sio.emit(*event)
    unchanged(servers, before, f"socket {event}")


async def test_the_socket_still_answers(servers: Servers, socket: RasaSocket) -> None:
    await socket.request_session(uuid.uuid4().hex)
    assert socket_texts(await socket.say("hola")).strip()


# -- afterwards -----------------------------------------------------------------------


def test_a_goes_on_where_it_was(servers: Servers, before: dict) -> None:
    unchanged(servers, before, "the fuzzing")
    # A was asked for the service ID before the fuzzing: the answer is taken and the name asked next.
    answer = say_rest(servers, A_SENDER, "CO-MPLS-00123")
    assert "gusto" in answer.lower() or "nombre" in answer.lower(), answer


@pytest.fixture(scope="module")
def logs(servers: Servers, before: dict) -> dict[str, str]:
    """The three servers' logs after a customer wrote a phone number and an e-mail address."""
    sender = f"fuzz-pii-{uuid.uuid4().hex[:8]}"
    say_rest(servers, sender, "el enlace está caído")
    say_rest(servers, sender, f"soy María López, mi teléfono es {PHONE} y mi correo {EMAIL}")
    settled(servers, sender, 4)
    # The web server's access log shows query strings (percent-encoded).
    requests.get(
        f"{servers.web_url}/api/incidents",
        params={"sender_id": f"whatsapp:{PHONE.replace(' ', '')}", "q": EMAIL},
        headers={"Authorization": f"Bearer {servers.token}"},
        timeout=TIMEOUT,
    )

    def once_logged() -> dict[str, str] | None:
        names = ("rasa", "actions", "web")
        found = {name: (servers.log_dir / f"{name}.log").read_text(errors="replace") for name in names}
        return found if "/api/incidents?sender_id=" in found["web"] else None

    # The access log line is written after the answer: poll for it rather than sleep.
    return eventually(once_logged, timeout=10, what="the web server's access-log line", interval=0.1)


def assert_only_masked(log: str) -> None:
    for raw in (PHONE, PHONE.replace(" ", ""), "3105550199", "maria.lopez@", "maria.lopez%40"):
        assert raw not in log, f"{raw!r} in the log"


@pytest.mark.parametrize("name", ["rasa", "actions"])
def test_rasa_and_action_server_logs_mask_phone_and_email(logs: dict[str, str], name: str) -> None:
    if name == "rasa":  # at DEBUG Rasa logs every message it parses
        assert "+57310*****99" in logs["rasa"] and "m***@bancoandino.com.co" in logs["rasa"]
    assert_only_masked(logs[name])


def test_web_server_log_masks_phone_and_email(logs: dict[str, str]) -> None:
    assert "whatsapp%3A%2B57310*****99" in logs["web"] and "m***%40bancoandino.com.co" in logs["web"]
    assert_only_masked(logs["web"])


def test_no_tracebacks_in_the_logs(servers: Servers, before: dict) -> None:
    for name in ("rasa", "actions"):
        text = Path(servers.log_dir / f"{name}.log").read_text(errors="replace")
        assert "Traceback" not in text, f"{name}.log:\n" + text[text.index("Traceback") - 2000 :][:6000]
