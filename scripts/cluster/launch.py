"""`make run-cluster`: Rasa servers and action servers behind nginx, on PostgreSQL and Redis.

Runs in the foreground until Ctrl-C (or SIGTERM); then it stops all of them.
It supervises them as a deployment's process manager would: a Rasa, action or
web server that exits is started again (after 1 s, doubling to 30 s), unless
it already was restarted MAX_RESTARTS times in RESTART_WINDOW_SECONDS: then,
and when nginx exits, everything stops. Each server's output goes to
``<run dir>/logs/<name>.log`` (a restarted server appends). See docs/production.md.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

import redis
import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from noc.settings import load_settings
from scripts.cluster.nginx_config import find_nginx, local_config, write_local
from scripts.cluster.plan import (
    BIN,
    MACHINE_DATABASE_URL,
    MODEL,
    ROOT,
    ClusterError,
    ClusterPlan,
    Process,
    child_environment,
    plan_cluster,
    processes,
)

STOP_TIMEOUT_SECONDS = 30
# Two models loading at once on two busy cores took six minutes.
READY_TIMEOUT_SECONDS = 900
# A server that keeps dying (bad model, port taken, database refusing) is not
# restarted forever: the operator has to look at its log.
MAX_RESTARTS = 5
RESTART_WINDOW_SECONDS = 300
FIRST_BACKOFF_SECONDS = 1.0
MAX_BACKOFF_SECONDS = 30.0


class Stop(Exception):
    """SIGTERM, handled like Ctrl-C."""


def _raise_stop(signum: int, _frame: FrameType | None) -> None:
    raise Stop(signal.Signals(signum).name)


def ensure_machine_database(url: str) -> None:
    """Create the default database on the machine's PostgreSQL the first time."""
    name = make_url(url).database
    engine = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT", future=True)
    try:
        with engine.connect() as conn:
            exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
                print(f"Created database {name}")
    finally:
        engine.dispose()


def check_redis(url: str) -> None:
    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        raise ClusterError(f"Redis at {url} does not answer ({exc}): start it or set REDIS_URL") from exc
    finally:
        client.close()


def prepare(plan: ClusterPlan, env: dict[str, str]) -> None:
    """What `make run` does before starting, on the cluster's database."""
    if not MODEL.exists():
        raise ClusterError(f"{MODEL.relative_to(ROOT)} is missing: run `make train`")
    if find_nginx() is None:
        raise ClusterError("nginx is missing: `make nginx` installs Debian's nginx-light")
    if plan.database_url == MACHINE_DATABASE_URL:
        ensure_machine_database(plan.database_url)
    check_redis(plan.redis_url)
    python = str(BIN / "python")
    for command in (("check-tables",), ("migrate",), ("agents", "ensure-admin")):
        subprocess.run([python, "-m", "noc", *command], cwd=ROOT, env=env, check=True)
    write_local(
        local_config(
            plan.run_dir,
            rasa_backends=tuple(f"127.0.0.1:{port}" for port in plan.rasa_backend_ports),
            action_backends=tuple(f"127.0.0.1:{port}" for port in plan.action_backend_ports),
            rasa_port=plan.rasa_port,
            action_port=plan.action_port,
        ),
        plan.nginx_conf,
    )


@dataclass
class Child:
    """One supervised process: what it runs and its current incarnation."""

    process: Process
    popen: subprocess.Popen
    # Monotonic times of its restarts, the recent ones only.
    restarts: list[float] = field(default_factory=list)
    # When it is due to start again after an exit (None: running).
    restart_at: float | None = None
    # Restarted and not answering its health URL yet.
    recovering: bool = False


def spawn(process: Process, plan: ClusterPlan, env: dict[str, str], *, append: bool = False) -> subprocess.Popen:
    with open(plan.log_dir / f"{process.name}.log", "a" if append else "w", encoding="utf-8") as log:
        # The child holds its own descriptor.
        return subprocess.Popen(
            process.command, cwd=ROOT, env={**env, **dict(process.env)}, stdout=log, stderr=subprocess.STDOUT
        )


def start(plan: ClusterPlan, env: dict[str, str], started: list[Child]) -> None:
    """Starts every process into ``started`` (the caller's list, so that it can stop them if this fails)."""
    plan.log_dir.mkdir(parents=True, exist_ok=True)
    for process in processes(plan, nginx=find_nginx() or "nginx"):
        started.append(Child(process, spawn(process, plan, env)))


def answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code < 500
    except requests.RequestException:
        return False


def backoff(restarts: int) -> float:
    return min(FIRST_BACKOFF_SECONDS * 2 ** max(0, restarts - 1), MAX_BACKOFF_SECONDS)


def note_exit(child: Child, code: int, plan: ClusterPlan, now: float) -> bool:
    """Schedules the restart of a process that exited; False when it must not be restarted."""
    name = child.process.name
    log = plan.log_dir / f"{name}.log"
    if not child.process.restart:
        print(f"{name} exited with {code}; stopping everything (see {log})", file=sys.stderr, flush=True)
        return False
    child.restarts = [at for at in child.restarts if now - at < RESTART_WINDOW_SECONDS]
    if len(child.restarts) >= MAX_RESTARTS:
        print(
            f"{name} exited with {code} after {len(child.restarts)} restarts in {RESTART_WINDOW_SECONDS} s; "
            f"giving up and stopping everything (see {log})",
            file=sys.stderr,
            flush=True,
        )
        return False
    child.restarts.append(now)
    delay = backoff(len(child.restarts))
    print(f"{name} exited with {code}; restarting in {delay:g} s (see {log})", file=sys.stderr, flush=True)
    child.restart_at = now + delay
    return True


def supervise(
    children: list[Child],
    plan: ClusterPlan,
    env: dict[str, str],
    *,
    poll_seconds: float = 1.0,
) -> int:
    """Waits for readiness, restarts what exits; returns the launcher's exit code when it gives up."""
    waiting = [child for child in children if child.process.health_url]
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while True:
        now = time.monotonic()
        for child in children:
            if child.restart_at is None:
                code = child.popen.poll()
                if code is not None and not note_exit(child, code, plan, now):
                    return 1
            elif now >= child.restart_at:
                child.restart_at = None
                child.popen = spawn(child.process, plan, env, append=True)
                child.recovering = child.process.health_url is not None
        for child in children:
            if waiting or not child.recovering or child.restart_at is not None:
                continue
            if answers(child.process.health_url or ""):
                child.recovering = False
                print(f"{child.process.name} is back", flush=True)
        if waiting:
            waiting = [
                child
                for child in waiting
                if child.restart_at is not None or not answers(child.process.health_url or "")
            ]
            if not waiting:
                # Whatever restarted before readiness is announced as ready here, not again.
                for child in children:
                    child.recovering = False
                print(f"Cluster ready: {plan.rasa_url}/webhooks/rest/webhook", flush=True)
            elif time.monotonic() > deadline:
                names = ", ".join(child.process.name for child in waiting)
                print(f"Not ready after {READY_TIMEOUT_SECONDS} s: {names}", file=sys.stderr)
                return 1
        time.sleep(poll_seconds)


def stop(children: list[Child]) -> None:
    for child in children:
        if child.popen.poll() is None:
            child.popen.terminate()
    deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
    for child in children:
        try:
            child.popen.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.popen.kill()
            child.popen.wait()


def describe(plan: ClusterPlan) -> str:
    rasa = ", ".join(str(port) for port in plan.rasa_backend_ports)
    actions = ", ".join(str(port) for port in plan.action_backend_ports)
    return "\n".join(
        [
            f"nginx -> Rasa     {plan.rasa_url}/webhooks/rest/webhook  (servers on {rasa})",
            f"nginx -> actions  http://127.0.0.1:{plan.action_port}/webhook  (servers on {actions})",
            f"Web/API          http://127.0.0.1:{plan.web_port}/api/regions",
            f"Conversations    {make_url(plan.database_url).render_as_string(hide_password=True)}",
            f"Locks            {make_url(plan.redis_url).render_as_string(hide_password=True)}",
            f"Logs             {plan.log_dir}/",
            "Loading the models takes a minute or two; Ctrl-C stops everything.",
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rasa-servers", type=int, default=2)
    parser.add_argument("--action-servers", type=int, default=2)
    parser.add_argument("--run-dir", type=Path, default=ROOT / "var" / "cluster")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _raise_stop)
    # Started from a non-interactive shell in the background, Python inherits
    # SIGINT ignored and installs no KeyboardInterrupt: Ctrl-C (SIGINT to the
    # group) would then stop the servers but not the launcher.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    running: list[Child] = []
    try:
        plan = plan_cluster(
            load_settings(),
            rasa_servers=args.rasa_servers,
            action_servers=args.action_servers,
            run_dir=args.run_dir.resolve(),
        )
        env = {**os.environ, **child_environment(plan)}
        prepare(plan, env)
        start(plan, env, running)
        print(describe(plan), flush=True)
        return supervise(running, plan, env)
    except ClusterError as exc:
        print(f"make run-cluster: {exc}", file=sys.stderr)
        return 2
    except subprocess.CalledProcessError as exc:
        print(f"make run-cluster: {' '.join(exc.cmd[1:])} failed with {exc.returncode}", file=sys.stderr)
        return 2
    except (KeyboardInterrupt, Stop):
        print("Stopping...", flush=True)
        return 0
    finally:
        # A second Ctrl-C must not leave servers behind half-stopped.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        stop(running)


if __name__ == "__main__":
    sys.exit(main())
