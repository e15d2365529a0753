"""Quality inspection of chats without a customer; what a chat is called elsewhere."""

from __future__ import annotations

import pytest
from django.http import Http404

from kefu.accounts.models import Role
from kefu.chat import qa_source, services
from kefu.chat.models import Conversation
from kefu.testing.factories import make_user

pytestmark = pytest.mark.django_db


def _served(chat_centre, **fields):
    conversation = services.start_chat(
        widget=chat_centre["widget"], name=fields.pop("name", "王女士"), topic="电费",
        contact=fields.pop("contact", ""),
    )  # fmt: skip
    return services.accept_chat(actor=chat_centre["agent"], conversation=conversation)


def test_a_qa_reviewer_opens_a_sampled_chat_that_has_no_customer(chat_centre):
    conversation = _served(chat_centre)
    assert conversation.customer_id is None
    inspector = make_user(Role.QA, username="qa-1")
    interaction = qa_source.load(inspector, conversation.pk)
    assert interaction.object_id == conversation.pk
    # another agent still may not
    with pytest.raises(Http404):
        qa_source.load(chat_centre["agent2"], conversation.pk)
    # a chat nobody served is not a sample
    waiting = services.start_chat(widget=chat_centre["widget"], name="李", topic="电费")
    with pytest.raises(Http404):
        qa_source.load(inspector, waiting.pk)


def test_a_chat_is_named_without_the_name_a_visitor_typed(chat_centre):
    conversation = _served(chat_centre, name="<管理员> 张总")
    assert "张总" not in str(conversation)
    assert str(conversation) == f"Live chat #{conversation.pk}"
    # incident links, QA and search label a chat with str(): the label is what others see
    assert str(Conversation.objects.get(pk=conversation.pk)) == str(conversation)


def test_a_typed_phone_only_suggests_the_customer_until_the_agent_confirms(chat_centre, client):
    from kefu.chat.selectors import panel_context
    from kefu.core.models import Event
    from kefu.routing.models import QueueItem
    from kefu.testing.factories import make_customer

    victim = make_customer("赵大客户", phone="13700137000")
    conversation = _served(chat_centre, contact="13700137000")
    assert conversation.customer_id is None
    assert QueueItem.objects.get(pk=conversation.queue_item_id).customer_id is None
    context = panel_context(chat_centre["agent"], conversation, "agent")
    assert context["suggested"] == victim and context["history"] == []
    client.force_login(chat_centre["agent"])
    panel = client.get(f"/chat/{conversation.pk}/").content.decode()
    assert 'data-testid="chat-suggested"' in panel and "赵大客户" in panel
    wrong = client.post(f"/chat/{conversation.pk}/customer/", {"customer": victim.pk + 999})
    assert wrong.status_code == 422
    ok = client.post(f"/chat/{conversation.pk}/customer/", {"customer": victim.pk})
    assert ok.status_code == 200, ok.content
    conversation.refresh_from_db()
    assert conversation.customer_id == victim.pk
    assert QueueItem.objects.get(pk=conversation.queue_item_id).customer_id == victim.pk
    assert Event.objects.filter(
        action="chat_customer_confirmed", object_id=conversation.pk
    ).exists()


def test_another_agent_cannot_confirm_the_customer(chat_centre, client):
    from kefu.testing.factories import make_customer

    victim = make_customer("赵大客户", phone="13700137000")
    conversation = _served(chat_centre, contact="13700137000")
    client.force_login(chat_centre["agent2"])
    response = client.post(f"/chat/{conversation.pk}/customer/", {"customer": victim.pk})
    assert response.status_code == 404
    conversation.refresh_from_db()
    assert conversation.customer_id is None


def test_an_offline_message_keeps_the_typed_contact_but_no_ones_customer_record(chat_centre):
    from kefu.testing.factories import make_customer

    make_customer("赵大客户", phone="13700137000")
    ticket = services.leave_offline_message(
        widget=chat_centre["widget"], name="冒名者", contact="13700137000", body="帮我改地址"
    )
    assert ticket.customer_id is None
    assert ticket.contact_name == "冒名者" and ticket.contact_phone.endswith("13700137000")
