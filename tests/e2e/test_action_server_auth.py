"""The three servers of `make run`: the action server answers the Rasa server, and nobody else."""

from __future__ import annotations

import requests

from tests.e2e.conftest import Chat
from tests.e2e.servers import ACTION_SERVER_TOKEN, Servers


def test_the_action_server_refuses_calls_without_the_rasa_servers_token(servers: Servers) -> None:
    body = {"next_action": "action_ask_ticket", "sender_id": "mallory", "tracker": {"sender_id": "mallory"}}
    refused = requests.post(f"{servers.action_url}/webhook", json=body, timeout=30)
    assert refused.status_code == 401
    wrong = requests.post(
        f"{servers.action_url}/webhook", json=body, headers={"Authorization": "Bearer e2e-token"}, timeout=30
    )
    assert wrong.status_code == 401  # the agents' token is not this one
    health = requests.get(f"{servers.action_url}/health", timeout=10)
    assert health.status_code == 200


def test_the_rasa_server_sends_the_token(servers: Servers, chat: Chat) -> None:
    # "¿cómo va mi ticket?" runs custom actions (the status form's validation,
    # action_ask_ticket): refused, the customer would hear of a technical problem.
    asked = "\n".join(chat.say("¿cómo va mi ticket?"))
    assert "número de ticket" in asked and "problema técnico" not in asked, chat.transcript()
    assert servers.env["ACTION_SERVER_TOKEN"] == ACTION_SERVER_TOKEN
