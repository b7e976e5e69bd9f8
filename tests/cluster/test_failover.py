"""A Rasa server dying with messages in hand: nginx sends them to the other server, and none is processed twice.

The one cluster of tests/cluster (conftest.py). Each copy of a message carries
the id of the original (REST: X-Request-ID, which nginx keeps; Twilio: the
MessageSid), and the conversation keeps each id once
(noc/rasa_plugins/message_ids.py). Every test leaves the cluster whole again.
"""

from __future__ import annotations

import signal
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests
from sqlalchemy import text
from sqlalchemy.engine import Engine
from twilio.request_validator import RequestValidator

from noc.db import twilio_messages as twilio_store
from noc.db.db import make_session_factory
from tests.cluster.cluster import (
    ACTION_BACKEND_PORTS,
    RASA_BACKENDS,
    TWILIO_TOKEN,
    Cluster,
    Intake,
    events_of,
    question_of,
    texts,
)
from tests.cluster.test_cluster import twiml_messages
from tests.cluster.test_faults import error_text, signal_servers, started_intake, wait_restarted

REST = "/webhooks/rest/webhook"
TWILIO = "/webhooks/twilio/webhook"
CONVERSATIONS = 8
# Long enough for every message of the burst to reach its server.
IN_HAND_SECONDS = 2.0


def user_events(database: Engine, sender: str) -> list[dict[str, Any]]:
    return [data for kind, data in events_of(database, sender) if kind == "user"]


def logged_user_texts(database: Engine, sender: str) -> list[str]:
    """What the agents' live view shows the customer wrote (the conversation log)."""
    with database.connect() as conn:
        rows = conn.execute(
            text("SELECT text FROM conversation_messages WHERE sender_id = :s AND role = 'user' ORDER BY id"),
            {"s": sender},
        )
        return [row for (row,) in rows]


def rasa_port(index: int) -> int:
    return int(RASA_BACKENDS[index].rsplit(":", 1)[1])


def test_a_rasa_server_killed_under_a_burst_of_conversations_fails_no_customer_and_doubles_no_message(
    cluster: Cluster, database: Engine
) -> None:
    with ThreadPoolExecutor(4) as pool:
        intakes: list[Intake] = list(pool.map(lambda _: started_intake(cluster, answered=1), range(CONVERSATIONS)))
    pending = {intake.sender: intake.answer() for intake in intakes}
    barrier = threading.Barrier(CONVERSATIONS + 1)

    def send(intake: Intake) -> requests.Response:
        barrier.wait()
        return requests.post(
            f"{cluster.front_url}{REST}",
            json={"sender": intake.sender, "message": pending[intake.sender]},
            timeout=120,
        )

    # Each answer of the intake calls the action servers: frozen, they keep every
    # turn of the burst in its server's hands (nginx alternates: four on each),
    # holding its conversation's lock, until rasa-1 is killed.
    signal_servers(cluster, ACTION_BACKEND_PORTS, signal.SIGSTOP)
    try:
        with ThreadPoolExecutor(CONVERSATIONS) as pool:
            burst = [pool.submit(send, intake) for intake in intakes]
            barrier.wait()
            time.sleep(IN_HAND_SECONDS)
            signal_servers(cluster, (rasa_port(0),), signal.SIGKILL)
            signal_servers(cluster, ACTION_BACKEND_PORTS, signal.SIGCONT)
            responses = [future.result(timeout=150) for future in burst]
    finally:
        signal_servers(cluster, ACTION_BACKEND_PORTS, signal.SIGCONT)

    try:
        check_burst(cluster, database, intakes, pending, responses)
    finally:
        # Whatever was found: both servers up again for the tests that follow.
        wait_restarted(cluster, {"rasa-1": f"{cluster.backend_urls[0]}/"})


def check_burst(
    cluster: Cluster,
    database: Engine,
    intakes: list[Intake],
    pending: dict[str, str],
    responses: list[requests.Response],
) -> None:
    # Every customer got the next question of the intake: no 502, no error message.
    assert [response.status_code for response in responses] == [200] * CONVERSATIONS, [r.text for r in responses]
    for intake, response in zip(intakes, responses, strict=True):
        answer = texts(response)
        assert error_text() not in answer, answer
        intake.question = answer
        assert question_of(answer) not in intake.asked, (intake.sender, answer)
    # Some of them were in rasa-1's hands: nginx tried it first, then rasa-2.
    tried = [response.headers["X-NOC-Upstream"] for response in responses]
    assert f"{RASA_BACKENDS[0]}, {RASA_BACKENDS[1]}" in tried, tried

    # The intakes go on (rasa-1 is still loading: on rasa-2 alone).
    for intake in intakes:
        intake.step(cluster.front_url)
        assert error_text() not in intake.question
        assert intake.repeated_questions() == []
    # Each message once in its conversation and in the agents' log (written just after each turn).
    for intake in intakes:
        users = user_events(database, intake.sender)
        ids = Counter(event["message_id"] for event in users)
        assert max(ids.values()) == 1, f"{intake.sender}: a message recorded twice: {users}"
        assert [event["text"] for event in users].count(pending[intake.sender]) == 1
        assert logged_user_texts(database, intake.sender).count(pending[intake.sender]) == 1


def test_a_rest_message_resent_after_its_server_saved_it_gets_the_saved_answer(
    cluster: Cluster, database: Engine
) -> None:
    intake = started_intake(cluster, answered=1)
    message, request_id = intake.answer(), uuid.uuid4().hex
    body = {"sender": intake.sender, "message": message}
    headers = {"X-Request-ID": request_id}
    # rasa-1 saves the turn and, say, dies before its answer leaves: nginx sends the copy to rasa-2.
    first = requests.post(f"{cluster.backend_urls[0]}{REST}", json=body, headers=headers, timeout=120)
    copy = requests.post(f"{cluster.backend_urls[1]}{REST}", json=body, headers=headers, timeout=120)
    assert first.status_code == copy.status_code == 200
    assert copy.json() == first.json()
    assert [event["message_id"] for event in user_events(database, intake.sender)].count(request_id) == 1
    # The conversation goes on from there.
    intake.question = texts(first)
    intake.step(cluster.front_url)
    assert intake.repeated_questions() == []


def twilio_post(cluster: Cluster, base_url: str, params: dict[str, str]) -> requests.Response:
    # Signed over the public address (PUBLIC_BASE_URL: nginx), whichever server it reaches.
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(f"{cluster.front_url}{TWILIO}", params)
    return requests.post(f"{base_url}{TWILIO}", data=params, headers={"X-Twilio-Signature": signature}, timeout=120)


def twilio_params(body: str) -> dict[str, str]:
    return {
        "MessageSid": f"SM{uuid.uuid4().hex}",
        "AccountSid": "AC" + "0" * 32,
        "From": f"whatsapp:+5731{uuid.uuid4().int % 10**8:08d}",
        "To": "whatsapp:+14155238886",
        "Body": body,
        "NumMedia": "0",
    }


def test_a_twilio_message_whose_server_died_is_processed_once_by_the_other(cluster: Cluster, database: Engine) -> None:
    factory = make_session_factory(database)
    # Died before saving: the MessageSid claimed, the conversation without it.
    lost = twilio_params("hola, el enlace de la sede norte está caído")
    twilio_store.claim_message(factory, lost["MessageSid"], lost["From"])
    resent = twilio_post(cluster, cluster.front_url, lost)
    assert resent.status_code == 200
    assert twiml_messages(resent) and error_text() not in twiml_messages(resent)
    assert [event["message_id"] for event in user_events(database, lost["From"])] == [lost["MessageSid"]]

    # Died after saving, before recording its answer: the copy gets the saved answer.
    saved = twilio_params("hola, el enlace de la sede norte está caído")
    first = twilio_post(cluster, cluster.backend_urls[0], saved)
    with factory() as session, session.begin():
        session.get(twilio_store.TwilioMessage, saved["MessageSid"]).status = twilio_store.STATUS_PROCESSING
    copy = twilio_post(cluster, cluster.backend_urls[1], saved)
    assert twiml_messages(copy) == twiml_messages(first) != []
    assert [event["message_id"] for event in user_events(database, saved["From"])] == [saved["MessageSid"]]
