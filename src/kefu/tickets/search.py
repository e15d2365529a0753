"""Work orders in search: what is indexed (title, description and the public conversation —
never internal notes, so a customer cannot find their work order by staff words), who may find
which (the same rules as :mod:`kefu.tickets.access`, over the index columns), and the links."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from django.db.models import Exists, OuterRef, Prefetch, Q
from django.db.models.signals import post_save
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from kefu.core.permissions import Role, has_perm
from kefu.search import text
from kefu.search.backends import DocRow
from kefu.search.registry import Source, register_source
from kefu.search.services import mark_changed
from kefu.tickets.access import NOTHING, role_scope, team_ids
from kefu.tickets.models import Message, Ticket, Transfer, VisibilityRule

BODY_CHARS = 20_000


def build(ids: Sequence[int]) -> list[DocRow]:
    public = Message.objects.filter(kind__in=[Message.Kind.REPLY, Message.Kind.CUSTOMER]).only(
        "ticket_id", "body"
    )
    tickets = (
        Ticket.objects.filter(pk__in=ids)
        .select_related("ticket_type")
        .prefetch_related(Prefetch("messages", queryset=public, to_attr="public_messages"))
    )
    rows = []
    for t in tickets:
        body = "\n".join([t.description, *(m.body for m in t.public_messages)])[:BODY_CHARS]
        extra = [t.number, re.sub(r"\D", "", t.contact_phone)]
        rows.append(
            DocRow(
                kind="ticket",
                object_id=t.pk,
                ref=t.number,
                title=f"{t.number} {t.title}",
                body=body,
                analyzed=text.analyze(t.title, f"{body}\n{t.contact_name} {t.place}", extra),
                created_at=t.created_at,
                updated_at=t.updated_at,
                status=t.status,
                type_code=t.ticket_type.code if t.ticket_type_id else "",
                team_id=t.team_id,
                customer_id=t.customer_id,
                assignee_id=t.assignee_id,
                created_by_id=t.created_by_id,
            )
        )
    return rows


def visible(user: Any) -> Q | None:
    """:func:`kefu.tickets.access.visibility_q`, restated over the index columns."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return NOTHING
    if user.role == Role.CUSTOMER:
        return Q(customer_id=user.customer_id) if user.customer_id else NOTHING
    if not has_perm(user, "tickets.view"):
        return NOTHING
    scope = role_scope(user.role)
    if scope == VisibilityRule.Scope.ALL:
        return None
    teams = team_ids(user)
    q = NOTHING
    if scope in (VisibilityRule.Scope.TEAMS, VisibilityRule.Scope.OWN):
        q |= Q(assignee_id=user.pk) | Q(created_by_id=user.pk)
    if scope == VisibilityRule.Scope.TEAMS and teams:
        q |= Q(team_id__in=teams)
    if teams and has_perm(user, "transfers.reply"):
        q |= Q(
            Exists(
                Transfer.objects.filter(ticket_id=OuterRef("object_id"), department_id__in=teams)
            )
        )
    return q


def url(user: Any, doc: Any) -> str:
    name = "portal:ticket" if user.role == Role.CUSTOMER else "tickets:detail"
    return reverse(name, args=[doc.ref or doc.object_id])


def _ticket_saved(sender: Any, instance: Ticket, **kwargs: Any) -> None:
    mark_changed("ticket", instance.pk)


def _message_saved(sender: Any, instance: Message, **kwargs: Any) -> None:
    if instance.is_public:
        mark_changed("ticket", instance.ticket_id)


def _merge_tickets(source: Any, target: Any, actor: Any) -> int:
    """A customer merge moves work orders in bulk: move them here and re-index them, since the
    index's customer column decides which portal user finds them."""
    ids = list(Ticket.objects.filter(customer=source).values_list("pk", flat=True))
    count = Ticket.objects.filter(pk__in=ids).update(customer=target)
    for pk in ids:
        mark_changed("ticket", pk)
    return count


def register() -> None:
    from kefu.customers.services import register_merge_handler

    register_merge_handler("tickets.ticket", _merge_tickets)
    register_source(
        Source(
            kind="ticket",
            label=_("Work order"),
            model=Ticket,
            build=build,
            visible=visible,
            url=url,
        )
    )
    post_save.connect(_ticket_saved, sender=Ticket, dispatch_uid="search_ticket")
    post_save.connect(_message_saved, sender=Message, dispatch_uid="search_message")
