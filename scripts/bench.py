"""`make bench`: NLU quality on the held-out split and per-message latency.

Measures, in one run on this machine:
1. intent macro-F1 and entity F1 of the trained model on tests/nlu/heldout.yml,
   which training never sees;
2. `rasa test nlu` cross-validation on the training data;
3. latency per message through the REST channel (p50/p95), one conversation at
   a time and 8 at once, for this assistant and for a bare `rasa init` bot;
4. the load test (scripts/load, docs/load.md): 50 concurrent customers against
   one server, the cluster and a bare `rasa init` bot;
5. the conversation benchmark (scripts/conversation): simulated customers
   answering from tests/conversation/phrases, end to end over REST, scored on
   task success, re-asks, loops, invented facts and unusable answers taken.
Results go to var/bench/results.json (the load test also to var/bench/load.json,
the conversation benchmark to var/bench/conversation.json and .md).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.e2e.servers import start_servers, stop_servers, wait_for  # noqa: E402

BIN = Path(sys.executable).parent
OUT = ROOT / "var" / "bench"

INTAKE = [
    "hola buenas tardes",
    "el enlace de la sede norte está caído desde ayer a las 3 de la tarde",
    "Banco Andino",
    "CO-MPLS-00123",
    "Ana Ruiz",
    "+57 300 123 4567",
    "ana.ruiz@bancoandino.com.co",
    "sí",
    "sí, ya lo reiniciamos",
    "sí, sigue igual",
    "sí",
]
MOODBOT = ["hello", "I am sad", "yes", "great", "bye", "hi", "I am happy", "goodbye", "are you a bot?", "ok", "bye"]


def run(cmd: list[str], **kwargs) -> None:
    print("$", " ".join(cmd), flush=True)
    subprocess.run(cmd, cwd=ROOT, check=True, **kwargs)


def f1_scores(report_dir: Path) -> dict[str, float]:
    intents = json.loads((report_dir / "intent_report.json").read_text())
    scores = {"intent_macro_f1": intents["macro avg"]["f1-score"], "intent_accuracy": intents["accuracy"]}
    # Named after the extractor: the CRF's with config.yml's pipeline, DIET's before it.
    reports = (report_dir / "CRFEntityExtractor_report.json", report_dir / "DIETClassifier_report.json")
    entity_file = next((path for path in reports if path.exists()), None)
    if entity_file:
        entities = json.loads(entity_file.read_text())
        per_entity = {
            k: v for k, v in entities.items() if isinstance(v, dict) and k not in ("no_entity",) and "avg" not in k
        }
        scores["entity_micro_f1"] = entities.get("micro avg", {}).get("f1-score", float("nan"))
        scores["entity_macro_f1"] = entities.get("macro avg", {}).get("f1-score", float("nan"))
        scores["entity_f1"] = {k: round(v["f1-score"], 3) for k, v in per_entity.items()}
    return scores


def nlu_quality(model: Path, folds: int) -> dict:
    heldout_dir = OUT / "heldout"
    run(
        [
            str(BIN / "rasa"),
            "test",
            "nlu",
            "--nlu",
            "tests/nlu/heldout.yml",
            "--model",
            str(model),
            "--out",
            str(heldout_dir),
        ]
    )
    result = {"heldout": f1_scores(heldout_dir)}
    if folds:
        cv_dir = OUT / "cross_validation"
        run(
            [
                str(BIN / "rasa"),
                "test",
                "nlu",
                "--nlu",
                "data/nlu",
                "--config",
                "config.yml",
                "--cross-validation",
                "--folds",
                str(folds),
                "--out",
                str(cv_dir),
            ]
        )
        result["cross_validation"] = f1_scores(cv_dir)
    return result


def conversation(url: str, messages: list[str]) -> list[float]:
    sender = f"bench-{uuid.uuid4().hex[:12]}"
    timings = []
    with requests.Session() as http:
        for text in messages:
            start = time.perf_counter()
            response = http.post(url, json={"sender": sender, "message": text}, timeout=120)
            timings.append(time.perf_counter() - start)
            response.raise_for_status()
    return timings


def figures(timings: list[float]) -> dict[str, float]:
    ordered = sorted(timings)
    return {
        "messages": len(ordered),
        "p50_ms": round(statistics.median(ordered) * 1000, 1),
        "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))] * 1000, 1),
        "mean_ms": round(statistics.mean(ordered) * 1000, 1),
    }


def round_of(url: str, messages: list[str], concurrency: int) -> list[float]:
    """``concurrency`` complete conversations at once; every message's latency."""
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        runs = list(pool.map(lambda _: conversation(url, messages), range(concurrency)))
    return [t for run_ in runs for t in run_]


def interleaved(bots: dict[str, tuple[str, list[str]]], rounds: int, concurrency: int) -> dict[str, dict]:
    """Rounds of each bot in turn, so that both see the same machine.

    This machine's speed drifts by a third between minutes (a shared VM):
    measuring one bot after the other made the ratio swing from 1.2 to 1.7
    between two runs of the same code. Alternating rounds spreads any drift
    over both bots.
    """
    timings: dict[str, list[float]] = {name: [] for name in bots}
    for _ in range(rounds):
        for name, (url, messages) in bots.items():
            timings[name] += round_of(url, messages, concurrency)
    return {name: figures(values) for name, values in timings.items()}


def start_bare_rasa_init(tmp: Path, port: int) -> subprocess.Popen:
    project = tmp / "bare"
    project.mkdir()  # rasa init wants an existing folder
    run([str(BIN / "rasa"), "init", "--no-prompt", "--init-dir", str(project)], stdout=subprocess.DEVNULL)
    with open(tmp / "bare.log", "w") as log:
        proc = subprocess.Popen(
            [str(BIN / "rasa"), "run", "--port", str(port)], cwd=project, stdout=log, stderr=subprocess.STDOUT
        )
    wait_for(f"http://127.0.0.1:{port}/", [proc], 300)
    return proc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=3, help="cross-validation folds (0 to skip)")
    parser.add_argument(
        "--conversations", type=int, default=24, help="conversations per bot and latency mode (default 24)"
    )
    parser.add_argument(
        "--part",
        choices=("all", "nlu", "latency", "load", "conversation"),
        default="all",
        help="measure only one part (load: the load test of one server, the cluster and bare Rasa, 15-20 minutes)",
    )
    parser.add_argument(
        "--customers", type=int, default=400, help="simulated customers of the conversation part (default 400)"
    )
    parser.add_argument("--seed", type=int, default=7, help="seed of the conversation part's customers (default 7)")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    results_file = OUT / "results.json"
    # Parts measured separately are merged into one results file.
    results: dict = json.loads(results_file.read_text()) if args.part != "all" and results_file.exists() else {}
    results["machine"] = {"cores": os.cpu_count()}
    if args.part in ("all", "nlu"):
        results["nlu"] = nlu_quality(ROOT / "models" / "noc.tar.gz", args.folds)
    if args.part in ("all", "latency"):
        results.update(latency_comparison(args.conversations))
    if args.part in ("all", "load"):
        results["load"] = load_test()
    if args.part in ("all", "conversation"):
        results["conversation"] = conversation_benchmark(args.customers, args.seed)
    results_file.write_text(json.dumps(results, indent=2, ensure_ascii=False))
    print(json.dumps(results, indent=2, ensure_ascii=False))


def load_test() -> dict:
    """Issue 5's load test with its defaults (docs/load.md; `python -m scripts.load --help` for the options)."""
    from scripts.load.cli import OUT as LOAD_OUT
    from scripts.load.cli import main as load_main

    load_main(["--out", str(LOAD_OUT)])
    return json.loads(LOAD_OUT.read_text())


def conversation_benchmark(customers: int, seed: int) -> dict:
    """scripts/conversation with its own servers; the figures here, the transcripts in var/bench/conversation.*"""
    from scripts.conversation.__main__ import main as conversation_main

    result = conversation_main(["--customers", str(customers), "--seed", str(seed), "--out", str(OUT)])
    return {"run": result["run"], "figures": result["figures"], "patterns": result["patterns"]}


def latency_comparison(conversations: int) -> dict:
    """This assistant and a bare `rasa init` bot, both running, measured in alternating rounds."""
    tmp = Path(tempfile.mkdtemp(prefix="noc-bench-"))
    procs: list[subprocess.Popen] = []
    try:
        servers, procs = start_servers(tmp, rasa_port=25005, action_port=25055, web_port=28080)
        procs.append(start_bare_rasa_init(tmp, 25006))
        bots = {
            "latency_noc": (f"{servers.rasa_url}/webhooks/rest/webhook", INTAKE),
            "latency_bare_rasa_init": ("http://127.0.0.1:25006/webhooks/rest/webhook", MOODBOT),
        }
        for url, messages in bots.values():
            conversation(url, messages)  # warm-up: the first calls build lazily loaded graphs
        sequential = interleaved(bots, rounds=conversations, concurrency=1)
        concurrent = interleaved(bots, rounds=max(1, conversations // 8), concurrency=8)
    finally:
        stop_servers(procs)
        shutil.rmtree(tmp, ignore_errors=True)
    results: dict = {name: {"sequential": sequential[name], "concurrent_8": concurrent[name]} for name in bots}
    noc, bare = results["latency_noc"], results["latency_bare_rasa_init"]
    for mode in ("sequential", "concurrent_8"):
        results[f"p50_ratio_{mode}"] = round(noc[mode]["p50_ms"] / bare[mode]["p50_ms"], 2)
    return results


if __name__ == "__main__":
    main()
