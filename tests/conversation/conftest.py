"""The conversation sample: simulated customers against the real servers, once for the package.

``sample`` starts the three servers of `make run` (tests/e2e/servers.py) on
ports of their own, runs a fixed set of customers (scripts/conversation) and
scores them. The ports must be free: a server already there (tests/cluster
uses 16105 and 16155) would answer in place of ours, hence 167xx.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from scripts.conversation.banks import load_banks
from scripts.conversation.customers import generate_both
from scripts.conversation.scoring import Score, score
from scripts.conversation.simulate import Conversation, Endpoints, busy_ports, run_all
from tests.e2e.servers import start_servers, stop_servers

RASA_PORT, ACTION_PORT, WEB_PORT = 16705, 16755, 16780
SAMPLE_SIZE = 40
SAMPLE_SEED = 2026
# Transcript lines shown per failing customer.
MAX_LINES = 30


@dataclass(frozen=True)
class Sample:
    conversations: list[Conversation]
    scores: list[Score]

    def failing(self, predicate: str, limit: int = 3) -> str:
        """Transcripts of the first customers whose score has a non-empty `predicate` list."""
        shown = []
        for result, conversation in zip(self.scores, self.conversations, strict=True):
            if getattr(result, predicate):
                lines = conversation.transcript().splitlines()
                if len(lines) > MAX_LINES:
                    lines = [*lines[: MAX_LINES - 4], f"… {len(lines) - MAX_LINES + 1} lines …", *lines[-3:]]
                reasons = sorted(set(result.reasons))
                shown.append(f"--- {result.id}: {reasons}\n" + "\n".join(lines))
            if len(shown) >= limit:
                break
        return "\n".join(shown)


@pytest.fixture(scope="package")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sample]:
    busy = busy_ports((RASA_PORT, ACTION_PORT, WEB_PORT))
    if busy:
        pytest.fail(f"ports {busy} are in use (tests/cluster running at the same time?)")
    servers, procs = start_servers(
        tmp_path_factory.mktemp("conversation"), rasa_port=RASA_PORT, action_port=ACTION_PORT, web_port=WEB_PORT
    )
    try:
        customers = generate_both(SAMPLE_SIZE, seed=SAMPLE_SEED, banks=load_banks())
        endpoints = Endpoints(servers.rasa_url, servers.web_url, servers.token)
        conversations = run_all(customers, endpoints, workers=4, run_id="sample")
    finally:
        stop_servers(procs)
    yield Sample(conversations=conversations, scores=[score(c) for c in conversations])
