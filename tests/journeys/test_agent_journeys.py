"""A customer asks for a person, an agent answers from the console, the bot takes over again.

One journey per channel (WhatsApp, SMS, the web chat), through the real
servers (tests/journeys/conftest.py): the customer starts an intake and asks
for an agent; the bot opens a handoff and goes quiet; an agent logs into the
console, takes the incident and replies; the reply reaches the customer on
their own channel (Twilio's REST API for WhatsApp and SMS, the open socket for
the web chat) and shows in the console's transcript; the agent hands the
conversation back, the bot says so on the same channel and asks its pending
question again; the customer's next answer is the bot's again; the agent closes
the incident.
"""

from __future__ import annotations

import asyncio
import uuid

import pytest

from tests.e2e.fake_twilio import FakeTwilioApi
from tests.e2e.servers import Servers
from tests.journeys.conftest import (
    AGENT_NAME,
    SMS_NUMBER,
    TICKET,
    WHATSAPP_NUMBER,
    AgentConsole,
    Phone,
    api_get,
    handoff_of,
)
from tests.web.socketio_client import RasaSocket, texts

SYMPTOM = "el enlace de la sede norte está caído desde ayer"
COMPANY = "Banco Andino"
ASK_FOR_AGENT = "quiero hablar con un agente"
WHILE_PAUSED = "¿Sigue ahí? Tenemos una reunión a las 3"
SERVICE_ID = "CO-MPLS-00123"


def reply_text(channel: str) -> str:
    return f"Hola, soy {AGENT_NAME} del NOC ({channel}): ya estoy revisando su enlace."


@pytest.mark.parametrize(
    ("from_", "to", "noc_number", "channel", "channel_label"),
    [
        ("whatsapp:+573001112233", "whatsapp:+573001112233", f"whatsapp:{WHATSAPP_NUMBER}", "whatsapp", "WhatsApp"),
        ("+51987001122", "+51987001122", SMS_NUMBER, "sms", "SMS"),
    ],
    ids=["whatsapp", "sms"],
)
def test_twilio_customer_is_answered_by_an_agent_and_then_by_the_bot_again(
    servers: Servers,
    twilio_api: FakeTwilioApi,
    console: AgentConsole,
    from_: str,
    to: str,
    noc_number: str,
    channel: str,
    channel_label: str,
) -> None:
    phone = Phone(from_)
    sender_id = f"{channel}:{to.removeprefix('whatsapp:')}"

    # The customer starts an intake and asks for a person: a handoff with a ticket.
    assert "empresa" in "\n".join(phone.say(SYMPTOM)).lower(), phone.transcript()
    assert "ID del servicio" in "\n".join(phone.say(COMPANY)), phone.transcript()
    handoff_answer = "\n".join(phone.say(ASK_FOR_AGENT))
    ticket_match = TICKET.search(handoff_answer)
    assert ticket_match and "agente" in handoff_answer, phone.transcript()
    ticket = ticket_match.group()
    handoff = handoff_of(servers, ticket)
    assert (handoff["channel"], handoff["sender_id"], handoff["status"]) == (channel, sender_id, "pendiente")
    # Paused: what the customer writes now is for the agent; the bot stays quiet.
    assert phone.say(WHILE_PAUSED) == [], phone.transcript()

    # The agent takes the incident and replies: the reply goes out through Twilio's REST API.
    assert console.take(ticket) == "tomado"
    reply = reply_text(channel)
    # "respuesta_no_entregada" was the bug: the bridge found no channel for "whatsapp"/"sms".
    assert console.reply(ticket, reply) == "respuesta"
    assert f"Respondió al cliente (entregado por {channel_label})" in console.page(ticket)
    assert [(m["To"], m["From"], m["Body"]) for m in twilio_api.sent_to(to)] == [(to, noc_number, reply)]
    lines = console.wait_for_message(ticket, "agent", reply)
    for said in (SYMPTOM, COMPANY, ASK_FOR_AGENT, WHILE_PAUSED):
        assert ("user", said) in lines, lines

    # Handed back: the bot says so on the customer's channel and asks its pending question again.
    assert console.hand_back(ticket) == "devuelto"
    handed_back = twilio_api.sent_to(to)[1:]
    assert handed_back and all(m["From"] == noc_number for m in handed_back), handed_back
    assert "ID del servicio" in handed_back[-1]["Body"], handed_back
    assert handoff_of(servers, ticket)["status"] == "devuelto"
    # The customer's next message is the bot's again, answered in the webhook's TwiML.
    assert "nombre" in "\n".join(phone.say(SERVICE_ID)).lower(), phone.transcript()
    console.wait_for_message(ticket, "user", SERVICE_ID)

    # The agent closes the incident; the conversation is already the bot's, so nothing more is sent.
    sent_before_close = len(twilio_api.sent_to(to))
    assert console.close(ticket) == "cerrado"
    record = api_get(servers, f"/api/incidents/{ticket}")
    assert record["status"] == "cerrado"
    # The API gives integrations the whole conversation, not just what the bot stored at the
    # handoff: the agent's reply and what the customer wrote after it, in order.
    said = [(m["role"], m["text"]) for m in record["conversation"]]
    order = [("user", ASK_FOR_AGENT), ("user", WHILE_PAUSED), ("agent", reply), ("user", SERVICE_ID)]
    assert [said.index(item) for item in order] == sorted(said.index(item) for item in order), said
    # The handoff itself ended with the hand back.
    assert handoff_of(servers, ticket)["status"] == "devuelto"
    assert len(twilio_api.sent_to(to)) == sent_before_close
    # Only the agent's reply and the hand back went through the REST API; the bot's other answers were TwiML.
    bodies = "\n".join(m["Body"] for m in twilio_api.sent_to(to))
    assert "empresa" not in bodies.lower() and "nombre" not in bodies.lower(), bodies


async def test_web_chat_customer_is_answered_by_an_agent_and_then_by_the_bot_again(
    servers: Servers, twilio_api: FakeTwilioApi, console: AgentConsole
) -> None:
    sent_through_twilio = len(twilio_api.messages)
    socket = RasaSocket(servers.rasa_url)
    await socket.connect()
    try:
        session_id = await socket.request_session(uuid.uuid4().hex)
        assert "empresa" in texts(await socket.say(SYMPTOM)).lower()
        assert "ID del servicio" in texts(await socket.say(COMPANY))
        handoff_answer = texts(await socket.say(ASK_FOR_AGENT))
        ticket_match = TICKET.search(handoff_answer)
        assert ticket_match and "agente" in handoff_answer, handoff_answer
        ticket = ticket_match.group()
        handoff = handoff_of(servers, ticket)
        assert (handoff["channel"], handoff["sender_id"], handoff["status"]) == ("web", session_id, "pendiente")

        # The console is a plain HTTP client: in a thread, so the socket keeps polling meanwhile.
        assert await asyncio.to_thread(console.take, ticket) == "tomado"
        reply = reply_text("web")
        assert await asyncio.to_thread(console.reply, ticket, reply) == "respuesta"
        assert "Respondió al cliente (entregado por Chat web)" in await asyncio.to_thread(console.page, ticket)
        assert [a.get("text") for a in await socket.collect()] == [reply]
        lines = await asyncio.to_thread(console.wait_for_message, ticket, "agent", reply)
        for said in (SYMPTOM, COMPANY, ASK_FOR_AGENT):
            assert ("user", said) in lines, lines

        assert await asyncio.to_thread(console.hand_back, ticket) == "devuelto"
        assert "ID del servicio" in texts(await socket.collect())
        assert "nombre" in texts(await socket.say(SERVICE_ID)).lower()

        assert await asyncio.to_thread(console.close, ticket) == "cerrado"
        assert api_get(servers, f"/api/incidents/{ticket}")["status"] == "cerrado"
        assert handoff_of(servers, ticket)["status"] == "devuelto"
    finally:
        await socket.close()
    # A web chat conversation never goes through Twilio.
    assert len(twilio_api.messages) == sent_through_twilio
