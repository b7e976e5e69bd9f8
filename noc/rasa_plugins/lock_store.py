"""Conversation locks on Redis's own atomic primitives, for several Rasa servers.

Rasa 3.6's ``RedisLockStore`` reads a ticket list, changes it in Python and
writes it back: two servers taking the lock of one conversation at the same
moment can both believe they hold it (rasa issue 9213), and then both save the
conversation, losing or repeating a turn. Here one Redis command decides:

- acquire: ``SET <key> <token> NX PX <ttl>``, retried with a short jittered
  back-off until ``lock_wait_seconds`` have passed, then ``LockError``;
- hold: a task renews the expiry (compare-and-``PEXPIRE`` in Lua) every third of
  the TTL, so a slow turn keeps its lock and a killed server's lock expires
  ``lock_ttl_seconds`` after its last renewal;
- release: compare-and-``DEL`` in Lua, so a holder never deletes a lock that
  expired and was taken by another server.

Redis unreachable means ``LockError`` at once (fail closed): the message is not
processed without its lock. The waiting is not first-come-first-served; the
messages of one conversation that arrive at the same moment have no order to
keep anyway.
"""

from __future__ import annotations

import asyncio
import logging
import random
import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from rasa.core.lock_store import LOCK_LIFETIME, InMemoryLockStore, LockError, LockStore
from redis import asyncio as redis_asyncio
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from noc.settings import Settings, get_settings

logger = logging.getLogger(__name__)

KEY_PREFIX = "noc:lock:"
# A Redis that does not answer is as bad as one that refuses: do not hang on it.
REDIS_TIMEOUT_SECONDS = 2.0
FIRST_RETRY_SECONDS = 0.01
MAX_RETRY_SECONDS = 0.2

RELEASE_SCRIPT = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0
"""
RENEW_SCRIPT = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""


def lock_key(conversation_id: str, prefix: str = KEY_PREFIX) -> str:
    return f"{prefix}{conversation_id}"


def retry_delay(attempt: int, jitter: Callable[[], float] = random.random) -> float:
    """Seconds to wait before attempt ``attempt + 1``: doubling from 10 ms up to 200 ms, jittered.

    The jitter (50-100 % of the step) keeps two servers that failed together
    from retrying in lockstep.
    """
    step = min(MAX_RETRY_SECONDS, FIRST_RETRY_SECONDS * 2 ** min(attempt, 16))
    return step * (0.5 + jitter() / 2)


@dataclass(frozen=True)
class HeldLock:
    conversation_id: str
    key: str
    token: str


class RedisAtomicLockStore(LockStore):
    """Rasa lock store whose ``lock()`` is a Redis mutex per conversation (see the module docstring).

    Only ``lock()`` is used by Rasa's server and this project; the ticket
    methods of ``LockStore`` (``get_lock``, ``save_lock``, ...) are not
    implemented, as there are no tickets.
    """

    def __init__(
        self, redis_url: str, *, ttl_seconds: float, wait_seconds: float, key_prefix: str = KEY_PREFIX
    ) -> None:
        self.ttl_seconds = ttl_seconds
        self.wait_seconds = wait_seconds
        self.key_prefix = key_prefix
        # from_url connects lazily, on the first command, in the running loop.
        # After a Redis restart every pooled connection is dead, and each would
        # fail one message once (a burst of them failed together): a command
        # that meets a closed connection is sent once more on a new one. A Redis
        # that is really down refuses that one too, at once: still fail closed.
        self.redis = redis_asyncio.Redis.from_url(
            redis_url,
            socket_timeout=REDIS_TIMEOUT_SECONDS,
            socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            retry=Retry(NoBackoff(), 1),
            retry_on_error=[RedisConnectionError],
        )
        self._release = self.redis.register_script(RELEASE_SCRIPT)
        self._renew = self.redis.register_script(RENEW_SCRIPT)

    @asynccontextmanager
    async def lock(
        self,
        conversation_id: str,
        lock_lifetime: float = LOCK_LIFETIME,
        wait_time_in_seconds: float = 1,
    ) -> AsyncIterator[HeldLock]:
        """Hold the conversation's lock for the ``async with`` body; ``LockError`` if it cannot be had.

        Rasa's ``lock_lifetime`` and ``wait_time_in_seconds`` are accepted for its
        callers and ignored: the lock is renewed while held instead of
        outliving a dead server for a minute, and waiting polls faster than 1 s.
        """
        held = await self.acquire(conversation_id)
        renewal = asyncio.create_task(self._keep_renewed(held))
        try:
            yield held
        finally:
            renewal.cancel()
            await self.release(held)

    async def acquire(self, conversation_id: str) -> HeldLock:
        held = HeldLock(conversation_id, lock_key(conversation_id, self.key_prefix), secrets.token_hex(16))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.wait_seconds
        attempt = 0
        while True:
            try:
                taken = await self.redis.set(held.key, held.token, nx=True, px=self._ttl_ms())
            except RedisError as exc:
                raise LockError(
                    f"Redis is unavailable ({exc}): the message of conversation '{conversation_id}' "
                    "is not processed without its lock"
                ) from exc
            if taken:
                return held
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise LockError(
                    f"The lock of conversation '{conversation_id}' was busy for {self.wait_seconds:g} s "
                    "(LOCK_WAIT_SECONDS): the message is not processed"
                )
            await asyncio.sleep(min(retry_delay(attempt), remaining))
            attempt += 1

    async def release(self, held: HeldLock) -> None:
        # The turn is done by now: a failed release must not turn it into an
        # error for the customer. The lock then expires with its TTL.
        try:
            deleted = await self._release(keys=[held.key], args=[held.token])
        except RedisError:
            logger.exception("Could not release the lock of '%s'; it expires by itself", held.conversation_id)
            return
        if not deleted:
            logger.error("The lock of '%s' had expired before its turn ended", held.conversation_id)

    async def _keep_renewed(self, held: HeldLock) -> None:
        while True:
            await asyncio.sleep(self.ttl_seconds / 3)
            try:
                renewed = await self._renew(keys=[held.key], args=[held.token, self._ttl_ms()])
            except RedisError:
                logger.warning("Could not renew the lock of '%s'; retrying", held.conversation_id, exc_info=True)
                continue
            if not renewed:
                logger.error("Lost the lock of '%s' while processing it", held.conversation_id)
                return

    def _ttl_ms(self) -> int:
        return max(1, round(self.ttl_seconds * 1000))


def lock_store_for(settings: Settings) -> LockStore:
    if settings.redis_url is None:
        return InMemoryLockStore()
    return RedisAtomicLockStore(
        settings.redis_url, ttl_seconds=settings.lock_ttl_seconds, wait_seconds=settings.lock_wait_seconds
    )


class EnvLockStore(LockStore):
    """The class ``endpoints.yml`` names: ``RedisAtomicLockStore`` with ``REDIS_URL``, Rasa's in-memory one without.

    Rasa accepts only a class path for a custom lock store, so the choice
    happens in ``__new__`` and callers get one of those two stores.
    """

    def __new__(cls, endpoint_config: Any = None, **_: Any) -> LockStore:
        return lock_store_for(get_settings())
