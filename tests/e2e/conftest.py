from __future__ import annotations

import uuid

import pytest
import requests

from tests.e2e.servers import Servers


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
