"""The launcher's checks before it starts anything (test_cluster.py runs the whole cluster)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from scripts.cluster.launch import check_redis, ensure_machine_database
from scripts.cluster.plan import ROOT, ClusterError
from tests.cluster.conftest import CLOSED_PORT


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
