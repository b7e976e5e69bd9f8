"""The action server (noc/action_server/__init__.py) on its own: token required, loopback only, forged trackers.

It runs as `make run` runs it, on a free port of its own (no fixed port, so no
lock needed), with a database holding one customer's ticket.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from noc.db.db import make_engine, make_session_factory
from noc.db.migrate import upgrade
from noc.db.repository import open_incident
from tests.e2e.servers import wait_for
from tests.store.test_repository import make_incident

# Starts processes of its own (tests/conftest.py: tiers).
pytestmark = pytest.mark.stack

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "token-de-prueba-del-servidor-de-acciones"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def outward_address() -> str | None:
    """This machine's address on its default route (no packet is sent), or None."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.connect(("192.0.2.1", 9))
        except OSError:
            return None
        address = sock.getsockname()[0]
    return None if address.startswith("127.") else address


def server_env(database_url: str, **changes: str) -> dict[str, str]:
    env = {**os.environ, "DATABASE_URL": database_url, "ACTION_SERVER_TOKEN": TOKEN}
    env.pop("ACTION_HOST", None)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return {**env, **changes}


@dataclass
class ActionServer:
    url: str
    port: int
    ticket: str


@pytest.fixture(scope="module")
def action_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ActionServer]:
    tmp = tmp_path_factory.mktemp("action_server")
    database_url = f"sqlite:///{tmp / 'actions.db'}"
    upgrade(database_url)
    engine = make_engine(database_url)
    ticket = open_incident(make_session_factory(engine), incident=make_incident("k-ana", sender_id="ana")).ticket
    engine.dispose()
    port = free_port()
    with open(tmp / "actions.log", "w") as log:
        proc = subprocess.Popen(
            # As `make run` starts it.
            [
                sys.executable,
                "-m",
                "noc.action_server",
                "--port",
                str(port),
                "--logging-config-file",
                "logging.yml",
            ],
            cwd=ROOT,
            env=server_env(database_url),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for(f"http://127.0.0.1:{port}/health", [proc], 120)
        yield ActionServer(url=f"http://127.0.0.1:{port}", port=port, ticket=ticket)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def call(action: str, *, sender: str, slots: dict, headers: dict | None = None, url: str) -> requests.Response:
    body = {
        "next_action": action,
        "sender_id": sender,
        "version": "3.6.21",
        "tracker": {
            "sender_id": sender,
            "slots": slots,
            "latest_message": {"intent": {"name": "ask_ticket_status"}, "entities": [], "text": ""},
            "events": [],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        },
        "domain": {},
    }
    return requests.post(f"{url}/webhook", json=body, headers=headers or {}, timeout=30)


BEARER = {"Authorization": f"Bearer {TOKEN}"}


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="no header"),
        pytest.param({"Authorization": "Bearer otro-token"}, id="wrong token"),
        pytest.param({"Authorization": f"Basic {TOKEN}"}, id="wrong scheme"),
        pytest.param({"Authorization": f"Bearer {TOKEN}x"}, id="longer token"),
    ],
)
def test_calls_without_the_token_are_refused(action_server: ActionServer, headers: dict) -> None:
    slots = {"ticket": action_server.ticket, "ticket_verified": True}
    response = call("action_ticket_status", sender="mallory", slots=slots, headers=headers, url=action_server.url)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.json() == {"error": "no autorizado"}


def test_the_token_in_the_query_string_is_not_accepted(action_server: ActionServer) -> None:
    # Rasa's `token:` option sends it there, where access logs keep it: only the header counts.
    response = requests.post(f"{action_server.url}/webhook?token={TOKEN}", json={}, timeout=30)
    assert response.status_code == 401


def test_only_the_health_check_is_open(action_server: ActionServer) -> None:
    assert requests.get(f"{action_server.url}/health", timeout=10).json() == {"status": "ok"}
    assert requests.get(f"{action_server.url}/actions", timeout=10).status_code == 401
    names = {entry["name"] for entry in requests.get(f"{action_server.url}/actions", headers=BEARER, timeout=10).json()}
    assert {"action_ticket_status", "action_escalate_ticket", "action_handoff"} <= names


def test_with_the_token_an_action_runs(action_server: ActionServer) -> None:
    # The conversation that opened the ticket, as the status form leaves it.
    slots = {"ticket": action_server.ticket, "ticket_verified": True}
    response = call("action_ticket_status", sender="ana", slots=slots, headers=BEARER, url=action_server.url)
    assert response.status_code == 200, response.text
    assert response.json()["responses"][0]["response"] == "utter_ticket_status"


def test_a_forged_ticket_verified_reads_no_ticket_even_with_the_token(action_server: ActionServer) -> None:
    slots = {"ticket": action_server.ticket, "ticket_verified": True}
    response = call("action_ticket_status", sender="mallory", slots=slots, headers=BEARER, url=action_server.url)
    assert response.status_code == 200, response.text
    assert response.json()["responses"] == []


def test_it_listens_on_loopback_only(action_server: ActionServer) -> None:
    address = outward_address()
    if address is None:
        pytest.skip("this machine has no address but loopback")
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://{address}:{action_server.port}/health", timeout=5)


def test_without_a_token_it_does_not_start(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "noc.action_server", "--port", str(free_port())],
        cwd=ROOT,
        env=server_env(f"sqlite:///{tmp_path / 'x.db'}", ACTION_SERVER_TOKEN=""),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "ACTION_SERVER_TOKEN" in result.stderr
