"""A chat client for tests that follows the widget's protocol: it keeps the last sequence
number seen and the unacknowledged messages, reconnects with back-off when the socket drops,
says hello (or joins) with the last number, sends the unacknowledged messages again with the
same client ids, and pings every ``ping_every`` seconds so pushes lost on the way are fetched."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import websockets


class ChatClient:
    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        conv: int,
        cookie: str | None = None,
        origin: str,
        ping_every: float = 1.0,
    ) -> None:
        self.url = url
        self.token = token
        self.conv = conv
        self.cookie = cookie
        self.origin = origin
        self.ping_every = ping_every
        self.messages: dict[int, dict[str, Any]] = {}  # seq -> message
        self.deliveries: list[int] = []  # every msg frame received, duplicates included
        self.pending: dict[str, str] = {}  # cid -> body
        self.acks: dict[str, int] = {}
        self.connects = 0
        self._task: asyncio.Task[None] | None = None
        self._socket: Any = None
        self._closed = False

    @property
    def last(self) -> int:
        n = 0
        while n + 1 in self.messages:
            n += 1
        return n

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run())
        await self.wait(lambda: self._socket is not None, 20)

    async def stop(self) -> None:
        self._closed = True
        if self._socket is not None:
            with contextlib.suppress(Exception):
                await self._socket.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task

    async def send(self, cid: str, body: str, kind: str = "msg") -> None:
        self.pending[cid] = body
        await self._send({"type": kind, "conv": self.conv, "cid": cid, "body": body})

    async def _send(self, frame: dict[str, Any]) -> None:
        if self._socket is not None:
            with contextlib.suppress(Exception):
                await self._socket.send(json.dumps(frame))

    async def wait(self, condition: Any, timeout: float) -> bool:
        deadline = asyncio.get_running_loop().time() + timeout
        while not condition():
            if asyncio.get_running_loop().time() > deadline:
                return False
            await asyncio.sleep(0.05)
        return True

    async def _run(self) -> None:
        backoff = 0.2
        while not self._closed:
            headers = {"Origin": self.origin}
            if self.cookie:
                headers["Cookie"] = self.cookie
            try:
                async with websockets.connect(
                    self.url, additional_headers=headers, open_timeout=5
                ) as socket:
                    backoff = 0.2
                    await self._session(socket)
            except (TimeoutError, OSError, websockets.WebSocketException):
                pass
            self._socket = None
            if not self._closed:
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 2.0)

    async def _session(self, socket: Any) -> None:
        if self.token is not None:
            await socket.send(json.dumps({"type": "hello", "token": self.token, "last": self.last}))
        else:
            await socket.send(json.dumps({"type": "join", "conv": self.conv, "last": self.last}))
        self._socket = socket
        self.connects += 1
        for cid, body in list(self.pending.items()):
            await socket.send(json.dumps({"type": "msg", "conv": self.conv, "cid": cid,
                                          "body": body}))  # fmt: skip
        pinger = asyncio.create_task(self._ping(socket))
        try:
            async for raw in socket:
                frame = json.loads(raw)
                if frame.get("type") == "msg":
                    self.deliveries.append(frame["seq"])
                    self.messages.setdefault(frame["seq"], frame)
                    if frame["seq"] > self.last + 1:
                        await socket.send(json.dumps({"type": "ping", "conv": self.conv,
                                                      "last": self.last}))  # fmt: skip
                elif frame.get("type") == "ack":
                    self.acks[frame["cid"]] = frame["seq"]
                    self.pending.pop(frame["cid"], None)
        finally:
            pinger.cancel()

    async def _ping(self, socket: Any) -> None:
        while True:
            await asyncio.sleep(self.ping_every)
            await socket.send(json.dumps({"type": "ping", "conv": self.conv, "last": self.last}))

    def bodies(self, sender: str) -> list[str]:
        return [m["body"] for _seq, m in sorted(self.messages.items()) if m["from"] == sender]
