"""NLU beside the event loop, the quickest first (noc.rasa_plugins.nlu_queue)."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from rasa.core.channels.channel import UserMessage
from rasa.core.processor import MessageProcessor

from noc.rasa_plugins import nlu_queue
from noc.rasa_plugins.nlu_queue import QuickestFirst, estimated_seconds


@pytest.mark.parametrize(
    ("text", "expected"),
    [(None, 0.01), ("", 0.01), ("hola", 0.01024), ("a" * 1600, 0.106)],
)
def test_the_estimate_grows_with_the_length(text: str | None, expected: float) -> None:
    assert estimated_seconds(text) == pytest.approx(expected)


async def test_a_short_job_overtakes_long_ones_that_wait() -> None:
    queue = QuickestFirst()
    started = threading.Event()
    release = threading.Event()
    order: list[str] = []

    def blocker() -> str:
        started.set()
        release.wait(5)
        return "blocker"

    def job(name: str):
        def run() -> str:
            order.append(name)
            return name

        return run

    first = asyncio.ensure_future(queue.run(1.0, blocker))
    await asyncio.to_thread(started.wait, 5)
    longs = [asyncio.ensure_future(queue.run(0.5, job(f"long {n}"))) for n in range(3)]
    await asyncio.sleep(0.01)
    short = asyncio.ensure_future(queue.run(0.01, job("short")))
    await asyncio.sleep(0.01)
    release.set()
    assert await asyncio.gather(first, *longs, short) == ["blocker", "long 0", "long 1", "long 2", "short"]
    assert order == ["short", "long 0", "long 1", "long 2"]


async def test_a_short_job_does_not_overtake_a_long_one_that_waited_its_estimate() -> None:
    queue = QuickestFirst()
    release = threading.Event()
    order: list[str] = []
    first = asyncio.ensure_future(queue.run(1.0, lambda: release.wait(5)))
    old = asyncio.ensure_future(queue.run(0.05, lambda: order.append("old long")))
    await asyncio.sleep(0.2)  # longer than the long one's estimate: it is due before any newcomer
    new = asyncio.ensure_future(queue.run(0.01, lambda: order.append("new short")))
    await asyncio.sleep(0.01)
    release.set()
    await asyncio.gather(first, old, new)
    assert order == ["old long", "new short"]


async def test_the_loop_keeps_running_while_a_job_works() -> None:
    queue = QuickestFirst()
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticker = asyncio.ensure_future(tick())
    try:
        await queue.run(0.3, lambda: time.sleep(0.3))
    finally:
        ticker.cancel()
    assert ticks >= 10


async def test_an_error_reaches_the_caller_and_the_worker_goes_on() -> None:
    queue = QuickestFirst()

    def fails() -> None:
        raise ValueError("bad model")

    with pytest.raises(ValueError, match="bad model"):
        await queue.run(0.01, fails)
    assert await queue.run(0.01, lambda: 42) == 42


async def test_a_cancelled_job_is_not_run() -> None:
    queue = QuickestFirst()
    release = threading.Event()
    ran: list[str] = []
    first = asyncio.ensure_future(queue.run(1.0, lambda: release.wait(5)))
    await asyncio.sleep(0.01)
    dropped = asyncio.ensure_future(queue.run(0.01, lambda: ran.append("dropped")))
    await asyncio.sleep(0.01)
    dropped.cancel()
    release.set()
    await first
    assert await queue.run(0.01, lambda: "after") == "after"
    assert ran == []


class FakeProcessor:
    """What parse_message uses of Rasa's processor."""

    http_interpreter = None

    def __init__(self) -> None:
        self.threads: list[str] = []

    def _parse_message_with_graph(self, message: UserMessage, tracker, only_output_properties: bool) -> dict:
        self.threads.append(threading.current_thread().name)
        return {"text": message.text, "intent": {"name": "greet", "confidence": 1.0}, "entities": []}

    def _update_full_retrieval_intent(self, parse_data: dict) -> None:
        parse_data["updated"] = True

    def _check_for_unseen_features(self, parse_data: dict) -> None:
        pass


async def test_parse_message_runs_the_graph_on_the_nlu_thread() -> None:
    processor = FakeProcessor()
    parsed = await nlu_queue.parse_message(processor, UserMessage("hola", sender_id="ana"))  # type: ignore[arg-type]
    assert parsed == {"text": "hola", "intent": {"name": "greet", "confidence": 1.0}, "entities": [], "updated": True}
    assert processor.threads == ["nlu"]


def test_installing_twice_replaces_once() -> None:
    original = MessageProcessor.parse_message
    try:
        nlu_queue.install()
        nlu_queue.install()
        assert MessageProcessor.parse_message is nlu_queue.parse_message
        # Rasa's own is kept to fall back on, never the replacement itself (a call would loop).
        assert nlu_queue._rasas_parse_message.__qualname__ == "MessageProcessor.parse_message"
    finally:
        MessageProcessor.parse_message = original
