"""One WebSocket per open page (/ws/live/): the person's notifications and work offers, and live
changes of the work orders on the page. Joining a work order's group is access-checked."""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.http import Http404

from kefu.core.realtime import ticket_group, user_group

SUBSCRIBERS: dict[str, Any] = {}
"""kind -> function(user, id) returning the group name, raising Http404 when not allowed."""


def register_subscription(kind: str, resolver: Any) -> None:
    SUBSCRIBERS[kind] = resolver


class LiveConsumer(AsyncJsonWebsocketConsumer):  # type: ignore[misc]
    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active:
            await self.close(code=4401)
            return
        self.user = user
        self.joined: set[str] = set()
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

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict):
            return
        kind = content.get("subscribe")
        if isinstance(kind, str) and kind in SUBSCRIBERS:
            try:
                group = await database_sync_to_async(SUBSCRIBERS[kind])(
                    self.user, content.get("id")
                )
            except Http404:
                await self.send_json({"type": "error", "message": "not found"})
                return
            await self._join(group)
            await self.send_json({"type": "subscribed", "group": group})
            return
        typing = content.get("typing")
        if typing is not None:
            group = ticket_group(int(typing)) if str(typing).isdigit() else ""
            if group in self.joined:
                await self.channel_layer.group_send(
                    group,
                    {
                        "type": "kefu.push",
                        "payload": {
                            "type": "ticket.typing",
                            "ticket": int(typing),
                            "user": self.user.pk,
                            "name": self.user.display_name,
                        },
                    },
                )
            return
        handler = SUBSCRIBERS.get("message")
        if handler is not None:
            await database_sync_to_async(handler)(self.user, content)

    async def kefu_push(self, event: dict[str, Any]) -> None:
        await self.send_json(event["payload"])
