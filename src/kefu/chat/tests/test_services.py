"""Chat rules: order, idempotent resends, replay, tokens, transfer, end, offline messages."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from kefu.chat import services
from kefu.chat.models import Conversation, Message
from kefu.core.models import Event
from kefu.routing.models import QueueItem

pytestmark = pytest.mark.django_db


def _start(chat_centre, **fields):
    return services.start_chat(
        widget=chat_centre["widget"], name=fields.pop("name", "王女士"),
        contact=fields.pop("contact", "13800138000"), topic=fields.pop("topic", "电费"),
        origin="https://shop.example.com", **fields,
    )  # fmt: skip


def test_starting_a_chat_queues_it_as_a_chat_and_records_the_event(chat_centre):
    conversation = _start(chat_centre)
    item = QueueItem.objects.get(pk=conversation.queue_item_id)
    assert (item.kind, item.state, item.queue_id) == ("chat", "waiting", chat_centre["queue"].pk)
    assert conversation.state == Conversation.State.WAITING
    assert Event.objects.filter(action="chat_started", object_id=conversation.pk).count() == 1


def test_messages_get_gapless_sequence_numbers_in_order(chat_centre):
    conversation = _start(chat_centre)
    seqs = [
        services.post_message(conversation_id=conversation.pk, sender="guest", body=f"m{i}",
                              client_id=f"c{i}")[0].seq
        for i in range(5)
    ]  # fmt: skip
    assert seqs == [1, 2, 3, 4, 5]
    conversation.refresh_from_db()
    assert conversation.last_seq == 5


def test_a_resend_with_the_same_client_id_stores_nothing_new(chat_centre):
    conversation = _start(chat_centre)
    first, created = services.post_message(
        conversation_id=conversation.pk, sender="guest", body="你好", client_id="abc"
    )
    again, created_again = services.post_message(
        conversation_id=conversation.pk, sender="guest", body="你好", client_id="abc"
    )
    assert (created, created_again) == (True, False)
    assert again.pk == first.pk
    assert Message.objects.filter(conversation=conversation).count() == 1
    conversation.refresh_from_db()
    assert conversation.last_seq == 1


def test_replay_returns_what_came_after_the_last_seen_and_hides_whispers_from_guests(chat_centre):
    conversation = _start(chat_centre)
    for i, sender in enumerate(["guest", "whisper", "guest", "system"]):
        services.post_message(conversation_id=conversation.pk, sender=sender, body=f"m{i}")
    assert [m.seq for m in services.messages_after(conversation.pk, 1, for_staff=True)] == [2, 3, 4]
    assert [m.seq for m in services.messages_after(conversation.pk, 1, for_staff=False)] == [3, 4]


@pytest.mark.parametrize(
    ("body", "error"),
    [("", "empty"), ("x" * 4001, "at most 4000"), ("a\x00b", "not allowed"), (12, "is text")],
)
def test_bad_messages_are_refused_with_a_reason_and_nothing_is_stored(chat_centre, body, error):
    conversation = _start(chat_centre)
    with pytest.raises(ValidationError, match=error):
        services.post_message(conversation_id=conversation.pk, sender="guest", body=body)
    assert not Message.objects.filter(conversation=conversation).exists()
    conversation.refresh_from_db()
    assert conversation.last_seq == 0


def test_a_guest_token_opens_its_own_conversation_only(chat_centre):
    mine = _start(chat_centre)
    other = _start(chat_centre, name="李先生")
    token = services.guest_token(mine)
    assert services.conversation_for_token(token).pk == mine.pk
    from kefu.chat.tests.test_sockets import _forged

    forged = _forged(token, other.pk)  # the id inside the payload, whatever its digits
    for bad in (forged, "", "x" * 400, None, 42, token[:-2] + "aa"):
        with pytest.raises(PermissionDenied):
            services.conversation_for_token(bad)


def test_a_token_stops_working_when_its_nonce_changes(chat_centre):
    conversation = _start(chat_centre)
    token = services.guest_token(conversation)
    Conversation.objects.filter(pk=conversation.pk).update(token_nonce="other")
    with pytest.raises(PermissionDenied):
        services.conversation_for_token(token)


def test_origins_are_compared_as_origins(chat_centre):
    widget = chat_centre["widget"]
    assert services.origin_allowed(widget, "https://SHOP.example.com/")
    assert not services.origin_allowed(widget, "http://shop.example.com")
    assert not services.origin_allowed(widget, "https://shop.example.com.evil.cn")
    assert not services.origin_allowed(widget, "null")


def test_an_agent_takes_a_waiting_chat_and_the_customer_is_told(chat_centre, at_once):
    conversation = _start(chat_centre)
    services.accept_chat(actor=chat_centre["agent"], conversation=conversation)
    conversation.refresh_from_db()
    assert (conversation.state, conversation.agent_id) == ("active", chat_centre["agent"].pk)
    line = Message.objects.get(conversation=conversation)
    assert line.sender == "system" and chat_centre["agent"].display_name in line.body


def test_an_agent_outside_the_queue_teams_cannot_take_the_chat(chat_centre, at_once):
    conversation = _start(chat_centre)
    with pytest.raises(PermissionDenied):
        services.accept_chat(actor=chat_centre["outsider"], conversation=conversation)
    conversation.refresh_from_db()
    assert conversation.state == "waiting" and conversation.agent_id is None


def test_transfer_to_a_colleague_moves_the_chat_with_a_whispered_note(chat_centre, at_once):
    from kefu.routing.services import set_presence

    conversation = _start(chat_centre)
    services.accept_chat(actor=chat_centre["agent"], conversation=conversation)
    set_presence(actor=None, user=chat_centre["agent2"], state="available")
    services.transfer_chat(actor=chat_centre["agent"], conversation=conversation,
                           agent=chat_centre["agent2"], note="客户问电价")  # fmt: skip
    conversation.refresh_from_db()
    assert (conversation.state, conversation.agent_id) == ("active", chat_centre["agent2"].pk)
    whisper = Message.objects.get(conversation=conversation, sender="whisper")
    assert "客户问电价" in whisper.body
    assert QueueItem.objects.filter(kind="chat", state="cancelled").count() == 1


def test_ending_needs_a_wrap_up_code_and_then_allows_one_rating(chat_centre, at_once):
    conversation = _start(chat_centre)
    services.accept_chat(actor=chat_centre["agent"], conversation=conversation)
    with pytest.raises(ValidationError, match="wrap-up"):
        services.end_chat(actor=chat_centre["agent"], conversation=conversation)
    services.end_chat(actor=chat_centre["agent"], conversation=conversation,
                      wrap_up=chat_centre["code"])  # fmt: skip
    conversation.refresh_from_db()
    assert conversation.state == "ended" and conversation.wrap_up == chat_centre["code"]
    assert QueueItem.objects.get(pk=conversation.queue_item_id).state == "done"
    with pytest.raises(ValidationError, match="ended"):
        services.post_message(conversation_id=conversation.pk, sender="guest", body="还在吗")
    services.rate_chat(conversation=conversation, rating=5)
    with pytest.raises(ValidationError, match="rated already"):
        services.rate_chat(conversation=conversation, rating=1)


def test_a_chat_becomes_a_work_order_with_its_transcript(chat_centre, at_once):
    from kefu.tickets.models import TicketType

    conversation = _start(chat_centre)
    services.post_message(conversation_id=conversation.pk, sender="guest", body="家里停电了")
    services.accept_chat(actor=chat_centre["agent"], conversation=conversation)
    ticket = services.create_ticket_from_chat(
        actor=chat_centre["agent"], conversation=conversation,
        ticket_type=TicketType.objects.get(code="fault"), title="停电报修",
    )  # fmt: skip
    assert ticket.channel == "chat"
    assert "家里停电了" in ticket.description
    conversation.refresh_from_db()
    assert conversation.ticket_id == ticket.pk


def test_the_offline_form_opens_a_work_order(chat_centre):
    ticket = services.leave_offline_message(
        widget=chat_centre["widget"], name="赵先生", contact="zhao@example.com", topic="电费",
        body="请回电",
    )  # fmt: skip
    assert (ticket.channel, ticket.contact_email, ticket.description) == (
        "chat",
        "zhao@example.com",
        "请回电",
    )


def test_without_an_available_agent_the_widget_is_offline(chat_centre):
    from kefu.routing.services import set_presence

    assert services.agents_available(chat_centre["widget"])
    set_presence(actor=None, user=chat_centre["agent"], state="offline")
    assert not services.agents_available(chat_centre["widget"])


def test_a_file_whose_content_does_not_match_its_name_is_refused(chat_centre):
    from django.core.files.uploadedfile import SimpleUploadedFile

    conversation = _start(chat_centre)
    fake = SimpleUploadedFile("photo.png", b"MZ\x90\x00 not a png", content_type="image/png")
    with pytest.raises(ValidationError, match="does not match"):
        services.post_message(conversation_id=conversation.pk, sender="guest", body="",
                              upload=fake)  # fmt: skip
    exe = SimpleUploadedFile("tool.exe", b"MZ", content_type="application/octet-stream")
    with pytest.raises(ValidationError, match="not accepted"):
        services.post_message(conversation_id=conversation.pk, sender="guest", body="",
                              upload=exe)  # fmt: skip
    assert not Message.objects.filter(conversation=conversation).exists()
