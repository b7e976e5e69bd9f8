"""What `make run-cluster` starts: ports, database and Redis, environment of the servers."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from noc.settings import Settings, default_database_url, load_settings
from scripts.cluster.plan import (
    MACHINE_DATABASE_URL,
    MACHINE_REDIS_URL,
    ClusterError,
    backend_ports,
    child_environment,
    plan_cluster,
    processes,
)

RUN_DIR = Path("/tmp/noc-cluster")


def settings_with(**changes: object) -> Settings:
    base = replace(
        load_settings(),
        rasa_port=5005,
        action_port=5055,
        web_port=8080,
        database_url=default_database_url(),
        redis_url=None,
    )
    return replace(base, **changes)


@pytest.mark.parametrize(
    ("front", "count", "expected"),
    [(5005, 2, (5105, 5106)), (5055, 2, (5155, 5156)), (16005, 3, (16105, 16106, 16107)), (5005, 1, (5105,))],
)
def test_servers_listen_100_above_their_load_balancer(front: int, count: int, expected: tuple[int, ...]) -> None:
    assert backend_ports(front, count) == expected


@pytest.mark.parametrize(
    ("database_url", "redis_url", "expected_database", "expected_redis"),
    [
        # Nothing configured: the machine's PostgreSQL and Redis.
        (default_database_url(), None, MACHINE_DATABASE_URL, MACHINE_REDIS_URL),
        (
            "postgresql://noc@db:5432/noc",
            "redis://cache:6379/2",
            "postgresql://noc@db:5432/noc",
            "redis://cache:6379/2",
        ),
    ],
)
def test_database_and_redis(
    database_url: str, redis_url: str | None, expected_database: str, expected_redis: str
) -> None:
    plan = plan_cluster(
        settings_with(database_url=database_url, redis_url=redis_url), rasa_servers=2, action_servers=2, run_dir=RUN_DIR
    )
    assert (plan.database_url, plan.redis_url) == (expected_database, expected_redis)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"database_url": "sqlite:////srv/noc.db"}, "needs DATABASE_URL on PostgreSQL"),
        ({"web_port": 5105}, "overlapping ports"),
        ({"action_port": 5006}, "overlapping ports"),
    ],
)
def test_refuses_what_cannot_work(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ClusterError, match=message):
        plan_cluster(settings_with(**changes), rasa_servers=2, action_servers=2, run_dir=RUN_DIR)


def test_refuses_a_cluster_without_the_action_server_token() -> None:
    with pytest.raises(ClusterError, match="ACTION_SERVER_TOKEN"):
        plan_cluster(settings_with(action_server_token=None), rasa_servers=2, action_servers=2, run_dir=RUN_DIR)


def test_refuses_a_cluster_without_servers() -> None:
    with pytest.raises(ClusterError):
        plan_cluster(settings_with(), rasa_servers=0, action_servers=2, run_dir=RUN_DIR)


def test_servers_talk_to_each_other_through_nginx() -> None:
    plan = plan_cluster(settings_with(), rasa_servers=2, action_servers=2, run_dir=RUN_DIR)
    env = child_environment(plan)
    assert env["ACTION_ENDPOINT_URL"] == "http://127.0.0.1:5055/webhook"
    assert env["RASA_URL"] == "http://127.0.0.1:5005"
    assert (env["DATABASE_URL"], env["REDIS_URL"]) == (MACHINE_DATABASE_URL, MACHINE_REDIS_URL)


def option(command: tuple[str, ...], name: str) -> str:
    return command[command.index(name) + 1]


def test_processes_and_their_ports() -> None:
    plan = plan_cluster(settings_with(), rasa_servers=2, action_servers=2, run_dir=RUN_DIR)
    started = {process.name: process for process in processes(plan)}
    assert list(started) == ["actions-1", "actions-2", "rasa-1", "rasa-2", "web", "nginx"]
    assert option(started["actions-2"].command, "--port") == "5156"
    # The guarded action server, on loopback behind nginx.
    assert started["actions-1"].command[1:3] == ("-m", "noc.action_server")
    assert ("ACTION_HOST", "127.0.0.1") in started["actions-1"].env
    assert option(started["rasa-1"].command, "--endpoints") == "endpoints.yml"
    assert option(started["rasa-1"].command, "--interface") == "127.0.0.1"
    assert started["rasa-2"].health_url == "http://127.0.0.1:5106/"
    # Only the Rasa servers sit behind nginx's X-Forwarded-For.
    assert [name for name, process in started.items() if ("TRUSTED_PROXY_HOPS", "1") in process.env] == [
        "rasa-1",
        "rasa-2",
    ]
    assert started["nginx"].command[1:] == (
        "-p",
        str(RUN_DIR),
        "-c",
        str(RUN_DIR / "nginx.conf"),
        "-e",
        str(RUN_DIR / "logs" / "nginx-error.log"),
    )
