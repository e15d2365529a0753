"""The wall board's socket (/ws/wallboard/): the shared snapshot, pushed when it changes.

The socket is for people who may see the wall board; the check is repeated every few seconds
(with the session), so a signed-out or demoted viewer's wall goes dark. Viewers send nothing:
any frame closes the socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

log = logging.getLogger(__name__)

POLL_S = 0.5
RECHECK_S = 5.0
CLOSE_DENIED = 4403


def _allowed(user_id: int, session_key: str | None) -> bool:
    from kefu.accounts.models import User
    from kefu.core.consumers import _session_valid
    from kefu.core.permissions import has_perm

    user = User.objects.filter(pk=user_id, is_active=True).first()
    return bool(
        user is not None
        and has_perm(user, "reports.wallboard")
        and _session_valid(user_id, session_key)
    )


def _snapshot() -> dict[str, Any]:
    from kefu.reports.wallboard import current_snapshot

    return current_snapshot()


class WallboardConsumer(AsyncJsonWebsocketConsumer):  # type: ignore[misc]
    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active:
            await self.close(code=4401)
            return
        self.user_id = user.pk
        session = self.scope.get("session")
        self.session_key = getattr(session, "session_key", None)
        if not await database_sync_to_async(_allowed)(self.user_id, self.session_key):
            await self.close(code=CLOSE_DENIED)
            return
        await self.accept()
        self._task = asyncio.get_running_loop().create_task(self._loop())

    async def disconnect(self, code: int) -> None:
        task = getattr(self, "_task", None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        await self.close(code=1008)

    async def _loop(self) -> None:
        sent = ""
        checked = time.monotonic()
        while True:
            if time.monotonic() - checked > RECHECK_S:
                checked = time.monotonic()
                if not await database_sync_to_async(_allowed)(self.user_id, self.session_key):
                    await self.close(code=CLOSE_DENIED)
                    return
            try:
                snapshot = await database_sync_to_async(_snapshot)()
                if snapshot["version"] != sent:
                    sent = snapshot["version"]
                    payload = {k: v for k, v in snapshot.items() if k != "computed"}
                    await self.send_json({"type": "wallboard", **payload})
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - one failed update must not stop the wall
                log.warning("wall board update failed", exc_info=True)
            await asyncio.sleep(POLL_S)
