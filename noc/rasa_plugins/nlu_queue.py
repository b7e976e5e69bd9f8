"""NLU runs beside the Rasa server's event loop, one message at a time, the quickest first.

Rasa 3.6 parses a message synchronously on the server's event loop
(``MessageProcessor.parse_message``): while a long message is parsed, no other
conversation on that server moves. With messages at the longest length the
bot reads (``noc.rasa_plugins.channels.limits``, 1,600 characters; about 0.1 s of NLU
each on a 2-core server), eight sent at once held another customer's "hola"
for 0.7-0.8 s (issue 11).

Here the parse runs on one worker thread instead, so the loop keeps serving
the other conversations' turns (reading and saving them, the policies, the
actions), and the parses waiting for the worker go in the order of their
*estimated finish*: arrival time plus an estimate proportional to the length.
A short message overtakes the long ones that arrived less than their extra
estimate before it, and no message waits behind later ones for longer than
its own estimate, so none starves under a stream of short ones.

One thread, not a pool: Rasa's NLU components are not all safe to run at once
on one model (``sklearn-crfsuite``'s tagger keeps the sequence it was given
between two calls; spaCy grows its string store while it tokenizes). A pool
would also win nothing on two cores, most of a parse holding the GIL.

Rasa 3.6 has no hook for this, hence :func:`install`, which replaces
``MessageProcessor.parse_message`` by the same steps with the graph run moved
to the worker; it is called once by the Rasa server at start-up
(``noc.rasa_plugins.tracker_store.EnvTrackerStore``).
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from rasa.core.channels.channel import UserMessage
from rasa.shared.core.trackers import DialogueStateTracker

if TYPE_CHECKING:
    # The action server imports every module of ``actions``: not Rasa's processor for it.
    from rasa.core.processor import MessageProcessor

T = TypeVar("T")

# NLU seconds per character of text, on top of a fixed part: measured on the
# trained model, 0.010 s for "hola" and 0.07-0.10 s for 1,600 characters of a
# report or pasted ping output. Only the order depends on it.
SECONDS_FIXED = 0.01
SECONDS_PER_CHARACTER = 0.00006


def estimated_seconds(text: str | None) -> float:
    return SECONDS_FIXED + SECONDS_PER_CHARACTER * len(text or "")


@dataclass(order=True)
class _Job:
    due: float
    number: int
    run: Callable[[], Any] = field(compare=False)
    loop: asyncio.AbstractEventLoop = field(compare=False)
    future: asyncio.Future = field(compare=False)


def _settle(future: asyncio.Future, result: Any, error: BaseException | None) -> None:
    if future.done():  # the turn was cancelled meanwhile
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


class QuickestFirst:
    """One worker thread running the jobs it is given in the order of their estimated finish."""

    def __init__(self) -> None:
        self._jobs: list[_Job] = []
        self._numbers = itertools.count()
        self._ready = threading.Condition()
        self._worker: threading.Thread | None = None

    async def run(self, estimate: float, call: Callable[[], T]) -> T:
        """``call()``'s result, computed on the worker thread; ``estimate`` its expected seconds."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        with self._ready:
            heapq.heappush(self._jobs, _Job(time.monotonic() + estimate, next(self._numbers), call, loop, future))
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._work, name="nlu", daemon=True)
                self._worker.start()
            self._ready.notify()
        return await future

    def _work(self) -> None:
        while True:
            with self._ready:
                while not self._jobs:
                    self._ready.wait()
                job = heapq.heappop(self._jobs)
            if job.future.cancelled():  # nobody waits for it any more
                continue
            result, error = None, None
            try:
                result = job.run()
            except BaseException as exc:  # handed to the waiting turn, as if raised on the loop
                error = exc
            # RuntimeError: the loop is closed, the server is stopping.
            with contextlib.suppress(RuntimeError):
                job.loop.call_soon_threadsafe(_settle, job.future, result, error)


_queue = QuickestFirst()


async def parse_message(
    self: MessageProcessor,
    message: UserMessage,
    tracker: DialogueStateTracker | None = None,
    only_output_properties: bool = True,
) -> dict[str, Any]:
    """Rasa 3.6.21's ``MessageProcessor.parse_message`` with the graph run on the NLU thread."""
    if self.http_interpreter:
        return await _rasas_parse_message(self, message, tracker, only_output_properties)
    if tracker is None:
        tracker = DialogueStateTracker.from_events(message.sender_id, [])
    parse_data = await _queue.run(
        estimated_seconds(message.text),
        lambda: self._parse_message_with_graph(message, tracker, only_output_properties),
    )
    self._update_full_retrieval_intent(parse_data)
    self._check_for_unseen_features(parse_data)
    return parse_data


_rasas_parse_message: Callable[..., Any] = None  # type: ignore[assignment]  # set by install()


def install() -> None:
    """Put the queue in place (again: nothing is replaced twice)."""
    global _rasas_parse_message
    from rasa.core.processor import MessageProcessor

    if MessageProcessor.parse_message is not parse_message:
        _rasas_parse_message = MessageProcessor.parse_message
        MessageProcessor.parse_message = parse_message  # type: ignore[method-assign]


def installed() -> bool:
    from rasa.core.processor import MessageProcessor

    return MessageProcessor.parse_message is parse_message
