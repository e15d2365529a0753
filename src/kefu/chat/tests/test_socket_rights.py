"""Who may be in a live chat: transcript readers stay out, rights are checked again."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from kefu.chat import services
from kefu.chat.models import Conversation, Message
from kefu.chat.tests.test_sockets import _agent, _cookie, _guest, _until, live_chat  # noqa: F401
from kefu.testing.factories import make_customer
from kefu.testing.fixtures import run_async

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def known_chat(live_chat):  # noqa: F811 - the fixture imported above
    """The live chat, linked to a customer every first-line agent may see."""
    customer = make_customer("王芳", phone="13900139000")
    Conversation.objects.filter(pk=live_chat["chat"].pk).update(customer=customer)
    services.post_message(conversation_id=live_chat["chat"].pk, sender="whisper",
                          body="内部备注", author=live_chat["supervisor"])  # fmt: skip
    return live_chat


def test_a_transcript_reader_cannot_join_hear_whispers_or_whisper(known_chat):
    from kefu.chat.access import chat_right

    conv = known_chat["chat"].pk
    assert chat_right(known_chat["agent2"], conv) == "read"
    cookie = _cookie(known_chat["agent2"])

    async def scenario():
        reader, frames = await _agent(cookie, conv)
        await reader.send_json_to({"type": "whisper", "conv": conv, "cid": "w", "body": "偷偷说"})
        refused = await _until(reader, "error")
        await reader.disconnect()
        return frames, refused

    frames, refused = run_async(scenario())
    assert [f for f in frames if f["type"] == "msg"] == []  # no history, no whisper
    assert frames[-1] == {"type": "error", "message": "not found", "conv": conv}
    assert refused["message"] == "join the chat first"
    assert not Message.objects.filter(conversation_id=conv, body="偷偷说").exists()


def test_a_transferred_away_agent_is_dropped_on_the_next_ping(known_chat):
    cookie = _cookie(known_chat["agent"])
    conv = known_chat["chat"].pk

    async def scenario():
        agent, frames = await _agent(cookie, conv)
        assert frames[-1]["as"] == "agent"
        await database_sync_to_async(
            lambda: Conversation.objects.filter(pk=conv).update(agent=known_chat["agent2"])
        )()
        await agent.send_json_to({"type": "ping", "conv": conv, "last": 0})
        left = await agent.receive_json_from(timeout=5)
        await database_sync_to_async(services.post_message)(
            conversation_id=conv, sender="whisper", body="新的备注", author=known_chat["supervisor"]
        )
        await agent.send_json_to({"type": "ping", "conv": conv, "last": 0})
        again = await agent.receive_json_from(timeout=5)
        await agent.disconnect()
        return left, again

    left, again = run_async(scenario())
    assert left == {"type": "left", "conv": conv}
    assert again["message"] == "join the chat first"  # no replay of whispers after the transfer


def test_a_signed_out_agent_is_dropped_by_the_recheck(known_chat):
    from channels.layers import get_channel_layer

    from kefu.core.realtime import user_group

    cookie = _cookie(known_chat["agent"])
    conv = known_chat["chat"].pk

    async def scenario():
        agent, _frames = await _agent(cookie, conv)

        def new_password():
            user = known_chat["agent"]
            user.set_password("a-new-long-password-2026")
            user.save()

        await database_sync_to_async(new_password)()
        group = user_group(known_chat["agent"].pk)
        await get_channel_layer().group_send(
            group, {"type": "kefu.recheck", "group": group, "payload": {}}
        )
        return await agent.receive_output(timeout=5)

    closed = run_async(scenario())
    assert closed == {"type": "websocket.close", "code": 4401}


def test_a_whisper_between_messages_leaves_no_gap_for_the_customer(live_chat):  # noqa: F811
    """A transfer note or whisper takes a number the guest never sees: the guest gets every
    public message once, a ping with its last public number replays nothing, and its read
    receipt moves forward."""
    cookie = _cookie(live_chat["agent"])
    conv = live_chat["chat"].pk

    async def scenario():
        guest, hello = await _guest(live_chat["token"])
        agent, _ = await _agent(cookie, conv)
        await agent.send_json_to({"type": "msg", "conv": conv, "cid": "a1", "body": "您好"})
        first = await _until(guest, "msg")
        await agent.send_json_to({"type": "whisper", "conv": conv, "cid": "w1", "body": "转接备注"})
        await _until(agent, "ack")
        await agent.send_json_to({"type": "msg", "conv": conv, "cid": "a2", "body": "请稍等"})
        second = await _until(guest, "msg")
        # the widget's chain: each message names the public one before it
        last = second["seq"] if second["prev"] == first["seq"] else first["seq"]
        await guest.send_json_to({"type": "ping", "last": last})
        pong = await guest.receive_json_from(timeout=5)
        await guest.send_json_to({"type": "read", "seq": last})
        read = await _until(agent, "read")
        quiet = await guest.receive_nothing(timeout=0.3)
        await guest.disconnect()
        await agent.disconnect()
        return hello, first, second, pong, read, quiet

    hello, first, second, pong, read, quiet = run_async(scenario())
    assert (first["body"], second["body"]) == ("您好", "请稍等")
    assert second["seq"] == first["seq"] + 2  # the whisper between them
    assert second["prev"] == first["seq"]
    assert pong["type"] == "pong" and pong["last_seq"] == second["seq"]  # no replay first
    assert read["seq"] == second["seq"] and quiet


def test_a_reconnecting_guest_is_told_its_last_public_number(live_chat):  # noqa: F811
    conv = live_chat["chat"].pk
    services.post_message(
        conversation_id=conv, sender="agent", body="一", author=live_chat["agent"]
    )
    services.post_message(
        conversation_id=conv, sender="whisper", body="内", author=live_chat["agent"]
    )

    async def scenario():
        guest, frames = await _guest(live_chat["token"], last=2)
        await guest.send_json_to({"type": "ping", "last": 2})
        pong = await guest.receive_json_from(timeout=5)
        await guest.disconnect()
        return frames, pong

    frames, pong = run_async(scenario())
    assert [f for f in frames if f["type"] == "msg"] == []
    assert frames[-1]["last_seq"] == 2 and pong["last_seq"] == 2


def test_huge_numbers_get_an_error_frame_and_the_socket_stays(live_chat):  # noqa: F811
    cookie = _cookie(live_chat["agent"])
    conv = live_chat["chat"].pk
    huge = 2**70

    async def scenario():
        guest, _ = await _guest(live_chat["token"])
        agent, _ = await _agent(cookie, conv)
        answers = []
        for frame in ({"type": "ping", "last": huge}, {"type": "read", "seq": huge}):
            await guest.send_json_to(frame)
            answers.append(await guest.receive_json_from(timeout=5))
        for frame in (
            {"type": "ping", "conv": conv, "last": huge},
            {"type": "read", "conv": conv, "seq": huge},
            {"type": "join", "conv": huge},
        ):
            await agent.send_json_to(frame)
            answers.append(await agent.receive_json_from(timeout=5))
        await guest.send_json_to({"type": "ping", "last": 0})
        alive = await _until(guest, "pong")
        await guest.disconnect()
        await agent.disconnect()
        return answers, alive

    answers, alive = run_async(scenario())
    assert [a["type"] for a in answers] == ["error"] * 5
    assert "2^63-1" in answers[0]["message"] and "2^63-1" in answers[1]["message"]
    assert alive["type"] == "pong"
    assert services.mark_read(conversation_id=conv, side="guest", seq=huge) == 0
