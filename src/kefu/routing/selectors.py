"""Who sees which queues and items, and the agents' overview: one place for the pages and the
API."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from kefu.accounts.models import User
from kefu.core.permissions import AGENT_ROLES, has_perm
from kefu.routing.models import AgentLoad, Presence, QueueItem, RoutingQueue


def visible_queues(user: User) -> QuerySet[RoutingQueue]:
    """Every active queue for supervisors; for agents the queues their teams serve or help with
    on overflow; nothing for anyone else."""
    queues = RoutingQueue.objects.filter(active=True).prefetch_related("teams")
    if has_perm(user, "routing.supervise"):
        return queues
    if not has_perm(user, "routing.work"):
        raise PermissionDenied
    teams = list(user.memberships.values_list("team_id", flat=True))
    return queues.filter(
        Q(teams__in=teams) | Q(overflow_teams__in=teams) | Q(teams__isnull=True)
    ).distinct()


def visible_item(user: User, item_id: int) -> QueueItem:
    """An item of a queue the user sees (404 otherwise); agents only ones free or theirs."""
    item = get_object_or_404(QueueItem.objects.filter(queue__in=visible_queues(user)), pk=item_id)
    if not has_perm(user, "routing.supervise") and item.agent_id not in (None, user.pk):
        raise PermissionDenied
    return item


def agents_overview() -> list[dict[str, Any]]:
    """Every active agent with their presence and load per channel (active, capacity)."""
    # read once a second by the wall board for every agent: only the columns shown
    agents = list(
        User.objects.filter(is_active=True, role__in=AGENT_ROLES)
        .select_related("presence")
        .only(
            "id",
            "username",
            "display_name",
            "employee_no",
            "presence__user",
            "presence__state",
            "presence__since",
            "presence__reason",
        )  # fmt: skip
        .order_by("employee_no", "username")
    )
    loads: dict[int, dict[str, tuple[int, int]]] = {}
    rows_of_load = AgentLoad.objects.filter(
        user__is_active=True, user__role__in=AGENT_ROLES
    ).values_list("user_id", "channel", "active", "capacity")
    for user_id, channel, active, capacity in rows_of_load:
        loads.setdefault(user_id, {})[channel] = (active, capacity)
    rows = []
    for agent in agents:
        presence = getattr(agent, "presence", None)
        state = presence.state if presence else Presence.State.OFFLINE
        since: dt.datetime | None = presence.since if presence else None
        reason = presence.reason if presence else ""
        rows.append(
            {
                "user": agent,
                "state": state,
                "state_label": Presence.State(state).label,
                "reason": reason,
                "reason_label": Presence.Reason(reason).label if reason else "",
                "since": since,
                "loads": loads.get(agent.pk, {}),
            }
        )
    return rows
