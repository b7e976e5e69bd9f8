"""`make run` with its action server killed or frozen mid-intake: the customer is told, nothing is lost.

The servers are the session's (tests/e2e/conftest.py, ACTION_TIMEOUT_SECONDS=8);
each test leaves the action server running again.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator

import pytest

from noc.rasa_plugins.channels.twilio import BOT_FAILED, DOMAIN_PATH, read_channel_responses
from tests.e2e.conftest import Chat
from tests.e2e.servers import Servers, wait_for
from tests.e2e.test_conversation import TICKET, api_get, joined

ACTION_TIMEOUT_SECONDS = 8


@pytest.fixture
def trouble() -> list[str]:
    return [read_channel_responses(DOMAIN_PATH)[BOT_FAILED]]


@pytest.fixture
def action_server(servers: Servers) -> Iterator[Servers]:
    yield servers
    proc = servers.processes["actions"]
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGCONT)  # in case a test failed while it was frozen
    else:
        servers.start("actions")
    wait_for(f"{servers.action_url}/health", [servers.processes["actions"]], 120)


def finish_intake(chat: Chat, servers: Servers) -> dict:
    """From the e-mail question to the ticket; the record as the API returns it."""
    assert "encendido" in joined(chat.say("ana.ruiz@bancoandino.com.co")), chat.transcript()
    assert "reinició" in joined(chat.say("sí")), chat.transcript()
    assert "continúa" in joined(chat.say("sí, ya lo reiniciamos")), chat.transcript()
    summary = joined(chat.say("sí, sigue igual"))
    assert "Banco Andino" in summary and "CO-MPLS-00123" in summary, chat.transcript()
    ticket = TICKET.search(joined(chat.say("sí")))
    assert ticket, chat.transcript()
    record = api_get(servers, f"/api/incidents/{ticket.group()}")
    assert record.status_code == 200, record.text
    return record.json()


def test_action_server_down_then_back_continues_the_intake(
    action_server: Servers, chat: Chat, trouble: list[str]
) -> None:
    assert "empresa" in joined(chat.say("el enlace de la sede norte está caído desde ayer")).lower()
    assert "ID del servicio" in joined(chat.say("Banco Andino"))

    proc = action_server.processes["actions"]
    proc.kill()
    proc.wait(timeout=30)
    assert chat.say("CO-MPLS-00123") == trouble
    assert chat.say("CO-MPLS-00123") == trouble  # still down: still told, still nothing lost

    action_server.start("actions")
    wait_for(f"{action_server.action_url}/health", [action_server.processes["actions"]], 120)
    # The message sent during the outage, sent again, is taken where the intake was.
    assert "nombre" in joined(chat.say("CO-MPLS-00123")), chat.transcript()
    assert "teléfono" in joined(chat.say("Ana Ruiz")), chat.transcript()
    assert "correo" in joined(chat.say("+57 300 123 4567")), chat.transcript()
    record = finish_intake(chat, action_server)
    assert (record["company"], record["service_id"], record["contact_name"]) == (
        "Banco Andino",
        "CO-MPLS-00123",
        "Ana Ruiz",
    )
    # The failed turns are not in the conversation: each message appears once.
    users = [entry["text"] for entry in record["transcript"] if entry["role"] == "user"]
    assert users.count("CO-MPLS-00123") == 1, users


def test_a_frozen_action_server_is_a_trouble_answer_within_the_timeout(
    action_server: Servers, chat: Chat, trouble: list[str]
) -> None:
    assert "empresa" in joined(chat.say("el enlace de la sede norte está caído desde ayer")).lower()
    assert "ID del servicio" in joined(chat.say("Banco Andino"))
    assert "nombre" in joined(chat.say("CO-MPLS-00123"))

    pid = action_server.processes["actions"].pid
    os.kill(pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        assert chat.say("Ana Ruiz") == trouble
        # Rasa alone would wait five minutes; a generous bound for a busy machine.
        assert time.monotonic() - started < ACTION_TIMEOUT_SECONDS + 20
    finally:
        os.kill(pid, signal.SIGCONT)

    assert "teléfono" in joined(chat.say("Ana Ruiz")), chat.transcript()
    assert "correo" in joined(chat.say("+57 300 123 4567")), chat.transcript()
    record = finish_intake(chat, action_server)
    assert record["contact_name"] == "Ana Ruiz" and record["contact_phone"] == "+573001234567"
