"""Read queries of the chat screens."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Q

from kefu.chat.models import Conversation, WrapUpCode
from kefu.core.permissions import has_perm


def chat_counters(ids: Iterable[int]) -> dict[int, tuple[int, int, str]]:
    """(last_seq, public_seq, state) of each chat named; chats that do not exist are left out."""
    rows = Conversation.objects.filter(pk__in=list(ids)).values_list(
        "pk", "last_seq", "public_seq", "state"
    )
    return {pk: (last, public, state) for pk, last, public, state in rows}


def live_chat_rights(user: Any, ids: Iterable[int]) -> dict[int, str]:
    """The live right of ``user`` to each chat named, in one query, as
    :func:`kefu.chat.access.chat_right` decides it for one: "agent" for the agent serving an
    active chat, "watch" for supervisors. Chats without a live right (transcript readers, other
    people's chats, chats that do not exist) are left out."""
    if user is None or not getattr(user, "is_authenticated", False):
        return {}
    works = has_perm(user, "chat.work")
    watches = has_perm(user, "chat.supervise")
    rights: dict[int, str] = {}
    rows = Conversation.objects.filter(pk__in=list(ids)).values_list("pk", "agent_id", "state")
    for pk, agent_id, state in rows:
        if agent_id == user.pk and state == Conversation.State.ACTIVE and works:
            rights[pk] = "agent"
        elif watches:
            rights[pk] = "watch"
    return rights


def my_chats(user: Any) -> list[Conversation]:
    return list(
        Conversation.objects.filter(agent=user, state=Conversation.State.ACTIVE)
        .select_related("customer")
        .order_by("accepted_at")[:50]
    )


def waiting_chats(user: Any) -> list[Conversation]:
    """Chats offered to this agent now, and (for pick-up) those still waiting in the queues."""
    from kefu.routing.models import QueueItem

    if not has_perm(user, "chat.work"):
        return []
    return list(
        Conversation.objects.filter(state=Conversation.State.WAITING)
        .filter(
            Q(queue_item__state=QueueItem.State.WAITING)
            | Q(queue_item__state=QueueItem.State.OFFERED, queue_item__agent=user)
        )
        .select_related("queue_item")
        .order_by("created_at")[:50]
    )


def live_chats() -> list[Conversation]:
    return list(
        Conversation.objects.exclude(state=Conversation.State.ENDED)
        .select_related("agent")
        .order_by("created_at")[:200]
    )


def panel_context(user: Any, conversation: Conversation, right: str) -> dict[str, Any]:
    from kefu.accounts.models import Team, User
    from kefu.core.interactions import last_contacts
    from kefu.core.permissions import AGENT_ROLES
    from kefu.tickets.models import TicketType

    history: list[Any] = []
    if conversation.customer is not None and has_perm(user, "customers.view"):
        history = last_contacts(conversation.customer, user, limit=8)
    earlier = list(
        Conversation.objects.filter(
            guest_contact=conversation.guest_contact, widget=conversation.widget
        )
        .exclude(pk=conversation.pk)
        .exclude(guest_contact="")
        .order_by("-created_at")[:5]
    )
    return {
        "c": conversation,
        "right": right,
        "suggested": suggested_customer(user, conversation),
        "history": history,
        "earlier": earlier,
        "wrap_codes": list(WrapUpCode.objects.filter(active=True)),
        "agents": list(
            User.objects.filter(is_active=True, role__in=list(AGENT_ROLES))
            .exclude(pk=user.pk)
            .order_by("display_name")[:200]
        ),
        "teams": list(Team.objects.order_by("name")[:100]),
        "ticket_types": list(TicketType.objects.filter(is_active=True).order_by("pk")),
    }


def suggested_customer(user: Any, conversation: Conversation) -> Any:
    """The customer whose phone or e-mail the guest typed, as a suggestion the agent confirms
    (the guest may have typed anyone's number); None once linked or when ``user`` may not see
    that customer."""
    if conversation.customer_id is not None or not conversation.guest_contact:
        return None
    if not has_perm(user, "customers.view"):
        return None
    from kefu.chat.services import match_customer
    from kefu.customers.access import visible_customers

    found = match_customer(conversation.guest_contact)
    if found is None or not visible_customers(user).filter(pk=found.pk).exists():
        return None
    return found
