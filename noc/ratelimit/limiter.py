"""The rate limiter the channels and the console use, and the limits read from the settings."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable

from noc.ratelimit.counters import Counters, MemoryCounters, RedisCounters
from noc.ratelimit.window import ALLOWED, Decision, Limit, decide, window_position
from noc.settings import Settings

log = logging.getLogger(__name__)

MINUTE = 60
FIFTEEN_MINUTES = 15 * 60
# Counter trouble (Redis down) is logged at most this often, not per request.
ERROR_LOG_INTERVAL_SECONDS = 60.0


def sender_limit(settings: Settings) -> Limit:
    """Messages per conversation (sender id, widget session) on the bot channels."""
    return Limit("sender", settings.rate_limit_sender_per_minute, MINUTE)


def ip_limit(settings: Settings) -> Limit:
    """Requests per client IP on the Rasa server's public routes (one budget for all its channels)."""
    return Limit("ip", settings.rate_limit_ip_per_minute, MINUTE)


def login_ip_limit(settings: Settings) -> Limit:
    return Limit("login_ip", settings.login_attempts_per_15_minutes, FIFTEEN_MINUTES)


def login_username_limit(settings: Settings) -> Limit:
    return Limit("login_user", settings.login_attempts_per_15_minutes, FIFTEEN_MINUTES)


def counter_key(limit: Limit, key: str) -> str:
    # Hashed: counters (in Redis too) never hold a phone number, e-mail or IP in clear,
    # and any length or character of a client-chosen key is harmless.
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return f"{limit.name}:{digest}"


class RateLimiter:
    """Counts hits per (limit, key) and says whether each is allowed.

    Fails open: if the counters cannot be reached (Redis down), requests are
    allowed and the problem is logged, so the bot keeps answering customers.
    """

    def __init__(self, counters: Counters, *, clock: Callable[[], float] = time.time) -> None:
        self.counters = counters
        self.clock = clock
        self._last_error_log = -ERROR_LOG_INTERVAL_SECONDS

    async def hit(self, limit: Limit, key: str) -> Decision:
        if not limit.enabled:
            return ALLOWED
        index, elapsed = window_position(self.clock(), limit.window_seconds)
        try:
            previous, current = await self.counters.hit(counter_key(limit, key), index, limit.window_seconds)
        except Exception:  # any counter failure (connection, timeout, script): fail open
            self._log_error(f"cannot count {limit.name} hits")
            return ALLOWED
        return decide(limit, previous, current, elapsed)

    async def check(self, *checks: tuple[Limit, str]) -> Decision:
        """Count a hit against each (limit, key) in order; the first refusal stops the others."""
        for limit, key in checks:
            decision = await self.hit(limit, key)
            if not decision.allowed:
                return decision
        return ALLOWED

    async def release(self, *checks: tuple[Limit, str]) -> None:
        """Take back the hits of ``check`` (e.g. a login that succeeded counts as no attempt)."""
        for limit, key in checks:
            if not limit.enabled:
                continue
            index, _ = window_position(self.clock(), limit.window_seconds)
            try:
                await self.counters.release(counter_key(limit, key), index)
            except Exception:  # same as hit: never fail the request over the counters
                self._log_error(f"cannot release a {limit.name} hit")

    async def close(self) -> None:
        await self.counters.close()

    def _log_error(self, what: str) -> None:
        now = time.monotonic()
        if now - self._last_error_log >= ERROR_LOG_INTERVAL_SECONDS:
            self._last_error_log = now
            log.exception("Rate limiter: %s; requests are allowed meanwhile", what)


def limiter_from_settings(settings: Settings) -> RateLimiter:
    """Redis counters when ``REDIS_URL`` is set (shared by the cluster), else this process's memory."""
    counters: Counters = RedisCounters(settings.redis_url) if settings.redis_url else MemoryCounters()
    return RateLimiter(counters)
