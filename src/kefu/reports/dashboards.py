"""Start-page cards per role, built from the same metric definitions as the reports: an
agent's own figures, the shift leader's centre today, the manager's month so far."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from django.core.cache import cache
from django.http import HttpRequest
from django.utils import timezone

from kefu.core.dashboard import Card
from kefu.core.permissions import AGENT_ROLES, has_perm
from kefu.reports import facts as F
from kefu.reports.metrics import METRICS, format_value, values

AGENT_FIGURES = ["tickets_resolved", "fcr_rate", "sla_compliance", "csat", "qa_score"]
LEAD_FIGURES = [
    "waiting_now", "longest_wait_now_s", "agents_available", "agents_break", "service_level",
    "sla_overdue",
]  # fmt: skip
MANAGER_FIGURES = [
    "tickets_created", "tickets_resolved", "sla_compliance", "fcr_rate", "complaint_rate",
    "csat",
]  # fmt: skip
CACHE_S = 300


def figure_list(ids: list[str], figures: dict[str, Any]) -> list[dict[str, Any]]:
    from django.utils.translation import gettext as _

    return [
        {
            "id": m,
            "label": _(METRICS[m].label),
            "text": format_value(figures.get(m), METRICS[m].unit),
        }
        for m in ids
    ]


def _month_scope() -> F.Scope:
    tz = timezone.get_current_timezone()
    today = timezone.localdate()
    return F.Scope(today.replace(day=1), today, tz)


def agent_card(request: HttpRequest) -> Card | None:
    """My queue, my SLA, my CSAT: the agent's month so far and open work."""
    user: Any = request.user
    if user.role not in AGENT_ROLES:
        return None
    from django.db.models import Count, Q

    from kefu.tickets.models import Ticket

    scope = dataclasses.replace(_month_scope(), agent=user.pk)
    key = f"reports:card:agent:{user.pk}:{scope.end}"
    figures = cache.get(key)
    if figures is None:
        facts = F.gather(scope, sources=["tickets", "sla", "surveys", "qa"])
        figures = values(facts, AGENT_FIGURES)
        cache.set(key, figures, 60)
    now = timezone.now()
    mine = Ticket.objects.filter(assignee_id=user.pk, is_open=True).aggregate(
        open=Count("id"),
        due_soon=Count("id", filter=Q(sla_due_at__gte=now, sla_due_at__lt=now + F.DUE_SOON)),
        overdue=Count("id", filter=Q(sla_due_at__lt=now)),
    )
    return Card(
        order=12,
        template="reports/_card_agent.html",
        context={"figures": figure_list(AGENT_FIGURES, figures), "mine": mine},
        width=6,
    )


def lead_card(request: HttpRequest) -> Card | None:
    """The shift leader's centre now (the wall board's snapshot)."""
    user: Any = request.user
    if not has_perm(user, "reports.wallboard"):
        return None
    from kefu.reports.wallboard import current_snapshot

    snapshot = current_snapshot(max_age=5.0)
    tiles = {t["id"]: t for t in snapshot["centre"]}
    return Card(
        order=4,
        template="reports/_card_lead.html",
        context={"tiles": [tiles[m] for m in LEAD_FIGURES if m in tiles]},
        width=6,
    )


def manager_card(request: HttpRequest) -> Card | None:
    """The centre's month so far, for whoever reads the reports."""
    user: Any = request.user
    if not has_perm(user, "reports.view"):
        return None
    scope = _month_scope()
    key = f"reports:card:manager:{scope.end}"
    figures = cache.get(key)
    if figures is None:
        facts = F.gather(scope, sources=["tickets", "sla", "surveys"])
        figures = values(facts, MANAGER_FIGURES)
        cache.set(key, figures, CACHE_S)
    return Card(
        order=6,
        template="reports/_card_manager.html",
        context={
            "figures": figure_list(MANAGER_FIGURES, figures),
            "start": scope.start,
            "end": scope.end,
        },
        width=6,
    )


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)
