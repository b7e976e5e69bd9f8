"""The conversation sample: simulated customers against the real servers, once for the package.

``sample`` runs a fixed set of customers (scripts/conversation) against the
three servers of `make run` that the end-to-end tests share (``servers``,
tests/conftest.py) and scores them.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from scripts.conversation.banks import load_banks
from scripts.conversation.customers import generate_both
from scripts.conversation.scoring import Score, score
from scripts.conversation.simulate import Conversation, Endpoints, run_all
from tests.e2e.servers import Servers

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
def sample(servers: Servers) -> Sample:
    customers = generate_both(SAMPLE_SIZE, seed=SAMPLE_SEED, banks=load_banks())
    endpoints = Endpoints(servers.rasa_url, servers.web_url, servers.token)
    conversations = run_all(customers, endpoints, workers=4, run_id="sample")
    return Sample(conversations=conversations, scores=[score(c) for c in conversations])
