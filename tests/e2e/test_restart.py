"""`make run` (SQLite) restarted in the middle of an intake: the conversation goes on where it was.

The servers are the session's (tests/e2e/conftest.py). The Rasa server and the
action server are killed (SIGKILL: a crash or a reboot, nothing flushed on the
way out) between two messages and started again on the same database file.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator

import pytest

from tests.e2e.conftest import Chat
from tests.e2e.servers import Servers, wait_for
from tests.e2e.test_action_server_faults import finish_intake
from tests.e2e.test_conversation import joined

RESTARTED = ("actions", "rasa")


def wait_until_up(servers: Servers) -> None:
    procs = [servers.processes[name] for name in RESTARTED]
    wait_for(f"{servers.action_url}/health", procs, 120)
    wait_for(f"{servers.rasa_url}/", procs, 300)


@pytest.fixture
def restartable(servers: Servers) -> Iterator[Servers]:
    yield servers
    # Whatever happened in the test, the next tests get running servers.
    for name in RESTARTED:
        if servers.processes[name].poll() is not None:
            servers.start(name)
    wait_until_up(servers)


def crash_and_restart(servers: Servers) -> None:
    for name in RESTARTED:
        proc = servers.processes[name]
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    for name in RESTARTED:
        servers.start(name)
    wait_until_up(servers)


def test_a_restart_between_two_messages_loses_nothing(restartable: Servers, chat: Chat) -> None:
    assert "empresa" in joined(chat.say("el enlace de la sede norte está caído desde ayer")).lower()
    assert "ID del servicio" in joined(chat.say("Banco Andino")), chat.transcript()
    assert "nombre" in joined(chat.say("CO-MPLS-00123")), chat.transcript()

    crash_and_restart(restartable)

    # The pending question was the name: the answer is taken and the next one asked.
    after = joined(chat.say("Ana Ruiz"))
    assert "teléfono" in after and "empresa" not in after.lower(), chat.transcript()
    assert "correo" in joined(chat.say("+57 300 123 4567")), chat.transcript()
    record = finish_intake(chat, restartable)
    assert (record["company"], record["service_id"], record["contact_name"], record["contact_phone"]) == (
        "Banco Andino",
        "CO-MPLS-00123",
        "Ana Ruiz",
        "+573001234567",
    )
    # The transcript has the whole conversation, each message once, those before the restart included.
    users = [entry["text"] for entry in record["transcript"] if entry["role"] == "user"]
    sent = [text for text, _ in chat.history]
    assert users == sent[: len(users)] and len(users) >= len(sent) - 1, users
