"""`scripts/run_cluster.sh` started as a user would, on test ports, and stopped as Ctrl-C does."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests

from tests.cluster.conftest import RedisServer
from tests.e2e.servers import MODEL, ROOT

RASA_PORT = 16005
ACTION_PORT = 16055
WEB_PORT = 16080
REDIS_PORT = 16379
RASA_BACKENDS = ("127.0.0.1:16105", "127.0.0.1:16106")
TOKEN = "cluster-token"
TWILIO_TOKEN = "cluster-twilio-token"
READY_SECONDS = 900
STOP_SECONDS = 90


@dataclass
class Cluster:
    launcher: subprocess.Popen
    run_dir: Path
    database_url: str
    redis: RedisServer

    front_url = f"http://127.0.0.1:{RASA_PORT}"
    web_url = f"http://127.0.0.1:{WEB_PORT}"
    backend_urls = tuple(f"http://{backend}" for backend in RASA_BACKENDS)

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


def start_cluster(run_dir: Path, *, database_url: str, redis: RedisServer) -> Cluster:
    if not MODEL.exists():
        raise RuntimeError(f"{MODEL} is missing: run `make train` (make test does it)")
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis.url,
        "RASA_PORT": str(RASA_PORT),
        "ACTION_PORT": str(ACTION_PORT),
        "WEB_PORT": str(WEB_PORT),
        "AGENT_API_TOKEN": TOKEN,
        "ADMIN_USERNAME": "admin",
        "ADMIN_PASSWORD": "cluster-admin-password",
        "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{RASA_PORT}",
        "TWILIO_VALIDATE_SIGNATURE": "true",
        # Eight messages of one conversation queue behind each other on two cores.
        "LOCK_WAIT_SECONDS": "60",
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
    cluster = Cluster(launcher=launcher, run_dir=run_dir, database_url=database_url, redis=redis)
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
