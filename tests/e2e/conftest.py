from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import requests

from tests.e2e.servers import Servers, start_servers, stop_servers


@pytest.fixture(scope="session")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    tmp = tmp_path_factory.mktemp("e2e")
    # A slow action server fails a turn after this long (tests/e2e/test_action_server_faults.py).
    started, _ = start_servers(
        tmp, rasa_port=15005, action_port=15055, web_port=18080, extra_env={"ACTION_TIMEOUT_SECONDS": "8"}
    )
    yield started
    # The processes now: a test may have started one again.
    stop_servers(list(started.processes.values()))


class Chat:
    """One customer talking to the REST channel."""

    def __init__(self, servers: Servers, sender: str | None = None) -> None:
        self.url = f"{servers.rasa_url}/webhooks/rest/webhook"
        self.sender = sender or f"e2e-{uuid.uuid4().hex[:10]}"
        self.history: list[tuple[str, list[str]]] = []

    def say(self, text: str) -> list[str]:
        response = requests.post(self.url, json={"sender": self.sender, "message": text}, timeout=60)
        assert response.status_code == 200, response.text
        texts = [m.get("text", "") for m in response.json()]
        self.history.append((text, texts))
        return texts

    def transcript(self) -> str:
        return "\n".join(f"> {u}\n" + "\n".join(f"< {b}" for b in bots) for u, bots in self.history)


@pytest.fixture
def chat(servers: Servers) -> Chat:
    return Chat(servers)
