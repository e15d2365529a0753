"""Start-page cards: my open work, and sensitive matters for shift leaders."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q
from django.http import HttpRequest

from kefu.core.dashboard import Card
from kefu.core.permissions import AGENT_ROLES, Role, has_perm
from kefu.tickets.access import visible_tickets
from kefu.tickets.states import Status


def my_work_card(request: HttpRequest) -> Card | None:
    user: Any = request.user
    if not has_perm(user, "tickets.view") or user.role == Role.LIAISON:
        return None
    mine = visible_tickets(user).filter(assignee_id=user.pk, is_open=True)
    stats = mine.aggregate(
        total=Count("id"),
        new=Count("id", filter=Q(status=Status.ASSIGNED)),
        waiting=Count("id", filter=Q(status=Status.WAITING_CUSTOMER)),
        urgent=Count("id", filter=Q(priority__lte=2)),
    )
    recent = list(mine.select_related("ticket_type").order_by("-updated_at")[:6])
    return Card(
        order=10 if user.role in AGENT_ROLES else 30,
        template="tickets/_card_mine.html",
        context={"stats": stats, "recent": recent},
        width=6,
    )


def sensitive_card(request: HttpRequest) -> Card | None:
    user: Any = request.user
    if user.role not in (Role.SUPERVISOR, Role.ADMIN):
        return None
    tickets = list(
        visible_tickets(user)
        .filter(sensitive=True, is_open=True)
        .select_related("assignee")
        .order_by("-updated_at")[:8]
    )
    return Card(
        order=5, template="tickets/_card_sensitive.html", context={"tickets": tickets}, width=6
    )
