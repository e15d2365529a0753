"""Who may be in a live chat: transcript readers stay out, rights are checked again."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from kefu.chat import services
from kefu.chat.models import Conversation, Message
from kefu.chat.tests.test_sockets import _agent, _cookie, _until, live_chat  # noqa: F401
from kefu.testing.factories import make_customer
from kefu.testing.fixtures import run_async

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def known_chat(live_chat):
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
        closed = await agent.receive_output(timeout=5)
        return closed

    closed = run_async(scenario())
    assert closed == {"type": "websocket.close", "code": 4401}
