"""RedisAtomicLockStore against a real Redis: exclusion, waiting, expiry, release, Redis down."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import replace

import pytest
from rasa.core.lock_store import InMemoryLockStore, LockError

from noc.rasa_plugins.lock_store import (
    KEY_PREFIX,
    EnvLockStore,
    RedisAtomicLockStore,
    lock_key,
    lock_store_for,
    retry_delay,
)
from noc.settings import load_settings
from tests.cluster.conftest import CLOSED_PORT, RedisServer

# A redis-server of this module's own (tests/cluster/cluster.py uses 16379).
RESTARTED_REDIS_PORT = 16381

StoreFactory = Callable[..., RedisAtomicLockStore]


@pytest.fixture
async def make_store(redis_url: str, key_prefix: str) -> AsyncIterator[StoreFactory]:
    """Lock stores on one Redis, like the Rasa servers of a cluster; closed after the test."""
    stores: list[RedisAtomicLockStore] = []

    def make(*, ttl_seconds: float = 5.0, wait_seconds: float = 5.0, url: str = redis_url) -> RedisAtomicLockStore:
        store = RedisAtomicLockStore(url, ttl_seconds=ttl_seconds, wait_seconds=wait_seconds, key_prefix=key_prefix)
        stores.append(store)
        return store

    yield make
    for store in stores:
        await store.redis.close()


@pytest.mark.parametrize(
    ("attempt", "jitter", "expected"),
    [
        (0, 0.0, 0.005),
        (0, 1.0, 0.01),
        (1, 1.0, 0.02),
        (4, 0.0, 0.08),
        (4, 1.0, 0.16),
        (5, 1.0, 0.2),
        (5, 0.0, 0.1),
        (10_000, 1.0, 0.2),
    ],
)
def test_retry_delay_doubles_up_to_a_cap_with_jitter(attempt: int, jitter: float, expected: float) -> None:
    assert retry_delay(attempt, lambda: jitter) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("conversation_id", "prefix", "expected"),
    [
        ("ana", KEY_PREFIX, "noc:lock:ana"),
        ("whatsapp:+573001234567", KEY_PREFIX, "noc:lock:whatsapp:+573001234567"),
        ("ana", "t:", "t:ana"),
    ],
)
def test_lock_key(conversation_id: str, prefix: str, expected: str) -> None:
    assert lock_key(conversation_id, prefix) == expected


@pytest.mark.parametrize(
    ("redis_setting", "expected_type"),
    [(None, InMemoryLockStore), ("redis://127.0.0.1:6379/0", RedisAtomicLockStore)],
)
def test_the_lock_store_follows_redis_url(redis_setting: str | None, expected_type: type) -> None:
    store = lock_store_for(replace(load_settings(), redis_url=redis_setting, lock_ttl_seconds=7, lock_wait_seconds=3))
    assert type(store) is expected_type
    if isinstance(store, RedisAtomicLockStore):
        assert (store.ttl_seconds, store.wait_seconds) == (7, 3)


@pytest.mark.parametrize(
    ("environment", "expected_type"),
    [({}, InMemoryLockStore), ({"REDIS_URL": "redis://127.0.0.1:6379/0"}, RedisAtomicLockStore)],
)
def test_the_class_endpoints_yml_names_builds_the_store_of_the_environment(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str], expected_type: type
) -> None:
    from noc import settings

    monkeypatch.setenv("REDIS_URL", "")
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    settings.get_settings.cache_clear()
    try:
        # What Rasa does with `lock_store: type: noc.rasa_plugins.lock_store.EnvLockStore`.
        assert type(EnvLockStore(endpoint_config=None)) is expected_type
    finally:
        settings.get_settings.cache_clear()


async def increment_slowly(store: RedisAtomicLockStore, counter_key: str) -> None:
    """A turn that reads the conversation, thinks, and writes it back: safe only under its lock."""
    value = int(await store.redis.get(counter_key) or 0)
    await asyncio.sleep(0.005)
    await store.redis.set(counter_key, value + 1)


async def locked_turn(store: RedisAtomicLockStore, counter_key: str) -> None:
    async with store.lock("ana"):
        await increment_slowly(store, counter_key)


async def test_two_servers_never_hold_one_conversation_at_once(make_store: StoreFactory, key_prefix: str) -> None:
    servers = [make_store(), make_store()]
    counter = f"{key_prefix}counter"
    await asyncio.gather(*(locked_turn(servers[i % 2], counter) for i in range(30)))
    assert int(await servers[0].redis.get(counter)) == 30


async def test_the_same_turns_without_the_lock_lose_updates(make_store: StoreFactory, key_prefix: str) -> None:
    """The check above can fail: without the lock, the turns overwrite each other."""
    store = make_store()
    counter = f"{key_prefix}counter"
    await asyncio.gather(*(increment_slowly(store, counter) for _ in range(30)))
    assert int(await store.redis.get(counter)) < 30


async def test_other_conversations_are_not_blocked(make_store: StoreFactory) -> None:
    store = make_store(wait_seconds=0.2)
    async with store.lock("ana"), store.lock("luis"):
        pass


async def test_a_waiting_message_gets_the_lock_when_the_holder_releases_it(make_store: StoreFactory) -> None:
    first, second = make_store(), make_store()
    order: list[str] = []

    async def hold() -> None:
        async with first.lock("ana"):
            order.append("first in")
            await asyncio.sleep(0.3)
            order.append("first out")

    async def wait() -> None:
        await asyncio.sleep(0.05)
        async with second.lock("ana"):
            order.append("second in")

    started = time.monotonic()
    await asyncio.gather(hold(), wait())
    assert order == ["first in", "first out", "second in"]
    assert time.monotonic() - started >= 0.3


async def test_waiting_is_bounded(make_store: StoreFactory) -> None:
    holder, waiter = make_store(), make_store(wait_seconds=0.3)
    ran = False
    async with holder.lock("ana"):
        started = time.monotonic()
        with pytest.raises(LockError, match=r"busy for 0\.3 s"):
            async with waiter.lock("ana"):
                ran = True
        waited = time.monotonic() - started
    assert not ran
    assert 0.3 <= waited < 1.5


async def test_a_dead_servers_lock_expires_with_its_ttl(make_store: StoreFactory, key_prefix: str) -> None:
    store = make_store(wait_seconds=3)
    # What a server killed while holding the lock leaves: a key nobody renews.
    await store.redis.set(f"{key_prefix}ana", "dead-server", px=400)
    started = time.monotonic()
    async with store.lock("ana"):
        waited = time.monotonic() - started
    assert 0.3 <= waited < 2


async def test_a_slow_turn_keeps_its_lock_past_the_ttl(make_store: StoreFactory, key_prefix: str) -> None:
    holder, waiter = make_store(ttl_seconds=0.3), make_store(wait_seconds=0.1)
    async with holder.lock("ana") as held:
        await asyncio.sleep(0.9)  # three TTLs
        assert await holder.redis.get(held.key) == held.token.encode()
        with pytest.raises(LockError):
            async with waiter.lock("ana"):
                pass
    assert await holder.redis.exists(f"{key_prefix}ana") == 0


async def test_the_lock_is_released_when_the_turn_fails(make_store: StoreFactory, key_prefix: str) -> None:
    store = make_store()
    with pytest.raises(RuntimeError):
        async with store.lock("ana"):
            raise RuntimeError("the turn failed")
    assert await store.redis.exists(f"{key_prefix}ana") == 0


async def test_release_never_deletes_another_servers_lock(
    make_store: StoreFactory, key_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    store = make_store()
    with caplog.at_level(logging.ERROR, logger="noc.rasa_plugins.lock_store"):
        async with store.lock("ana") as held:
            # Our lock expired and another server took it meanwhile.
            await store.redis.set(held.key, "other-server")
    assert await store.redis.get(f"{key_prefix}ana") == b"other-server"
    assert "had expired before its turn ended" in caplog.text


async def test_redis_down_fails_closed_at_once(make_store: StoreFactory) -> None:
    store = make_store(url=f"redis://127.0.0.1:{CLOSED_PORT}/0", wait_seconds=20)
    ran = False
    started = time.monotonic()
    with pytest.raises(LockError, match=r"Redis is unavailable.*not processed without its lock"):
        async with store.lock("ana"):
            ran = True
    assert not ran
    assert time.monotonic() - started < 3


async def test_a_restarted_redis_fails_no_message(make_store: StoreFactory) -> None:
    # A Redis of the test's own, restarted under a store whose pool holds several connections.
    server = RedisServer(RESTARTED_REDIS_PORT)
    server.start()
    try:
        store = make_store(url=server.url, wait_seconds=20)

        async def turn(conversation: str) -> None:
            async with store.lock(conversation):
                await asyncio.sleep(0.05)  # hold it, so that the burst needs several connections

        await asyncio.gather(*(turn(f"c{n}") for n in range(8)))
        server.stop()
        server.start()
        # Every pooled connection is dead now; none of these may fail for it.
        await asyncio.gather(*(turn(f"c{n}") for n in range(8)))
    finally:
        server.stop()
