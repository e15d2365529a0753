"""Queue pages: the board (agents: their queues and offers; supervisors: every queue and agent),
the presence switcher, and the actions on items."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from kefu.accounts.models import User
from kefu.core.permissions import AGENT_ROLES, has_perm
from kefu.routing import engine, services
from kefu.routing.models import (
    STRATEGY_HELP,
    AgentLoad,
    Presence,
    QueueItem,
    RoutingQueue,
)
from kefu.tickets.views.common import error_text, staff

BOARD_ITEMS = 100


def _visible_queues(user: User) -> Any:
    queues = RoutingQueue.objects.filter(active=True).prefetch_related("teams")
    if has_perm(user, "routing.supervise"):
        return queues
    if not has_perm(user, "routing.work"):
        raise PermissionDenied
    teams = list(user.memberships.values_list("team_id", flat=True))
    return queues.filter(
        Q(teams__in=teams) | Q(overflow_teams__in=teams) | Q(teams__isnull=True)
    ).distinct()


@login_required
def board(request: HttpRequest) -> HttpResponse:
    user = staff(request)
    queues = list(_visible_queues(user))
    return render(request, "routing/board.html", _board_context(user, queues) | {"nav": "routing"})


@login_required
def board_body(request: HttpRequest) -> HttpResponse:
    """The board's live part, refreshed by HTMX."""
    user = staff(request)
    return render(
        request, "routing/_board_body.html", _board_context(user, list(_visible_queues(user)))
    )


def _board_context(user: User, queues: list[RoutingQueue]) -> dict[str, Any]:
    now = timezone.now()
    supervise = has_perm(user, "routing.supervise")
    waiting = [
        {
            "item": item,
            "urgency": int(
                engine.urgency(item.arrived_at.timestamp(), item.bonus, now.timestamp())
            ),
            "wait": int((now - item.arrived_at).total_seconds()),
        }
        for item in QueueItem.objects.filter(queue__in=queues, state=QueueItem.State.WAITING)
        .select_related("queue", "customer__vip_tier", "ticket")
        .order_by("rank_at", "pk")[:BOARD_ITEMS]
    ]
    mine = list(
        QueueItem.objects.filter(
            agent=user, state__in=[QueueItem.State.OFFERED, QueueItem.State.ASSIGNED]
        )
        .select_related("queue", "ticket")
        .order_by("offered_at")
    )
    context: dict[str, Any] = {
        "queues": queues,
        "summary": services.waiting_summary(queues, now),
        "waiting": waiting,
        "mine": mine,
        "supervise": supervise,
        "strategy_help": STRATEGY_HELP,
        "now": now,
    }
    if supervise:
        agents = list(
            User.objects.filter(is_active=True, role__in=AGENT_ROLES)
            .select_related("presence")
            .order_by("employee_no", "username")
        )
        loads: dict[int, dict[str, tuple[int, int]]] = {}
        for row in AgentLoad.objects.filter(user__in=agents):
            loads.setdefault(row.user_id, {})[row.channel] = (row.active, row.capacity)
        rows = []
        for agent in agents:
            presence = getattr(agent, "presence", None)
            state = presence.state if presence else Presence.State.OFFLINE
            rows.append(
                {
                    "user": agent,
                    "state": state,
                    "state_label": Presence.State(state).label,
                    "reason_label": Presence.Reason(presence.reason).label
                    if presence and presence.reason
                    else "",
                    "since": presence.since if presence else None,
                    "loads": loads.get(agent.pk, {}),
                }
            )
        context["agents"] = rows
        context["online"] = any(r["state"] != Presence.State.OFFLINE for r in rows)
        context["live_items"] = list(
            QueueItem.objects.filter(
                queue__in=queues, state__in=[QueueItem.State.OFFERED, QueueItem.State.ASSIGNED]
            )
            .select_related("queue", "agent")
            .order_by("-offered_at")[:BOARD_ITEMS]
        )
    return context


@login_required
@require_POST
def set_presence(request: HttpRequest) -> HttpResponse:
    user = staff(request)
    try:
        services.set_presence(
            actor=user,
            user=user,
            state=request.POST.get("state", ""),
            reason=request.POST.get("reason", ""),
        )
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    return redirect(_back(request))


def _back(request: HttpRequest) -> str:
    target = request.POST.get("next", "")
    return target if target.startswith("/") and not target.startswith("//") else "/"


def _item(request: HttpRequest, item_id: int) -> QueueItem:
    user = staff(request)
    queues = _visible_queues(user)
    item = get_object_or_404(QueueItem.objects.filter(queue__in=queues), pk=item_id)
    if not has_perm(user, "routing.supervise") and item.agent_id not in (None, user.pk):
        raise PermissionDenied
    return item


@login_required
@require_POST
def act(request: HttpRequest, item_id: int, action: str) -> HttpResponse:
    user = staff(request)
    item = _item(request, item_id)
    try:
        if action == "accept":
            item = services.accept(actor=user, item=item)
        elif action == "decline":
            item = services.decline(actor=user, item=item, reason=request.POST.get("reason", ""))
        elif action == "pick":
            item = services.pick(actor=user, item=item)
        elif action == "finish":
            item = services.finish(actor=user, item=item)
        elif action == "reassign":
            agent = get_object_or_404(User, pk=request.POST.get("agent") or 0)
            item = services.reassign(actor=user, item=item, agent=agent)
        else:
            raise PermissionDenied
    except ValidationError as exc:
        if request.headers.get("Accept", "").startswith("application/json"):
            return JsonResponse({"error": error_text(exc)}, status=409)
        messages.error(request, error_text(exc))
        return redirect(_back(request))
    if request.headers.get("Accept", "").startswith("application/json"):
        return JsonResponse(
            {
                "item": item.pk,
                "state": item.state,
                "url": reverse("tickets:detail", args=[item.ticket.number])
                if item.ticket is not None
                else "",
            }
        )
    if action in ("accept", "pick") and item.ticket is not None:
        return redirect("tickets:detail", item.ticket.number)
    return redirect(_back(request))
