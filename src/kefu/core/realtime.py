"""Pushing live updates to browsers through the channel layer, after the transaction commits.

Groups: ``user-<id>`` (one person's pages: notifications, work offers) and
``ticket-<id>`` (everyone looking at one work order). Consumers check access when a socket
joins a group; broadcasts carry only ids and short text, and pages fetch details through the
normal, access-checked views.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

log = logging.getLogger(__name__)


def user_group(user_id: int) -> str:
    return f"user-{user_id}"


def ticket_group(ticket_id: int) -> str:
    return f"ticket-{ticket_id}"


_main_loop: asyncio.AbstractEventLoop | None = None


def set_main_loop(loop: asyncio.AbstractEventLoop) -> None:
    """The server's event loop, where the WebSocket consumers live. Requests run on worker
    threads; sends are handed to this loop, because the in-memory channel layer (embedded mode)
    may only be used from the loop that owns it."""
    global _main_loop
    _main_loop = loop


def _log_failure(future: Any) -> None:
    if not future.cancelled() and future.exception() is not None:
        log.warning("could not push a live update: %s", future.exception())


_worker: tuple[asyncio.AbstractEventLoop, asyncio.Queue[tuple[str, dict[str, Any]]]] | None = None
_worker_lock = threading.Lock()


def _background_sender() -> tuple[asyncio.AbstractEventLoop, asyncio.Queue[Any]]:
    """An event loop on a thread of its own, for processes without a server loop (Celery
    workers, commands), sending queued pushes one after another: the Redis channel layer keeps
    its connections per loop, so one long-lived loop reuses a connection instead of opening
    one per message."""
    global _worker
    with _worker_lock:
        if _worker is None or _worker[0].is_closed():
            loop = asyncio.new_event_loop()
            queue: asyncio.Queue[Any] = asyncio.Queue()

            async def drain() -> None:
                while True:
                    group, message = await queue.get()
                    layer = get_channel_layer()
                    try:
                        await layer.group_send(group, message)
                    except Exception:  # noqa: BLE001 - a missed live update is not an error
                        log.warning("could not push to %s", group, exc_info=True)

            def run() -> None:
                asyncio.set_event_loop(loop)
                loop.create_task(drain())
                loop.run_forever()

            threading.Thread(target=run, name="kefu-realtime", daemon=True).start()
            _worker = (loop, queue)
        return _worker


def send_now(group: str, payload: dict[str, Any], *, message_type: str = "kefu.push") -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    message = {"type": message_type, "group": group, "payload": payload}
    loop = _main_loop
    if (loop is None or not loop.is_running()) and layer.__class__.__module__.startswith(
        "channels_redis"
    ):
        worker_loop, queue = _background_sender()
        worker_loop.call_soon_threadsafe(queue.put_nowait, (group, message))
        return
    try:
        running: asyncio.AbstractEventLoop | None
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is not None:
            # called on an event loop's own thread (not necessarily the one recorded at start-up,
            # e.g. a server restarted in the same process): async_to_sync cannot run here
            task = running.create_task(layer.group_send(group, message))
            task.add_done_callback(_log_failure)
        elif loop is not None and loop.is_running():
            future = asyncio.run_coroutine_threadsafe(layer.group_send(group, message), loop)
            future.add_done_callback(_log_failure)
        else:
            async_to_sync(layer.group_send)(group, message)
    except Exception:  # noqa: BLE001 - a missed live update must not fail the change
        log.warning("could not push to %s", group, exc_info=True)


def broadcast(group: str, payload: dict[str, Any]) -> None:
    """Send to a group once the current transaction commits (at once outside one)."""
    transaction.on_commit(lambda: send_now(group, payload), robust=True)


def recheck_user(user_id: int) -> None:
    """Tell the person's open sockets that their account changed, once the transaction commits:
    each checks its session and its subscriptions again (see core.consumers)."""
    group = user_group(user_id)
    transaction.on_commit(lambda: send_now(group, {}, message_type="kefu.recheck"), robust=True)
