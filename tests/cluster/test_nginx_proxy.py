"""The rendered nginx config, running, in front of small stand-in servers (no Rasa needed).

The stand-ins answer with their own port and the size of the body they got, so
the tests see where nginx sent each request and what arrived.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from tests.cluster.servers import answer_json, running_nginx

# Starts nginx and servers of its own (tests/conftest.py: tiers).
pytestmark = pytest.mark.stack

RASA_PORT, ACTION_PORT = 16205, 16206
RASA_BACKENDS, ACTION_BACKENDS = (16211, 16212), (16213, 16214)


class StandIn(BaseHTTPRequestHandler):
    def _answer(self) -> None:
        size = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(size)
        answer_json(self, {"port": self.server.server_address[1], "received": size})

    do_GET = do_POST = _answer

    def log_message(self, *_: object) -> None:
        pass


def serve(port: int) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", port), StandIn)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture(scope="module")
def stand_ins() -> Iterator[dict[int, ThreadingHTTPServer]]:
    servers = {port: serve(port) for port in RASA_BACKENDS + ACTION_BACKENDS}
    yield servers
    for server in servers.values():
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def nginx(tmp_path_factory: pytest.TempPathFactory, stand_ins: dict[int, ThreadingHTTPServer]) -> Iterator[Path]:
    # pytest's folders are private to their owner: as root, the workers must still reach them.
    run_dir = tmp_path_factory.mktemp("nginx")
    with running_nginx(
        run_dir,
        rasa_port=RASA_PORT,
        action_port=ACTION_PORT,
        rasa_backends=RASA_BACKENDS,
        action_backends=ACTION_BACKENDS,
    ):
        yield run_dir


def ports_answering(url: str, requests_count: int, **kwargs: object) -> list[int]:
    return [requests.post(url, timeout=5, **kwargs).json()["port"] for _ in range(requests_count)]


def test_messages_are_shared_by_both_rasa_servers(nginx: Path) -> None:
    ports = ports_answering(f"http://127.0.0.1:{RASA_PORT}/webhooks/rest/webhook", 6, json={"sender": "a"})
    assert set(ports) == set(RASA_BACKENDS)


def test_a_socketio_client_stays_on_one_rasa_server(nginx: Path) -> None:
    url = f"http://127.0.0.1:{RASA_PORT}/socket.io/?EIO=4&transport=polling"
    assert len({requests.get(url, timeout=5).json()["port"] for _ in range(6)}) == 1


def test_action_calls_are_shared_and_arrive_whole(nginx: Path) -> None:
    # A large tracker: more than nginx keeps in memory by default.
    tracker = {"events": ["x" * 1000] * 200}
    url = f"http://127.0.0.1:{ACTION_PORT}/webhook"
    answers = [requests.post(url, json=tracker, timeout=5).json() for _ in range(4)]
    assert {answer["port"] for answer in answers} == set(ACTION_BACKENDS)
    assert {answer["received"] for answer in answers} == {len(json.dumps(tracker))}


@pytest.mark.parametrize(
    ("front_port", "backends", "path"),
    [(RASA_PORT, RASA_BACKENDS, "/webhooks/rest/webhook"), (ACTION_PORT, ACTION_BACKENDS, "/webhook")],
)
def test_servers_that_were_all_down_take_requests_as_soon_as_they_are_back(
    nginx: Path, stand_ins: dict[int, ThreadingHTTPServer], front_port: int, backends: tuple[int, ...], path: str
) -> None:
    url = f"http://127.0.0.1:{front_port}{path}"
    for port in backends:
        stand_ins[port].shutdown()
        stand_ins[port].server_close()
    # All down: 502, which Rasa's turn rules take for "no action server up" (noc/rasa_plugins/remote_actions.py).
    assert [requests.post(url, json={}, timeout=5).status_code for _ in range(3)] == [502] * 3
    for port in backends:
        stand_ins[port] = serve(port)
    # Right away, well within fail_timeout (5 s) of those failures: the customer who
    # writes again as soon as the servers answer is served, not told of a fault again.
    answers = [requests.post(url, json={}, timeout=5) for _ in range(4)]
    errors = (nginx / "logs" / "nginx-error.log").read_text()[-600:]
    assert [answer.status_code for answer in answers] == [200] * 4, errors
    assert {answer.json()["port"] for answer in answers} <= set(backends)


def test_a_server_that_is_down_is_skipped(nginx: Path, stand_ins: dict[int, ThreadingHTTPServer]) -> None:
    down = stand_ins[RASA_BACKENDS[0]]
    down.shutdown()
    down.server_close()
    ports = ports_answering(f"http://127.0.0.1:{RASA_PORT}/webhooks/rest/webhook", 4, json={"sender": "a"})
    assert ports == [RASA_BACKENDS[1]] * 4
