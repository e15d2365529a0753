"""The chat sockets in one process: delivery, acks, resends, replay, isolation, limits."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from channels.auth import AuthMiddlewareStack
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.core import signing
from django.test import Client

from kefu.chat import services
from kefu.chat.consumers import AgentConsumer, GuestConsumer
from kefu.chat.models import Message
from kefu.testing.fixtures import run_async

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def _app() -> Any:
    from django.urls import path

    return AuthMiddlewareStack(
        URLRouter(
            [
                path("ws/chat/guest/", GuestConsumer.as_asgi()),
                path("ws/chat/agent/", AgentConsumer.as_asgi()),
            ]
        )
    )


def _cookie(user: Any) -> bytes:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


@pytest.fixture
def live_chat(chat_centre):
    conversation = services.start_chat(
        widget=chat_centre["widget"], name="王女士", contact="13800138000", topic="电费"
    )
    services.accept_chat(actor=chat_centre["agent"], conversation=conversation)
    return {**chat_centre, "chat": conversation, "token": services.guest_token(conversation)}


async def _guest(token: str, last: int = 0) -> tuple[WebsocketCommunicator, list[dict]]:
    socket = WebsocketCommunicator(_app(), "/ws/chat/guest/")
    connected, _ = await socket.connect()
    assert connected
    await socket.send_json_to({"type": "hello", "token": token, "last": last})
    frames = []
    while True:
        frame = await socket.receive_json_from(timeout=5)
        frames.append(frame)
        if frame["type"] == "state":
            return socket, frames


async def _agent(cookie: bytes, conv: int, last: int = 0) -> tuple[WebsocketCommunicator, list]:
    socket = WebsocketCommunicator(_app(), "/ws/chat/agent/", headers=[(b"cookie", cookie)])
    connected, _ = await socket.connect()
    assert connected
    await socket.send_json_to({"type": "join", "conv": conv, "last": last})
    frames = []
    while True:
        frame = await socket.receive_json_from(timeout=5)
        frames.append(frame)
        if frame["type"] in ("joined", "error"):
            return socket, frames


async def _until(socket: WebsocketCommunicator, kind: str) -> dict:
    while True:
        frame = await socket.receive_json_from(timeout=5)
        if frame["type"] == kind:
            return frame


def test_a_guest_message_is_acknowledged_and_reaches_the_agent_once(live_chat):
    cookie = _cookie(live_chat["agent"])
    conv = live_chat["chat"].pk

    async def scenario():
        guest, _ = await _guest(live_chat["token"])
        agent, joined = await _agent(cookie, conv)
        await guest.send_json_to({"type": "msg", "cid": "c-1", "body": "家里停电了"})
        ack = await _until(guest, "ack")
        got = await _until(agent, "msg")
        # a resend (the ack was lost on the way) is acknowledged again and not delivered again
        await guest.send_json_to({"type": "msg", "cid": "c-1", "body": "家里停电了"})
        ack2 = await _until(guest, "ack")
        quiet = await agent.receive_nothing(timeout=0.3)
        await agent.send_json_to({"type": "msg", "conv": conv, "cid": "a-1", "body": "您好"})
        reply = await _until(guest, "msg")
        while reply["from"] != "agent":
            reply = await _until(guest, "msg")
        await guest.disconnect()
        await agent.disconnect()
        return joined, ack, got, ack2, quiet, reply

    joined, ack, got, ack2, quiet, reply = run_async(scenario())
    assert joined[-1] == {"type": "joined", "conv": conv, "as": "agent"}
    assert (ack["cid"], ack["seq"]) == ("c-1", 2)  # seq 1: the "is serving you" line
    assert (got["body"], got["seq"], got["from"]) == ("家里停电了", 2, "guest")
    assert ack2["seq"] == 2 and quiet
    assert (reply["body"], reply["seq"]) == ("您好", 3)
    assert Message.objects.filter(conversation_id=conv).count() == 3


def test_a_reconnecting_guest_gets_exactly_what_it_missed(live_chat):
    conv = live_chat["chat"].pk
    for i in range(3):
        services.post_message(conversation_id=conv, sender="agent", body=f"回复{i}",
                              author=live_chat["agent"])  # fmt: skip
    services.post_message(
        conversation_id=conv, sender="whisper", body="内部", author=live_chat["agent"]
    )

    async def scenario():
        guest, frames = await _guest(live_chat["token"], last=2)
        await guest.disconnect()
        return frames

    frames = run_async(scenario())
    assert [(f["seq"], f["body"]) for f in frames if f["type"] == "msg"] == [
        (3, "回复1"),
        (4, "回复2"),
    ]


def test_a_ping_replays_what_a_lost_push_did_not_bring(live_chat):
    conv = live_chat["chat"].pk

    async def scenario():
        guest, _ = await _guest(live_chat["token"])
        # stored without a push, as when the channel layer was away
        from channels.db import database_sync_to_async

        await database_sync_to_async(services.post_message)(
            conversation_id=conv, sender="agent", body="迟到的消息", author=live_chat["agent"]
        )
        await guest.send_json_to({"type": "ping", "last": 1})
        frames = [await guest.receive_json_from(timeout=5) for _ in range(2)]
        await guest.disconnect()
        return frames

    replayed, pong = run_async(scenario())
    assert (replayed["type"], replayed["seq"], replayed["body"]) == ("msg", 2, "迟到的消息")
    assert pong == {"type": "pong", "conv": conv, "last_seq": 2, "state": "active"}


def _forged(token: str, conversation_id: int) -> str:
    """The token with its payload pointing at another chat and the signature left as it was."""
    payload, rest = token.split(":", 1)
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    data["c"] = conversation_id
    raw = base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode())
    return raw.decode().rstrip("=") + ":" + rest


def test_a_guest_cannot_open_another_conversation_by_guessing(live_chat):
    other = services.start_chat(widget=live_chat["widget"], name="李先生", contact="")
    services.post_message(conversation_id=other.pk, sender="guest", body="别人的秘密")
    forged = _forged(live_chat["token"], other.pk)

    async def scenario():
        results = []
        wrong_nonce = signing.dumps({"c": other.pk, "n": "guess"}, salt=services.TOKEN_SALT)
        for token in (forged, wrong_nonce, str(other.pk), {"c": other.pk}, ""):
            socket = WebsocketCommunicator(_app(), "/ws/chat/guest/")
            await socket.connect()
            await socket.send_json_to({"type": "hello", "token": token, "last": 0})
            frame = await socket.receive_json_from(timeout=5)
            closed = await socket.receive_output(timeout=5)
            results.append((frame["type"], closed["type"], closed.get("code")))
        # a frame before hello does not reach any chat either
        socket = WebsocketCommunicator(_app(), "/ws/chat/guest/")
        await socket.connect()
        await socket.send_json_to({"type": "msg", "conv": other.pk, "cid": "x", "body": "hi"})
        frame = await socket.receive_json_from(timeout=5)
        results.append((frame["type"], "", None))
        return results

    results = run_async(scenario())
    assert results[:5] == [("error", "websocket.close", 4403)] * 5
    assert results[5][0] == "error"
    assert list(Message.objects.filter(conversation=other).values_list("body", flat=True)) == [
        "别人的秘密"
    ]


def test_a_guest_can_only_write_to_its_own_chat_whatever_the_frame_says(live_chat):
    other = services.start_chat(widget=live_chat["widget"], name="李先生", contact="")

    async def scenario():
        guest, _ = await _guest(live_chat["token"])
        await guest.send_json_to({"type": "msg", "conv": other.pk, "cid": "z", "body": "hi"})
        ack = await _until(guest, "ack")
        await guest.disconnect()
        return ack

    ack = run_async(scenario())
    assert ack["conv"] == live_chat["chat"].pk
    assert not Message.objects.filter(conversation=other).exists()


def test_an_agent_cannot_join_or_write_to_a_chat_that_is_not_theirs(live_chat):
    outsider = _cookie(live_chat["agent2"])
    conv = live_chat["chat"].pk

    async def scenario():
        agent, frames = await _agent(outsider, conv)
        await agent.send_json_to({"type": "msg", "conv": conv, "cid": "q", "body": "插话"})
        refused = await _until(agent, "error")
        await agent.disconnect()
        return frames, refused

    frames, refused = run_async(scenario())
    assert frames[-1] == {"type": "error", "message": "not found", "conv": conv}
    assert refused["message"] == "join the chat first"
    assert not Message.objects.filter(conversation_id=conv, body="插话").exists()


def test_a_supervisor_watches_and_whispers_but_does_not_write_to_the_customer(live_chat):
    cookie = _cookie(live_chat["supervisor"])
    conv = live_chat["chat"].pk

    async def scenario():
        guest, _ = await _guest(live_chat["token"])
        boss, frames = await _agent(cookie, conv)
        await boss.send_json_to({"type": "msg", "conv": conv, "cid": "s1", "body": "我来说"})
        refused = await _until(boss, "error")
        await boss.send_json_to({"type": "whisper", "conv": conv, "cid": "s2", "body": "注意语气"})
        await _until(boss, "ack")
        heard = await guest.receive_nothing(timeout=0.3)
        await guest.disconnect()
        await boss.disconnect()
        return frames, refused, heard

    frames, refused, heard = run_async(scenario())
    assert frames[-1]["as"] == "watch"
    assert "only the agent" in refused["message"]
    assert heard is True  # the whisper never reaches the customer's socket


def test_floods_and_oversized_frames_close_the_socket(live_chat):
    async def scenario():
        guest, _ = await _guest(live_chat["token"])
        await guest.send_to(text_data="x" * 20_000)
        frame = await guest.receive_json_from(timeout=5)
        closed = await guest.receive_output(timeout=5)
        flood, _ = await _guest(live_chat["token"])
        for _i in range(40):
            await flood.send_json_to({"type": "typing"})
        last = None
        while True:
            out = await flood.receive_output(timeout=5)
            if out["type"] == "websocket.close":
                last = out
                break
        return frame, closed, last

    frame, closed, last = run_async(scenario())
    assert "at most" in frame["message"] and closed["code"] == 1009
    assert last["code"] == 1008
