"""The live WebSocket: access is checked on every event, bad frames are answered, floods end."""

from __future__ import annotations

from typing import Any

import pytest
from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.test import Client

from kefu.accounts.services import remove_member
from kefu.core.consumers import FRAME_BURST
from kefu.core.realtime import ticket_group
from kefu.core.routing import websocket_urlpatterns
from kefu.testing.factories import make_ticket
from kefu.testing.fixtures import run_async

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def _session_cookie(user: Any) -> bytes:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


async def _connect(cookie: bytes) -> WebsocketCommunicator:
    app = AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
    socket = WebsocketCommunicator(app, "/ws/live/", headers=[(b"cookie", cookie)])
    connected, _code = await socket.connect()
    assert connected
    assert await socket.receive_json_from() == {"type": "subscribed", "group": "user"}
    return socket


async def _push(group: str, payload: dict[str, Any]) -> None:
    await get_channel_layer().group_send(
        group, {"type": "kefu.push", "group": group, "payload": payload}
    )


def test_an_agent_who_leaves_the_team_stops_receiving_its_work_orders_events(centre):
    # given: an agent of the first-line team watching one of the team's work orders (opened by
    # someone else and not assigned to them, so the team is what lets them see it)
    agent = centre["agent"]
    ticket = make_ticket(actor=centre["supervisor"], team=centre["front"])
    cookie = _session_cookie(agent)
    group = ticket_group(ticket.pk)

    async def scenario() -> tuple[Any, Any, bool]:
        socket = await _connect(cookie)
        await socket.send_json_to({"subscribe": "ticket", "id": ticket.pk})
        assert await socket.receive_json_from() == {"type": "subscribed", "group": group}
        await _push(group, {"type": "ticket.changed", "ticket": ticket.pk, "n": 1})
        first = await socket.receive_json_from()
        # when: a supervisor takes the agent off the team
        await database_sync_to_async(remove_member)(
            actor=centre["admin"], team=centre["front"], user=agent
        )
        await _push(group, {"type": "ticket.changed", "ticket": ticket.pk, "n": 2})
        second = await socket.receive_json_from()
        await _push(group, {"type": "ticket.changed", "ticket": ticket.pk, "n": 3})
        quiet = await socket.receive_nothing(timeout=0.3)
        await socket.disconnect()
        return first, second, quiet

    first, second, quiet = run_async(scenario())
    # then
    assert first == {"type": "ticket.changed", "ticket": ticket.pk, "n": 1}
    assert second == {"type": "unsubscribed", "group": group}
    assert quiet is True


def test_a_frame_that_is_not_json_gets_an_error_and_the_socket_stays(centre):
    cookie = _session_cookie(centre["agent"])
    ticket = make_ticket(actor=centre["agent"], team=centre["front"])

    async def scenario() -> list[Any]:
        socket = await _connect(cookie)
        answers = []
        await socket.send_to(text_data="not json {")
        answers.append(await socket.receive_json_from())
        await socket.send_to(text_data="[1, 2]")
        answers.append(await socket.receive_json_from())
        await socket.send_to(bytes_data=b"\x00\x01")
        answers.append(await socket.receive_json_from())
        await socket.send_json_to({"typing": "³"})
        await socket.send_json_to({"subscribe": "ticket", "id": ticket.pk})
        answers.append(await socket.receive_json_from())
        await socket.disconnect()
        return answers

    answers = run_async(scenario())
    assert answers == [
        {"type": "error", "message": "frames must be JSON objects"},
        {"type": "error", "message": "frames must be JSON objects"},
        {"type": "error", "message": "send JSON text frames"},
        {"type": "subscribed", "group": ticket_group(ticket.pk)},
    ]


def test_a_flood_of_frames_closes_the_socket_with_a_policy_code(centre):
    cookie = _session_cookie(centre["agent"])

    async def scenario() -> Any:
        socket = await _connect(cookie)
        for _ in range(int(FRAME_BURST) + 20):
            await socket.send_json_to({"typing": 1})
        while True:
            output = await socket.receive_output(timeout=2)
            if output["type"] == "websocket.close":
                return output

    closed = run_async(scenario())
    assert closed["code"] == 1008


def test_signing_out_closes_the_live_socket(centre):
    # given: an agent with the page open
    agent = centre["agent"]
    client = Client()
    client.force_login(agent)
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()

    async def scenario() -> Any:
        socket = await _connect(cookie)
        # when: the agent signs out in another tab
        await database_sync_to_async(client.post)("/logout/")
        return await socket.receive_output(timeout=5)

    closed = run_async(scenario())
    # then
    assert (closed["type"], closed["code"]) == ("websocket.close", 4401)


def test_a_push_made_on_a_running_event_loop_reaches_the_group():
    """Sync code that runs on an event loop's own thread (a consumer calling a service, a server
    started after another one in the same process) still delivers its live updates."""
    import asyncio

    from kefu.core import realtime

    layer = get_channel_layer()

    async def main() -> Any:
        channel = await layer.new_channel()
        await layer.group_add("test-pushes", channel)
        realtime.send_now("test-pushes", {"n": 1})
        return await asyncio.wait_for(layer.receive(channel), 5)

    message = run_async(main())
    assert message["payload"] == {"n": 1}
