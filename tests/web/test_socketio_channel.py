"""Rasa's socketio channel (what the web widget speaks), without a browser."""

from __future__ import annotations

import re
import uuid

import requests

from tests.e2e.servers import Servers
from tests.web.socketio_client import RasaSocket, texts

TICKET = re.compile(r"INC-\d{4}-\d{6}")

INTAKE = [
    "el enlace de la sede norte está caído desde ayer",
    "Banco Andino",
    "CO-MPLS-00123",
    "Ana Ruiz",
    "+57 300 123 4567",
    "ana.ruiz@bancoandino.com.co",
    "sí",
    "sí",
    "sí, sigue igual",
    "sí",
]


async def test_session_request_is_confirmed(servers: Servers) -> None:
    client = RasaSocket(servers.rasa_url)
    await client.connect()
    try:
        wanted = uuid.uuid4().hex
        assert await client.request_session(wanted) == wanted
        # Without an id the server makes one up.
        assert re.fullmatch(r"[0-9a-f]{32}", await client.request_session(None))
    finally:
        await client.close()


async def test_greeting_gets_a_spanish_answer(servers: Servers) -> None:
    client = RasaSocket(servers.rasa_url)
    await client.connect()
    try:
        await client.request_session(uuid.uuid4().hex)
        answer = texts(await client.say("hola"))
        assert "Hola" in answer and "problema" in answer, answer
    finally:
        await client.close()


async def test_full_intake_opens_a_web_record_and_survives_a_reconnection(servers: Servers) -> None:
    session_id = uuid.uuid4().hex
    transcript: list[tuple[str, list[dict]]] = []
    client = RasaSocket(servers.rasa_url)
    await client.connect()
    await client.request_session(session_id)
    try:
        for number, message in enumerate(INTAKE):
            if number == 4:
                # A page reload: new socket, same session id, same conversation.
                await client.close()
                client = RasaSocket(servers.rasa_url)
                await client.connect()
                assert await client.request_session(session_id) == session_id
            transcript.append((message, await client.say(message)))
    finally:
        await client.close()

    log = "\n".join(f"> {m}\n" + "\n".join(f"< {a}" for a in answers) for m, answers in transcript)
    assert "correo" in texts(transcript[4][1]), log  # the phone was taken after the reconnection
    # Questions with buttons arrive as quick replies, the way the widget draws them.
    power_question = transcript[5][1]
    replies = [r for a in power_question for r in a.get("quick_replies", [])]
    assert {"title": "Sí", "payload": "/affirm", "content_type": "text"} in replies, log

    ticket = TICKET.search(texts(transcript[-1][1]))
    assert ticket, log

    record = requests.get(
        f"{servers.web_url}/api/incidents/{ticket.group()}",
        headers={"Authorization": f"Bearer {servers.token}"},
        timeout=10,
    )
    assert record.status_code == 200, record.text
    data = record.json()
    assert data["channel"] == "web"
    assert data["sender_id"] == session_id
    assert data["company"] == "Banco Andino"
    assert data["contact_email"] == "ana.ruiz@bancoandino.com.co"


async def test_a_message_sent_again_with_its_id_is_processed_once_and_answered_alike(servers: Servers) -> None:
    # The widget sends a message again, with the same id, when its socket died
    # before the acknowledgement (a server killed): perhaps the first copy was
    # processed and only the answer was lost.
    session_id = uuid.uuid4().hex
    message = "el enlace de la sede norte está caído desde ayer"
    client = RasaSocket(servers.rasa_url)
    await client.connect()
    try:
        await client.request_session(session_id)
        ack, first = await client.say_with_id(message, "m-1-" + session_id[:8])
        assert ack == "answered"
        assert "empresa" in texts(first)
        assert [(a["reply_to"], a["index"]) for a in first] == [("m-1-" + session_id[:8], n) for n in range(len(first))]

        ack, copy = await client.say_with_id(message, "m-1-" + session_id[:8])
        assert ack == "answered"
        assert copy == first, "the copy was not answered with the saved answers"

        # The conversation holds the message once: the next answer is the next question.
        ack, then = await client.say_with_id("Banco Andino", "m-2-" + session_id[:8])
        assert "servicio" in texts(then).lower(), texts(then)
    finally:
        await client.close()
    users = [m["text"] for m in servers.conversation_log(session_id) if m["role"] == "user"]
    assert users == [message, "Banco Andino"]
