"""Issue 5's correctness target under load: 50 concurrent intakes through nginx lose and duplicate nothing.

The load test's own driver (scripts/load) plays 50 customers at once, REST,
WhatsApp and SMS mixed, each answering whatever the bot asks until it gets its
ticket. Then Rasa's tracker store and the incident table are read back. No
latency is asserted here: `python -m scripts.load` measures that (docs/load.md).
"""

from __future__ import annotations

import asyncio
from collections import Counter

from sqlalchemy.engine import Engine

from scripts.load.cli import customers_for
from scripts.load.customers import INTAKE_CHANNELS
from scripts.load.driver import Endpoint, run_conversations
from scripts.load.stats import Conversation, consistency
from scripts.load.targets import read_store
from tests.cluster.cluster import RASA_BACKENDS, TWILIO_TOKEN, Cluster

CONVERSATIONS = 50
# Bounds against a hang, not figures: 500 messages on two busy cores take a few minutes.
TIME_CAP_SECONDS = 1500
REQUEST_TIMEOUT_SECONDS = 90
# The same customers every run: a failure can be replayed (`python -m scripts.load --seed`).
SEED = 20261201


def transcript(conversation: Conversation) -> str:
    lines = [f"{conversation.sender_id} ({conversation.channel}): {conversation.error}"]
    for turn in conversation.turns[-4:]:
        lines.append(f"  > {turn.text}  [{turn.status} {turn.error or ''}]")
        lines += [f"  < {text}" for text in turn.bot_texts]
    return "\n".join(lines)


def test_fifty_concurrent_intakes_through_nginx_lose_and_duplicate_nothing(cluster: Cluster, database: Engine) -> None:
    customers = customers_for(INTAKE_CHANNELS, 0, CONVERSATIONS, seed=SEED)
    endpoint = Endpoint(cluster.front_url, TWILIO_TOKEN, public_base_url=cluster.front_url)
    conversations, _ = asyncio.run(
        run_conversations(
            endpoint,
            customers,
            concurrency=CONVERSATIONS,
            time_cap=TIME_CAP_SECONDS,
            timeout=REQUEST_TIMEOUT_SECONDS,
        )
    )

    assert len(conversations) == CONVERSATIONS
    assert Counter(c.channel for c in conversations) == Counter(c.channel for c in customers)
    unfinished = [c for c in conversations if c.ticket is None]
    assert not unfinished, "\n\n".join(transcript(c) for c in unfinished[:5])
    assert len({c.ticket for c in conversations}) == CONVERSATIONS, "two conversations got the same ticket"
    # Both Rasa servers took their share of every conversation's messages.
    # ($upstream_addr lists every server nginx tried for one request.)
    upstreams = {address for c in conversations for turn in c.turns for address in (turn.upstream or "").split(", ")}
    assert set(RASA_BACKENDS) <= upstreams

    stored, incidents = read_store(database)
    checks = consistency(conversations, stored, incidents)
    assert checks["messages_lost"] == 0
    assert checks["messages_duplicated"] == 0
    assert checks["messages_unexpected"] == 0
    assert checks["records"] == CONVERSATIONS
    assert checks["records_lost"] == 0
    assert checks["records_duplicated"] == 0
