"""Settings: the environment wins over .env in the start scripts; .env is private and secrets are not printed."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _bash(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", script], cwd=cwd, env={"PATH": os.environ["PATH"], **env}, capture_output=True, text=True
    )


def test_a_token_given_only_in_the_environment_survives_an_empty_one_in_dotenv(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        "AGENT_API_TOKEN=\nWEB_PORT=9999\n# a comment\nADMIN_USERNAME='jefa'\nexport SMTP_HOST=\"mail.local\"\n"
    )
    shown = "$AGENT_API_TOKEN|$WEB_PORT|$ADMIN_USERNAME|$SMTP_HOST"
    script = f'source {ROOT}/scripts/env.sh; load_env_file .env; echo "{shown}"'
    out = _bash(script, tmp_path, {"AGENT_API_TOKEN": "del-entorno", "WEB_PORT": "8181"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "del-entorno|8181|jefa|mail.local"


def test_an_empty_variable_in_the_environment_also_wins(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("SMTP_HOST=mail.local\n")
    out = _bash(f'source {ROOT}/scripts/env.sh; load_env_file .env; echo "[$SMTP_HOST]"', tmp_path, {"SMTP_HOST": ""})
    assert out.stdout.strip() == "[]"


def test_generated_secrets_go_to_a_private_dotenv_and_are_not_printed(tmp_path: Path) -> None:
    (tmp_path / ".venv").symlink_to(ROOT / ".venv")
    out = _bash(f"source {ROOT}/scripts/cluster/secrets.sh", tmp_path, {})
    assert out.returncode == 0, out.stderr
    dotenv = tmp_path / ".env"
    assert stat.S_IMODE(dotenv.stat().st_mode) == 0o600
    values = dict(line.split("=", 1) for line in dotenv.read_text().splitlines() if "=" in line)
    generated = ("AGENT_API_TOKEN", "ACTION_SERVER_TOKEN", "ADMIN_PASSWORD")
    for name in generated:
        assert len(values[name]) >= 24 and values[name] not in out.stdout
    assert len({values[name] for name in generated}) == 3
    assert "AGENT_API_TOKEN" in out.stdout  # it says what it generated, and where
