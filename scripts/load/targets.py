"""What the load test measures: started one after the other, each on its own database, then stopped.

* ``one_server`` and ``cluster``: ``scripts/run_cluster.sh`` (production mode:
  PostgreSQL + Redis, nginx in front) with 1 + 1 and 2 + 2 servers, each on a
  fresh PostgreSQL database ``noc_load_<random>`` dropped afterwards, and the
  machine's Redis;
* ``bare_rasa_init``: the moodbot of ``rasa init`` with ``rasa run`` (REST only,
  in-memory conversations), as scripts/bench.py's latency part runs it.

Ports are 17xxx, away from the tests' 15xxx, 16xxx and 25xxx.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from scripts.load.driver import Endpoint
from scripts.load.procs import group_members
from scripts.load.stats import StoredIncident, StoredMessage

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / ".venv" / "bin"
MODEL = ROOT / "models" / "noc.tar.gz"
ADMIN_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
MACHINE_REDIS_URL = "redis://127.0.0.1:6379/0"
# Two models loading at once on two busy cores took six minutes (scripts/cluster/launch.py).
READY_SECONDS = 900
STOP_SECONDS = 90
# Every simulated customer writes from 127.0.0.1: the per-IP limit would stop the run.
NO_RATE_LIMITS = {"RATE_LIMIT_SENDER_PER_MINUTE": "1000000", "RATE_LIMIT_IP_PER_MINUTE": "1000000"}


@dataclass(frozen=True)
class Ports:
    rasa: int
    action: int
    web: int


PORTS = {"one_server": Ports(17005, 17055, 17080), "cluster": Ports(17205, 17255, 17280)}
BARE_PORT = 17405
SERVERS = {"one_server": 1, "cluster": 2}


@dataclass
class Running:
    name: str
    process: subprocess.Popen
    endpoint: Endpoint
    run_dir: Path
    database_url: str | None

    @property
    def pgid(self) -> int:
        # Started with start_new_session: its pid is its group's id.
        return self.process.pid


@contextlib.contextmanager
def fresh_database(admin_url: str = ADMIN_POSTGRES_URL) -> Iterator[str]:
    """A new empty PostgreSQL database on the machine's server, dropped afterwards; yields its URL."""
    name = f"noc_load_{secrets.token_hex(4)}"
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT", future=True)
    try:
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
        finally:
            with engine.connect() as conn:
                # A server killed late may still hold a connection.
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        engine.dispose()


def stop_group(process: subprocess.Popen) -> None:
    """Ctrl-C to the target's own process group, then SIGKILL to whatever is left of that group only."""
    pgid = process.pid
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=STOP_SECONDS)
    deadline = time.monotonic() + 10
    while group_members(pgid) and time.monotonic() < deadline:
        time.sleep(0.5)
    for pid in group_members(pgid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    if process.poll() is None:
        process.kill()
        process.wait(timeout=10)


def _wait(check: object, process: subprocess.Popen, what: str, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}; see {log}")
        if check():  # type: ignore[operator]
            return
        time.sleep(2)
    raise TimeoutError(f"{what} was not ready within {timeout} s; see {log}")


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=5).status_code == 200
    except requests.RequestException:
        return False


@contextlib.contextmanager
def noc_target(name: str, run_dir: Path, database_url: str, redis_url: str = MACHINE_REDIS_URL) -> Iterator[Running]:
    """``scripts/run_cluster.sh`` with this target's server counts, ready to take messages."""
    ports, servers = PORTS[name], SERVERS[name]
    front = f"http://127.0.0.1:{ports.rasa}"
    twilio_token = secrets.token_urlsafe(16)
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "RASA_PORT": str(ports.rasa),
        "ACTION_PORT": str(ports.action),
        "WEB_PORT": str(ports.web),
        # Set here so that scripts/cluster/secrets.sh writes nothing into .env.
        "AGENT_API_TOKEN": secrets.token_urlsafe(16),
        "ADMIN_USERNAME": "admin",
        "ADMIN_PASSWORD": secrets.token_urlsafe(16),
        "TWILIO_AUTH_TOKEN": twilio_token,
        "PUBLIC_BASE_URL": front,
        "TWILIO_VALIDATE_SIGNATURE": "true",
        # No notification of a handoff leaves the machine during a load test.
        "HANDOFF_WEBHOOK_URL": "",
        "SMTP_HOST": "",
        **NO_RATE_LIMITS,
    }
    run_dir.mkdir(parents=True, exist_ok=True)
    log = run_dir / "launcher.log"
    with open(log, "w") as out:
        process = subprocess.Popen(
            [
                str(ROOT / "scripts" / "run_cluster.sh"),
                "--rasa-servers",
                str(servers),
                "--action-servers",
                str(servers),
                "--run-dir",
                str(run_dir),
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            # Its own group: its servers are found, measured and stopped through it.
            start_new_session=True,
        )
    try:
        print(f"[{name}] starting {servers} Rasa + {servers} action servers behind nginx on :{ports.rasa}", flush=True)
        _wait(lambda: "Cluster ready" in log.read_text(errors="replace"), process, name, log, READY_SECONDS)
        _wait(lambda: _answers(f"{front}/"), process, name, log, 60)
        yield Running(name, process, Endpoint(front, twilio_token, front), run_dir, database_url)
    finally:
        stop_group(process)


@contextlib.contextmanager
def bare_target(run_dir: Path, port: int = BARE_PORT) -> Iterator[Running]:
    """A bare ``rasa init`` bot (trained here, as scripts/bench.py does) served by ``rasa run``."""
    project = run_dir / "project"
    project.mkdir(parents=True, exist_ok=True)
    print("[bare_rasa_init] rasa init (trains the moodbot)", flush=True)
    subprocess.run(
        [str(BIN / "rasa"), "init", "--no-prompt", "--init-dir", str(project)],
        cwd=project,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=1800,
    )
    log = run_dir / "rasa.log"
    with open(log, "w") as out:
        process = subprocess.Popen(
            [str(BIN / "rasa"), "run", "--interface", "127.0.0.1", "--port", str(port)],
            cwd=project,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        _wait(lambda: _answers(f"{url}/"), process, "bare_rasa_init", log, READY_SECONDS)
        yield Running("bare_rasa_init", process, Endpoint(url), run_dir, None)
    finally:
        stop_group(process)


def read_store(engine: Engine) -> tuple[list[StoredMessage], list[StoredIncident]]:
    """Rasa's stored user messages (SQLTrackerStore's ``events``) and the incident records."""
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT sender_id, data FROM events WHERE type_name = 'user' ORDER BY id"))
        messages = []
        for sender_id, data in rows:
            event = json.loads(data)
            messages.append(StoredMessage(sender_id, event.get("text") or "", event.get("message_id")))
        incidents = [
            StoredIncident(*row)
            for row in conn.execute(text("SELECT sender_id, ticket, service_id, contact_email FROM incidents"))
        ]
    return messages, incidents


def read_store_at(database_url: str) -> tuple[list[StoredMessage], list[StoredIncident]]:
    engine = create_engine(database_url, future=True)
    try:
        return read_store(engine)
    finally:
        engine.dispose()
