"""Gathering the sums behind the metrics for one scope (a period and filters), from the apps
that own the records. Each source is one or two grouped queries; :mod:`metrics` turns the sums
into figures.

Registered sources (``register_source``) let another app — a chat app, say — add figures
without this module knowing its tables: the function receives the scope and returns
``{metric id: value}`` for metrics it defined with ``metrics.define``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

from django.db import connection, transaction
from django.db.models import (
    Count,
    DurationField,
    F,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.functions import TruncDate
from django.utils import timezone

from kefu.calls import kpi
from kefu.calls.models import AgentLink
from kefu.calls.selectors import KpiQuery, kpi_report
from kefu.reports.metrics import (
    Facts,
    LiveSums,
    QaSums,
    SlaSums,
    TicketSums,
    TransferSums,
)
from kefu.surveys.metrics import Figures
from kefu.tickets.models import Ticket, Transfer
from kefu.tickets.states import DONE_STATES, FINAL_STATES

COMPLAINT_TYPE = "complaint"
DUE_SOON = dt.timedelta(hours=1)

# Filters on work orders; the call figures obey only ``queue`` and ``agent``.
TICKET_DIMENSIONS: dict[str, str] = {
    "type": "ticket_type_id",
    "channel": "channel",
    "category": "category_id",
    "subject": "subject",
    "area": "area",
    "team": "team_id",
    "agent": "assignee_id",
}


@dataclass(frozen=True)
class Scope:
    start: dt.date
    end: dt.date  # inclusive
    tz: dt.tzinfo
    ticket_type: int | None = None
    channel: str = ""
    category: int | None = None
    subject: str = ""
    area: str = ""
    team: int | None = None
    agent: int | None = None  # a user
    queue: str = ""  # a hotline queue

    @property
    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        first = dt.datetime.combine(self.start, dt.time.min, tzinfo=self.tz)
        last = dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time.min, tzinfo=self.tz)
        return first, last

    @property
    def ticket_filtered(self) -> bool:
        """Whether a filter narrows work orders in a way calls cannot follow."""
        return bool(self.ticket_type or self.channel or self.category or self.subject or self.area)

    def ticket_q(self, prefix: str = "") -> Q:
        q = Q()
        for name, column in TICKET_DIMENSIONS.items():
            value = getattr(self, "ticket_type" if name == "type" else name)
            if value in (None, ""):
                continue
            if name == "category":
                # the category and every category under it; an unknown id matches nothing
                this = Q(**{f"{prefix}category_id": value})
                path = _category_path(value)
                q &= this | Q(**{f"{prefix}category__path__startswith": path}) if path else this
            else:
                q &= Q(**{f"{prefix}{column}": value})
        return q


def _category_path(category_id: int) -> str:
    from kefu.tickets.models import Category

    path = Category.objects.filter(pk=category_id).values_list("path", flat=True).first()
    return f"{path} › " if path else ""


# --- the planner ----------------------------------------------------------------------------------


@contextmanager
def report_queries() -> Iterator[None]:
    """Around a report's queries. On PostgreSQL, for this transaction only: enough memory to
    group a month's work orders in a hash table instead of sorting them on disk, and the
    just-in-time compiler without its inlining and optimisation passes, which cost about a
    second per grouped scan, more than they save."""
    if connection.vendor != "postgresql":
        yield
        return
    outermost = not connection.in_atomic_block
    with transaction.atomic(), connection.cursor() as cursor:
        if outermost:  # every query of the report sees the same moment
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        cursor.execute("SET LOCAL work_mem = '64MB'")
        cursor.execute("SET LOCAL jit_inline_above_cost = -1")
        cursor.execute("SET LOCAL jit_optimize_above_cost = -1")
        yield


@contextmanager
def _one_moment() -> Iterator[None]:
    """Reads that must agree with each other see one snapshot: on PostgreSQL, a REPEATABLE READ
    transaction of their own unless the caller's transaction is already open (a report's is
    REPEATABLE READ; see report_queries). SQLite's WAL already gives one read transaction its
    own snapshot only inside BEGIN, which would take the write lock here; callers clamp."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        yield


# --- work orders --------------------------------------------------------------------------------


def _in(column: str, start: dt.datetime, end: dt.datetime) -> Q:
    return Q(**{f"{column}__gte": start, f"{column}__lt": end})


def ticket_aggregates(start: dt.datetime, end: dt.datetime) -> dict[str, Any]:
    created = _in("created_at", start, end)
    resolved = _in("resolved_at", start, end)
    responded = _in("first_response_at", start, end)
    complaint = Q(ticket_type__code=COMPLAINT_TYPE)
    return {
        "created": Count("id", filter=created),
        "complaints": Count("id", filter=created & complaint),
        "sensitive": Count("id", filter=created & Q(sensitive=True)),
        "cancelled": Count("id", filter=created & Q(status__in=FINAL_STATES)),
        "done": Count("id", filter=created & Q(status__in=DONE_STATES)),
        "resolved": Count("id", filter=resolved),
        # first contact also means never transferred: the transferred ones are counted by
        # _transferred_first_contacts and taken off (a transfer test here, a subquery per row,
        # would keep PostgreSQL from splitting the scan over its parallel workers)
        "first_contact": Count("id", filter=resolved & Q(reopen_count=0, line=1)),
        "reopened": Count("id", filter=resolved & Q(reopen_count__gt=0)),
        "resolution": Sum(
            F("resolved_at") - F("created_at"), filter=resolved, output_field=DurationField()
        ),
        "responded": Count("id", filter=responded),
        "response": Sum(
            F("first_response_at") - F("created_at"),
            filter=responded,
            output_field=DurationField(),
        ),
    }


def _tickets_in(scope: Scope) -> QuerySet[Ticket]:
    start, end = scope.bounds
    touched = _in("created_at", start, end) | _in("resolved_at", start, end)
    touched |= _in("first_response_at", start, end)
    return Ticket.objects.filter(touched).filter(scope.ticket_q())


def _transferred_first_contacts(scope: Scope) -> QuerySet[Ticket]:
    """The work orders the ``first_contact`` count holds that were transferred after all."""
    start, end = scope.bounds
    return _tickets_in(scope).filter(
        _in("resolved_at", start, end),
        reopen_count=0,
        line=1,
        pk__in=Transfer.objects.values("ticket_id"),
    )


def _sums(row: dict[str, Any]) -> TicketSums:
    def seconds(value: Any) -> float:
        return value.total_seconds() if value is not None else 0.0

    return TicketSums(
        created=row["created"],
        complaints=row["complaints"],
        sensitive=row["sensitive"],
        cancelled=row["cancelled"],
        done=row["done"],
        resolved=row["resolved"],
        first_contact=row["first_contact"],
        reopened=row["reopened"],
        resolution_s=seconds(row["resolution"]),
        responded=row["responded"],
        response_s=seconds(row["response"]),
    )


def ticket_totals(scope: Scope) -> TicketSums:
    start, end = scope.bounds
    with _one_moment():
        row = _tickets_in(scope).aggregate(**ticket_aggregates(start, end))
        transferred = _transferred_first_contacts(scope).count()
    # never below zero, should a work order have been transferred between the two reads
    row["first_contact"] = max(0, row["first_contact"] - transferred)
    return _sums(row)


def ticket_groups(scope: Scope, dimensions: Iterable[str]) -> dict[str, dict[Any, TicketSums]]:
    """Work-order sums per value of each dimension, from one grouped query over all of them
    together (a few thousand combinations), folded into one table per dimension."""
    dims = list(dimensions)
    columns = [TICKET_DIMENSIONS[d] for d in dims]
    start, end = scope.bounds
    aggregates = ticket_aggregates(start, end)
    names = list(aggregates)
    rows = (
        _tickets_in(scope)
        .values(*columns)
        .annotate(**aggregates)
        .order_by()
        .values_list(*columns, *names)
    )
    width = len(columns)
    first_contact = width + names.index("first_contact")
    with _one_moment():
        transferred = dict(
            (tuple(row[:width]), row[width])
            for row in _transferred_first_contacts(scope)
            .values(*columns)
            .annotate(n=Count("id"))
            .order_by()
            .values_list(*columns, "n")
        )
        rows = list(rows)
    totals: list[dict[Any, list[Any]]] = [{} for _ in dims]
    for row in rows:
        if transferred:
            taken = transferred.get(tuple(row[:width]), 0)
            if taken:
                left = max(0, row[first_contact] - taken)
                row = (*row[:first_contact], left, *row[first_contact + 1 :])
        figures = row[width:]
        for i in range(width):
            into = totals[i].get(row[i])
            if into is None:
                totals[i][row[i]] = list(figures)
            else:
                for j, value in enumerate(figures):
                    if value is not None:
                        into[j] = value if into[j] is None else into[j] + value
    return {
        dim: {
            key: _sums(dict(zip(names, figures, strict=True))) for key, figures in totals[i].items()
        }
        for i, dim in enumerate(dims)
    }


@dataclass
class TicketBreakdown:
    groups: dict[str, dict[Any, TicketSums]]
    days: dict[dt.date, tuple[int, int]]  # received and resolved per local day


def ticket_breakdown(scope: Scope, dimensions: Iterable[str]) -> TicketBreakdown:
    """Work-order sums per value of each dimension (one scan for all of them) and the
    per-day counts (one more)."""
    return TicketBreakdown(ticket_groups(scope, dimensions), _days_in_one_scan(scope))


def _days_in_one_scan(scope: Scope) -> dict[dt.date, tuple[int, int]]:
    """``ticket_days`` from one query grouped by the day received and the day resolved
    together (a few hundred pairs a month), folded per day."""
    start, end = scope.bounds
    created = _in("created_at", start, end)
    resolved = _in("resolved_at", start, end)
    rows = (
        Ticket.objects.filter(created | resolved)
        .filter(scope.ticket_q())
        .annotate(
            day_created=TruncDate("created_at", tzinfo=scope.tz),
            day_resolved=TruncDate("resolved_at", tzinfo=scope.tz),
        )
        .values("day_created", "day_resolved")
        .annotate(created=Count("id", filter=created), resolved=Count("id", filter=resolved))
        .order_by()
        .values_list("day_created", "day_resolved", "created", "resolved")
    )
    days: dict[dt.date, list[int]] = {}
    for day_created, day_resolved, n_created, n_resolved in rows:
        if n_created:
            days.setdefault(day_created, [0, 0])[0] += n_created
        if n_resolved:
            days.setdefault(day_resolved, [0, 0])[1] += n_resolved
    return {day: (v[0], v[1]) for day, v in sorted(days.items())}


def ticket_days(scope: Scope) -> dict[dt.date, tuple[int, int]]:
    """Work orders received and resolved per local day."""
    start, end = scope.bounds
    tz = scope.tz
    base = Ticket.objects.filter(scope.ticket_q())
    days: dict[dt.date, list[int]] = {}
    for column, slot in (("created_at", 0), ("resolved_at", 1)):
        rows = (
            base.filter(_in(column, start, end))
            .annotate(day=TruncDate(column, tzinfo=tz))
            .values("day")
            .annotate(n=Count("id"))
            .order_by()
        )
        for row in rows:
            days.setdefault(row["day"], [0, 0])[slot] += row["n"]
    return {day: (v[0], v[1]) for day, v in sorted(days.items())}


# --- SLA clocks -----------------------------------------------------------------------------------


def sla_groups(scope: Scope, dimension: str = "") -> dict[Any, SlaSums]:
    """SLA sums for the whole scope (key ``None``), or per value of a work-order dimension."""
    from kefu.sla.models import SlaClock
    from kefu.sla.reports import counted

    start, end = scope.bounds
    qs = counted(start, end).filter(scope.ticket_q("ticket__"))
    keys = ["metric"]
    if dimension:
        keys.insert(0, f"ticket__{TICKET_DIMENSIONS[dimension]}")
    rows = (
        qs.values(*keys)
        .annotate(total=Count("id"), met=Count("id", filter=Q(state=SlaClock.State.MET)))
        .order_by()
    )
    out: dict[Any, SlaSums] = {}
    for row in rows:
        _add_sla(out.setdefault(row[keys[0]] if dimension else None, SlaSums()), row)
    return out


def sla_groups_by(scope: Scope, dimensions: Iterable[str]) -> dict[str, dict[Any, SlaSums]]:
    """``sla_groups`` for several dimensions from one grouped query over all of them together,
    folded into one table per dimension."""
    from kefu.sla.models import SlaClock
    from kefu.sla.reports import counted

    dims = list(dimensions)
    names = [f"ticket__{TICKET_DIMENSIONS[d]}" for d in dims]
    start, end = scope.bounds
    rows = (
        counted(start, end)
        .filter(scope.ticket_q("ticket__"))
        .values(*names, "metric")
        .annotate(total=Count("id"), met=Count("id", filter=Q(state=SlaClock.State.MET)))
        .order_by()
    )
    out: dict[str, dict[Any, SlaSums]] = {d: {} for d in dims}
    for row in rows:
        for dim, name in zip(dims, names, strict=True):
            _add_sla(out[dim].setdefault(row[name], SlaSums()), row)
    return out


def _add_sla(sums: SlaSums, row: dict[str, Any]) -> None:
    from kefu.sla.models import Metric as SlaMetric

    sums.counted += row["total"]
    sums.met += row["met"]
    sums.breached += row["total"] - row["met"]
    if row["metric"] == SlaMetric.FIRST_RESPONSE:
        sums.first_response_counted += row["total"]
        sums.first_response_met += row["met"]
    elif row["metric"] == SlaMetric.RESOLUTION:
        sums.resolution_counted += row["total"]
        sums.resolution_met += row["met"]


def sla_distributions(scope: Scope) -> list[dict[str, Any]]:
    """First-response and resolution times (working time) in buckets: the SLA report's own."""
    from kefu.sla.models import Metric as SlaMetric
    from kefu.sla.reports import distribution

    start, end = scope.bounds
    return [
        distribution(SlaMetric.FIRST_RESPONSE, start, end),
        distribution(SlaMetric.RESOLUTION, start, end),
    ]


# --- transfers to departments ---------------------------------------------------------------------


def transfer_groups(scope: Scope, by_department: bool = False) -> dict[Any, TransferSums]:
    start, end = scope.bounds
    base = Transfer.objects.filter(scope.ticket_q("ticket__"))
    key = "department_id" if by_department else None
    out: dict[Any, TransferSums] = {}

    def rows(qs: QuerySet[Transfer], **aggregates: Any) -> list[dict[str, Any]]:
        if key:
            return list(qs.values(key).annotate(**aggregates).order_by())
        return [qs.aggregate(**aggregates)]

    for row in rows(base.filter(_in("created_at", start, end)), n=Count("id")):
        out.setdefault(row.get(key) if key else None, TransferSums()).created += row["n"]
    replied = base.filter(_in("replied_at", start, end))
    for row in rows(
        replied,
        n=Count("id"),
        late=Count("id", filter=Q(replied_at__gt=F("due_at"))),
        took=Sum(F("replied_at") - F("created_at"), output_field=DurationField()),
    ):
        sums = out.setdefault(row.get(key) if key else None, TransferSums())
        sums.replied += row["n"]
        sums.replied_late += row["late"]
        sums.reply_s += row["took"].total_seconds() if row["took"] is not None else 0.0
    return out


# --- calls ----------------------------------------------------------------------------------------


def pbx_agents(user_id: int) -> list[str]:
    return list(
        AgentLink.objects.filter(user_id=user_id)
        .order_by("pbx_agent")
        .values_list("pbx_agent", flat=True)
    )


def call_report(scope: Scope, *, per_agent: bool = True) -> Any:
    """The hotline's KPI report (``calls.selectors.kpi_report``) for the scope, or None when
    the scope names an agent without a PBX agent name. ``per_agent=False`` leaves out the
    per-agent rows (the costliest part of a day's report)."""
    agent = ""
    if scope.agent:
        names = pbx_agents(scope.agent)
        if not names:
            return None
        agent = names[0]
    return kpi_report(
        KpiQuery(
            scope.start, scope.end, scope.tz, queue=scope.queue, agent=agent, per_agent=per_agent
        )
    )


# --- satisfaction and QA --------------------------------------------------------------------------


def survey_figures(scope: Scope, by: str = "") -> tuple[Figures, list[tuple[Any, Figures]]]:
    from kefu.surveys.selectors import Filters, report

    start, end = scope.bounds
    filters = Filters(
        start=start,
        end=end,
        agent_id=scope.agent,
        team_id=scope.team,
        ticket_type_id=scope.ticket_type,
        channel=scope.channel,
    )
    return report(filters, by)


def qa_groups(scope: Scope, by_agent: bool = False) -> dict[Any, QaSums]:
    from kefu.qa.models import Review
    from kefu.qa.selectors import SCORED

    start, end = scope.bounds
    qs = Review.objects.filter(
        kind=Review.Kind.INTERNAL,
        state__in=SCORED,
        submitted_at__gte=start,
        submitted_at__lt=end,
        score__isnull=False,
    )
    if scope.agent:
        qs = qs.filter(agent_id=scope.agent)
    if scope.team:
        qs = qs.filter(team_id=scope.team)
    aggregates = {
        "n": Count("id"),
        "total": Sum("score"),
        "critical": Count("id", filter=Q(failed_critical=True)),
    }
    rows: list[dict[str, Any]] = (
        list(qs.values("agent_id").annotate(**aggregates).order_by())  # type: ignore[arg-type]
        if by_agent
        else [qs.aggregate(**aggregates)]
    )
    return {
        (row["agent_id"] if by_agent else None): QaSums(
            reviews=row["n"],
            score_sum=float(row["total"] or 0),
            failed_critical=row["critical"],
        )
        for row in rows
    }


# --- now ------------------------------------------------------------------------------------------


def live_sums(now: dt.datetime | None = None) -> LiveSums:
    from kefu.accounts.models import User
    from kefu.core.permissions import AGENT_ROLES
    from kefu.routing.models import Presence, RoutingQueue
    from kefu.routing.services import waiting_summary

    now = now or timezone.now()
    queues = list(RoutingQueue.objects.filter(active=True))
    waiting = waiting_summary(queues, now)
    agents: dict[str, int] = {}
    rows = (
        User.objects.filter(is_active=True, role__in=AGENT_ROLES)
        .values("presence__state")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in rows:
        state = row["presence__state"] or Presence.State.OFFLINE
        agents[state] = agents.get(state, 0) + row["n"]
    # three counts, each answered from its own partial index (sensitive open work orders, open
    # ones by SLA due time), instead of one pass over every open work order
    open_orders = Ticket.objects.filter(is_open=True)
    return LiveSums(
        waiting=sum(w["waiting"] for w in waiting.values()),
        longest_wait_s=max((w["longest_wait"] for w in waiting.values()), default=0),
        agents=agents,
        sensitive_open=open_orders.filter(sensitive=True).count(),
        sla_due_soon=open_orders.filter(
            sla_due_at__isnull=False, sla_due_at__gte=now, sla_due_at__lt=now + DUE_SOON
        ).count(),
        sla_overdue=open_orders.filter(sla_due_at__isnull=False, sla_due_at__lt=now).count(),
    )


# --- registered sources ---------------------------------------------------------------------------

SourceFn = Callable[[Scope], dict[str, float | None]]
EXTRA_SOURCES: dict[str, SourceFn] = {}


def register_source(name: str, fn: SourceFn) -> None:
    """Add the figures of another app (metrics it defined with ``metrics.define`` under
    ``source=name``)."""
    EXTRA_SOURCES[name] = fn


# --- all together ---------------------------------------------------------------------------------


def gather(scope: Scope, sources: Iterable[str] | None = None) -> Facts:
    """The facts behind every metric of ``sources`` (all when None) for the scope."""
    wanted = set(sources) if sources is not None else None

    def want(name: str) -> bool:
        return wanted is None or name in wanted

    facts = Facts()
    if want("tickets"):
        facts.tickets = ticket_totals(scope)
    if want("sla"):
        facts.sla = sla_groups(scope).get(None, SlaSums())
    if want("transfers"):
        facts.transfers = transfer_groups(scope).get(None, TransferSums())
    if want("calls") and not scope.ticket_filtered:
        report = call_report(scope)
        facts.calls = report.total if report is not None else empty_calls()
    if want("surveys"):
        facts.surveys = survey_figures(scope)[0]
    if want("qa"):
        facts.qa = qa_groups(scope).get(None, QaSums())
    if want("live"):
        facts.live = live_sums()
    for name, fn in EXTRA_SOURCES.items():
        if want(name):
            facts.extra.update(fn(scope))
    return facts


def empty_calls() -> kpi.Kpis:
    return kpi.compute(kpi.Totals())


def with_dates(scope: Scope, start: dt.date, end: dt.date) -> Scope:
    return replace(scope, start=start, end=end)
