"""What `make run-cluster` starts, where, and with which environment (no processes here).

Ports: nginx listens on the usual ``RASA_PORT`` (5005) and ``ACTION_PORT``
(5055), so everything that talks to "the Rasa server" or "the action server"
talks to the load balancer; the servers behind it listen 100 above, one port
each (5105, 5106 and 5155, 5156). The web/API server keeps ``WEB_PORT``.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from noc.rasa_plugins.tracker_store import shares_trackers
from noc.settings import Settings, default_database_url

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
MODEL = ROOT / "models" / "noc.tar.gz"
BACKEND_PORT_OFFSET = 100
# The machine's own services, used when DATABASE_URL / REDIS_URL are not set.
MACHINE_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/noc"
MACHINE_REDIS_URL = "redis://127.0.0.1:6379/0"
RASA_CONFIG_FILES = ("--credentials", "credentials.yml", "--endpoints", "endpoints.yml")
# Logs that mask phone numbers and e-mail addresses, as in `make run` (noc/logmask.py).
LOGGING = ("--logging-config-file", "logging.yml")
# Only nginx reaches the Rasa servers (it adds the X-Forwarded-For they trust).
LOOPBACK_ONLY = ("--interface", "127.0.0.1")


class ClusterError(Exception):
    """The cluster cannot start as configured; the message says what to change."""


@dataclass(frozen=True)
class Process:
    name: str
    command: tuple[str, ...]
    # Polled until it answers below 500; None: the process is ready when started.
    health_url: str | None
    # On top of the cluster's environment (child_environment).
    env: tuple[tuple[str, str], ...] = ()
    # Restarted by the launcher when it exits. Not nginx: without the load
    # balancer nothing reaches the cluster, so its exit stops everything.
    restart: bool = True


@dataclass(frozen=True)
class ClusterPlan:
    rasa_port: int
    action_port: int
    web_port: int
    rasa_backend_ports: tuple[int, ...]
    action_backend_ports: tuple[int, ...]
    database_url: str
    redis_url: str
    run_dir: Path

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def nginx_conf(self) -> Path:
        return self.run_dir / "nginx.conf"

    @property
    def log_dir(self) -> Path:
        return self.run_dir / "logs"


def backend_ports(front_port: int, count: int) -> tuple[int, ...]:
    first = front_port + BACKEND_PORT_OFFSET
    return tuple(range(first, first + count))


def cluster_database_url(settings: Settings) -> str:
    """``DATABASE_URL`` when set (it must be PostgreSQL), else the machine's PostgreSQL."""
    if settings.database_url == default_database_url():
        return MACHINE_DATABASE_URL
    if not shares_trackers(settings.database_url):
        raise ClusterError(
            "make run-cluster needs DATABASE_URL on PostgreSQL (several servers share the conversations), "
            f"not {settings.database_url}; unset it to use {MACHINE_DATABASE_URL}"
        )
    return settings.database_url


def plan_cluster(settings: Settings, *, rasa_servers: int, action_servers: int, run_dir: Path) -> ClusterPlan:
    if rasa_servers < 1 or action_servers < 1:
        raise ClusterError("at least one Rasa server and one action server")
    if not settings.action_server_token:
        # The action servers refuse to start without it, the Rasa servers too (endpoints.yml).
        raise ClusterError("ACTION_SERVER_TOKEN is not set (scripts/run_cluster.sh generates one into .env)")
    rasa_backends = backend_ports(settings.rasa_port, rasa_servers)
    action_backends = backend_ports(settings.action_port, action_servers)
    ports = [settings.rasa_port, settings.action_port, settings.web_port, *rasa_backends, *action_backends]
    if len(set(ports)) != len(ports):
        raise ClusterError(f"RASA_PORT, ACTION_PORT and WEB_PORT give overlapping ports: {sorted(ports)}")
    return ClusterPlan(
        rasa_port=settings.rasa_port,
        action_port=settings.action_port,
        web_port=settings.web_port,
        rasa_backend_ports=rasa_backends,
        action_backend_ports=action_backends,
        database_url=cluster_database_url(settings),
        redis_url=settings.redis_url or MACHINE_REDIS_URL,
        run_dir=run_dir,
    )


def child_environment(plan: ClusterPlan) -> dict[str, str]:
    """Variables every server of the cluster gets on top of the launcher's environment."""
    return {
        "DATABASE_URL": plan.database_url,
        "REDIS_URL": plan.redis_url,
        "RASA_PORT": str(plan.rasa_port),
        "ACTION_PORT": str(plan.action_port),
        "WEB_PORT": str(plan.web_port),
        # Rasa calls its actions, and the console the Rasa servers, through nginx.
        "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{plan.action_port}/webhook",
        "RASA_URL": plan.rasa_url,
        # Rasa reads the logging config before it puts the project on sys.path.
        "PYTHONPATH": str(ROOT),
    }


def processes(plan: ClusterPlan, *, nginx: str = "nginx") -> list[Process]:
    """Action servers first: the Rasa servers call them as soon as they answer."""
    python = str(BIN / "python")
    rasa = (python, "-m", "noc.rasa_server")
    started = [
        Process(
            f"actions-{index}",
            (python, "-m", "noc.action_server", "--port", str(port), *LOGGING),
            f"http://127.0.0.1:{port}/health",
            # Only nginx reaches them, whatever ACTION_HOST says (it is for containers).
            (("ACTION_HOST", "127.0.0.1"),),
        )
        for index, port in enumerate(plan.action_backend_ports, start=1)
    ]
    started += [
        Process(
            f"rasa-{index}",
            (*rasa, "run", "--model", str(MODEL), *LOOPBACK_ONLY, "--port", str(port), *RASA_CONFIG_FILES, *LOGGING),
            f"http://127.0.0.1:{port}/",
            # The customer's IP (rate limits) is the X-Forwarded-For entry nginx added.
            (("TRUSTED_PROXY_HOPS", "1"),),
        )
        for index, port in enumerate(plan.rasa_backend_ports, start=1)
    ]
    started.append(Process("web", (python, "-m", "noc.web"), f"http://127.0.0.1:{plan.web_port}/api/health"))
    started.append(
        Process(
            "nginx",
            (nginx, "-p", str(plan.run_dir), "-c", str(plan.nginx_conf), "-e", str(plan.log_dir / "nginx-error.log")),
            None,
            restart=False,
        )
    )
    return started
