"""socket.io across the cluster's servers: an agent's reply reaches a web chat
customer whose socket is on the other Rasa server (socket.io's Redis manager).
"""

from __future__ import annotations

import asyncio
import uuid

import requests

from tests.cluster.cluster import TOKEN, Cluster, answers
from tests.polling import eventually
from tests.web.socketio_client import RasaSocket, texts

# Longer than a reply that is delivered takes, on two busy cores.
DELIVERY_SECONDS = 30
# A server killed by an earlier test (test_faults.py) may still be loading its model.
BACK_SECONDS = 600


def bridge_reply(cluster: Cluster, server_url: str, sender_id: str, reply: str) -> requests.Response:
    return requests.post(
        f"{server_url}/webhooks/agent_bridge/message",
        json={"sender_id": sender_id, "text": reply, "agent": "marta"},
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=60,
    )


async def test_an_agent_reply_through_the_other_server_reaches_the_customers_socket(cluster: Cluster) -> None:
    rasa_1, rasa_2 = cluster.backend_urls
    for url in (rasa_1, rasa_2):
        await asyncio.to_thread(
            eventually, lambda url=url: answers(f"{url}/"), timeout=BACK_SECONDS, what=f"{url} answering", interval=0.5
        )
    socket = RasaSocket(rasa_1)
    await socket.connect()
    try:
        session = await socket.request_session(uuid.uuid4().hex)
        assert "empresa" in texts(await socket.say("el internet de la oficina está intermitente desde esta mañana"))
        assert "agente" in texts(await socket.say("quiero hablar con un agente")).lower()

        reply = f"Hola, soy Marta del NOC; reviso su enlace ahora mismo ({uuid.uuid4().hex[:6]})."
        answer = await asyncio.to_thread(bridge_reply, cluster, rasa_2, session, reply)
        assert answer.status_code == 200, answer.text
        assert answer.json()["channel"] == "socketio"
        try:
            received = await asyncio.wait_for(socket.collect(), timeout=DELIVERY_SECONDS)
        except asyncio.TimeoutError:
            received = []
        assert reply in texts(received), "the reply sent through rasa-2 did not reach the socket on rasa-1"
    finally:
        await socket.close()
