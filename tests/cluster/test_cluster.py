"""`make run-cluster` for real: two Rasa servers and two action servers behind nginx.

The one cluster of tests/cluster (conftest.py: its own PostgreSQL and Redis
servers, which tests stop and restart); the Ctrl-C test stops it, after every
other test of the folder.
"""

from __future__ import annotations

import threading
import time
import uuid
import xml.etree.ElementTree as ET
from collections import Counter

import pytest
import requests
from sqlalchemy.engine import Engine
from twilio.request_validator import RequestValidator

from noc.rasa_plugins.channels.twilio import BOT_FAILED, DOMAIN_PATH, read_channel_responses
from tests.cluster.cluster import (
    RASA_BACKENDS,
    TICKET,
    TOKEN,
    TWILIO_TOKEN,
    Cluster,
    events_of,
    group_members,
    press_ctrl_c,
    say,
    texts,
)


def test_a_whole_intake_through_nginx_is_answered_by_both_servers(cluster: Cluster) -> None:
    sender = f"cluster-{uuid.uuid4().hex[:10]}"
    script = [
        ("hola buenas tardes", "problema"),
        ("el enlace de la sede norte está caído desde ayer a las 3 de la tarde", "empresa"),
        ("Banco Andino", "ID del servicio"),
        ("CO-MPLS-00123", "nombre"),
        ("Ana Ruiz", "teléfono"),
        ("+57 300 123 4567", "correo"),
        ("ana.ruiz@bancoandino.com.co", "encendido"),
        ("sí", "reinició"),
        ("sí, ya lo reiniciamos", "continúa"),
        ("sí, sigue igual", "Banco Andino"),
    ]
    upstreams = set()
    for message, expected in script:
        response = say(cluster.front_url, sender, message)
        upstreams.add(response.headers["X-NOC-Upstream"])
        assert expected.lower() in texts(response).lower(), (message, texts(response))
    answer = texts(say(cluster.front_url, sender, "sí"))
    ticket = TICKET.search(answer)
    assert ticket, answer
    # Every other message went to the other server, and the conversation held.
    assert upstreams == set(RASA_BACKENDS)

    record = requests.get(
        f"{cluster.web_url}/api/incidents/{ticket.group()}", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
    )
    assert record.status_code == 200, record.text
    assert (record.json()["company"], record.json()["service_id"]) == ("Banco Andino", "CO-MPLS-00123")


def test_messages_of_one_conversation_sent_to_both_servers_at_once_keep_one_tracker(
    cluster: Cluster, database: Engine
) -> None:
    sender = f"cluster-{uuid.uuid4().hex[:10]}"
    # In whatever order they arrive, no question gets four unusable answers in a
    # row (that hands the conversation to an agent and pauses it, so a later
    # message is not answered): each message but the greeting carries a fact.
    messages = [
        "hola",
        "+57 300 123 4567",
        "el enlace de la sede norte está caído",
        "Banco Andino",
        "CO-MPLS-00123",
        "Ana Ruiz",
        "ana.ruiz@bancoandino.com.co",
        "no tenemos internet desde ayer",
    ]
    barrier = threading.Barrier(len(messages))
    replies: dict[str, str] = {}

    def send(index: int) -> None:
        server = cluster.backend_urls[index % 2]
        barrier.wait()
        replies[messages[index]] = texts(say(server, sender, messages[index]))

    threads = [threading.Thread(target=send, args=(index,)) for index in range(len(messages))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert all(replies.get(message) for message in messages), replies

    events = events_of(database, sender)
    users = [data["text"] for type_name, data in events if type_name == "user"]
    assert Counter(users) == Counter(messages), "lost or duplicated turns"
    assert [type_name for type_name, _ in events].count("session_started") == 1
    # Turns never overlap: each message starts after the previous turn listened again.
    listening = False
    for type_name, data in events:
        if type_name == "user":
            assert listening, f"{data['text']!r} was processed inside another turn"
            listening = False
        elif type_name == "action" and data.get("name") == "action_listen":
            listening = True
    assert listening


def signed_twilio_message(cluster: Cluster, body: str) -> requests.Response:
    url = f"{cluster.front_url}/webhooks/twilio/webhook"
    params = {
        "MessageSid": f"SM{uuid.uuid4().hex}",
        "AccountSid": "AC" + "0" * 32,
        "From": f"whatsapp:+5730{uuid.uuid4().int % 10**8:08d}",
        "To": "whatsapp:+14155238886",
        "Body": body,
        "NumMedia": "0",
    }
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(url, params)
    return requests.post(url, data=params, headers={"X-Twilio-Signature": signature}, timeout=60)


def twiml_messages(response: requests.Response) -> list[str]:
    return [message.text or "" for message in ET.fromstring(response.text).findall("Message")]


def test_without_redis_no_message_runs_unlocked_and_twilio_customers_get_an_error(
    cluster: Cluster, database: Engine
) -> None:
    sender = f"cluster-{uuid.uuid4().hex[:10]}"
    assert texts(say(cluster.front_url, sender, "hola"))
    before = events_of(database, sender)
    error_text = read_channel_responses(DOMAIN_PATH)[BOT_FAILED]

    cluster.redis.stop()
    try:
        started = time.monotonic()
        rest = say(cluster.backend_urls[0], sender, "el enlace de la sede norte está caído")
        assert [message.get("text") for message in rest.json()] == [error_text]
        assert time.monotonic() - started < 10
        twilio = signed_twilio_message(cluster, "hola, el servicio no funciona")
        assert twilio.status_code == 200
        assert twiml_messages(twilio) == [error_text]
        assert events_of(database, sender) == before, "a message was processed without its lock"
    finally:
        cluster.redis.start()

    rasa_logs = "".join(log.read_text(errors="replace") for log in (cluster.run_dir / "logs").glob("rasa-*.log"))
    assert "Redis is unavailable" in rasa_logs and "not processed without its lock" in rasa_logs
    # Redis is back: the conversation goes on where it was.
    assert "empresa" in texts(say(cluster.front_url, sender, "el enlace de la sede norte está caído")).lower()


@pytest.mark.stops_cluster
def test_ctrl_c_stops_every_process(cluster: Cluster) -> None:
    pgid = cluster.launcher.pid
    assert len(group_members(pgid)) >= 6  # launcher, 2 + 2 servers, web, nginx (and its worker)
    assert press_ctrl_c(cluster) == 0
    deadline = time.monotonic() + 10
    while group_members(pgid) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert group_members(pgid) == []
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{cluster.front_url}/", timeout=5)
