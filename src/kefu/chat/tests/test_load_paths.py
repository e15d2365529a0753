"""What keeps the sockets fast with thousands of connections keeps the guarantees: one statement
per stored message, pings of many sockets in one query, a staff socket's rights to all its chats
in one query, and the same answers as the one-at-a-time rules."""

from __future__ import annotations

import asyncio
import threading

import pytest
from channels.db import database_sync_to_async
from django.core.exceptions import ValidationError
from django.http import Http404

from kefu.chat import consumers, selectors, services
from kefu.chat.access import chat_right
from kefu.chat.models import Conversation, Message
from kefu.chat.tests.test_sockets import _agent, _cookie, _guest, _until
from kefu.testing.fixtures import run_async

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def _chat(chat_centre, name: str = "王女士", *, accept: bool = True) -> Conversation:
    conversation = services.start_chat(widget=chat_centre["widget"], name=name, contact="")
    if accept:
        services.accept_chat(actor=chat_centre["agent"], conversation=conversation)
    return conversation


@pytest.mark.postgres
def test_a_text_message_is_stored_in_one_statement_in_order_and_once(
    chat_centre, django_assert_num_queries
):
    # given: a chat with one message
    chat = _chat(chat_centre, accept=False)
    services.post_message(conversation_id=chat.pk, sender="guest", body="一", client_id="c1")
    # when: the next message, a whisper and a resend arrive
    with django_assert_num_queries(1):
        second, created = services.post_message(
            conversation_id=chat.pk, sender="guest", body="二", client_id="c2"
        )
    whisper, _ = services.post_message(
        conversation_id=chat.pk, sender="whisper", body="备注", author=chat_centre["supervisor"]
    )
    third, _ = services.post_message(conversation_id=chat.pk, sender="guest", body="三",
                                     client_id="c3")  # fmt: skip
    again, created_again = services.post_message(
        conversation_id=chat.pk, sender="guest", body="二", client_id="c2"
    )
    # then: gapless numbers, each public message naming the public one before it, no double
    assert (created, created_again, again.pk, again.seq) == (True, False, second.pk, 2)
    assert (second.seq, second.prev_seq, whisper.seq, third.seq, third.prev_seq) == (2, 1, 3, 4, 2)
    assert services.message_payload(third)["prev"] == 2
    stored = Message.objects.filter(conversation=chat).order_by("seq")
    assert list(stored.values_list("seq", "client_id", "body")) == [
        (1, "c1", "一"), (2, "c2", "二"), (3, None, "备注"), (4, "c3", "三"),
    ]  # fmt: skip
    chat.refresh_from_db()
    assert (chat.last_seq, chat.public_seq, chat.public_prev_seq) == (4, 4, 2)


def test_an_ended_chat_takes_no_message_and_keeps_its_numbers(chat_centre):
    # given: an ended chat with a stored message
    chat = _chat(chat_centre, accept=False)
    services.post_message(conversation_id=chat.pk, sender="guest", body="一", client_id="c1")
    services.end_chat(actor=None, conversation=chat)
    chat.refresh_from_db()
    numbers = (chat.last_seq, chat.public_seq)
    # when / then: a new message is refused; the resend of the stored one still gets its ack
    with pytest.raises(ValidationError):
        services.post_message(conversation_id=chat.pk, sender="guest", body="二", client_id="c2")
    again, created = services.post_message(
        conversation_id=chat.pk, sender="guest", body="一", client_id="c1"
    )
    assert (again.seq, created) == (1, False)
    chat.refresh_from_db()
    assert (chat.last_seq, chat.public_seq) == numbers
    assert not Message.objects.filter(conversation=chat, client_id="c2").exists()


def test_live_rights_of_many_chats_agree_with_the_rule_for_one(chat_centre):
    # given: a chat the agent serves, one still waiting and one ended
    served = _chat(chat_centre, "甲")
    waiting = _chat(chat_centre, "乙", accept=False)
    ended = _chat(chat_centre, "丙")
    services.end_chat(actor=chat_centre["agent"], conversation=ended,
                      wrap_up=chat_centre["code"])  # fmt: skip
    ids = [served.pk, waiting.pk, ended.pk, 10**9]
    for who in ("agent", "agent2", "outsider", "supervisor", "admin"):
        user = chat_centre[who]
        # when
        rights = selectors.live_chat_rights(user, ids)
        # then: the same live rights as chat_right gives one by one
        expected = {}
        for pk in ids:
            try:
                right = chat_right(user, pk)
            except Http404:  # no right at all
                right = None
            if right in consumers.LIVE_RIGHTS:
                expected[pk] = right
        assert rights == expected, who
    assert selectors.live_chat_rights(chat_centre["agent"], ids) == {served.pk: "agent"}


def test_pings_that_arrive_together_share_one_query(chat_centre):
    # given: three chats, and a read that counts its trips
    chats = [_chat(chat_centre, f"客户{i}", accept=False) for i in range(3)]
    services.post_message(conversation_id=chats[1].pk, sender="guest", body="在吗")
    trips: list[list[int]] = []

    def read(ids: list[int]) -> dict[int, tuple[int, int, str]]:
        trips.append(sorted(ids))
        return selectors.chat_counters(ids)

    async def scenario():
        batched = consumers._Batched(read)
        asks = [c.pk for c in chats] * 4 + [10**9]
        return await asyncio.gather(*(batched.get(pk) for pk in asks))

    # when: thirteen sockets ask at the same moment
    answers = run_async(scenario())
    # then: every socket has its chat's numbers, read in at most two trips
    assert answers[:3] == [(0, 0, "waiting"), (1, 1, "waiting"), (0, 0, "waiting")]
    assert answers[3:12] == answers[:3] * 3
    assert answers[12] is None
    assert len(trips) <= 2
    assert sorted(pk for trip in trips for pk in trip) == sorted([c.pk for c in chats] + [10**9])


def test_a_failed_read_reaches_every_waiting_socket():
    def read(ids: list[int]) -> dict[int, object]:
        raise RuntimeError("database away")

    async def scenario():
        batched = consumers._Batched(read)
        return await asyncio.gather(batched.get(1), batched.get(2), return_exceptions=True)

    outcomes = run_async(scenario())
    assert [str(o) for o in outcomes] == ["database away", "database away"]


def test_a_staff_socket_rechecks_all_its_chats_in_one_query_before_a_push(chat_centre, monkeypatch):
    # given: the agent's socket in two chats; one is then given to a colleague
    first, second = _chat(chat_centre, "甲"), _chat(chat_centre, "乙")
    token = services.guest_token(first)
    cookie = _cookie(chat_centre["agent"])
    monkeypatch.setattr(consumers, "RECHECK_SECONDS", 0.0)  # every push finds the check old
    reads: list[list[int]] = []
    original = selectors.live_chat_rights

    def counting(user, ids):
        reads.append(sorted(ids))
        return original(user, ids)

    monkeypatch.setattr(selectors, "live_chat_rights", counting)

    async def scenario():
        agent, _frames = await _agent(cookie, first.pk)
        await agent.send_json_to({"type": "join", "conv": second.pk, "last": 0})
        await _until(agent, "joined")
        await database_sync_to_async(
            lambda: Conversation.objects.filter(pk=second.pk).update(agent=chat_centre["agent2"])
        )()
        guest, _ = await _guest(token)
        # when: the customer of the first chat writes
        await guest.send_json_to({"type": "msg", "cid": "g1", "body": "你好"})
        frames = [await agent.receive_json_from(timeout=5) for _ in range(2)]
        await guest.disconnect()
        await agent.disconnect()
        return frames

    frames = run_async(scenario())
    # then: one query checked both chats; the lost one was left, the message still arrived
    assert reads == [sorted([first.pk, second.pk])]
    assert frames[0] == {"type": "left", "conv": second.pk}
    assert (frames[1]["type"], frames[1]["body"], frames[1]["conv"]) == ("msg", "你好", first.pk)


def test_the_database_threads_close_their_connections_when_stopped(chat_centre):
    # given: sockets' database work done on the chat's threads
    chat = _chat(chat_centre, accept=False)

    async def scenario():
        await asyncio.gather(*(consumers._chat_counters(chat.pk) for _ in range(5)))

    run_async(scenario())
    names = {t.name for t in threading.enumerate()}
    assert any(n.startswith("kefu-chat-db") for n in names)
    # when
    consumers.close_db_threads()
    # then: no chat database thread is left
    assert not any(t.name.startswith("kefu-chat-db") for t in threading.enumerate())


def test_messages_sent_together_are_stored_together_each_with_its_own_outcome(
    chat_centre, monkeypatch
):
    # given: an open chat and an ended one, and a store that counts its trips
    open_chat = _chat(chat_centre, "甲", accept=False)
    ended = _chat(chat_centre, "乙", accept=False)
    services.end_chat(actor=None, conversation=ended)
    trips: list[int] = []
    original = consumers._store_many

    def counting(items):
        trips.append(len(items))
        return original(items)

    monkeypatch.setattr(consumers, "_store_many", counting)

    async def scenario():
        sends = [(open_chat.pk, "guest", f"第{i}条", f"c{i}", None) for i in range(12)]
        sends.insert(5, (ended.pk, "guest", "还在吗", "late", None))
        sends.append((open_chat.pk, "guest", "第3条", "c3", None))  # a resend
        return await asyncio.gather(
            *(consumers._store_message(*send) for send in sends), return_exceptions=True
        )

    # when: thirteen sockets' messages and a resend arrive at the same moment
    outcomes = run_async(scenario())
    # then: each sender has its own answer; the numbers are gapless in arrival order
    assert isinstance(outcomes[5], ValidationError)
    stored = [o for i, o in enumerate(outcomes) if i != 5]
    assert [(m.seq, created) for m, created, _payload in stored[:12]] == [
        (n, True) for n in range(1, 13)
    ]
    resend, created, _payload = stored[12]
    assert (resend.seq, created) == (4, False)
    assert stored[0][2]["body"] == "第0条"
    assert list(
        Message.objects.filter(conversation=open_chat).order_by("seq").values_list("client_id")
    ) == [(f"c{i}",) for i in range(12)]
    assert not Message.objects.filter(conversation=ended, client_id="late").exists()
    assert sum(trips) == 14 and len(trips) < 14
