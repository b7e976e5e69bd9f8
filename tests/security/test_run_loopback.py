"""`make run` (scripts/run.sh) keeps its three servers on the loopback unless told otherwise."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

# Starts processes of its own (tests/conftest.py: tiers).
pytestmark = pytest.mark.stack

ROOT = Path(__file__).resolve().parents[2]
PORTS = {"RASA_PORT": 15905, "ACTION_PORT": 15955, "WEB_PORT": 18980}
TCP_LISTEN = "0A"


def listening_addresses(port: int) -> set[str]:
    """The local addresses of the sockets listening on `port`, from /proc (IPv4 and IPv6)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, port_hex = local.rsplit(":", 1)
            if state == TCP_LISTEN and int(port_hex, 16) == port:
                raw = bytes.fromhex(address)
                if len(raw) == 4:
                    found.add(socket.inet_ntop(socket.AF_INET, raw[::-1]))
                else:
                    words = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
                    found.add(socket.inet_ntop(socket.AF_INET6, words))
    return found


def test_make_run_listens_on_the_loopback_only(tmp_path: Path) -> None:
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'run.db'}",
        # Secrets given, so scripts/run.sh writes no .env into the project.
        "AGENT_API_TOKEN": "run-token",
        "ACTION_SERVER_TOKEN": "run-action-token",
        "ADMIN_USERNAME": "admin",
        "ADMIN_PASSWORD": "run-admin-password",
        **{name: str(port) for name, port in PORTS.items()},
    }
    process = subprocess.Popen(
        ["bash", "scripts/run.sh"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 180
        listening: dict[int, set[str]] = {}
        while time.monotonic() < deadline and process.poll() is None:
            listening = {port: listening_addresses(port) for port in PORTS.values()}
            if all(listening.values()):
                break
            time.sleep(1)
        assert process.poll() is None, "scripts/run.sh stopped"
        assert all(listening.values()), f"not all servers listen: {listening}"
        assert listening == {port: {"127.0.0.1"} for port in PORTS.values()}
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
