"""deploy/nginx/noc.conf.j2 rendered for the local cluster (checked by nginx itself) and for Compose."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from scripts.cluster.nginx_config import COMPOSE_CONF, compose_config, find_nginx, local_config, render, write_local

# Starts processes of its own (tests/conftest.py: tiers).
pytestmark = pytest.mark.stack

RASA = ("127.0.0.1:16105", "127.0.0.1:16106")
ACTIONS = ("127.0.0.1:16155", "127.0.0.1:16156")


def upstream_block(config_text: str, name: str) -> str:
    start = config_text.index(f"upstream {name} {{")
    return config_text[start : config_text.index("}", start)]


def test_the_local_config_passes_nginx_t(tmp_path: Path) -> None:
    nginx = find_nginx()
    if nginx is None:
        pytest.fail("nginx is missing: `make nginx` installs Debian's nginx-light", pytrace=False)
    config = local_config(tmp_path, rasa_backends=RASA, action_backends=ACTIONS, rasa_port=16005, action_port=16055)
    write_local(config, tmp_path / "nginx.conf")
    result = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"), "-e", config.error_log],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr


@pytest.mark.parametrize(
    ("upstream", "servers", "sticky"),
    [("rasa", RASA, False), ("rasa_socketio", RASA, True), ("actions", ACTIONS, False)],
)
def test_upstreams(tmp_path: Path, upstream: str, servers: tuple[str, ...], sticky: bool) -> None:
    text = render(local_config(tmp_path, rasa_backends=RASA, action_backends=ACTIONS, rasa_port=1, action_port=2))
    block = upstream_block(text, upstream)
    lines = [line.split() for line in block.splitlines() if line.strip().startswith("server ")]
    assert [line[1] for line in lines if "backup" not in line] == list(servers)
    # Round robin: the same servers again, as backups that nginx never leaves out
    # (test_nginx_proxy.py shows why). ip_hash allows no backups.
    backups = [line[1:] for line in lines if "backup" in line]
    assert backups == ([] if sticky else [[server, "backup", "max_fails=0;"] for server in servers])
    assert ("ip_hash;" in block) is sticky


def test_the_local_config_keeps_everything_under_the_run_dir(tmp_path: Path) -> None:
    text = render(local_config(tmp_path, rasa_backends=RASA, action_backends=ACTIONS, rasa_port=1, action_port=2))
    assert "daemon off;" in text
    assert f"pid {tmp_path}/nginx.pid;" in text
    assert f"proxy_temp_path {tmp_path}/tmp/proxy;" in text
    assert "listen 127.0.0.1:1;" in text and "listen 127.0.0.1:2;" in text


def test_the_socketio_route_upgrades_to_websocket(tmp_path: Path) -> None:
    text = render(local_config(tmp_path, rasa_backends=RASA, action_backends=ACTIONS, rasa_port=1, action_port=2))
    route = text[text.index("location /socket.io/ {") :]
    route = route[: route.index("}")]
    assert "proxy_pass http://rasa_socketio;" in route
    assert "proxy_set_header Upgrade $http_upgrade;" in route


def test_a_cluster_needs_servers(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        render(local_config(tmp_path, rasa_backends=(), action_backends=ACTIONS, rasa_port=1, action_port=2))


def test_the_committed_compose_config_is_the_rendered_template() -> None:
    assert COMPOSE_CONF.read_text(encoding="utf-8") == render(compose_config()), (
        "deploy/nginx/compose.conf is stale: run `.venv/bin/python -m scripts.cluster.nginx_config --compose`"
    )


def test_the_compose_config_hides_internal_addresses() -> None:
    text = render(compose_config())
    assert "X-NOC-Upstream" not in text
    assert "daemon off;" not in text  # the container's command says it


def location_blocks(config_text: str) -> dict[str, str]:
    """Each ``location`` of the config by its path (``= /x`` for exact ones), with its body."""
    blocks = {}
    for found in re.finditer(r"^\s*location\s+([^{]+?)\s*\{", config_text, re.MULTILINE):
        body = config_text[found.end() :]
        blocks[found.group(1)] = body[: body.index("}")]
    return blocks


@pytest.mark.parametrize("config", ["local", "compose"])
def test_only_the_customers_messages_are_resent_and_only_on_a_broken_connection(tmp_path: Path, config: str) -> None:
    rendered = render(
        compose_config()
        if config == "compose"
        else local_config(tmp_path, rasa_backends=RASA, action_backends=ACTIONS, rasa_port=1, action_port=2)
    )
    blocks = location_blocks(rendered)
    resent = {path for path, body in blocks.items() if "non_idempotent" in body}
    assert resent == {"= /webhooks/rest/webhook", "= /webhooks/twilio/webhook"}
    for path in resent:
        assert "proxy_pass http://rasa;" in blocks[path]
        # Not "timeout": a slow turn may still be running on the first server.
        assert "proxy_next_upstream error non_idempotent;" in blocks[path]
    # nginx passes a location the headers of the levels above only if it sets none
    # itself: each one names them all, the request id and the client's address first.
    for path, body in blocks.items():
        assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in body, path
        assert "proxy_set_header X-Request-ID $noc_request_id;" in body, path
