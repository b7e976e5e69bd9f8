"""noc.ratelimit.limiter and counters: counting on both backends, failing open, hashed keys."""

from __future__ import annotations

import logging

import pytest
import redis

from noc.ratelimit.counters import Counters, MemoryCounters, RedisCounters
from noc.ratelimit.limiter import (
    RateLimiter,
    counter_key,
    ip_limit,
    limiter_from_settings,
    login_ip_limit,
    login_username_limit,
    sender_limit,
)
from noc.ratelimit.window import Limit
from tests.security.conftest import limited_settings

FIVE_PER_MINUTE = Limit("test", 5, 60)
START = 1_700_000_040.0  # 0 s into a minute window


class Clock:
    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def hits(limiter: RateLimiter, limit: Limit, key: str, count: int) -> list[bool]:
    return [(await limiter.hit(limit, key)).allowed for _ in range(count)]


async def test_limit_per_key_and_sliding_recovery(counters: Counters) -> None:
    clock = Clock()
    limiter = RateLimiter(counters, clock=clock)

    assert await hits(limiter, FIVE_PER_MINUTE, "a", 6) == [True] * 5 + [False]
    assert await hits(limiter, FIVE_PER_MINUTE, "b", 1) == [True]  # other keys are not affected

    clock.now += 60  # next window: the previous 6 hits still weigh in full at its start
    assert (await limiter.hit(FIVE_PER_MINUTE, "a")).allowed is False
    clock.now += 30  # half of them (3) plus 1 refused + 1 now
    assert (await limiter.hit(FIVE_PER_MINUTE, "a")).allowed is True
    clock.now += 120
    assert await hits(limiter, FIVE_PER_MINUTE, "a", 5) == [True] * 5


async def test_only_the_first_refusal_is_announced(counters: Counters) -> None:
    limiter = RateLimiter(counters, clock=Clock())
    await hits(limiter, FIVE_PER_MINUTE, "a", 5)
    refusals = [await limiter.hit(FIVE_PER_MINUTE, "a") for _ in range(3)]
    assert [d.first_refusal for d in refusals] == [True, False, False]
    assert all(d.retry_after >= 1 for d in refusals)


async def test_release_takes_back_a_hit(counters: Counters) -> None:
    limiter = RateLimiter(counters, clock=Clock())
    for _ in range(20):
        assert (await limiter.check((FIVE_PER_MINUTE, "ok"))).allowed
        await limiter.release((FIVE_PER_MINUTE, "ok"))
    await limiter.release((FIVE_PER_MINUTE, "never-hit"))  # never below zero
    assert await hits(limiter, FIVE_PER_MINUTE, "never-hit", 6) == [True] * 5 + [False]


async def test_check_stops_at_the_first_refusal(counters: Counters) -> None:
    limiter = RateLimiter(counters, clock=Clock())
    one = Limit("one", 1, 60)
    assert (await limiter.check((one, "ip"), (FIVE_PER_MINUTE, "s1"))).allowed
    assert not (await limiter.check((one, "ip"), (FIVE_PER_MINUTE, "s2"))).allowed
    # s2 was not counted: the IP refusal came first.
    assert await hits(limiter, FIVE_PER_MINUTE, "s2", 5) == [True] * 5


async def test_limits_of_zero_count_nothing() -> None:
    counters = MemoryCounters()
    limiter = RateLimiter(counters)
    assert await hits(limiter, Limit("off", 0, 60), "a", 100) == [True] * 100
    assert counters._counts == {}


class BrokenCounters(MemoryCounters):
    async def hit(self, key: str, index: int, window_seconds: int) -> tuple[int, int]:
        raise redis.ConnectionError("Redis is down")

    async def release(self, key: str, index: int) -> None:
        raise redis.ConnectionError("Redis is down")


async def test_unreachable_counters_fail_open_and_log_once(caplog: pytest.LogCaptureFixture) -> None:
    limiter = RateLimiter(BrokenCounters())
    with caplog.at_level(logging.ERROR, logger="noc.ratelimit.limiter"):
        assert await hits(limiter, FIVE_PER_MINUTE, "a", 10) == [True] * 10
        await limiter.release((FIVE_PER_MINUTE, "a"))
    assert len(caplog.records) == 1
    assert "requests are allowed" in caplog.records[0].getMessage()


async def test_unreachable_redis_fails_open_quickly() -> None:
    limiter = RateLimiter(RedisCounters("redis://127.0.0.1:1/0"))
    try:
        assert (await limiter.hit(FIVE_PER_MINUTE, "a")).allowed
    finally:
        await limiter.close()


def test_counter_keys_are_hashed() -> None:
    key = counter_key(FIVE_PER_MINUTE, "whatsapp:+573001234567")
    assert key.startswith("test:") and "573001234567" not in key
    assert key != counter_key(Limit("other", 5, 60), "whatsapp:+573001234567")
    assert counter_key(FIVE_PER_MINUTE, "\ud800" + "x" * 10_000).startswith("test:")


async def test_memory_counters_forget_old_windows() -> None:
    counters = MemoryCounters()
    limiter = RateLimiter(counters, clock=(clock := Clock()))
    for n in range(50):
        await limiter.hit(FIVE_PER_MINUTE, f"random-sender-{n}")
    clock.now += 180
    await limiter.hit(FIVE_PER_MINUTE, "late")
    assert len(counters._counts) == 1


def test_limits_come_from_the_settings() -> None:
    settings = limited_settings(
        rate_limit_sender_per_minute=7, rate_limit_ip_per_minute=70, login_attempts_per_15_minutes=3
    )
    assert sender_limit(settings) == Limit("sender", 7, 60)
    assert ip_limit(settings) == Limit("ip", 70, 60)
    assert login_ip_limit(settings) == Limit("login_ip", 3, 900)
    assert login_username_limit(settings) == Limit("login_user", 3, 900)


@pytest.mark.parametrize(("redis_url", "kind"), [(None, MemoryCounters), ("redis://127.0.0.1:6379/0", RedisCounters)])
def test_counters_follow_redis_url(redis_url: str | None, kind: type) -> None:
    assert isinstance(limiter_from_settings(limited_settings(redis_url=redis_url)).counters, kind)
