"""The load test's command line: ``python -m scripts.load --help`` (docs/load.md)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import sys
import tempfile
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

from scripts.load.customers import INTAKE_CHANNELS, MAX_CUSTOMERS, MOODBOT, Customer, channel_for, make_customer
from scripts.load.driver import DEFAULT_REQUEST_TIMEOUT, Endpoint, run_conversations
from scripts.load.procs import MemorySampler
from scripts.load.stats import Conversation, consistency, markdown, ok, ratios, summarize
from scripts.load.targets import (
    ADMIN_POSTGRES_URL,
    ROOT,
    SERVERS,
    bare_target,
    fresh_database,
    noc_target,
    read_store_at,
)

TARGETS = ("one_server", "cluster", "bare_rasa_init")
OUT = ROOT / "var" / "bench" / "load.json"
# Failed conversations kept in the JSON, with their last messages, to see why.
FAILURES_KEPT = 5
LOG_ERRORS_KEPT = 20
# Last lines of a Python traceback in a server's log.
LOG_ERROR_PREFIXES = ("Traceback", "rasa.", "asyncio.", "aiohttp.", "sqlalchemy.", "redis.", "actions.")


def customers_for(channels: Sequence[str], first: int, count: int, seed: int) -> list[Customer]:
    return [make_customer(index, channel_for(index, channels), seed) for index in range(first, first + count)]


def failures(conversations: Sequence[Conversation]) -> list[dict]:
    kept = []
    for conversation in conversations:
        if conversation.error and len(kept) < FAILURES_KEPT:
            kept.append(
                {
                    "sender_id": conversation.sender_id,
                    "channel": conversation.channel,
                    "error": conversation.error,
                    "last_turns": [
                        {"sent": turn.text, "status": turn.status, "answer": turn.bot_texts, "error": turn.error}
                        for turn in conversation.turns[-3:]
                    ],
                }
            )
    return kept


def drive(
    endpoint: Endpoint,
    channels: Sequence[str],
    args: argparse.Namespace,
    *,
    warmup: int,
    seed: int,
    pgid: int | None = None,
    database_url: str | None = None,
) -> dict:
    """Warm-up, then the measured run (memory sampled meanwhile), then the check against the database."""
    warm: list[Conversation] = []
    if warmup:
        # The first turns of a fresh server build lazily-loaded graphs: not part of the figures.
        warm, _ = asyncio.run(
            run_conversations(
                endpoint,
                customers_for(channels, args.conversations, warmup, seed),
                concurrency=warmup,
                time_cap=args.time_cap,
                timeout=args.request_timeout,
            )
        )
    customers = customers_for(channels, 0, args.conversations, seed)
    run = run_conversations(
        endpoint, customers, concurrency=args.concurrency, time_cap=args.time_cap, timeout=args.request_timeout
    )
    cpu: dict[str, float] = {}
    driver_started = os.times()
    if pgid is not None:
        with MemorySampler(pgid) as sampler:
            conversations, wall = asyncio.run(run)
        memory, lifetime, cpu = sampler.report(), sampler.report(sampler.lifetime_peak_kb), sampler.cpu_seconds()
    else:
        (conversations, wall), memory, lifetime = asyncio.run(run), {}, {}
    driver_ended = os.times()
    cpu["load driver"] = round(driver_ended.user + driver_ended.system - driver_started.user - driver_started.system, 1)
    result: dict = {
        "summary": summarize(conversations, wall),
        "warmup": summarize(warm, 0) if warm else None,
        "memory_mb": memory,
        "memory_lifetime_peak_mb": lifetime,
        # Where the two cores went: CPU seconds of each process during the measured run.
        "cpu_seconds": cpu,
        "failures": failures([*warm, *conversations]),
    }
    if database_url:
        stored, incidents = read_store_at(database_url)
        expected = {c.sender_id: (c.service_id, c.email) for c in customers if c.channel != MOODBOT}
        result["consistency"] = consistency([*warm, *conversations], stored, incidents, expected)
    result["ok"] = ok(result["summary"], result.get("consistency"))
    return result


def log_tails(run_dir: Path, chars: int = 1500) -> dict[str, str]:
    """The end of every log of a target that failed (the folder is deleted after the run)."""
    return {
        str(log.relative_to(run_dir)): log.read_text(errors="replace")[-chars:]
        for log in sorted(run_dir.rglob("*.log"))
    }


def error_lines(run_dir: Path) -> dict:
    """The servers' ERROR lines (and tracebacks' last lines) of the run: why a message failed, if one did."""
    found: list[str] = []
    for log in sorted(run_dir.rglob("*.log")):
        for line in log.read_text(errors="replace").splitlines():
            if " ERROR " in line or line.startswith(LOG_ERROR_PREFIXES):
                found.append(f"{log.name}: {line[:400]}")
    return {"count": len(found), "first": found[:LOG_ERRORS_KEPT]}


def measure_one(name: str, run_dir: Path, channels: Sequence[str], args: argparse.Namespace, seed: int) -> dict:
    """One target started, driven and stopped; a target that fails to start is reported, and the run goes on."""
    try:
        if name == "bare_rasa_init":
            with bare_target(run_dir) as running:
                result = drive(running.endpoint, (MOODBOT,), args, warmup=args.warmup, seed=seed, pgid=running.pgid)
        else:
            with fresh_database(args.postgres_url) as database_url, noc_target(name, run_dir, database_url) as running:
                result = drive(
                    running.endpoint,
                    channels,
                    args,
                    warmup=args.warmup * SERVERS[name],
                    seed=seed,
                    pgid=running.pgid,
                    database_url=database_url,
                )
    # Whatever went wrong with one target, the others are still measured.
    except Exception as exc:
        return {"error": f"{type(exc).__name__}: {exc}", "logs": log_tails(run_dir), "ok": False}
    result["log_errors"] = error_lines(run_dir)
    return result


def measure_targets(args: argparse.Namespace) -> dict:
    """Each chosen target started, driven and stopped in turn; the JSON report."""
    seed = args.seed if args.seed is not None else random.randrange(1000)
    channels = tuple(args.channels.split(","))
    results: dict = {
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {"cores": os.cpu_count(), "load_average_at_start": os.getloadavg()},
        "settings": {
            "conversations": args.conversations,
            "concurrency": args.concurrency,
            "channels": channels,
            "time_cap_seconds": args.time_cap,
            "request_timeout_seconds": args.request_timeout,
            "seed": seed,
        },
        "targets": {},
    }
    tmp = Path(tempfile.mkdtemp(prefix="noc-load-"))
    try:
        for name in args.targets.split(","):
            print(f"[{name}] ...", flush=True)
            results["targets"][name] = result = measure_one(name, tmp / name, channels, args, seed)
            print(f"[{name}] {json.dumps(result.get('summary') or result, ensure_ascii=False)[:2000]}", flush=True)
    finally:
        if args.keep_logs:
            print(f"Logs kept in {tmp}", flush=True)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    results["machine"]["load_average_at_end"] = os.getloadavg()
    results["ratios"] = ratios(results["targets"])
    return results


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m scripts.load", description=__doc__)
    p.add_argument("--conversations", type=int, default=100, help="measured conversations per target (default 100)")
    p.add_argument("--concurrency", type=int, default=50, help="conversations at once (default 50)")
    p.add_argument("--targets", default=",".join(TARGETS), help=f"comma-separated (default {','.join(TARGETS)})")
    p.add_argument("--channels", default=",".join(INTAKE_CHANNELS), help="channels the customers use in turn")
    p.add_argument("--warmup", type=int, default=2, help="unmeasured conversations per Rasa server first (default 2)")
    p.add_argument("--time-cap", type=float, default=900, help="seconds after which no message is sent (default 900)")
    p.add_argument("--request-timeout", type=float, default=DEFAULT_REQUEST_TIMEOUT, help="seconds per message")
    p.add_argument("--postgres-url", default=ADMIN_POSTGRES_URL, help="where the fresh databases are created")
    p.add_argument("--seed", type=int, help="the customers' data (default: random, recorded in the report)")
    p.add_argument("--out", type=Path, default=OUT, help=f"JSON report (default {OUT.relative_to(ROOT)})")
    p.add_argument("--keep-logs", action="store_true", help="keep the servers' logs (printed folder)")
    # Development: drive a server that is already running instead of starting the targets.
    p.add_argument("--url", help="drive this running server only (e.g. http://127.0.0.1:17005)")
    p.add_argument("--twilio-token", help="with --url: its TWILIO_AUTH_TOKEN (without it, REST only)")
    p.add_argument("--public-base-url", help="with --url: its PUBLIC_BASE_URL (default: --url)")
    p.add_argument("--database-url", help="with --url: its DATABASE_URL, to check nothing was lost or duplicated")
    p.add_argument("--pgid", type=int, help="with --url: its launcher's process group, to sample memory")
    return p


def validate(args: argparse.Namespace, p: argparse.ArgumentParser) -> None:
    if not 1 <= args.conversations + args.warmup * 2 <= MAX_CUSTOMERS:
        p.error(f"--conversations: 1 to {MAX_CUSTOMERS - 4}")
    if args.concurrency < 1:
        p.error("--concurrency: at least 1")
    unknown = set(args.targets.split(",")) - set(TARGETS)
    if unknown:
        p.error(f"--targets: unknown {sorted(unknown)}; choose from {TARGETS}")
    bad_channels = set(args.channels.split(",")) - set(INTAKE_CHANNELS)
    if bad_channels:
        p.error(f"--channels: unknown {sorted(bad_channels)}; choose from {INTAKE_CHANNELS}")
    if args.url and not args.twilio_token and args.channels != "rest":
        args.channels = "rest"  # a Twilio message without the token's signature would only get 403


def main(argv: Sequence[str] | None = None) -> int:
    p = parser()
    args = p.parse_args(argv)
    validate(args, p)
    if args.url:
        endpoint = Endpoint(args.url.rstrip("/"), args.twilio_token, args.public_base_url)
        target = drive(
            endpoint,
            tuple(args.channels.split(",")),
            args,
            warmup=args.warmup,
            seed=args.seed if args.seed is not None else random.randrange(1000),
            pgid=args.pgid,
            database_url=args.database_url,
        )
        results = {"targets": {args.url: target}, "ratios": {}}
    else:
        results = measure_targets(args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False))
    print(markdown(results))
    print(f"\nJSON: {args.out}")
    return 0 if all(target["ok"] for target in results["targets"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
