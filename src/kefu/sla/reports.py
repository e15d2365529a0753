"""The SLA report: compliance by policy, team, agent, type and month; the breach list with its
reasons; first-response and resolution time distributions.

A clock counts in a period when it finished in it (met or breached), or when it is still
running and its deadline passed in it. Compliance is met / counted. Times are working time on
each clock's calendar.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Avg, Count, F, Q, QuerySet
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kefu.accounts.models import User
from kefu.sla import calendars
from kefu.sla.models import Metric, SlaClock

GROUPS: dict[str, Any] = {
    "policy": _("Policy"),
    "team": _("Team"),
    "agent": _("Agent"),
    "type": _("Type"),
    "month": _("Month"),
}
_GROUP_FIELDS = {
    "policy": ("policy_id", "policy__name"),
    "team": ("ticket__team_id", "ticket__team__name"),
    "agent": ("ticket__assignee_id", "ticket__assignee__display_name"),
    "type": ("ticket__ticket_type_id", "ticket__ticket_type__name"),
}
REPORT_METRICS = (
    Metric.FIRST_RESPONSE,
    Metric.NEXT_RESPONSE,
    Metric.RESOLUTION,
    Metric.ONSITE_ARRIVAL,
    Metric.REMOTE_RESPONSE,
    Metric.TRANSFER_REPLY,
)
# Bucket upper bounds in working seconds, for the distributions.
BUCKETS = {
    Metric.FIRST_RESPONSE: [900, 1800, 3600, 7200, 4 * 3600, 8 * 3600, 24 * 3600],
    Metric.RESOLUTION: [3600, 4 * 3600, 8 * 3600, 16 * 3600, 24 * 3600, 40 * 3600, 80 * 3600],
}


def period_q(start: dt.datetime, end: dt.datetime) -> Q:
    finished = Q(
        state__in=[SlaClock.State.MET, SlaClock.State.BREACHED],
        stopped_at__gte=start,
        stopped_at__lt=end,
    )
    overdue = Q(
        state__in=[SlaClock.State.RUNNING, SlaClock.State.PAUSED],
        breached_at__gte=start,
        breached_at__lt=end,
    )
    return finished | overdue


def counted(start: dt.datetime, end: dt.datetime) -> QuerySet[SlaClock]:
    return SlaClock.objects.filter(period_q(start, end))


@dataclass
class Cell:
    total: int = 0
    met: int = 0
    avg_seconds: float | None = None

    @property
    def percent(self) -> float | None:
        return round(100 * self.met / self.total, 1) if self.total else None


@dataclass
class Row:
    key: Any
    label: str
    cells: dict[str, Cell] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(c.total for c in self.cells.values())

    @property
    def met(self) -> int:
        return sum(c.met for c in self.cells.values())

    @property
    def percent(self) -> float | None:
        return round(100 * self.met / self.total, 1) if self.total else None


def compliance(group: str, start: dt.datetime, end: dt.datetime) -> list[Row]:
    """One row per policy / team / agent / type / month, one cell per metric."""
    qs = counted(start, end)
    met = Count("id", filter=Q(state=SlaClock.State.MET))
    if group == "month":
        month = TruncMonth("stopped_at", tzinfo=timezone.get_current_timezone())
        overdue_month = TruncMonth("breached_at", tzinfo=timezone.get_current_timezone())
        finished = (
            qs.filter(stopped_at__isnull=False)
            .annotate(k=month)
            .values("k", "metric")
            .annotate(total=Count("id"), met=met, avg=Avg("elapsed_seconds"))
        )
        running = (
            qs.filter(stopped_at__isnull=True)
            .annotate(k=overdue_month)
            .values("k", "metric")
            .annotate(total=Count("id"), met=met, avg=Avg("elapsed_seconds"))
        )
        raw = [(r["k"], _month_label(r["k"]), r) for r in [*finished, *running]]
    else:
        key_field, label_field = _GROUP_FIELDS[group]
        rows = (
            qs.annotate(k=F(key_field), label=F(label_field))
            .values("k", "label", "metric")
            .annotate(total=Count("id"), met=met, avg=Avg("elapsed_seconds"))
        )
        raw = [(r["k"], r["label"] or str(_("(none)")), r) for r in rows]
    table: dict[Any, Row] = {}
    for key, label, r in raw:
        row = table.setdefault(key, Row(key=key, label=label))
        cell = row.cells.setdefault(r["metric"], Cell())
        previous = cell.total
        cell.total += r["total"]
        cell.met += r["met"]
        if r["avg"] is not None:
            weight = r["total"]
            cell.avg_seconds = (
                (cell.avg_seconds or 0) * previous + float(r["avg"]) * weight
            ) / max(1, previous + weight)
    ordered = sorted(table.values(), key=lambda row: (row.key is None, str(row.key)))
    if group == "month":
        ordered.sort(key=lambda row: row.key or dt.datetime.min.replace(tzinfo=dt.UTC))
    return ordered


def _month_label(value: dt.datetime | None) -> str:
    if value is None:
        return "—"
    return timezone.localtime(value).strftime("%Y-%m")


def totals(rows: Iterable[Row]) -> Row:
    total = Row(key="all", label=str(_("All")))
    for row in rows:
        for metric, cell in row.cells.items():
            into = total.cells.setdefault(metric, Cell())
            into.total += cell.total
            into.met += cell.met
    return total


def distribution(metric: str, start: dt.datetime, end: dt.datetime) -> dict[str, Any]:
    """How long clocks of one metric took (working time), in buckets, with the target line."""
    bounds = BUCKETS[metric]  # type: ignore[index]
    qs = counted(start, end).filter(metric=metric, elapsed_seconds__isnull=False)
    aggregates: dict[str, Any] = {}
    lower = 0
    for i, upper in enumerate(bounds):
        aggregates[f"b{i}"] = Count(
            "id", filter=Q(elapsed_seconds__gte=lower, elapsed_seconds__lt=upper)
        )
        lower = upper
    aggregates[f"b{len(bounds)}"] = Count("id", filter=Q(elapsed_seconds__gte=lower))
    result = qs.aggregate(**aggregates)
    labels = []
    lower = 0
    for upper in bounds:
        labels.append(f"{_short(lower)}–{_short(upper)}")
        lower = upper
    labels.append(f"≥ {_short(lower)}")
    return {
        "metric": str(Metric(metric).label),
        "labels": labels,
        "counts": [result[f"b{i}"] for i in range(len(bounds) + 1)],
    }


def _short(seconds: int) -> str:
    if seconds == 0:
        return "0"
    if seconds < 3600:
        return f"{seconds // 60}m"
    return f"{seconds // 3600}h"


def breach_count(user: User, start: dt.datetime, end: dt.datetime) -> int:
    from kefu.core.permissions import has_perm
    from kefu.tickets.access import visible_tickets

    if not has_perm(user, "tickets.view"):
        return 0
    return (
        SlaClock.objects.filter(breached_at__gte=start, breached_at__lt=end)
        .exclude(state=SlaClock.State.CANCELLED)
        .filter(ticket__in=visible_tickets(user))
        .count()
    )


@dataclass
class Breach:
    clock: SlaClock
    over: str
    last_change: str


def breaches(user: User, start: dt.datetime, end: dt.datetime, limit: int = 200) -> list[Breach]:
    """Clocks that breached in the period, newest first, for the work orders the user may see."""
    from kefu.core.permissions import has_perm
    from kefu.tickets.access import visible_tickets

    if not has_perm(user, "tickets.view"):
        return []
    clocks = list(
        SlaClock.objects.filter(breached_at__gte=start, breached_at__lt=end)
        .exclude(state=SlaClock.State.CANCELLED)
        .filter(ticket__in=visible_tickets(user))
        .select_related("ticket__assignee", "ticket__team", "policy", "breach_reason_by")
        .prefetch_related("changes")
        .order_by("-breached_at", "-id")[:limit]
    )
    now = timezone.now()
    out = []
    for c in clocks:
        assert c.due_at is not None or c.breached_at is not None
        due = c.due_at or c.breached_at
        finished = c.stopped_at or now
        seconds = calendars.working_left(c.calendar_id, due, finished) if due else 0
        changes = [h for h in c.changes.all() if h.reason]
        out.append(
            Breach(
                clock=c,
                over=calendars.format_working(-seconds, calendars.standard_day(c.calendar_id)),
                last_change=changes[-1].reason if len(changes) > 1 else "",
            )
        )
    return out
