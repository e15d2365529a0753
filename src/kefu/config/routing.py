"""WebSocket routes, gathered from the apps that push live updates."""

from __future__ import annotations

from typing import Any

from kefu.core.routing import websocket_urlpatterns as core_patterns

websocket_urlpatterns: list[Any] = [*core_patterns]


def register(patterns: list[Any]) -> None:
    websocket_urlpatterns.extend(patterns)
