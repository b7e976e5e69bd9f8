"""A whole intake over the REST channel, then the record read back through the API."""

from __future__ import annotations

import re

import requests

from tests.e2e.conftest import Chat
from tests.e2e.servers import Servers

TICKET = re.compile(r"INC-\d{4}-\d{6}")


def joined(texts: list[str]) -> str:
    return "\n".join(texts)


def api_get(servers: Servers, path: str) -> requests.Response:
    return requests.get(f"{servers.web_url}{path}", headers={"Authorization": f"Bearer {servers.token}"}, timeout=10)


def test_full_intake_opens_a_record_the_api_returns(servers: Servers, chat: Chat) -> None:
    assert "problema" in joined(chat.say("hola buenas tardes"))
    assert "empresa" in joined(chat.say("el enlace de la sede norte está caído desde ayer a las 3 de la tarde")).lower()
    assert "ID del servicio" in joined(chat.say("Banco Andino"))
    assert "nombre" in joined(chat.say("CO-MPLS-00123"))
    assert "teléfono" in joined(chat.say("Ana Ruiz"))
    assert "correo" in joined(chat.say("+57 300 123 4567"))
    assert "encendido" in joined(chat.say("ana.ruiz@bancoandino.com.co"))
    assert "reinició" in joined(chat.say("sí"))
    assert "continúa" in joined(chat.say("sí, ya lo reiniciamos"))
    summary = joined(chat.say("sí, sigue igual"))
    for expected in (
        "Banco Andino",
        "CO-MPLS-00123",
        "Ana Ruiz",
        "+573001234567",
        "ana.ruiz@bancoandino.com.co",
        "Colombia",
    ):
        assert expected in summary, chat.transcript()
    answer = joined(chat.say("sí"))
    match = TICKET.search(answer)
    assert match, chat.transcript()
    assert "Severidad 1" in answer and "Crítica" in answer, answer
    assert "nivel 1" in answer and "cada nivel debe agotarse" in answer, answer

    record = api_get(servers, f"/api/incidents/{match.group()}")
    assert record.status_code == 200, record.text
    data = record.json()
    assert data["ticket"] == match.group()
    assert data["status"] == "abierto"
    assert data["company"] == "Banco Andino"
    assert data["service_id"] == "CO-MPLS-00123"
    assert data["contact_name"] == "Ana Ruiz"
    assert data["contact_phone"] == "+573001234567"
    assert data["contact_email"] == "ana.ruiz@bancoandino.com.co"
    assert (data["country"], data["region"]) == ("CO", "colombia")
    assert data["severity"] == 1 and data["severity_reason"]
    assert data["symptom_kind"] == "sin_servicio"
    assert data["started_at"].endswith("15:00:00-05:00"), data["started_at"]
    assert data["power_ok"] is True and data["rebooted"] is True
    assert data["escalation_level"] == 1
    assert data["escalation_contact"]["level"] == 1
    assert data["sender_id"] == chat.sender and data["channel"] == "rest"
    roles = {m["role"] for m in data["transcript"]}
    assert roles == {"user", "bot"}
    assert any("sede norte" in m["text"] for m in data["transcript"] if m["role"] == "user")

    listed = api_get(servers, f"/api/incidents?sender_id={chat.sender}").json()["incidents"]
    assert [i["ticket"] for i in listed] == [match.group()]


def test_yes_after_the_ticket_opens_nothing_more(servers: Servers, chat: Chat) -> None:
    chat.say("Soy Luis Paz de Minera Los Andes, el servicio PE-INT-4501 no tiene conexión desde hace dos horas")
    chat.say("+51 987 654 321")
    chat.say("luis.paz@mineraandes.pe")
    chat.say("sí")
    chat.say("sí")
    chat.say("sí, continúa")
    first = TICKET.search(joined(chat.say("sí")))
    assert first, chat.transcript()
    chat.say("sí")
    listed = api_get(servers, f"/api/incidents?sender_id={chat.sender}").json()["incidents"]
    assert len(listed) == 1
    assert listed[0]["region"] == "peru"
