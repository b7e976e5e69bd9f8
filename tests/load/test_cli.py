"""The load test's command line: its options and what it keeps of the servers' logs (scripts/load/cli.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts.load.cli import customers_for, error_lines, parser, validate
from scripts.load.customers import INTAKE_CHANNELS


def test_error_lines_keeps_the_servers_errors_and_their_tracebacks(tmp_path: Path) -> None:
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "rasa-1.log").write_text(
        "2026-12-01 06:20:00 INFO     rasa.core.processor  - Loading model\n"
        "2026-12-01 06:21:00 ERROR    rasa.core.channels.rest  - An exception occured while handling user message\n"
        "Traceback (most recent call last):\n"
        '  File "x.py", line 1, in <module>\n'
        "rasa.core.lock_store.LockError: Could not acquire lock\n"
    )
    (tmp_path / "launcher.log").write_text("Cluster ready: http://127.0.0.1:17005/webhooks/rest/webhook\n")
    found = error_lines(tmp_path)
    assert found["count"] == 3
    assert found["first"][0].startswith("rasa-1.log: 2026-12-01 06:21:00 ERROR")
    assert found["first"][2] == "rasa-1.log: rasa.core.lock_store.LockError: Could not acquire lock"


@pytest.mark.parametrize(
    "argv",
    [
        ["--targets", "one_server,nine_servers"],
        ["--channels", "rest,fax"],
        ["--concurrency", "0"],
        ["--conversations", "20000"],
    ],
)
def test_bad_options_are_refused(argv: list[str]) -> None:
    p = parser()
    with pytest.raises(SystemExit):
        validate(p.parse_args(argv), p)


def test_without_a_twilio_token_a_running_server_is_driven_over_rest_only() -> None:
    p = parser()
    args = p.parse_args(["--url", "http://127.0.0.1:17005"])
    validate(args, p)
    assert args.channels == "rest"


def test_the_customers_of_a_run_mix_the_channels() -> None:
    customers = customers_for(INTAKE_CHANNELS, 10, 6, seed=3)
    assert [c.index for c in customers] == list(range(10, 16))
    assert {c.channel for c in customers} == set(INTAKE_CHANNELS)
