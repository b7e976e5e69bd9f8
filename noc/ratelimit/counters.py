"""Where rate-limit counts live: process memory, or Redis shared by a cluster.

A counter is addressed by a key (already hashed by the limiter, so no phone
number or e-mail address is stored) and a window index; it returns the count of
the previous window and the new count of the current one.
"""

from __future__ import annotations

from typing import Any, Protocol


class Counters(Protocol):
    async def hit(self, key: str, index: int, window_seconds: int) -> tuple[int, int]:
        """Count one hit in window ``index``; (previous window's count, current window's count)."""
        ...

    async def release(self, key: str, index: int) -> None:
        """Take back one hit of window ``index`` (never below zero)."""
        ...

    async def close(self) -> None: ...


class MemoryCounters:
    """Counts of one process (a single server, or tests).

    Windows older than the previous one are dropped when a window index first
    advances, so random keys (a flood of made-up senders) cannot grow memory
    beyond two windows' worth.
    """

    def __init__(self) -> None:
        self._counts: dict[tuple[str, int, int], int] = {}
        self._pruned_at: dict[int, int] = {}

    async def hit(self, key: str, index: int, window_seconds: int) -> tuple[int, int]:
        self._prune(index, window_seconds)
        current = self._counts.get((key, window_seconds, index), 0) + 1
        self._counts[(key, window_seconds, index)] = current
        return self._counts.get((key, window_seconds, index - 1), 0), current

    async def release(self, key: str, index: int) -> None:
        for counted in [k for k in self._counts if k[0] == key and k[2] == index]:
            self._counts[counted] = max(0, self._counts[counted] - 1)

    async def close(self) -> None:
        self._counts.clear()

    def _prune(self, index: int, window_seconds: int) -> None:
        if self._pruned_at.get(window_seconds) == index:
            return
        self._pruned_at[window_seconds] = index
        stale = [k for k in self._counts if k[1] == window_seconds and k[2] < index - 1]
        for key in stale:
            del self._counts[key]


# INCR and EXPIRE in one step: a crash between them would leave a counter that never expires.
_HIT = """
local current = redis.call('INCR', KEYS[1])
if current == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
local previous = tonumber(redis.call('GET', KEYS[2]) or '0')
return {previous, current}
"""
_RELEASE = """
local value = tonumber(redis.call('GET', KEYS[1]) or '0')
if value > 0 then return redis.call('DECR', KEYS[1]) end
return 0
"""
# A slow Redis must not hold up a customer's message for long (the limiter fails open).
REDIS_TIMEOUT_SECONDS = 0.5


class RedisCounters:
    """Counts in Redis, shared by every server pointed at the same ``REDIS_URL``.

    The client is created on first use, inside the server's event loop.
    """

    def __init__(self, url: str, *, prefix: str = "noc:ratelimit") -> None:
        self.url = url
        self.prefix = prefix
        self._client: Any = None
        self._hit: Any = None
        self._release: Any = None

    def _key(self, key: str, index: int) -> str:
        # The hash tag keeps a key's two windows in one Redis Cluster slot (one script, two keys).
        return f"{self.prefix}:{{{key}}}:{index}"

    def _connect(self) -> None:
        if self._client is None:
            from redis.asyncio import Redis

            self._client = Redis.from_url(
                self.url, socket_timeout=REDIS_TIMEOUT_SECONDS, socket_connect_timeout=REDIS_TIMEOUT_SECONDS
            )
            self._hit = self._client.register_script(_HIT)
            self._release = self._client.register_script(_RELEASE)

    async def hit(self, key: str, index: int, window_seconds: int) -> tuple[int, int]:
        self._connect()
        # Two windows' life: the previous window is still read during the next one.
        previous, current = await self._hit(
            keys=[self._key(key, index), self._key(key, index - 1)], args=[2 * window_seconds + 1]
        )
        return int(previous), int(current)

    async def release(self, key: str, index: int) -> None:
        self._connect()
        await self._release(keys=[self._key(key, index)])

    async def close(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            await client.close(close_connection_pool=True)
