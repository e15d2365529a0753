"""The chat sockets: ``/ws/chat/guest/`` (the widget, with its guest token) and
``/ws/chat/agent/`` (the agent console and supervisors watching, with the session).

Protocol (JSON text frames):

- the client opens with ``{"type": "hello", "token": …, "last": N}`` (guest) or joins chats
  with ``{"type": "join", "conv": id, "last": N}`` (staff); the server joins the chat's group
  first and then replays every stored message after N, so nothing falls between the two;
- ``{"type": "msg", "cid": …, "body": …}`` is stored, then acknowledged with
  ``{"type": "ack", "cid": …, "seq": …}`` and pushed to the chat's group; a resend with the
  same ``cid`` gets the same ack and is not pushed again;
- ``{"type": "ping", "last": N}`` every few seconds: the server answers with the chat's last
  sequence number and replays anything after N that the client missed (a push lost while the
  channel layer was away), and joins the group again (a restarted Redis forgets groups);
- ``typing`` and ``read`` go to the other side; whispers only ever go to the staff group.

Every frame is limited in size and rate; refusals are an ``error`` frame naming the reason and
a log line; a flood or a bad token closes the socket (4403 / 1008).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.http import Http404

from kefu.chat import selectors, services
from kefu.chat.models import Conversation, Message
from kefu.core.realtime import user_group

log = logging.getLogger("kefu.chat")

MAX_FRAME = 16_384
FRAME_RATE = 5.0  # a guest socket's frames a second, sustained
FRAME_BURST = 20.0
STAFF_FRAME_RATE = 20.0  # a staff socket serves or watches many chats
STAFF_FRAME_BURST = 60.0
MAX_JOINED = 50
CLOSE_POLICY = 1008
CLOSE_TOO_BIG = 1009
CLOSE_DENIED = 4403
RECHECK_SECONDS = 5.0  # a staff socket checks its right to a chat again this often
LIVE_RIGHTS = ("agent", "watch")  # "read" (a transcript reader) never joins the live chat


DB_THREADS = 3  # threads of a process that store and read chat messages (PostgreSQL)
_executor: ThreadPoolExecutor | None = None


def _db(func: Any) -> Any:
    """Run ``func`` on one of the chat's few database threads, which closes (returns to the pool)
    its connection around each call. Channels' default is the process's one database thread,
    where every socket's work waits behind every other's; with PostgreSQL a few threads store
    side by side (the conversation's row lock keeps each chat in order), with SQLite one
    thread keeps the single writer."""
    global _executor
    if _executor is None:
        _executor = ThreadPoolExecutor(
            max_workers=_threads(), thread_name_prefix="kefu-chat-db", initializer=_first_pool
        )
    return database_sync_to_async(func, thread_sensitive=False, executor=_executor)


def close_db_threads() -> None:
    """Stop the chat's database threads, each closing its connections first (tests call this
    between event loops; a process that exits needs nothing)."""
    global _executor
    executor, _executor = _executor, None
    if executor is None:
        return
    threads = getattr(executor, "_max_workers", 1)
    barrier = threading.Barrier(threads, timeout=5)

    def close() -> None:
        from django.db import connections

        connections.close_all()
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait()  # every thread takes one, so every thread closes its own

    for _ in range(threads):
        executor.submit(close)
    executor.shutdown(wait=True)


def _threads() -> int:
    return DB_THREADS if connection.vendor == "postgresql" else 1


_pool_lock = threading.Lock()


def _first_pool() -> None:
    """Make sure the process's connection pool exists before a database thread starts: threads
    that create it at the same moment each make one, and all but one are left holding
    connections nobody returns."""
    with _pool_lock:
        if connection.vendor == "postgresql":
            connection.pool  # type: ignore[attr-defined]  # noqa: B018 - creates the shared pool


class _Batched:
    """Reads of many chats that sockets of this process ask for at about the same time, made
    in one trip to the database: while one read is under way, the next requests gather and go
    together (pings from thousands of sockets become a few queries a second)."""

    def __init__(self, read: Callable[[list[int]], dict[int, Any]]) -> None:
        self.read = read
        self.waiting: dict[int, list[asyncio.Future[Any]]] = {}
        self.running: asyncio.Future[None] | None = None

    async def get(self, key: int) -> Any:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.waiting.setdefault(key, []).append(future)
        if self.running is None:
            self.running = asyncio.ensure_future(self._run())
        return await future

    async def _run(self) -> None:
        try:
            while self.waiting:
                batch, self.waiting = self.waiting, {}
                try:
                    found = await _db(self.read)(list(batch))
                except Exception as exc:  # noqa: BLE001 - handed to every waiter
                    for futures in batch.values():
                        for future in futures:
                            if not future.done():
                                future.set_exception(exc)
                    continue
                for key, futures in batch.items():
                    for future in futures:
                        if not future.done():
                            future.set_result(found.get(key))
        finally:
            self.running = None


class _Stores:
    """Messages that sockets of this process send at about the same time, stored in one trip to
    a database thread, up to ``DB_THREADS`` trips at once. Each message is still stored on its
    own (one statement on PostgreSQL, committed before the trip returns) and its sender hears
    only of its own outcome; a socket sends its next message only once the last one is stored,
    so its messages keep their order."""

    MAX_BATCH = 50

    def __init__(self) -> None:
        self.waiting: list[tuple[tuple[Any, ...], asyncio.Future[Any]]] = []
        self.running = 0
        self.tasks: set[asyncio.Future[None]] = set()

    async def store(self, *args: Any) -> Any:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.waiting.append((args, future))
        if self.running < _threads():
            self.running += 1
            task = asyncio.ensure_future(self._run())
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
        return await future

    async def _run(self) -> None:
        try:
            while self.waiting:
                batch = self.waiting[: self.MAX_BATCH]
                del self.waiting[: self.MAX_BATCH]
                outcomes: list[Any]
                try:
                    outcomes = await _db(_store_many)([args for args, _future in batch])
                except Exception as exc:  # noqa: BLE001 - handed to every waiter
                    outcomes = [exc] * len(batch)
                for (_args, future), outcome in zip(batch, outcomes, strict=True):
                    if future.done():
                        continue
                    if isinstance(outcome, BaseException):
                        future.set_exception(outcome)
                    else:
                        future.set_result(outcome)
        finally:
            self.running -= 1


_stores: dict[asyncio.AbstractEventLoop, _Stores] = {}


def _store_many(items: list[tuple[Any, ...]]) -> list[Any]:
    """Store each message in turn; an item's exception is its outcome, not the batch's."""
    outcomes: list[Any] = []
    for item in items:
        try:
            outcomes.append(_store(*item))
        except Exception as exc:  # noqa: BLE001 - the sender of this message gets it
            outcomes.append(exc)
    return outcomes


async def _store_message(*args: Any) -> tuple[Message, bool, dict[str, Any]]:
    loop = asyncio.get_running_loop()
    stores = _stores.get(loop)
    if stores is None:
        for old in [other for other in _stores if other.is_closed()]:
            del _stores[old]
        stores = _stores[loop] = _Stores()
    stored: tuple[Message, bool, dict[str, Any]] = await stores.store(*args)
    return stored


_counters: dict[asyncio.AbstractEventLoop, _Batched] = {}
LAYER_CALLS = 40  # of the channel layer's 100 pooled Redis connections a process has
_layer_limits: dict[asyncio.AbstractEventLoop, asyncio.Semaphore] = {}


def _read_counters(ids: list[int]) -> dict[int, tuple[int, int, str]]:
    return selectors.chat_counters(ids)


async def _chat_counters(conversation_id: int) -> tuple[int, int, str] | None:
    """(last_seq, public_seq, state) of one chat, read together with other sockets' pings."""
    loop = asyncio.get_running_loop()
    batched = _counters.get(loop)
    if batched is None:
        for old in [other for other in _counters if other.is_closed()]:
            del _counters[old]
        batched = _counters[loop] = _Batched(_read_counters)
    found: tuple[int, int, str] | None = await batched.get(conversation_id)
    return found


MAX_NUMBER = 2**63 - 1  # the largest a database integer holds


def _number(content: dict[str, Any], key: str) -> int | None:
    """A sequence number from a frame (missing: 0); None when it is not a whole number in
    0..2^63-1, so the caller answers with an error instead of failing in the database."""
    value = content.get(key, 0)
    if value is None:
        return 0
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_NUMBER:
        return None
    return value


def _store(
    conversation_id: int, sender: str, body: Any, client_id: Any, author: Any
) -> tuple[Message, bool, dict[str, Any]]:
    message, created = services.post_message(
        conversation_id=conversation_id, sender=sender, body=body, client_id=client_id,
        author=author,
    )  # fmt: skip
    return message, created, services.message_payload(message)


def _payloads_after(conversation_id: int, after: int, for_staff: bool) -> list[dict[str, Any]]:
    rows = services.messages_after(conversation_id, after, for_staff=for_staff)
    return [services.message_payload(m) for m in rows]


def _error_text(exc: ValidationError) -> str:
    if hasattr(exc, "message_dict"):
        return "; ".join(str(m) for msgs in exc.message_dict.values() for m in msgs)
    return "; ".join(str(m) for m in exc.messages)


class _ChatSocket(AsyncWebsocketConsumer):  # type: ignore[misc]
    side = "guest"
    frame_rate = FRAME_RATE
    frame_burst = FRAME_BURST

    async def connect(self) -> None:
        self.joined: set[str] = set()
        self.seen: dict[int, int] = {}
        self.allowance = self.frame_burst
        self.checked_at = time.monotonic()
        self.typed_at = 0.0
        await self.accept()

    async def dispatch(self, message: dict[str, Any]) -> None:
        """As Channels dispatches, without its trip to the database thread before every event
        to close old connections: every database call of these sockets goes through
        :func:`_db`, which closes its connection itself, and thousands of sockets' events
        would otherwise queue on that one thread."""
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def disconnect(self, code: int) -> None:
        for group in list(getattr(self, "joined", ())):
            try:
                await self._layer(self.channel_layer.group_discard, group, self.channel_name)
            except Exception:  # noqa: BLE001 - the layer may be the thing that went away
                log.info("chat socket could not leave %s", group)

    @staticmethod
    async def _layer(call: Callable[..., Awaitable[Any]], *args: Any) -> Any:
        """A channel-layer call, at most LAYER_CALLS of this process's chat sockets at once:
        each holds one of the layer's pooled Redis connections for several round trips, and a
        burst from thousands of sockets would otherwise run the pool dry (the layer refuses
        with "Too many connections" instead of waiting), leaving none for receiving."""
        loop = asyncio.get_running_loop()
        limit = _layer_limits.get(loop)
        if limit is None:
            for old in [other for other in _layer_limits if other.is_closed()]:
                del _layer_limits[old]
            limit = _layer_limits[loop] = asyncio.Semaphore(LAYER_CALLS)
        async with limit:
            return await call(*args)

    async def send_json(self, content: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(content, ensure_ascii=False))

    async def refuse(self, message: str, *, close: int | None = None, **extra: Any) -> None:
        log.info("chat %s socket refused: %s", self.side, message)
        await self.send_json({"type": "error", "message": message, **extra})
        if close is not None:
            await self.close(code=close)

    def _within_rate(self) -> bool:
        now = time.monotonic()
        self.allowance = min(
            self.frame_burst, self.allowance + (now - self.checked_at) * self.frame_rate
        )
        self.checked_at = now
        if self.allowance < 1:
            return False
        self.allowance -= 1
        return True

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if not self._within_rate():
            await self.refuse("too many messages; slow down and reconnect", close=CLOSE_POLICY)
            return
        if text_data is None:
            await self.refuse("send JSON text frames")
            return
        if len(text_data) > MAX_FRAME:
            await self.refuse(f"frames are at most {MAX_FRAME} characters", close=CLOSE_TOO_BIG)
            return
        try:
            content = json.loads(text_data)
        except ValueError:
            await self.refuse("frames must be JSON objects")
            return
        if not isinstance(content, dict) or not isinstance(content.get("type"), str):
            await self.refuse("frames must be JSON objects with a type")
            return
        await self.handle(content)

    async def handle(self, content: dict[str, Any]) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    # --- groups and replay --------------------------------------------------------------------

    async def _join(self, group: str) -> None:
        self.joined.add(group)  # a failed add is retried by the next ping
        try:
            await self._layer(self.channel_layer.group_add, group, self.channel_name)
        except Exception:  # noqa: BLE001 - the layer is busy or away; replay covers the gap
            log.warning("chat socket could not join %s yet; its next ping retries", group)

    async def _replay(self, conversation_id: int, after: int, *, for_staff: bool) -> int:
        """Send every stored message after ``after``; returns the last sequence number sent."""
        last = after
        while True:
            payloads = await _db(_payloads_after)(conversation_id, last, for_staff)
            for payload in payloads:
                if not for_staff:
                    payload["prev"] = last  # nothing public lies between the two
                await self.send_json(payload)
                last = payload["seq"]
            if len(payloads) < 500:
                break
        self.seen[conversation_id] = max(self.seen.get(conversation_id, 0), last)
        return last

    async def kefu_push(self, event: dict[str, Any]) -> None:
        payload = event.get("payload") or {}
        if payload.get("type") == "msg":
            conv = payload.get("conv")
            if isinstance(conv, int):
                self.seen[conv] = max(self.seen.get(conv, 0), int(payload.get("seq", 0)))
        await self.send_json(payload)

    async def _push(self, group: str, payload: dict[str, Any]) -> None:
        try:
            await self._layer(
                self.channel_layer.group_send,
                group,
                {"type": "kefu.push", "group": group, "payload": payload},
            )
        except Exception:  # noqa: BLE001 - stored already; the others' pings will fetch it
            log.warning("chat push to %s failed; clients catch up on their next ping", group)

    async def _post(
        self, conversation_id: int, sender: str, content: dict[str, Any], author: Any
    ) -> None:
        try:  # stored (with other sockets' messages), then the payload from the stored row
            message, created, payload = await _store_message(
                conversation_id, sender, content.get("body"), content.get("cid"), author
            )
        except ValidationError as exc:
            await self.refuse(_error_text(exc), cid=content.get("cid"))
            return
        await self.send_json({"type": "ack", "conv": conversation_id, "cid": message.client_id,
                              "seq": message.seq, "at": payload["at"]})  # fmt: skip
        if created:
            group = (
                services.staff_group(conversation_id)
                if sender == Message.Sender.WHISPER
                else services.chat_group(conversation_id)
            )
            await self._push(group, payload)

    async def _ping(
        self, conversation_id: int, content: dict[str, Any], *, for_staff: bool
    ) -> None:
        last = _number(content, "last")
        if last is None:
            await self.refuse("last must be a whole number from 0 to 2^63-1")
            return
        counters = await _chat_counters(conversation_id)
        if counters is None:
            await self.close(code=CLOSE_DENIED)
            return
        # a customer's last is the last public message: whispers are not theirs to wait for
        current = (counters[0] if for_staff else counters[1], counters[2])
        mine = (services.chat_group(conversation_id), services.staff_group(conversation_id))
        for group in [g for g in self.joined if g in mine]:
            try:
                await self._layer(self.channel_layer.group_add, group, self.channel_name)
            except Exception:  # noqa: BLE001
                log.info("chat socket could not rejoin %s", group)
        if current[0] > last:
            await self._replay(conversation_id, last, for_staff=for_staff)
        await self.send_json(
            {"type": "pong", "conv": conversation_id, "last_seq": current[0], "state": current[1]}
        )


class GuestConsumer(_ChatSocket):
    side = "guest"

    async def connect(self) -> None:
        self.conversation_id: int | None = None
        await super().connect()

    async def handle(self, content: dict[str, Any]) -> None:
        kind = content["type"]
        if self.conversation_id is None:
            if kind != "hello":
                await self.refuse("say hello with your chat token first", close=CLOSE_DENIED)
                return
            try:
                conversation = await _db(services.conversation_for_token)(content.get("token"))
            except PermissionDenied as exc:
                await self.refuse(str(exc), close=CLOSE_DENIED)
                return
            self.conversation_id = conversation.pk
            await self._join(services.chat_group(conversation.pk))
            last = _number(content, "last")
            if last is None:
                await self.refuse("last must be a whole number from 0 to 2^63-1")
                return
            await self._replay(conversation.pk, last, for_staff=False)
            state = await _db(self._state)(conversation.pk)
            await self.send_json(state)
            return
        conv = self.conversation_id
        if kind == "msg":
            await self._post(conv, Message.Sender.GUEST, content, None)
        elif kind == "ping":
            await self._ping(conv, content, for_staff=False)
        elif kind == "typing":
            now = time.monotonic()
            if now - self.typed_at >= 2.0:
                self.typed_at = now
                await self._push(services.staff_group(conv),
                                 {"type": "typing", "conv": conv, "from": "guest"})  # fmt: skip
        elif kind == "read":
            seq = _number(content, "seq")
            if seq is None:
                await self.refuse("seq must be a whole number from 0 to 2^63-1")
            else:
                marker = await _db(services.mark_read)(conversation_id=conv, side="guest", seq=seq)
                await self._push(services.staff_group(conv),
                                 {"type": "read", "conv": conv, "from": "guest", "seq": marker})  # fmt: skip
        elif kind == "queue":
            await self.send_json(await _db(self._state)(conv))
        else:
            await self.refuse(f"unknown frame type {kind[:20]!r}")

    @staticmethod
    def _state(pk: int) -> dict[str, Any]:
        conversation = Conversation.objects.select_related("agent", "queue_item").get(pk=pk)
        payload = services.state_payload(conversation)
        position = services.queue_state(conversation)
        payload["position"] = position.position
        payload["wait_seconds"] = position.wait_seconds
        payload["agent_read_seq"] = conversation.agent_read_seq
        payload["last_seq"] = conversation.public_seq
        return payload


class AgentConsumer(_ChatSocket):
    side = "agent"
    frame_rate = STAFF_FRAME_RATE
    frame_burst = STAFF_FRAME_BURST

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active:
            await self.close(code=4401)
            return
        self.user = user
        self.rights: dict[int, str] = {}  # conversation id -> "agent" | "watch"
        self.rights_at: dict[int, float] = {}  # when each right was last checked
        await super().connect()
        # account changes (sign-out, new role, deactivation) arrive as ``kefu.recheck``
        await self._join(user_group(user.pk))

    async def _recheck(self, conv: int) -> str | None:
        """Check the right to ``conv`` again; a person who lost it leaves the chat's groups."""
        right: str | None = await _db(self._right)(conv)
        if right in LIVE_RIGHTS:
            self.rights[conv] = right
            self.rights_at[conv] = time.monotonic()
            return right
        await self._leave(conv)
        await self.send_json({"type": "left", "conv": conv})
        return None

    async def _recheck_joined(self) -> None:
        """Check the right to every joined chat again in one query; chats whose right is gone
        are left as in :meth:`_recheck`."""
        rights: dict[int, str] = await _db(selectors.live_chat_rights)(self.user, list(self.rights))
        now = time.monotonic()
        for conv in list(self.rights):
            right = rights.get(conv)
            if right in LIVE_RIGHTS:
                self.rights[conv] = right
                self.rights_at[conv] = now
            else:
                await self._leave(conv)
                await self.send_json({"type": "left", "conv": conv})

    async def _leave(self, conv: int) -> None:
        self.rights.pop(conv, None)
        self.rights_at.pop(conv, None)
        for group in (services.chat_group(conv), services.staff_group(conv)):
            self.joined.discard(group)
            try:
                await self._layer(self.channel_layer.group_discard, group, self.channel_name)
            except Exception:  # noqa: BLE001 - the layer may be away; joined no longer lists it
                log.info("chat socket could not leave %s", group)

    async def kefu_push(self, event: dict[str, Any]) -> None:
        group = event.get("group")
        if isinstance(group, str) and group not in self.joined:
            return  # sent before this socket left the group, delivered after: not for it now
        if group == user_group(self.user.pk):
            return  # the person's group only brings rechecks to this socket
        conv = (event.get("payload") or {}).get("conv")
        if isinstance(conv, int) and conv in self.rights:
            if time.monotonic() - self.rights_at.get(conv, 0.0) >= RECHECK_SECONDS:
                # one query for all the socket's chats, so a busy socket checks every 5 s, not
                # on every push
                await self._recheck_joined()
                if conv not in self.rights:
                    return
        elif isinstance(conv, int):
            return  # a chat this socket left
        await super().kefu_push(event)

    async def kefu_recheck(self, event: dict[str, Any]) -> None:
        """The account changed: check the session and every joined chat now."""
        from kefu.core.consumers import _session_valid

        session = self.scope.get("session")
        key = getattr(session, "session_key", None)
        if not await _db(_session_valid)(self.user.pk, key):
            await self.close(code=4401)
            return
        if self.rights:
            await self._recheck_joined()

    async def handle(self, content: dict[str, Any]) -> None:
        kind = content["type"]
        conv = content.get("conv")
        if not isinstance(conv, int) or isinstance(conv, bool) or not 0 < conv <= MAX_NUMBER:
            await self.refuse("name the chat: conv")
            return
        if kind == "join":
            if conv not in self.rights and len(self.rights) >= MAX_JOINED:
                await self.refuse(f"at most {MAX_JOINED} chats on one socket")
                return
            right = await _db(self._right)(conv)
            if right not in LIVE_RIGHTS:  # readers of transcripts see them on the page only
                await self.refuse("not found", conv=conv)
                return
            self.rights[conv] = right
            self.rights_at[conv] = time.monotonic()
            await self._join(services.chat_group(conv))
            await self._join(services.staff_group(conv))
            last = _number(content, "last")
            if last is None:
                await self.refuse("last must be a whole number from 0 to 2^63-1")
                return
            await self._replay(conv, last, for_staff=True)
            await self.send_json({"type": "joined", "conv": conv, "as": right})
            return
        if conv not in self.rights:
            await self.refuse("join the chat first", conv=conv)
            return
        if kind == "ping":
            if await self._recheck(conv) is None:  # transferred away, signed out, role taken
                return
            await self._ping(conv, content, for_staff=True)
        elif kind in ("msg", "whisper"):
            right = await self._recheck(conv)  # still theirs? (transferred, ended)
            if right is None:
                await self.refuse("not found", conv=conv)
                return
            if kind == "msg" and right != "agent":
                await self.refuse("only the agent in this chat writes to the customer",
                                  conv=conv, cid=content.get("cid"))  # fmt: skip
                return
            sender = Message.Sender.AGENT if kind == "msg" else Message.Sender.WHISPER
            await self._post(conv, sender, content, self.user)
        elif kind == "typing":
            now = time.monotonic()
            if self.rights[conv] == "agent" and now - self.typed_at >= 2.0:
                self.typed_at = now
                await self._push(services.chat_group(conv),
                                 {"type": "typing", "conv": conv, "from": "agent"})  # fmt: skip
        elif kind == "read":
            seq = _number(content, "seq")
            if seq is None:
                await self.refuse("seq must be a whole number from 0 to 2^63-1", conv=conv)
            elif self.rights[conv] == "agent":
                marker = await _db(services.mark_read)(conversation_id=conv, side="agent", seq=seq)
                await self._push(services.chat_group(conv),
                                 {"type": "read", "conv": conv, "from": "agent", "seq": marker})  # fmt: skip
        elif kind == "leave":
            await self._leave(conv)
        else:
            await self.refuse(f"unknown frame type {kind[:20]!r}")

    def _right(self, conv: int) -> str | None:
        from kefu.chat.access import chat_right

        try:
            return chat_right(self.user, conv)
        except Http404:
            return None
