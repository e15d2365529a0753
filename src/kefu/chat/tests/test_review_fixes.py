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
