"""`scripts/run_cluster.sh` started as a user would, on test ports, and stopped as Ctrl-C does."""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests
from sqlalchemy import text
from sqlalchemy.engine import Engine

from tests.cluster.servers import PostgresServer, RedisServer
from tests.e2e.servers import MODEL, ROOT

RASA_PORT = 16005
ACTION_PORT = 16055
WEB_PORT = 16080
REDIS_PORT = 16379
POSTGRES_PORT = 16432
RASA_BACKENDS = ("127.0.0.1:16105", "127.0.0.1:16106")
ACTION_BACKEND_PORTS = (16155, 16156)
# Shorter than the default 20 s, so the faults tests' frozen action servers answer
# sooner; still above what test_load.py's 50 conversations at once make a turn wait
# for the Rasa server's busy event loop on two cores.
ACTION_TIMEOUT_SECONDS = 15
TOKEN = "cluster-token"
TWILIO_TOKEN = "cluster-twilio-token"
READY_SECONDS = 900
STOP_SECONDS = 90
TICKET = re.compile(r"INC-\d{4}-\d{6}")


@dataclass
class Cluster:
    launcher: subprocess.Popen
    run_dir: Path
    postgres: PostgresServer
    redis: RedisServer

    front_url = f"http://127.0.0.1:{RASA_PORT}"
    web_url = f"http://127.0.0.1:{WEB_PORT}"
    backend_urls = tuple(f"http://{backend}" for backend in RASA_BACKENDS)

    @property
    def database_url(self) -> str:
        return self.postgres.url

    def launcher_log(self) -> str:
        return (self.run_dir / "launcher.log").read_text(errors="replace")

    def logs(self) -> str:
        parts = [(self.run_dir / "launcher.log").read_text(errors="replace")[-3000:]]
        for log in sorted((self.run_dir / "logs").glob("*.log")):
            parts.append(f"--- {log.name} ---\n{log.read_text(errors='replace')[-3000:]}")
        return "\n".join(parts)


def group_members(pgid: int) -> list[int]:
    """Live processes of process group ``pgid`` (the launcher's session)."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # Fields after the command name, which may itself hold spaces and parentheses.
        fields = stat[stat.rindex(")") + 2 :].split()
        state, group = fields[0], int(fields[2])
        if group == pgid and state != "Z":
            members.append(int(entry.name))
    return members


def command_line(pid: int) -> tuple[str, ...]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return ()
    return tuple(part.decode(errors="replace") for part in raw.split(b"\0") if part)


def server_pids(cluster: Cluster, port: int) -> list[int]:
    """The cluster's processes started with ``--port <port>`` (one Rasa or action server)."""
    found = []
    for pid in group_members(cluster.launcher.pid):
        args = command_line(pid)
        if any(a == "--port" and b == str(port) for a, b in itertools.pairwise(args)):
            found.append(pid)
    return found


def start_cluster(run_dir: Path, *, postgres: PostgresServer, redis: RedisServer) -> Cluster:
    if not MODEL.exists():
        raise RuntimeError(f"{MODEL} is missing: run `make train` (make test does it)")
    env = {
        **os.environ,
        "DATABASE_URL": postgres.url,
        "REDIS_URL": redis.url,
        "RASA_PORT": str(RASA_PORT),
        "ACTION_PORT": str(ACTION_PORT),
        "WEB_PORT": str(WEB_PORT),
        "AGENT_API_TOKEN": TOKEN,
        "ACTION_SERVER_TOKEN": "cluster-action-token",
        "ADMIN_USERNAME": "admin",
        "ADMIN_PASSWORD": "cluster-admin-password",
        "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{RASA_PORT}",
        "TWILIO_VALIDATE_SIGNATURE": "true",
        # Eight messages of one conversation queue behind each other on two cores.
        "LOCK_WAIT_SECONDS": "60",
        "ACTION_TIMEOUT_SECONDS": str(ACTION_TIMEOUT_SECONDS),
        # Every test customer comes from 127.0.0.1, and the faults tests alone send
        # well over the default 120 messages a minute.
        "RATE_LIMIT_IP_PER_MINUTE": "2000",
    }
    run_dir.mkdir(parents=True, exist_ok=True)
    with open(run_dir / "launcher.log", "w") as log:
        launcher = subprocess.Popen(
            [str(ROOT / "scripts" / "run_cluster.sh"), "--run-dir", str(run_dir)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            # Its own process group, so that the test can press "Ctrl-C" on it alone.
            start_new_session=True,
        )
    cluster = Cluster(launcher=launcher, run_dir=run_dir, postgres=postgres, redis=redis)
    try:
        wait_ready(cluster)
    except BaseException:
        kill_cluster(cluster)
        sys.stderr.write(cluster.logs())
        raise
    return cluster


def wait_ready(cluster: Cluster) -> None:
    deadline = time.monotonic() + READY_SECONDS
    log = cluster.run_dir / "launcher.log"
    while time.monotonic() < deadline:
        if cluster.launcher.poll() is not None:
            raise RuntimeError(f"run_cluster.sh exited with {cluster.launcher.returncode}")
        if "Cluster ready" in log.read_text(errors="replace"):
            # nginx answers too: it started last.
            requests.get(f"{cluster.front_url}/", timeout=5).raise_for_status()
            return
        time.sleep(2)
    raise TimeoutError(f"the cluster was not ready within {READY_SECONDS} s")


def press_ctrl_c(cluster: Cluster) -> int:
    """SIGINT to the whole process group, as a terminal does; the launcher's exit code."""
    if cluster.launcher.poll() is None:
        os.killpg(cluster.launcher.pid, signal.SIGINT)
    return cluster.launcher.wait(timeout=STOP_SECONDS)


def kill_cluster(cluster: Cluster) -> None:
    """Last resort for a test that failed: nothing of the cluster may outlive the tests."""
    with contextlib.suppress(subprocess.TimeoutExpired):
        press_ctrl_c(cluster)
    for pid in group_members(cluster.launcher.pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    if cluster.launcher.poll() is None:
        cluster.launcher.wait(timeout=10)


def say(url: str, sender: str, message: str) -> requests.Response:
    response = requests.post(f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": message}, timeout=120)
    assert response.status_code == 200, response.text
    return response


def texts(response: requests.Response) -> str:
    return "\n".join(message.get("text", "") for message in response.json())


def events_of(database: Engine, sender: str) -> list[tuple[str, dict]]:
    """Rasa's stored conversation, as every server reads it (SQLTrackerStore's table)."""
    with database.connect() as conn:
        rows = conn.execute(
            text("SELECT type_name, data FROM events WHERE sender_id = :sender ORDER BY id"), {"sender": sender}
        )
        return [(type_name, json.loads(data)) for type_name, data in rows]


# What the customer answers to each of the intake's questions, recognised by a
# word of the question; first match wins (the summary repeats every answer, the
# power question says "problemas").
ANSWERS = (
    ("correctos", "sí"),
    ("continúa", "sí, sigue igual"),
    ("reinició", "sí, ya lo reiniciamos"),
    ("encendido", "sí"),
    ("empresa", "Banco Andino"),
    ("ID del servicio", "CO-MPLS-00123"),
    ("apellido", "Ana Ruiz"),
    ("teléfono", "+57 300 123 4567"),
    ("correo", "ana.ruiz@bancoandino.com.co"),
    ("país", "Colombia"),
    ("Desde cuándo", "desde ayer a las 3 de la tarde"),
    ("describiría la falla", "sin servicio"),
    ("problema", "el enlace de la sede norte está caído desde ayer a las 3 de la tarde"),
)
MAX_INTAKE_TURNS = 20


def last_text(response: requests.Response) -> str:
    messages = [message.get("text", "") for message in response.json()]
    return messages[-1] if messages else ""


def question_of(bot_text: str) -> str:
    """The keyword of ANSWERS the bot's last message asks about."""
    for keyword, _ in ANSWERS:
        if keyword.lower() in bot_text.lower():
            return keyword
    raise AssertionError(f"not a question of the intake: {bot_text!r}")


class Intake:
    """A customer who answers whatever the intake asks, and remembers what it was asked."""

    def __init__(self, sender: str) -> None:
        self.sender = sender
        self.asked: list[str] = []
        # The bot's last message: the question to answer next.
        self.question = ""

    def answer(self) -> str:
        """The message that answers the current question (recorded as asked)."""
        keyword = question_of(self.question)
        self.asked.append(keyword)
        return dict(ANSWERS)[keyword]

    def send(self, url: str, message: str) -> requests.Response:
        response = say(url, self.sender, message)
        self.question = last_text(response)
        return response

    def step(self, url: str) -> requests.Response:
        return self.send(url, self.answer())

    def until_ticket(self, url: str) -> tuple[str, list[requests.Response]]:
        """Answers until the bot gives a ticket number; the ticket and every response."""
        responses = []
        for _ in range(MAX_INTAKE_TURNS):
            response = self.step(url)
            responses.append(response)
            ticket = TICKET.search(texts(response))
            if ticket:
                return ticket.group(), responses
        raise AssertionError(f"no ticket after {MAX_INTAKE_TURNS} answers: {self.asked}")

    def repeated_questions(self) -> list[str]:
        return sorted({keyword for keyword in self.asked if self.asked.count(keyword) > 1})


def answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=5).status_code < 500
    except requests.RequestException:
        return False
