"""The production Redis parts against a real Redis: the shared cache and the channel layer."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from kefu.testing.fixtures import run_async


@pytest.fixture
def redis_cache(redis_url: str) -> Any:
    from kefu.core.cache import RedisCache

    cache = RedisCache(redis_url, {"KEY_PREFIX": "kefu-test-cache"})
    cache.clear()
    yield cache
    cache.clear()


def test_every_thread_shares_one_connection_pool_per_process(redis_url: str) -> None:
    from kefu.core.cache import RedisCache

    clients: list[Any] = []

    def use() -> None:
        # A fresh backend object per thread, as Django's context-local cache handler makes.
        backend = RedisCache(redis_url, {"KEY_PREFIX": "kefu-test-cache"})
        backend.set("k", threading.get_ident(), 30)
        clients.append(backend._cache.get_client(write=True))

    threads = [threading.Thread(target=use) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(clients) == 8
    assert len({id(client.connection_pool) for client in clients}) == 1
    assert clients[0].connection_pool._created_connections <= 8


def test_the_cache_round_trips_values_and_honours_timeouts(redis_cache: Any) -> None:
    redis_cache.set("number", {"day": "2026-11-23", "last": 42}, 30)
    assert redis_cache.get("number") == {"day": "2026-11-23", "last": 42}
    assert redis_cache.add("number", "other", 30) is False
    redis_cache.set("gone", 1, 0)
    assert redis_cache.get("gone") is None
    redis_cache.delete_many(["number"])
    assert redis_cache.get("number", "missing") == "missing"


def test_a_push_reaches_a_socket_in_another_process_through_redis(redis_url: str) -> None:
    from channels_redis.pubsub import RedisPubSubChannelLayer  # production's layer

    async def scenario() -> dict[str, Any]:
        # Two layer objects stand for two server processes sharing one Redis.
        sender = RedisPubSubChannelLayer(hosts=[{"address": redis_url}], prefix="kefu-test")
        receiver = RedisPubSubChannelLayer(hosts=[{"address": redis_url}], prefix="kefu-test")
        channel = await receiver.new_channel()
        await receiver.group_add("ticket-7", channel)
        await sender.group_send("ticket-7", {"type": "kefu.push", "payload": {"ticket": 7}})
        message = await asyncio.wait_for(receiver.receive(channel), timeout=5)
        await receiver.group_discard("ticket-7", channel)
        await sender.flush()
        await receiver.flush()
        return message

    assert run_async(scenario()) == {"type": "kefu.push", "payload": {"ticket": 7}}
