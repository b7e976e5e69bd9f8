"""Sliding-window counter: the arithmetic of a rate limit, without storage.

Each limit counts hits in fixed windows (window index = now // window). The
rate at a moment is estimated as the current window's count plus the previous
window's count weighted by the part of the previous window still inside the
sliding window. This smooths the burst a plain fixed window allows at its
boundary (2x the limit in a few seconds) with two counters per key.

Every hit is counted, refused ones too: a client that keeps hammering stays
refused until it slows down.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Limit:
    """At most ``max_hits`` per ``window_seconds`` and key; ``max_hits`` 0 turns the limit off."""

    name: str
    max_hits: int
    window_seconds: int

    @property
    def enabled(self) -> bool:
        return self.max_hits > 0


@dataclass(frozen=True)
class Decision:
    allowed: bool
    # Whole seconds until a new hit would be allowed (0 when allowed).
    retry_after: int = 0
    # The first refused hit of a burst: the one the client is told about, so a
    # flood (or two bots answering each other) gets one notice, not one per message.
    first_refusal: bool = False


ALLOWED = Decision(allowed=True)


def window_position(now: float, window_seconds: int) -> tuple[int, float]:
    """(window index, seconds elapsed inside that window) of the moment ``now``."""
    index = math.floor(now / window_seconds)
    return index, now - index * window_seconds


def estimate(previous: int, current: int, elapsed: float, window_seconds: int) -> float:
    """Hits in the sliding window ending now."""
    remaining = max(0.0, window_seconds - elapsed) / window_seconds
    return previous * remaining + current


def seconds_until_allowed(limit: Limit, previous: int, current: int, elapsed: float) -> float:
    """Seconds until one more hit fits under the limit, if no other hit comes meanwhile."""
    window = limit.window_seconds
    room = limit.max_hits - current - 1
    if room >= 0:
        if previous == 0 or estimate(previous, current, elapsed, window) + 1 <= limit.max_hits:
            return 0.0
        # Still in this window: wait until the previous window's weight has dropped enough.
        moment = window * (1 - room / previous)
        if moment < window:
            return max(0.0, moment - elapsed)
    # Next window: this window's hits become the weighted previous count.
    until_next = window - elapsed
    if current <= limit.max_hits - 1:
        return until_next
    return until_next + window * (1 - (limit.max_hits - 1) / current)


def decide(limit: Limit, previous: int, current: int, elapsed: float) -> Decision:
    """Whether the hit already counted in ``current`` is allowed."""
    if not limit.enabled:
        return ALLOWED
    rate = estimate(previous, current, elapsed, limit.window_seconds)
    if rate <= limit.max_hits:
        return ALLOWED
    wait = seconds_until_allowed(limit, previous, current, elapsed)
    return Decision(
        allowed=False,
        retry_after=max(1, math.ceil(wait)),
        first_refusal=rate - 1 <= limit.max_hits,
    )
