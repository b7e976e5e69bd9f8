"""Renders deploy/nginx/noc.conf.j2 for the local cluster and for Docker Compose.

``python -m scripts.cluster.nginx_config --compose`` rewrites
deploy/nginx/compose.conf (a test checks the committed file is up to date).
"""

from __future__ import annotations

import argparse
import os
import pwd
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

import jinja2

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "deploy" / "nginx" / "noc.conf.j2"
COMPOSE_CONF = ROOT / "deploy" / "nginx" / "compose.conf"
# Service names and ports of deploy/docker-compose.yml.
COMPOSE_RASA_BACKENDS = ("rasa-1:5005", "rasa-2:5005")
COMPOSE_ACTION_BACKENDS = ("actions-1:5055", "actions-2:5055")


@dataclass(frozen=True)
class NginxConfig:
    rasa_backends: tuple[str, ...]
    action_backends: tuple[str, ...]
    listen_host: str
    rasa_port: int
    action_port: int
    pid_path: str
    error_log: str
    access_log: str
    # None: nginx's compiled-in temp paths (a container's own).
    temp_dir: str | None
    foreground: bool
    expose_upstream: bool
    # Started as root, nginx runs its workers as this user (nginx's default:
    # nobody, who may not reach the temp directories). None: not root.
    worker_user: str | None


def find_nginx() -> str | None:
    """Debian's nginx lives in /usr/sbin, which a normal user's PATH may lack."""
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/sbin")


def local_config(
    run_dir: Path,
    *,
    rasa_backends: tuple[str, ...],
    action_backends: tuple[str, ...],
    rasa_port: int,
    action_port: int,
) -> NginxConfig:
    """nginx as an unprivileged child of `make run-cluster`, everything of its own under ``run_dir``."""
    return NginxConfig(
        rasa_backends=rasa_backends,
        action_backends=action_backends,
        listen_host="127.0.0.1",
        rasa_port=rasa_port,
        action_port=action_port,
        pid_path=str(run_dir / "nginx.pid"),
        error_log=str(run_dir / "logs" / "nginx-error.log"),
        access_log=str(run_dir / "logs" / "nginx-access.log"),
        temp_dir=str(run_dir / "tmp"),
        foreground=True,
        expose_upstream=True,
        # The workers run as whoever started the cluster, root included.
        worker_user=pwd.getpwuid(os.geteuid()).pw_name if os.geteuid() == 0 else None,
    )


def compose_config() -> NginxConfig:
    """nginx in its own container: logs to the container's output, ports 5005 and 5055."""
    return NginxConfig(
        rasa_backends=COMPOSE_RASA_BACKENDS,
        action_backends=COMPOSE_ACTION_BACKENDS,
        listen_host="0.0.0.0",
        rasa_port=5005,
        action_port=5055,
        pid_path="/tmp/nginx.pid",
        error_log="stderr",
        access_log="/dev/stdout",
        temp_dir=None,
        foreground=False,
        expose_upstream=False,
        # The official image's user, owner of its temp directories.
        worker_user="nginx",
    )


def render(config: NginxConfig) -> str:
    if not config.rasa_backends or not config.action_backends:
        raise ValueError("nginx needs at least one Rasa server and one action server")
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE.parent),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    return environment.get_template(TEMPLATE.name).render(**asdict(config))


def write_local(config: NginxConfig, path: Path) -> None:
    """Write the config and create the directories it names (nginx creates none but its temp ones)."""
    Path(config.error_log).parent.mkdir(parents=True, exist_ok=True)
    Path(config.access_log).parent.mkdir(parents=True, exist_ok=True)
    if config.temp_dir:
        Path(config.temp_dir).mkdir(parents=True, exist_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(config), encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--compose", action="store_true", help=f"rewrite {COMPOSE_CONF.relative_to(ROOT)}")
    args = parser.parse_args(argv)
    if not args.compose:
        parser.error("nothing to do: `make run-cluster` renders the local config itself")
    COMPOSE_CONF.write_text(render(compose_config()), encoding="utf-8")
    print(f"wrote {COMPOSE_CONF.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
