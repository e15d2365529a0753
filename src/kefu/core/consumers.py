"""One WebSocket per open page (/ws/live/): the person's notifications and work offers, and live
changes of the work orders on the page.

Joining a group is access-checked, and so is delivery: a change to the account (team, role,
deactivation, sign-out, new password) sends ``kefu.recheck`` to the person's sockets, which check
the session and every subscription at once; besides, an event re-checks its subscription when
the last check is more than ``RECHECK_SECONDS`` old. So an agent taken off a team stops
receiving its work orders' events without reloading, and a signed-out socket closes. Frames must be JSON objects of at most ``MAX_FRAME`` characters,
at most ``FRAME_RATE`` a second (bursts to ``FRAME_BURST``); a bad frame gets an error frame and
the connection stays; a flood closes the connection with 1008 (policy violation).
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.core.exceptions import PermissionDenied
from django.http import Http404

from kefu.core.realtime import ticket_group, user_group
from kefu.core.validation import parse_id

log = logging.getLogger(__name__)

SUBSCRIBERS: dict[str, Any] = {}
"""kind -> function(user, id) returning the group name, raising Http404 when not allowed."""

RECHECK_SECONDS = 5.0
"""A delivery re-checks access when the last check of that subscription is older than this;
changes to accounts (team, role, deactivation, sign-out, password) re-check at once."""
TYPING_EVERY = 2.0
MAX_FRAME = 16_384
FRAME_RATE = 10.0
FRAME_BURST = 30.0
CLOSE_POLICY = 1008
CLOSE_TOO_BIG = 1009


def register_subscription(kind: str, resolver: Any) -> None:
    SUBSCRIBERS[kind] = resolver


def _session_valid(user_id: int, session_key: str | None) -> bool:
    """The socket's session still signs in this user: not signed out, not ended by a password
    change, the account still active."""
    from importlib import import_module

    from django.conf import settings
    from django.utils.crypto import constant_time_compare

    from kefu.accounts.models import User

    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or not session_key:
        return False
    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    data = store.load()
    return data.get("_auth_user_id") == str(user_id) and constant_time_compare(
        data.get("_auth_user_hash", ""), user.get_session_auth_hash()
    )


def _still_allowed(user_id: int, kind: str, object_id: Any, group: str) -> bool:
    """Re-run the subscription's access check with the user as the database has them now."""
    from kefu.accounts.models import User

    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return False
    try:
        return bool(SUBSCRIBERS[kind](user, object_id) == group)
    except (Http404, PermissionDenied):
        return False


class LiveConsumer(AsyncJsonWebsocketConsumer):  # type: ignore[misc]
    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active:
            await self.close(code=4401)
            return
        self.user = user
        self.joined: set[str] = set()
        self.subscriptions: dict[str, tuple[str, Any]] = {}
        self.checked: dict[str, float] = {}
        self.typed: dict[str, float] = {}
        self.allowance = FRAME_BURST
        self.checked_at = time.monotonic()
        await self.accept()
        await self._join(user_group(user.pk))
        await self.send_json({"type": "subscribed", "group": "user"})

    async def disconnect(self, code: int) -> None:
        for group in list(getattr(self, "joined", ())):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def _join(self, group: str) -> None:
        if group not in self.joined:
            await self.channel_layer.group_add(group, self.channel_name)
            self.joined.add(group)

    async def _leave(self, group: str) -> None:
        self.joined.discard(group)
        self.subscriptions.pop(group, None)
        self.checked.pop(group, None)
        await self.channel_layer.group_discard(group, self.channel_name)

    def _within_rate(self) -> bool:
        now = time.monotonic()
        self.allowance = min(FRAME_BURST, self.allowance + (now - self.checked_at) * FRAME_RATE)
        self.checked_at = now
        if self.allowance < 1:
            return False
        self.allowance -= 1
        return True

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if not self._within_rate():
            log.info(
                "live socket of user %s closed: more than %s frames/s", self.user.pk, FRAME_RATE
            )
            await self.send_json({"type": "error", "message": "too many messages; reconnect later"})
            await self.close(code=CLOSE_POLICY)
            return
        if text_data is None:
            await self.send_json({"type": "error", "message": "send JSON text frames"})
            return
        if len(text_data) > MAX_FRAME:
            await self.send_json(
                {"type": "error", "message": f"frames are at most {MAX_FRAME} characters"}
            )
            await self.close(code=CLOSE_TOO_BIG)
            return
        try:
            content = json.loads(text_data)
        except ValueError:
            await self.send_json({"type": "error", "message": "frames must be JSON objects"})
            return
        if not isinstance(content, dict):
            await self.send_json({"type": "error", "message": "frames must be JSON objects"})
            return
        await self.receive_json(content)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        kind = content.get("subscribe")
        if isinstance(kind, str) and kind in SUBSCRIBERS:
            try:
                group = await database_sync_to_async(SUBSCRIBERS[kind])(
                    self.user, content.get("id")
                )
            except (Http404, PermissionDenied):
                await self.send_json({"type": "error", "message": "not found"})
                return
            await self._join(group)
            self.subscriptions[group] = (kind, content.get("id"))
            self.checked[group] = time.monotonic()
            await self.send_json({"type": "subscribed", "group": group})
            return
        typing = content.get("typing")
        if typing is not None:
            ticket_id = parse_id(typing)
            group = ticket_group(ticket_id) if ticket_id is not None else ""
            now = time.monotonic()
            if group in self.joined and now - self.typed.get(group, 0.0) >= TYPING_EVERY:
                self.typed[group] = now
                await self.channel_layer.group_send(
                    group,
                    {
                        "type": "kefu.push",
                        "group": group,
                        "payload": {
                            "type": "ticket.typing",
                            "ticket": ticket_id,
                            "user": self.user.pk,
                            "name": self.user.display_name,
                        },
                    },
                )
            return
        handler = SUBSCRIBERS.get("message")
        if handler is not None:
            await database_sync_to_async(handler)(self.user, content)

    async def _recheck(self, group: str) -> bool:
        kind, object_id = self.subscriptions[group]
        allowed = await database_sync_to_async(_still_allowed)(self.user.pk, kind, object_id, group)
        if allowed:
            self.checked[group] = time.monotonic()
            return True
        await self._leave(group)
        await self.send_json({"type": "unsubscribed", "group": group})
        return False

    async def kefu_push(self, event: dict[str, Any]) -> None:
        group = event.get("group")
        if isinstance(group, str) and group not in self.joined:
            return  # sent before this socket left the group, delivered after: not for it now
        if isinstance(group, str) and group in self.subscriptions:
            stale = time.monotonic() - self.checked.get(group, 0.0) >= RECHECK_SECONDS
            if stale and not await self._recheck(group):
                return
        await self.send_json(event["payload"])

    async def kefu_recheck(self, event: dict[str, Any]) -> None:
        """The account changed (team, role, active, signed out, new password): check the
        session and every subscription now."""
        session = self.scope.get("session")
        key = getattr(session, "session_key", None)
        if not await database_sync_to_async(_session_valid)(self.user.pk, key):
            await self.close(code=4401)
            return
        for group in list(self.subscriptions):
            await self._recheck(group)
