"""Faults of a running cluster, each with nothing lost: action servers killed or frozen,
PostgreSQL restarted during a burst of confirmations, a Rasa server killed mid-conversation.

The one cluster of tests/cluster (conftest.py). Every test leaves it whole again (the
launcher restarts what was killed), as the tests after it expect.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from sqlalchemy import text
from sqlalchemy.engine import Engine

from noc.rasa_plugins.channels.twilio import BOT_FAILED, DOMAIN_PATH, read_channel_responses
from tests.cluster.cluster import (
    ACTION_BACKEND_PORTS,
    ACTION_TIMEOUT_SECONDS,
    RASA_BACKENDS,
    TICKET,
    TOKEN,
    Cluster,
    Intake,
    answers,
    events_of,
    question_of,
    say,
    server_pids,
    texts,
)
from tests.polling import eventually

SUBMIT_FAILED = "utter_submit_failed"
# Loading the actions, or a Rasa model, after a restart on two busy cores.
RESTART_SECONDS = 600
CONVERSATIONS = 8
CONFIRM_TRIES = 6


def error_text() -> str:
    return read_channel_responses(DOMAIN_PATH)[BOT_FAILED]


def bot_messages(response: requests.Response) -> list[str]:
    return [message.get("text", "") for message in response.json()]


def served_by(response: requests.Response) -> str:
    """The Rasa server that answered: nginx lists each one it tried, the one that answered last."""
    return response.headers["X-NOC-Upstream"].split(",")[-1].strip()


def new_sender() -> str:
    return f"faults-{uuid.uuid4().hex[:10]}"


def signal_servers(cluster: Cluster, ports: tuple[int, ...], signum: signal.Signals) -> None:
    killed = []
    for port in ports:
        pids = server_pids(cluster, port)
        assert pids, f"no process of the cluster listens on {port}"
        for pid in pids:
            os.kill(pid, signum)
        killed += pids
    if signum == signal.SIGKILL:
        # Until the kernel has torn a killed server down, its listening socket still
        # accepts connections, which it then resets: nginx does not resend a POST it
        # sent (it could run twice), so a message in that instant gets a 502. A
        # customer's next message comes later than that.
        eventually(lambda: not any(alive(pid) for pid in killed), timeout=30, what=f"the end of {killed}", interval=0.5)


def alive(pid: int) -> bool:
    """Whether a thread of ``pid`` is left, which may still hold the server's sockets.

    The main thread of a killed server can be a zombie while its other threads
    are still exiting: the last one frees the memory and only then closes the
    sockets (measured: the listening socket still open 0.6 s after the zombie
    showed, for a process of 1.2 GB and 30 threads; a Rasa server has 1.7 GB and
    14). A zombie is gone once it is the only thread left.
    """
    process = Path("/proc") / str(pid)
    try:
        state = (process / "stat").read_text().rsplit(")", 1)[1].split()[0]
        threads = sum(1 for _ in (process / "task").iterdir())
    except (OSError, IndexError):
        return False
    return state != "Z" or threads > 1


def wait_restarted(cluster: Cluster, names_and_urls: dict[str, str]) -> None:
    """The launcher saw each server die and started it again, and it answers."""
    for name, url in names_and_urls.items():
        eventually(
            lambda name=name: f"{name} exited with -9; restarting" in cluster.launcher_log(),
            timeout=60,
            what=f"the launcher restarting {name}",
            interval=0.5,
        )
        eventually(
            lambda url=url: answers(url), timeout=RESTART_SECONDS, what=f"{name} answering again at {url}", interval=0.5
        )


def action_health_urls() -> dict[str, str]:
    return {f"actions-{i}": f"http://127.0.0.1:{port}/health" for i, port in enumerate(ACTION_BACKEND_PORTS, 1)}


def check_record(cluster: Cluster, ticket: str) -> None:
    record = requests.get(
        f"{cluster.web_url}/api/incidents/{ticket}", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
    )
    assert record.status_code == 200, record.text
    fields = record.json()
    assert (fields["company"], fields["service_id"], fields["contact_name"]) == (
        "Banco Andino",
        "CO-MPLS-00123",
        "Ana Ruiz",
    )


def started_intake(cluster: Cluster, answered: int) -> Intake:
    """A new conversation, greeted, with ``answered`` questions answered."""
    intake = Intake(new_sender())
    intake.send(cluster.front_url, "hola buenas tardes")
    for _ in range(answered):
        intake.step(cluster.front_url)
    return intake


def test_action_servers_killed_the_customer_is_told_and_the_intake_goes_on_after_their_restart(
    cluster: Cluster, database: Engine
) -> None:
    intake = started_intake(cluster, answered=2)  # the problem and the company
    pending = intake.answer()
    before = events_of(database, intake.sender)

    signal_servers(cluster, ACTION_BACKEND_PORTS, signal.SIGKILL)
    outage = say(cluster.front_url, intake.sender, pending)
    assert bot_messages(outage) == [error_text()]
    assert events_of(database, intake.sender) == before, "the failed turn was saved"

    wait_restarted(cluster, action_health_urls())
    # The customer writes the same message again: it is taken, and nothing answered before is asked again.
    intake.send(cluster.front_url, pending)
    assert question_of(intake.question) not in intake.asked, intake.question
    ticket, _ = intake.until_ticket(cluster.front_url)
    assert intake.repeated_questions() == []
    check_record(cluster, ticket)


def test_action_servers_that_hang_give_an_error_within_the_timeout_and_the_intake_goes_on(
    cluster: Cluster, database: Engine
) -> None:
    intake = started_intake(cluster, answered=3)
    pending = intake.answer()
    before = events_of(database, intake.sender)

    signal_servers(cluster, ACTION_BACKEND_PORTS, signal.SIGSTOP)
    try:
        started = time.monotonic()
        outage = say(cluster.front_url, intake.sender, pending)
        elapsed = time.monotonic() - started
    finally:
        signal_servers(cluster, ACTION_BACKEND_PORTS, signal.SIGCONT)
    assert bot_messages(outage) == [error_text()]
    # Generous: the bound is there to tell "timed out" from "waited for the servers".
    assert elapsed < ACTION_TIMEOUT_SECONDS + 25, elapsed
    assert events_of(database, intake.sender) == before, "the failed turn was saved"

    intake.send(cluster.front_url, pending)
    assert question_of(intake.question) not in intake.asked, intake.question
    ticket, _ = intake.until_ticket(cluster.front_url)
    assert intake.repeated_questions() == []
    check_record(cluster, ticket)


def at_confirmation(cluster: Cluster) -> Intake:
    """A conversation whose bot asks whether the summary is right."""
    intake = Intake(new_sender())
    intake.send(
        cluster.front_url, "Soy Ana Ruiz de Banco Andino, el servicio CO-MPLS-00123 no tiene conexión desde ayer"
    )
    for _ in range(15):
        if question_of(intake.question) == "correctos":
            return intake
        intake.step(cluster.front_url)
    raise AssertionError(f"never reached the summary: {intake.asked}")


def test_postgres_restarting_during_a_burst_of_confirmations_loses_and_doubles_no_incident(
    cluster: Cluster, database: Engine
) -> None:
    with ThreadPoolExecutor(4) as pool:
        intakes = list(pool.map(lambda _: at_confirmation(cluster), range(CONVERSATIONS)))
    retry_texts = (error_text(), read_channel_responses(DOMAIN_PATH, (SUBMIT_FAILED,))[SUBMIT_FAILED])
    barrier = threading.Barrier(CONVERSATIONS + 1)

    def confirm(intake: Intake) -> str:
        barrier.wait()
        return texts(say(cluster.front_url, intake.sender, "sí"))

    with ThreadPoolExecutor(CONVERSATIONS) as pool:
        burst = [pool.submit(confirm, intake) for intake in intakes]
        barrier.wait()
        # Into the middle of the turns: some are reading, some writing the incident, some saving.
        time.sleep(0.3)
        cluster.postgres.restart()
        first_answers = [future.result(timeout=300) for future in burst]

    tickets: dict[str, str] = {}
    retried = 0
    for intake, answer in zip(intakes, first_answers, strict=True):
        for _ in range(CONFIRM_TRIES):
            ticket = TICKET.search(answer)
            if ticket:
                tickets[intake.sender] = ticket.group()
                break
            assert any(retry in answer for retry in retry_texts), answer
            retried += 1
            time.sleep(1)
            answer = texts(say(cluster.front_url, intake.sender, "sí"))
        else:
            raise AssertionError(f"{intake.sender}: no ticket after {CONFIRM_TRIES} confirmations: {answer}")

    with database.connect() as conn:
        rows = conn.execute(
            text("SELECT sender_id, ticket FROM incidents WHERE sender_id = ANY(:senders)"),
            {"senders": [intake.sender for intake in intakes]},
        )
        stored = sorted((sender, ticket) for sender, ticket in rows)
    assert stored == sorted(tickets.items()), "an incident lost, doubled, or not the one the customer was given"
    assert len(set(tickets.values())) == CONVERSATIONS
    print(f"{retried} confirmations had to be repeated")


def test_a_rasa_server_killed_mid_conversation_the_other_one_carries_on(cluster: Cluster, database: Engine) -> None:
    rasa_1 = cluster.backend_urls[0]
    intake = started_intake(cluster, answered=3)
    pending = intake.answer()

    def send_to_rasa_1() -> None:
        # Usually no answer comes: the server dies under the turn.
        with contextlib.suppress(requests.RequestException):
            requests.post(
                f"{rasa_1}/webhooks/rest/webhook", json={"sender": intake.sender, "message": pending}, timeout=120
            )

    in_flight = threading.Thread(target=send_to_rasa_1)
    in_flight.start()
    time.sleep(0.3)
    signal_servers(cluster, (int(RASA_BACKENDS[0].rsplit(":", 1)[1]),), signal.SIGKILL)
    in_flight.join(timeout=130)

    # Its turn is saved whole or not at all; the customer, who got no answer, writes again when it is not.
    events = events_of(database, intake.sender)
    if pending in [data.get("text") for kind, data in events if kind == "user"]:
        intake.question = [data.get("text") or "" for kind, data in events if kind == "bot"][-1]
        response = intake.step(cluster.front_url)
    else:
        response = intake.send(cluster.front_url, pending)
    assert served_by(response) == RASA_BACKENDS[1]
    assert question_of(intake.question) not in intake.asked, intake.question

    ticket, responses = intake.until_ticket(cluster.front_url)
    assert intake.repeated_questions() == []
    check_record(cluster, ticket)
    if not answers(f"{rasa_1}/"):
        # Still loading its model: every answer since the kill came from the other server.
        assert {served_by(r) for r in responses} == {RASA_BACKENDS[1]}

    # Both servers are up again for the tests that follow.
    wait_restarted(cluster, {"rasa-1": f"{rasa_1}/"})
