"""The rendered nginx config, running, in front of stand-in servers one of which dies with the request in hand.

A stand-in that "dies" reads the whole request and closes the connection
without a byte of answer, as a Rasa server killed in the middle of a turn
does. Each test gets its own nginx, so no server is left out (fail_timeout)
from an earlier test.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from tests.cluster.servers import answer_json, running_nginx

# Starts nginx and servers of its own (tests/conftest.py: tiers).
pytestmark = pytest.mark.stack

RASA_PORT, ACTION_PORT = 16241, 16242
RASA_BACKENDS, ACTION_BACKENDS = (16243, 16244), (16245, 16246)
REST, TWILIO, BRIDGE = "/webhooks/rest/webhook", "/webhooks/twilio/webhook", "/webhooks/agent_bridge/message"


class StandInServer(ThreadingHTTPServer):
    dies = False

    def __init__(self, port: int) -> None:
        super().__init__(("127.0.0.1", port), Recorder)
        self.seen: list[str] = []


class Recorder(BaseHTTPRequestHandler):
    """Answers with its port and the headers it got; records each request's X-Request-ID."""

    server: StandInServer

    def _answer(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        request_id = self.headers.get("X-Request-ID") or ""
        self.server.seen.append(request_id)
        if self.server.dies:
            # Killed with the request in hand: the connection closes, nothing is answered.
            self.close_connection = True
            return
        answer_json(
            self,
            {
                "port": self.server.server_address[1],
                "request_id": request_id,
                "forwarded_for": self.headers.get("X-Forwarded-For"),
                "host": self.headers.get("Host"),
            },
        )

    do_GET = do_POST = _answer

    def log_message(self, *_: object) -> None:
        pass


@dataclass
class Front:
    """nginx and the stand-ins behind it."""

    servers: dict[int, StandInServer]
    run_dir: Path

    def url(self, path: str, port: int = RASA_PORT) -> str:
        return f"http://127.0.0.1:{port}{path}"

    def errors(self) -> str:
        return (self.run_dir / "logs" / "nginx-error.log").read_text()[-1500:]


@pytest.fixture
def front(tmp_path: Path) -> Iterator[Front]:
    servers = {port: StandInServer(port) for port in RASA_BACKENDS + ACTION_BACKENDS}
    for server in servers.values():
        threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with running_nginx(
            tmp_path,
            rasa_port=RASA_PORT,
            action_port=ACTION_PORT,
            rasa_backends=RASA_BACKENDS,
            action_backends=ACTION_BACKENDS,
        ):
            for server in servers.values():
                server.seen.clear()  # the start-up probe's
            yield Front(servers, tmp_path)
    finally:
        for server in servers.values():
            server.shutdown()
            server.server_close()


def until_the_dying_server_got_one(front: Front, path: str, dying: StandInServer) -> list[requests.Response]:
    """POSTs (round robin: one of the first two reaches it) until the dying server got one."""
    responses = []
    for n in range(4):
        responses.append(requests.post(front.url(path), json={"sender": f"c{n}", "message": "hola"}, timeout=10))
        if dying.seen:
            return responses
    raise AssertionError("the dying server never got a request")


@pytest.mark.parametrize("path", [REST, TWILIO])
def test_a_message_whose_server_dies_unanswered_is_answered_by_the_other_with_the_same_id(
    front: Front, path: str
) -> None:
    dying, alive = front.servers[RASA_BACKENDS[0]], front.servers[RASA_BACKENDS[1]]
    dying.dies = True
    responses = until_the_dying_server_got_one(front, path, dying)
    assert [response.status_code for response in responses] == [200] * len(responses), front.errors()
    assert {response.json()["port"] for response in responses} == {RASA_BACKENDS[1]}
    # The copy carries the id the dead server got: the channels tell it by that.
    (lost,) = dying.seen
    assert len(lost) == 32
    assert alive.seen.count(lost) == 1
    assert lost in [response.json()["request_id"] for response in responses]


def test_an_agent_reply_whose_server_dies_is_not_sent_again(front: Front) -> None:
    dying, alive = front.servers[RASA_BACKENDS[0]], front.servers[RASA_BACKENDS[1]]
    dying.dies = True
    responses = []
    for _ in range(4):
        responses.append(requests.post(front.url(BRIDGE), json={"sender_id": "ana", "text": "hola"}, timeout=10))
        if dying.seen:
            break
    # The console hears of the failure; the reply has no id the server could tell a copy by.
    assert responses[-1].status_code == 502
    assert dying.seen[0] not in alive.seen


@pytest.mark.parametrize(
    ("path", "method", "port"),
    [
        (REST, "POST", RASA_PORT),
        (TWILIO, "POST", RASA_PORT),
        (BRIDGE, "POST", RASA_PORT),
        ("/socket.io/?EIO=4&transport=polling", "GET", RASA_PORT),
        ("/webhook", "POST", ACTION_PORT),
    ],
)
def test_every_route_passes_the_client_address_and_a_request_id(
    front: Front, path: str, method: str, port: int
) -> None:
    got = requests.request(
        method, front.url(path, port), headers={"X-Forwarded-For": "6.6.6.6", "Host": "chat.example"}, timeout=10
    ).json()
    # nginx appends the address it got the request from: the servers trust only that entry
    # (TRUSTED_PROXY_HOPS), never what the client wrote.
    assert got["forwarded_for"] == "6.6.6.6, 127.0.0.1"
    assert got["host"] == "chat.example"
    assert len(got["request_id"]) == 32
    own = requests.request(method, front.url(path, port), headers={"X-Request-ID": "pedido-42"}, timeout=10).json()
    assert own["request_id"] == "pedido-42"
