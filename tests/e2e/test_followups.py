"""After the intake, over HTTP with the three servers: handoff to an agent and
back, ticket status and escalation with the ownership check."""

from __future__ import annotations

import re
import sqlite3
import time
import uuid

import requests

from noc.db.db import make_engine, make_session_factory
from tests.e2e.conftest import Chat
from tests.e2e.servers import Servers

TICKET = re.compile(r"INC-\d{4}-\d{6}")


def joined(texts: list[str]) -> str:
    return "\n".join(texts)


def bridge(servers: Servers, route: str, payload: dict, token: str | None = None) -> requests.Response:
    return requests.post(
        f"{servers.rasa_url}/webhooks/agent_bridge/{route}",
        json=payload,
        headers={"Authorization": f"Bearer {token or servers.token}"},
        timeout=30,
    )


def wait_for_log(servers: Servers, sender_id: str, predicate, timeout: float = 10) -> list[dict]:
    deadline = time.monotonic() + timeout
    log: list[dict] = []
    while time.monotonic() < deadline:
        log = servers.conversation_log(sender_id)
        if predicate(log):
            return log
        time.sleep(0.3)
    raise AssertionError(f"conversation log never matched: {log}")


def complete_intake(chat: Chat) -> str:
    chat.say("hola, el enlace de la sede norte está caído desde ayer a las 3 de la tarde")
    chat.say("Banco Andino")
    chat.say("CO-MPLS-00123")
    chat.say("Ana Ruiz")
    chat.say("+57 300 123 4567")
    chat.say("ana.ruiz@bancoandino.com.co")
    chat.say("sí")
    chat.say("sí, ya lo reiniciamos")
    chat.say("sí, sigue igual")
    answer = joined(chat.say("sí"))
    match = TICKET.search(answer)
    assert match, chat.transcript()
    return match.group()


def test_handoff_pauses_the_bot_until_an_agent_hands_it_back(servers: Servers, chat: Chat) -> None:
    chat.say("hola, el internet de la oficina está intermitente")
    chat.say("Banco Andino")
    answer = joined(chat.say("quiero hablar con un agente"))
    ticket = TICKET.search(answer)
    assert ticket and "agente" in answer, chat.transcript()

    # Paused: the customer's messages are kept for the agent, the bot stays quiet.
    assert chat.say("¿hay alguien ahí?") == []
    handoffs = requests.get(
        f"{servers.web_url}/api/handoffs", headers={"Authorization": f"Bearer {servers.token}"}, timeout=10
    ).json()
    assert ticket.group() in str(handoffs)
    record = requests.get(
        f"{servers.web_url}/api/incidents/{ticket.group()}",
        headers={"Authorization": f"Bearer {servers.token}"},
        timeout=10,
    ).json()
    assert record["status"] == "derivado" and record["company"] == "Banco Andino"

    # The agent writes; on REST nothing can be pushed, but the message is in the conversation.
    assert bridge(servers, "message", {"sender_id": chat.sender, "text": "Hola"}, token="wrong").status_code == 401
    sent = bridge(
        servers, "message", {"sender_id": chat.sender, "text": "Soy Ana, del NOC. Reviso su enlace.", "agent": "Ana"}
    )
    assert sent.status_code == 200 and sent.json()["delivered"] is False
    log = wait_for_log(servers, chat.sender, lambda log: any(m["role"] == "agent" for m in log))
    roles_texts = [(m["role"], m["text"]) for m in log]
    assert ("user", "¿hay alguien ahí?") in roles_texts
    assert ("agent", "Soy Ana, del NOC. Reviso su enlace.") in roles_texts
    assert ("system", "paused") in roles_texts

    # Handed back: the bot answers again and resumes the intake where it was.
    assert bridge(servers, "resume", {"sender_id": chat.sender, "agent": "Ana"}).status_code == 200
    answer = joined(chat.say("CO-MPLS-00123"))
    assert "nombre" in answer.lower(), chat.transcript()


def test_bridge_refuses_unknown_conversations_and_bad_bodies(servers: Servers) -> None:
    unknown = bridge(servers, "message", {"sender_id": f"nobody-{uuid.uuid4().hex}", "text": "hola"})
    assert unknown.status_code == 404
    assert bridge(servers, "message", {"sender_id": "x"}).status_code == 400
    assert bridge(servers, "resume", {"text": "x"}).status_code == 400


def test_status_of_own_ticket_and_of_someone_elses(servers: Servers, chat: Chat) -> None:
    ticket = complete_intake(chat)
    status = joined(chat.say("¿cómo va mi ticket?"))
    assert ticket in status and "abierto" in status, chat.transcript()

    stranger = Chat(servers)
    asked = joined(stranger.say(f"estado del {ticket}"))
    assert "ID del servicio" in asked, stranger.transcript()
    stranger.say("CO-MPLS-00999")
    refused = joined(stranger.say("ana.ruiz@bancoandino.com.co"))
    assert "no coinciden" in refused and ticket not in refused.replace(f"estado del {ticket}", ""), (
        stranger.transcript()
    )
    stranger.say("CO-MPLS-00123")
    shown = joined(stranger.say("ana.ruiz@bancoandino.com.co"))
    assert ticket in shown and "Severidad 1" in shown, stranger.transcript()


def test_escalation_only_after_the_level_is_exhausted(servers: Servers, chat: Chat) -> None:
    ticket = complete_intake(chat)
    asked = joined(chat.say("quiero escalar el caso"))
    assert "nivel 1" in asked, chat.transcript()
    too_early = joined(chat.say("sí"))
    assert "tiempo de respuesta" in too_early, chat.transcript()

    # An hour later (the ticket's opening moved back), level 1's 15 minutes have passed.
    path = servers.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        db.execute("UPDATE incidents SET created_at = datetime(created_at, '-1 hour') WHERE ticket = ?", (ticket,))
    chat.say(f"quiero escalar el {ticket}")
    not_contacted = joined(chat.say("no, todavía no"))
    assert "primero con el nivel 1" in not_contacted, chat.transcript()
    chat.say("necesito escalar mi ticket")
    escalated = joined(chat.say("sí"))
    assert f"Escalé el ticket {ticket} al nivel 2" in escalated and "nivel 2" in escalated, chat.transcript()
    record = requests.get(
        f"{servers.web_url}/api/incidents/{ticket}", headers={"Authorization": f"Bearer {servers.token}"}, timeout=10
    ).json()
    assert record["escalation_level"] == 2


CHANGE = re.compile(r"CHG-\d{4}-\d{6}")


def test_change_request_gets_its_number_and_dates(servers: Servers, chat: Chat) -> None:
    asked = joined(chat.say("necesito ampliar el ancho de banda del servicio CO-MPLS-00123 a 200 Mbps"))
    assert "empresa" in asked.lower(), chat.transcript()
    assert "nombre" in joined(chat.say("Banco Andino")).lower(), chat.transcript()
    assert "correo" in joined(chat.say("Ana Ruiz")).lower(), chat.transcript()
    assert "restablecer" in joined(chat.say("ana.ruiz@bancoandino.com.co")), chat.transcript()
    assert "fecha" in joined(chat.say("no")), chat.transcript()
    summary = joined(chat.say("lo antes posible"))
    assert "Estándar" in summary and "5 días hábiles" in summary and "CO-MPLS-00123" in summary, chat.transcript()
    answer = joined(chat.say("sí"))
    number = CHANGE.search(answer)
    assert number and "Estándar" in answer, chat.transcript()
    assert re.search(r"a partir del \d{2}/\d{2}/\d{4}", answer), answer

    engine = make_engine(servers.database_url)
    try:
        from noc.db.change_requests import get_change_request

        record = get_change_request(make_session_factory(engine), number=number.group())
    finally:
        engine.dispose()
    assert record["change_type"] == "estandar" and record["sender_id"] == chat.sender
    assert record["description"].startswith("necesito ampliar el ancho de banda")


def test_a_change_to_restore_service_is_an_emergency(servers: Servers, chat: Chat) -> None:
    chat.say("quiero solicitar un cambio")
    chat.say("Banco Andino")
    chat.say("CO-MPLS-00123")
    chat.say("Ana Ruiz")
    chat.say("ana.ruiz@bancoandino.com.co")
    assert "restablecer" in joined(chat.say("cambiar la ruta estática hacia el nuevo router")), chat.transcript()
    chat.say("sí")
    summary = joined(chat.say("hoy"))
    assert "Emergencia" in summary and "4 horas" in summary, chat.transcript()
    assert CHANGE.search(joined(chat.say("sí"))), chat.transcript()
