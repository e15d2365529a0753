"""Queue pages: the board (agents: their queues and offers; supervisors: every queue and agent),
the presence switcher, and the actions on items."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from kefu.accounts.models import User
from kefu.core.permissions import has_perm
from kefu.core.validation import parse_id
from kefu.routing import engine, services
from kefu.routing.models import (
    STRATEGY_HELP,
    Kind,
    Presence,
    QueueItem,
    RoutingQueue,
)
from kefu.routing.selectors import agents_overview, visible_item, visible_queues
from kefu.tickets.views.common import error_text, staff

BOARD_ITEMS = 100


@login_required
def board(request: HttpRequest) -> HttpResponse:
    user = staff(request)
    queues = list(visible_queues(user))
    return render(request, "routing/board.html", _board_context(user, queues) | {"nav": "routing"})


@login_required
def board_body(request: HttpRequest) -> HttpResponse:
    """The board's live part, refreshed by HTMX."""
    user = staff(request)
    return render(
        request, "routing/_board_body.html", _board_context(user, list(visible_queues(user)))
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
    for item in mine:  # a caller taken from the queue: the way to 受理 for them
        setattr(item, "work_url", work_url(item) if item.ticket_id is None else "")  # noqa: B010
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
        rows = agents_overview()
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


@login_required
@require_POST
def act(request: HttpRequest, item_id: int, action: str) -> HttpResponse:
    user = staff(request)
    item = visible_item(user, item_id)
    agent = None
    if action == "reassign":
        raw = request.POST.get("agent", "")
        agent = get_object_or_404(User, pk=parse_id(raw) or 0)
    try:
        item = services.act(
            actor=user, item=item, action=action, reason=request.POST.get("reason", ""), agent=agent
        )
    except ValidationError as exc:
        if request.headers.get("Accept", "").startswith("application/json"):
            return JsonResponse({"error": error_text(exc)}, status=409)
        messages.error(request, error_text(exc))
        return redirect(_back(request))
    url = work_url(item) if action in ("accept", "pick") else ""
    if request.headers.get("Accept", "").startswith("application/json"):
        return JsonResponse({"item": item.pk, "state": item.state, "url": url})
    return redirect(url or _back(request))


def work_url(item: QueueItem) -> str:
    """Where an agent goes with work they took: the work order, or for a caller (a queued call
    or a booked callback) the 受理 page with the caller's customer and number filled in."""
    if item.ticket is not None:
        return reverse("tickets:detail", args=[item.ticket.number])
    if item.kind in (Kind.CALL, Kind.CALLBACK):
        query: dict[str, Any] = {"channel": "phone"}
        if item.customer_id is not None:
            query["customer"] = item.customer_id
        if item.phone:
            query["caller"] = item.phone
        return f"{reverse('tickets:create')}?{urlencode(query)}"
    return ""


@login_required
def offers(request: HttpRequest) -> JsonResponse:
    """The work offered to the signed-in agent right now, for the offer tray (read on every
    page, on reconnection and every half minute)."""
    user = staff(request)
    rows = (
        QueueItem.objects.filter(agent=user, state=QueueItem.State.OFFERED)
        .select_related("queue")
        .order_by("offer_expires_at", "pk")
    )
    return JsonResponse(
        {
            "offers": [
                {
                    "item": i.pk,
                    "kind": i.kind,
                    "kind_label": str(Kind(i.kind).label),
                    "title": i.title,
                    "queue": i.queue.name,
                    "expires_at": i.offer_expires_at.isoformat() if i.offer_expires_at else None,
                }
                for i in rows
            ]
        }
    )
