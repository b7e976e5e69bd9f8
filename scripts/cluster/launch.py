"""`make run-cluster`: Rasa servers and action servers behind nginx, on PostgreSQL and Redis.

Runs in the foreground until Ctrl-C (or SIGTERM), or until one of its servers
exits; then it stops all of them. Each server's output goes to
``<run dir>/logs/<name>.log``. See docs/production.md.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import IO

import redis
import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from actions.settings import load_settings
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
    for module in (("actions.check_tables",), ("actions.store.migrate",), ("actions.store.agents", "ensure-admin")):
        subprocess.run([python, "-m", *module], cwd=ROOT, env=env, check=True)
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


def start(plan: ClusterPlan, env: dict[str, str]) -> list[tuple[Process, subprocess.Popen]]:
    plan.log_dir.mkdir(parents=True, exist_ok=True)
    running: list[tuple[Process, subprocess.Popen]] = []
    logs: list[IO[str]] = []
    try:
        for process in processes(plan, nginx=find_nginx() or "nginx"):
            log = open(plan.log_dir / f"{process.name}.log", "w", encoding="utf-8")  # noqa: SIM115
            logs.append(log)
            child = subprocess.Popen(
                process.command, cwd=ROOT, env={**env, **dict(process.env)}, stdout=log, stderr=subprocess.STDOUT
            )
            running.append((process, child))
    except BaseException:
        stop(running)
        raise
    finally:
        # The children hold their own descriptors.
        for log in logs:
            log.close()
    return running


def exited(running: list[tuple[Process, subprocess.Popen]]) -> tuple[Process, int] | None:
    for process, child in running:
        if child.poll() is not None:
            return process, child.returncode
    return None


def answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code < 500
    except requests.RequestException:
        return False


def supervise(running: list[tuple[Process, subprocess.Popen]], plan: ClusterPlan) -> int:
    """Wait for readiness, then for the first exit. Returns the exit code for the launcher."""
    waiting = [process for process, _ in running if process.health_url]
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while True:
        gone = exited(running)
        if gone is not None:
            process, code = gone
            print(f"{process.name} exited with {code}; see {plan.log_dir / process.name}.log", file=sys.stderr)
            return 1
        if waiting:
            waiting = [process for process in waiting if not answers(process.health_url or "")]
            if not waiting:
                print(f"Cluster ready: {plan.rasa_url}/webhooks/rest/webhook", flush=True)
            elif time.monotonic() > deadline:
                names = ", ".join(process.name for process in waiting)
                print(f"Not ready after {READY_TIMEOUT_SECONDS} s: {names}", file=sys.stderr)
                return 1
        time.sleep(1)


def stop(running: list[tuple[Process, subprocess.Popen]]) -> None:
    for _, child in running:
        if child.poll() is None:
            child.terminate()
    deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
    for _, child in running:
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


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
    running: list[tuple[Process, subprocess.Popen]] = []
    try:
        plan = plan_cluster(
            load_settings(),
            rasa_servers=args.rasa_servers,
            action_servers=args.action_servers,
            run_dir=args.run_dir.resolve(),
        )
        env = {**os.environ, **child_environment(plan)}
        prepare(plan, env)
        running = start(plan, env)
        print(describe(plan), flush=True)
        return supervise(running, plan)
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
