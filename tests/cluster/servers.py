"""Redis and PostgreSQL servers of the tests' own, which a test may stop, start and restart; nginx.

The machine's services serve the unit tests; a test that takes a service away
(or the cluster, whose faults tests restart its database) gets its own on a
port of 16000-16999, so nothing else on the machine notices.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
import redis
import requests
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from scripts.cluster.nginx_config import find_nginx, local_config, write_local


class RedisServer:
    """A ``redis-server`` of the test's own, which the test may stop and start again."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        executable = shutil.which("redis-server")
        if executable is None:
            pytest.fail("redis-server is not installed", pytrace=False)
        self.process = subprocess.Popen(
            [executable, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url, socket_connect_timeout=1)
        deadline = time.monotonic() + 10
        try:
            while True:
                try:
                    client.ping()
                    return
                except redis.ConnectionError:
                    if time.monotonic() > deadline or self.process.poll() is not None:
                        raise
                    time.sleep(0.1)
        finally:
            client.close()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


def postgres_bin(name: str) -> str:
    """A PostgreSQL server program (Debian keeps them out of PATH, one folder per version)."""
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None)
    if found is None:
        pytest.fail(f"PostgreSQL's {name} is not installed (Debian: postgresql)", pytrace=False)
    return found


class PostgresServer:
    """A PostgreSQL server in a temporary folder, trust auth, on 127.0.0.1:``port``.

    initdb and the server refuse to run as root, which CI is: they then run as
    the ``postgres`` user, who owns the folder. ``/tmp`` rather than pytest's
    temp folder, which is private to the user running the tests.
    """

    def __init__(self, port: int, database: str = "noc") -> None:
        self.port = port
        self.database = database
        self.url = f"postgresql://postgres@127.0.0.1:{port}/{database}"
        self.base = Path(tempfile.mkdtemp(prefix="noc-test-postgres-"))
        self.data_dir = self.base / "data"
        self.log_file = self.base / "postgres.log"
        self._as_postgres: tuple[str, ...] = ()
        if os.geteuid() == 0:
            self._as_postgres = ("runuser", "-u", "postgres", "--")
            shutil.chown(self.base, "postgres", "postgres")

    def _run(self, *command: str) -> None:
        result = subprocess.run([*self._as_postgres, *command], capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            log = self.log_file.read_text(errors="replace")[-2000:] if self.log_file.exists() else ""
            raise RuntimeError(f"{' '.join(command)} failed: {result.stdout}{result.stderr}\n{log}")

    def _pg_ctl(self, *args: str) -> None:
        self._run(postgres_bin("pg_ctl"), "-D", str(self.data_dir), "-l", str(self.log_file), "-w", "-t", "60", *args)

    def start(self) -> None:
        if not self.data_dir.exists():
            # fsync off: a throwaway database; restarts are clean shutdowns, which lose nothing without it.
            self._run(postgres_bin("initdb"), "-D", str(self.data_dir), "-U", "postgres", "-A", "trust", "--no-sync")
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.base} "
            # Five servers with their connection pools, and the tests' own engines.
            "-c max_connections=300 -c fsync=off"
        )
        self._pg_ctl("-o", options, "start")
        self._ensure_database()

    def _ensure_database(self) -> None:
        engine = create_engine(
            f"postgresql://postgres@127.0.0.1:{self.port}/postgres", isolation_level="AUTOCOMMIT", future=True
        )
        try:
            with engine.connect() as conn:
                exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": self.database})
                if exists.first() is None:
                    conn.execute(text(f'CREATE DATABASE "{self.database}"'))
        finally:
            engine.dispose()

    def restart(self) -> None:
        """``pg_ctl restart -m fast``: every connection is cut, the server is back when this returns."""
        self._pg_ctl("-m", "fast", "restart")

    def stop(self) -> None:
        if (self.data_dir / "postmaster.pid").exists():
            self._pg_ctl("-m", "fast", "stop")

    def answers(self) -> bool:
        engine = create_engine(self.url, future=True, connect_args={"connect_timeout": 2})
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except OperationalError:
            return False
        finally:
            engine.dispose()

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.base, ignore_errors=True)


@contextlib.contextmanager
def running_nginx(
    run_dir: Path,
    *,
    rasa_port: int,
    action_port: int,
    rasa_backends: tuple[int, ...],
    action_backends: tuple[int, ...],
) -> Iterator[None]:
    """deploy/nginx/noc.conf.j2 rendered as `make run-cluster` does, running in front of local ports."""
    executable = find_nginx()
    if executable is None:
        pytest.fail("nginx is missing: `make nginx` installs Debian's nginx-light", pytrace=False)
    config = local_config(
        run_dir,
        rasa_backends=tuple(f"127.0.0.1:{port}" for port in rasa_backends),
        action_backends=tuple(f"127.0.0.1:{port}" for port in action_backends),
        rasa_port=rasa_port,
        action_port=action_port,
    )
    write_local(config, run_dir / "nginx.conf")
    process = subprocess.Popen(
        [executable, "-p", str(run_dir), "-c", str(run_dir / "nginx.conf"), "-e", config.error_log],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                requests.get(f"http://127.0.0.1:{rasa_port}/", timeout=1)
                break
            except requests.ConnectionError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield
    finally:
        process.terminate()
        process.wait(timeout=10)


def answer_json(handler: BaseHTTPRequestHandler, payload: dict[str, Any]) -> None:
    """A stand-in server's answer: 200 with ``payload`` as JSON."""
    body = json.dumps(payload).encode()
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)
