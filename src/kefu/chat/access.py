"""Who may load a chat.

Staff: the agent serving it writes to it; supervisors (``chat.supervise``) may watch any chat
and whisper; people with ``chat.view`` (quality inspectors, agents looking at a customer's
history) read transcripts of chats whose customer they may see. Guests never come through
here: their signed token names their one conversation (``services.conversation_for_token``).
Everything else is a 404, so ids of other chats are not confirmed.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from kefu.chat.models import Conversation
from kefu.core.permissions import has_perm


def chat_right(user: Any, pk: Any) -> str:
    """ "agent" (writes to the customer), "watch" (reads, whispers) or "read" (transcript)."""
    from kefu.core.validation import parse_id

    conversation_id = parse_id(pk)
    if conversation_id is None or user is None or not getattr(user, "is_authenticated", False):
        raise Http404
    row = (
        Conversation.objects.filter(pk=conversation_id)
        .values_list("agent_id", "state", "customer_id")
        .first()
    )
    if row is None:
        raise Http404
    agent_id, state, customer_id = row
    if agent_id == user.pk and state == Conversation.State.ACTIVE and has_perm(user, "chat.work"):
        return "agent"
    if has_perm(user, "chat.supervise"):
        return "watch"
    if has_perm(user, "chat.view") and (
        agent_id == user.pk or _customer_visible(user, customer_id)
    ):
        return "read"
    raise Http404


def _customer_visible(user: Any, customer_id: int | None) -> bool:
    if customer_id is None:
        return False
    from kefu.customers.access import visible_customers

    return visible_customers(user).filter(pk=customer_id).exists()


def access_chat(user: Any, pk: Any, *, write: bool = False) -> Conversation:
    """Load a chat for ``user`` or raise Http404; ``write`` needs the serving agent or a
    supervisor."""
    right = chat_right(user, pk)
    if write and right == "read":
        raise Http404
    return Conversation.objects.select_related(
        "widget", "agent", "customer", "queue_item", "ticket", "wrap_up"
    ).get(pk=int(pk))


def access_sampled_chat(user: Any, pk: Any) -> Conversation:
    """A chat as the quality inspection sees it: QA reviewers open any served chat (what the
    sampler picks, with or without a known customer), agents their own; others as
    :func:`chat_right` allows."""
    from kefu.core.validation import parse_id

    conversation_id = parse_id(pk)
    if conversation_id is None or user is None or not getattr(user, "is_authenticated", False):
        raise Http404
    served = Conversation.objects.filter(
        pk=conversation_id, agent__isnull=False, accepted_at__isnull=False
    )
    if has_perm(user, "qa.review") and served.exists():
        return Conversation.objects.get(pk=conversation_id)
    if has_perm(user, "qa.own") and served.filter(agent_id=user.pk).exists():
        return Conversation.objects.get(pk=conversation_id)
    return access_chat(user, conversation_id)


def visible_chats(user: Any) -> QuerySet[Conversation]:
    """The chats ``user`` may open, by the rule :func:`chat_right` applies to
    one: supervisors any; the serving agent their active chat; people who read transcripts
    the chats they served and those whose customer they may see."""
    if has_perm(user, "chat.supervise"):
        return Conversation.objects.all()
    allowed: list[Q] = []
    if has_perm(user, "chat.work"):
        allowed.append(Q(agent_id=user.pk, state=Conversation.State.ACTIVE))
    if has_perm(user, "chat.view"):
        allowed.append(Q(agent_id=user.pk))
        if has_perm(user, "customers.view"):
            allowed.append(Q(customer__isnull=False))
        else:
            from kefu.customers.access import visible_customers

            allowed.append(Q(customer__in=visible_customers(user)))
    if not allowed:
        return Conversation.objects.none()
    q = allowed[0]
    for more in allowed[1:]:
        q |= more
    return Conversation.objects.filter(q)
