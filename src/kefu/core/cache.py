"""The Redis cache backend, with one connection pool per process.

Django keeps cache backends in context-local storage. Under the ASGI front each request runs in
a fresh context on a worker thread, so the stock backend would build a new client, a new
connection pool and a new TCP connection to Redis for every request. Redis clients and their
pools are thread-safe, so one per process (per server address and options) is enough.
"""

from __future__ import annotations

import threading
from typing import Any

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient as DjangoRedisCacheClient
from django.utils.functional import cached_property

_clients: dict[tuple[Any, ...], DjangoRedisCacheClient] = {}
_lock = threading.Lock()


class RedisCacheClient(DjangoRedisCacheClient):
    """Hands out one redis client per pool instead of a new one for every call."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._redis_clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        stock: Any = self  # Django's private helpers are not in the type stubs
        index = stock._get_connection_pool_index(write)
        client = self._redis_clients.get(index)
        if client is None:
            client = stock._client(connection_pool=stock._get_connection_pool(write))
            self._redis_clients[index] = client
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = RedisCacheClient

    @cached_property
    def _cache(self) -> DjangoRedisCacheClient:
        stock: Any = self
        key = (tuple(stock._servers), repr(sorted(stock._options.items())))
        with _lock:
            client = _clients.get(key)
            if client is None:
                client = self._class(stock._servers, **stock._options)
                _clients[key] = client
        return client
