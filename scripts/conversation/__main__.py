"""Conversation benchmark: simulated customers against the real servers.

    .venv/bin/python -m scripts.conversation --customers 400 --seed 7 [--half train|heldout|both] [--failures N]

Starts the three servers of `make run` (trained model, action server, web/API
server on a fresh SQLite database in a temporary folder) on ports 26105,
26155 and 26180, runs the customers, and writes var/bench/conversation.json
and var/bench/conversation.md (the servers' logs in var/bench/conversation-logs/).
`--rasa-url`/`--web-url` use servers already running instead; `--only` replays
some customers of the set by id.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import requests

from scripts.conversation.banks import ROOT, load_banks
from scripts.conversation.customers import Customer, generate, generate_both
from scripts.conversation.report import markdown, table
from scripts.conversation.scoring import failure_patterns, score, stumbles, summaries
from scripts.conversation.simulate import Conversation, Endpoints, busy_ports, run_all

OUT = ROOT / "var" / "bench"
MODEL = ROOT / "models" / "noc.tar.gz"
RASA_PORT, ACTION_PORT, WEB_PORT = 26105, 26155, 26180
TOKEN = "e2e-token"  # what tests/e2e/servers.py gives the web server


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m scripts.conversation", description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=400)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--half", choices=("train", "heldout", "both"), default="both")
    parser.add_argument("--failures", type=int, default=10, help="failing transcripts in the Markdown report")
    parser.add_argument("--workers", type=int, default=4, help="conversations at once (each its own sender)")
    parser.add_argument("--out", type=Path, default=OUT, help="folder of conversation.json and conversation.md")
    parser.add_argument("--rasa-url", help="use a running Rasa server instead of starting the servers")
    parser.add_argument("--web-url", help="the running web/API server (with --rasa-url)")
    parser.add_argument("--token", default=TOKEN, help="AGENT_API_TOKEN of the running web server")
    parser.add_argument("--only", help="run only these customers of the set, by id (train-0083,heldout-0004)")
    return parser.parse_args(argv)


def make_customers(count: int, seed: int, half: str) -> list[Customer]:
    banks = load_banks()
    if half == "both":
        return generate_both(count, seed=seed, banks=banks)
    return generate(count, seed=seed, half="train" if half == "train" else "heldout", banks=banks)


def _progress(done: int, total: int) -> None:
    if done % 25 == 0 or done == total:
        print(f"  {done}/{total} customers", file=sys.stderr, flush=True)


def _git_commit() -> str | None:
    try:
        found = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    except OSError:
        return None
    return found.stdout.strip() or None


def wait_until_up(endpoints: Endpoints, timeout: float = 300) -> None:
    """Running servers given on the command line may still be loading the model."""
    deadline = time.monotonic() + timeout
    for url in (f"{endpoints.web_url}/api/health", f"{endpoints.rasa_url}/"):
        while True:
            try:
                if requests.get(url, timeout=2).status_code < 500:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} did not answer within {timeout:.0f} s")
            time.sleep(1)


def benchmark(customers: Sequence[Customer], endpoints: Endpoints, *, workers: int) -> tuple[list[Conversation], float]:
    start = time.monotonic()
    conversations = run_all(customers, endpoints, workers=workers, progress=_progress)
    return conversations, time.monotonic() - start


def run(args: argparse.Namespace) -> dict[str, Any]:
    customers = make_customers(args.customers, args.seed, args.half)
    if args.only:
        wanted = {i.strip() for i in args.only.split(",")}
        customers = [c for c in customers if c.id in wanted]
    started_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    if args.rasa_url:
        endpoints = Endpoints(args.rasa_url, args.web_url or f"http://127.0.0.1:{WEB_PORT}", args.token)
        wait_until_up(endpoints)
        conversations, seconds = benchmark(customers, endpoints, workers=args.workers)
    else:
        from tests.e2e.servers import start_servers, stop_servers

        busy = busy_ports((RASA_PORT, ACTION_PORT, WEB_PORT))
        if busy:
            raise SystemExit(f"ports {busy} are in use: stop what runs there (or use --rasa-url/--web-url)")
        tmp = Path(tempfile.mkdtemp(prefix="noc-conversation-"))
        procs = []
        try:
            print("starting the servers…", file=sys.stderr, flush=True)
            servers, procs = start_servers(tmp, rasa_port=RASA_PORT, action_port=ACTION_PORT, web_port=WEB_PORT)
            endpoints = Endpoints(servers.rasa_url, servers.web_url, servers.token)
            conversations, seconds = benchmark(customers, endpoints, workers=args.workers)
        finally:
            stop_servers(procs)
            # The servers' logs stay with the report: a failed save or handoff is explained there.
            logs = args.out / "conversation-logs"
            shutil.rmtree(logs, ignore_errors=True)
            logs.mkdir(parents=True, exist_ok=True)
            for log in tmp.glob("*.log"):
                shutil.copy(log, logs / log.name)
            shutil.rmtree(tmp, ignore_errors=True)
    scores = [score(c) for c in conversations]
    figures = summaries(scores)
    patterns = failure_patterns(scores, top=10)
    stumbled = stumbles(conversations)
    info = {
        "customers": len(customers),
        "seed": args.seed,
        "half": args.half,
        "workers": args.workers,
        "model": MODEL.name,
        "model_time": datetime.fromtimestamp(MODEL.stat().st_mtime, timezone.utc).isoformat(timespec="seconds")
        if MODEL.exists()
        else None,
        "commit": _git_commit(),
        "started_at": started_at,
        "seconds": round(seconds, 1),
    }
    result = {
        "run": info,
        "figures": figures,
        "patterns": patterns,
        "stumbles": stumbled,
        "conversations": [{"score": s.as_dict(), **c.as_dict()} for s, c in zip(scores, conversations, strict=True)],
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "conversation.json").write_text(json.dumps(result, indent=1, ensure_ascii=False, default=str))
    (args.out / "conversation.md").write_text(
        markdown(
            run=info,
            figures=figures,
            patterns=patterns,
            scores=scores,
            conversations=conversations,
            failures=args.failures,
            stumbled=stumbled,
        )
    )
    print(table(figures))
    print(f"\n{args.out / 'conversation.md'}, {args.out / 'conversation.json'}")
    return result


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    return run(parse_args(argv))


if __name__ == "__main__":
    main()
