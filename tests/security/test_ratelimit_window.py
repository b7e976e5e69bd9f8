"""noc.ratelimit.window: the sliding-window arithmetic."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from noc.ratelimit.window import Limit, decide, estimate, seconds_until_allowed, window_position

PER_MINUTE = Limit("test", 30, 60)


@pytest.mark.parametrize(
    ("now", "window", "expected"),
    [
        (0.0, 60, (0, 0.0)),
        (59.5, 60, (0, 59.5)),
        (60.0, 60, (1, 0.0)),
        (1_700_000_030.0, 60, (28_333_333, 50.0)),
        (1_700_000_030.0, 900, (1_888_888, 830.0)),
    ],
)
def test_window_position(now: float, window: int, expected: tuple[int, float]) -> None:
    assert window_position(now, window) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("previous", "current", "elapsed", "expected"),
    [
        (0, 5, 10.0, 5.0),
        (30, 0, 0.0, 30.0),  # the whole previous window is still inside
        (30, 0, 30.0, 15.0),  # half of it
        (30, 4, 45.0, 11.5),
        (30, 4, 60.0, 4.0),
    ],
)
def test_estimate_weights_the_previous_window(previous: int, current: int, elapsed: float, expected: float) -> None:
    assert estimate(previous, current, elapsed, 60) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("previous", "current", "elapsed", "allowed", "retry_after", "first_refusal"),
    [
        (0, 30, 10.0, True, 0, False),  # exactly at the limit
        (0, 31, 10.0, False, 54, True),  # first refused: the next window, once 31 weigh under 30
        (0, 32, 10.0, False, 56, False),  # later refusals are not announced again
        (30, 1, 0.0, False, 4, True),  # the previous window still counts in full, for 4 s more
        (30, 1, 30.0, True, 0, False),  # ...and only half of it 30 s later
        (20, 21, 30.0, False, 6, True),  # 10 + 21: wait until the previous window's weight drops to 8
        (0, 60, 0.0, False, 91, False),  # a flood weighs down the next window too
    ],
)
def test_decide(
    previous: int, current: int, elapsed: float, allowed: bool, retry_after: int, first_refusal: bool
) -> None:
    decision = decide(PER_MINUTE, previous, current, elapsed)
    assert (decision.allowed, decision.retry_after, decision.first_refusal) == (allowed, retry_after, first_refusal)


def test_a_limit_of_zero_is_off() -> None:
    assert decide(Limit("off", 0, 60), 1000, 1000, 1.0).allowed


@settings(max_examples=300, database=None)
@given(
    max_hits=st.integers(1, 50),
    previous=st.integers(0, 200),
    current=st.integers(1, 200),
    elapsed=st.floats(0, 59.999),
)
def test_retry_after_is_when_the_next_hit_fits(max_hits: int, previous: int, current: int, elapsed: float) -> None:
    """Waiting the computed time (and no hit meanwhile) lets one more hit through, and not much earlier."""
    limit = Limit("p", max_hits, 60)
    wait = seconds_until_allowed(limit, previous, current, elapsed)

    def next_hit_allowed(after: float) -> bool:
        moment = elapsed + after
        if moment < 60:
            return estimate(previous, current + 1, moment, 60) <= max_hits + 1e-9
        if moment < 120:
            return estimate(current, 1, moment - 60, 60) <= max_hits + 1e-9
        return True

    assert next_hit_allowed(wait)
    if wait > 0.01:
        assert not next_hit_allowed(wait - 0.01)
