"""Starts the three servers of `make run` on test ports, as a user would.

Most end-to-end tests share one such stack for the whole run (``servers`` in
tests/conftest.py; the model loads once, not once per package): its Twilio
channel checks real signatures and sends through a fake Twilio API, and an
action that takes longer than ``ACTION_TIMEOUT_SECONDS`` fails the turn. A
module that needs other settings starts its own stack with ``start_servers``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from noc.db.conversation_log import list_messages
from noc.db.db import make_engine, make_session_factory

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
MODEL = ROOT / "models" / "noc.tar.gz"
LOGGING = ("--logging-config-file", "logging.yml")
ACTION_SERVER_TOKEN = "e2e-action-token"

# The shared stack. Each test uses senders, phones and agents of its own.
SHARED_RASA_PORT, SHARED_ACTION_PORT, SHARED_WEB_PORT = 15005, 15055, 18080
PUBLIC_BASE_URL = f"http://127.0.0.1:{SHARED_RASA_PORT}"
TWILIO_WEBHOOK = f"{PUBLIC_BASE_URL}/webhooks/twilio/webhook"
TWILIO_ACCOUNT_SID = "AC" + "1" * 32
TWILIO_AUTH_TOKEN = "e2e-twilio-token"
TWILIO_SMS_NUMBER = "+15005550006"
TWILIO_WHATSAPP_NUMBER = "+14155238886"
# Short, so that tests/e2e/test_action_server_faults.py waits 8 s and not the default 20 s.
ACTION_TIMEOUT_SECONDS = 8


@dataclass
class Servers:
    rasa_url: str
    web_url: str
    action_url: str
    token: str
    database_url: str
    log_dir: Path
    # What started each server, for tests that kill one and start it again.
    commands: dict[str, list[str]] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    def conversation_log(self, sender_id: str) -> list[dict]:
        """The sender's messages in the live conversation log, read from the stack's database."""
        engine = make_engine(self.database_url)
        try:
            return list_messages(make_session_factory(engine), sender_id=sender_id)
        finally:
            engine.dispose()

    def start(self, name: str) -> subprocess.Popen:
        log = open(self.log_dir / f"{name}.log", "a")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(self.commands[name], cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        self.processes[name] = proc
        return proc


def wait_for(url: str, procs: list[subprocess.Popen], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for proc in procs:
            if proc.poll() is not None:
                raise RuntimeError(f"{proc.args[:3]} exited with {proc.returncode}")
        try:
            if requests.get(url, timeout=2).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(1)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


def start_servers(
    tmp: Path, *, rasa_port: int, action_port: int, web_port: int, extra_env: dict[str, str] | None = None
) -> tuple[Servers, list[subprocess.Popen]]:
    if not MODEL.exists():
        raise RuntimeError(f"{MODEL} is missing: run `make train` (make test does it)")
    database_url = f"sqlite:///{tmp / 'e2e.db'}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "AGENT_API_TOKEN": "e2e-token",
        # What the Rasa server sends the action server (endpoints.yml).
        "ACTION_SERVER_TOKEN": ACTION_SERVER_TOKEN,
        "RASA_PORT": str(rasa_port),
        "ACTION_PORT": str(action_port),
        "WEB_PORT": str(web_port),
        "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{action_port}/webhook",
        # The logging config (masking, noc/logmask.py) is read before Rasa puts the project on sys.path.
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        # Every test and benchmark client is 127.0.0.1: limits are tested on their own.
        "RATE_LIMIT_SENDER_PER_MINUTE": "1000000",
        "RATE_LIMIT_IP_PER_MINUTE": "1000000",
        **(extra_env or {}),
    }
    subprocess.run([str(BIN / "python"), "-m", "noc", "migrate"], cwd=ROOT, env=env, check=True)
    commands = {
        "actions": [str(BIN / "python"), "-m", "noc.action_server", "--port", str(action_port), *LOGGING],
        "web": [str(BIN / "python"), "-m", "noc.web"],
        "rasa": [
            str(BIN / "python"),
            "-m",
            "noc.rasa_server",
            "run",
            "--model",
            str(MODEL),
            "--port",
            str(rasa_port),
            "--credentials",
            "credentials.yml",
            "--endpoints",
            "endpoints.yml",
            *LOGGING,
        ],
    }
    servers = Servers(
        rasa_url=f"http://127.0.0.1:{rasa_port}",
        web_url=f"http://127.0.0.1:{web_port}",
        action_url=f"http://127.0.0.1:{action_port}",
        token="e2e-token",
        database_url=database_url,
        log_dir=tmp,
        commands=commands,
        env=env,
    )
    procs = [servers.start(name) for name in commands]
    try:
        wait_for(f"{servers.action_url}/health", procs, 120)
        wait_for(f"{servers.web_url}/api/health", procs, 60)
        wait_for(f"{servers.rasa_url}/", procs, 300)
    except Exception:
        stop_servers(procs)
        for name in commands:
            sys.stderr.write(f"--- {name}.log ---\n{(tmp / f'{name}.log').read_text()[-4000:]}\n")
        raise
    return servers, procs


def start_shared_servers(tmp: Path, *, twilio_api_base_url: str) -> Servers:
    """The stack the end-to-end tests share; stop it with ``stop_servers(list(servers.processes.values()))``."""
    servers, _ = start_servers(
        tmp,
        rasa_port=SHARED_RASA_PORT,
        action_port=SHARED_ACTION_PORT,
        web_port=SHARED_WEB_PORT,
        extra_env={
            "TWILIO_ACCOUNT_SID": TWILIO_ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": TWILIO_AUTH_TOKEN,
            "TWILIO_SMS_NUMBER": TWILIO_SMS_NUMBER,
            "TWILIO_WHATSAPP_NUMBER": TWILIO_WHATSAPP_NUMBER,
            "TWILIO_API_BASE_URL": twilio_api_base_url,
            "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
            "TWILIO_VALIDATE_SIGNATURE": "true",
            "ACTION_TIMEOUT_SECONDS": str(ACTION_TIMEOUT_SECONDS),
        },
    )
    return servers


def stop_servers(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
