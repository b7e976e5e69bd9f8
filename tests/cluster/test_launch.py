"""The launcher's checks before it starts anything, and its supervision of stand-in servers.

test_cluster.py and test_faults.py run the whole cluster.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from scripts.cluster import launch
from scripts.cluster.launch import Child, check_redis, ensure_machine_database, spawn, stop, supervise
from scripts.cluster.plan import ROOT, ClusterError, ClusterPlan, Process, processes
from tests.cluster.conftest import CLOSED_PORT
from tests.polling import eventually

# Starts processes of its own (tests/conftest.py: tiers).
pytestmark = pytest.mark.stack


def test_the_default_database_is_created_once(postgres_admin_engine: Engine) -> None:
    name = f"test_cluster_db_{uuid.uuid4().hex[:8]}"
    url = postgres_admin_engine.url.set(database=name).render_as_string(hide_password=False)
    try:
        ensure_machine_database(url)
        ensure_machine_database(url)  # already there: nothing to do
        with postgres_admin_engine.connect() as conn:
            found = conn.execute(text("SELECT count(*) FROM pg_database WHERE datname = :n"), {"n": name}).scalar()
        assert found == 1
    finally:
        with postgres_admin_engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))


def test_a_redis_that_does_not_answer_stops_the_start(redis_url: str) -> None:
    check_redis(redis_url)
    with pytest.raises(ClusterError, match=f"Redis at redis://127.0.0.1:{CLOSED_PORT}/0 does not answer"):
        check_redis(f"redis://127.0.0.1:{CLOSED_PORT}/0")


def test_sqlite_is_refused_before_anything_starts() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "scripts.cluster.launch", "--run-dir", "/nonexistent/never-created"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": "sqlite:////tmp/noc-cluster.db"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "make run-cluster needs DATABASE_URL on PostgreSQL" in result.stderr


SLEEPER = (sys.executable, "-c", "import time; time.sleep(600)")
FAILING = (sys.executable, "-c", "import sys; print('cannot start'); sys.exit(3)")


def stand_in_plan(run_dir: Path) -> ClusterPlan:
    plan = ClusterPlan(
        rasa_port=16005,
        action_port=16055,
        web_port=16080,
        rasa_backend_ports=(16105, 16106),
        action_backend_ports=(16155, 16156),
        database_url="postgresql://unused",
        redis_url="redis://unused",
        run_dir=run_dir,
    )
    plan.log_dir.mkdir(parents=True)
    return plan


def started(plan: ClusterPlan, *processes: Process) -> list[Child]:
    return [Child(process, spawn(process, plan, dict(os.environ))) for process in processes]


def test_only_nginx_is_not_restarted(tmp_path: Path) -> None:
    assert {process.name: process.restart for process in processes(stand_in_plan(tmp_path))} == {
        "actions-1": True,
        "actions-2": True,
        "rasa-1": True,
        "rasa-2": True,
        "web": True,
        "nginx": False,
    }


def test_a_killed_server_is_restarted_and_nginx_exiting_stops_everything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(launch, "FIRST_BACKOFF_SECONDS", 0.1)
    plan = stand_in_plan(tmp_path)
    children = started(plan, Process("rasa-1", SLEEPER, None), Process("nginx", SLEEPER, None, restart=False))
    server, nginx = children
    first = server.popen
    result: list[int] = []
    supervisor = threading.Thread(target=lambda: result.append(supervise(children, plan, {}, poll_seconds=0.05)))
    supervisor.start()
    try:
        first.send_signal(signal.SIGKILL)
        eventually(lambda: server.popen is not first and server.popen.poll() is None, timeout=30, interval=0.05)
        assert nginx.popen.poll() is None, "the other processes keep running"
        nginx.popen.send_signal(signal.SIGTERM)
        supervisor.join(timeout=30)
        assert result == [1]
    finally:
        stop(children)
        supervisor.join(timeout=30)
    err = capsys.readouterr().err
    assert "rasa-1 exited with -9; restarting" in err
    assert f"nginx exited with {-signal.SIGTERM}; stopping everything" in err


def test_a_server_that_keeps_exiting_is_given_up_after_max_restarts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(launch, "FIRST_BACKOFF_SECONDS", 0.01)
    monkeypatch.setattr(launch, "MAX_BACKOFF_SECONDS", 0.05)
    plan = stand_in_plan(tmp_path)
    children = started(plan, Process("actions-1", FAILING, None), Process("web", SLEEPER, None))
    try:
        assert supervise(children, plan, dict(os.environ), poll_seconds=0.02) == 1
    finally:
        stop(children)
    err = capsys.readouterr().err
    assert err.count("actions-1 exited with 3; restarting") == launch.MAX_RESTARTS
    assert f"actions-1 exited with 3 after {launch.MAX_RESTARTS} restarts in" in err
    assert "web exited" not in err
    # Every incarnation's output is kept: a restart appends to the log.
    log = (plan.log_dir / "actions-1.log").read_text()
    assert log.count("cannot start") == launch.MAX_RESTARTS + 1


def test_restarts_older_than_the_window_do_not_count(tmp_path: Path) -> None:
    plan = stand_in_plan(tmp_path)
    [child] = started(plan, Process("rasa-2", SLEEPER, None))
    stop([child])
    now = 10_000.0
    child.restarts = [now - launch.RESTART_WINDOW_SECONDS - 1] * 10 + [now - 1] * (launch.MAX_RESTARTS - 1)
    assert launch.note_exit(child, -9, plan, now) is True
    assert child.restart_at == pytest.approx(now + launch.backoff(launch.MAX_RESTARTS))
    assert launch.note_exit(child, -9, plan, now + 1) is False


def test_the_backoff_doubles_up_to_its_bound() -> None:
    delays = [launch.backoff(restarts) for restarts in range(1, 10)]
    first = launch.FIRST_BACKOFF_SECONDS
    assert delays[:3] == [first, 2 * first, 4 * first]
    assert max(delays) == launch.MAX_BACKOFF_SECONDS
