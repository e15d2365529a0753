"""A full report for one scope: every figure, the breakdown tables, the charts' data and the
agent scorecards. The report page, the Excel and PDF files, the periodic reports and the API
all read this one structure, and every figure in it comes from :mod:`metrics`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop as N_

from kefu.reports import facts as F
from kefu.reports.metrics import (
    METRICS,
    Facts,
    QaSums,
    SlaSums,
    TicketSums,
    format_value,
    values,
)

TICKET_COLUMNS = [
    "tickets_created", "complaints", "tickets_resolved", "resolution_rate", "fcr_rate",
    "reopen_rate", "first_response_avg_s", "resolution_avg_s",
]  # fmt: skip
SLA_COLUMNS = ["sla_compliance", "sla_first_response", "sla_resolution", "sla_breached"]
TRANSFER_COLUMNS = ["transfers", "transfer_reply_avg_s", "transfer_late_rate"]
CALL_COLUMNS = [
    "calls_offered", "calls_answered", "calls_abandoned", "answer_rate", "abandon_rate",
    "service_level", "asa_s", "aht_s", "timely_rate", "call_longest_wait_s",
]  # fmt: skip
SURVEY_COLUMNS = ["csat", "nps", "survey_response_rate"]
SCORECARD_COLUMNS = [
    "tickets_resolved", "resolution_rate", "fcr_rate", "calls_answered", "aht_s",
    "csat", "qa_score", "sla_compliance",
]  # fmt: skip
SUMMARY = [
    "tickets_created", "tickets_resolved", "resolution_rate", "fcr_rate", "reopen_rate",
    "complaint_rate", "first_response_avg_s", "resolution_avg_s", "sla_compliance",
    "sla_breached", "transfers", "transfer_reply_avg_s", "calls_offered", "answer_rate",
    "service_level", "abandon_rate", "asa_s", "aht_s", "csat", "nps", "qa_score",
]  # fmt: skip

TABLE_TITLES = {
    "type": N_("By work-order type"),
    "channel": N_("By channel"),
    "category": N_("By category"),
    "subject": N_("By subject"),
    "area": N_("By region"),
    "team": N_("By team"),
    "sla_type": N_("SLA compliance by type"),
    "departments": N_("Transfers by department"),
    "queues": N_("Calls by queue"),
    "call_days": N_("Calls by day"),
    "surveys": N_("Satisfaction by channel"),
    "scorecards": N_("Agent scorecards"),
}


def metric_label(metric_id: str) -> str:
    return _(METRICS[metric_id].label)


def table_title(key: str) -> str:
    return _(TABLE_TITLES[key])


@dataclass
class Row:
    key: Any
    label: str
    values: dict[str, Any]


@dataclass
class Table:
    key: str
    columns: list[str]
    rows: list[Row]
    dimension: str = ""  # a work-order dimension: rows drill down to the records

    @property
    def title(self) -> str:
        return table_title(self.key)


@dataclass
class Report:
    scope: F.Scope
    values: dict[str, Any]
    tables: dict[str, Table] = field(default_factory=dict)
    charts: dict[str, Any] = field(default_factory=dict)

    def formatted(self, metric_id: str) -> str:
        return format_value(self.values.get(metric_id), METRICS[metric_id].unit)


def _facts(**parts: Any) -> Facts:
    f = Facts()
    for name, value in parts.items():
        setattr(f, name, value)
    return f


def _labels(dimension: str, keys: Iterable[Any]) -> dict[Any, str]:
    from kefu.accounts.models import Team, User
    from kefu.core.choices import Channel
    from kefu.tickets.models import Area, Category, Subject, TicketType

    keys = [k for k in keys if k not in (None, "")]
    none = _("(none)")
    if dimension == "type":
        names = dict(TicketType.objects.filter(pk__in=keys).values_list("pk", "name"))
    elif dimension == "category":
        names = {c.pk: c.label for c in Category.objects.filter(pk__in=keys)}
    elif dimension == "team":
        names = dict(Team.objects.filter(pk__in=keys).values_list("pk", "name"))
    elif dimension == "agent":
        names = {u.pk: u.display_label for u in User.objects.filter(pk__in=keys)}
    elif dimension == "channel":
        names = {k: str(Channel(k).label) if k in Channel.values else k for k in keys}
    elif dimension == "subject":
        names = {k: str(Subject(k).label) if k in Subject.values else k for k in keys}
    elif dimension == "area":
        names = {k: str(Area(k).label) if k in Area.values else k for k in keys}
    elif dimension == "department":
        names = dict(Team.objects.filter(pk__in=keys).values_list("pk", "name"))
    else:
        names = {k: str(k) for k in keys}
    return {**{None: none, "": none}, **names}


def _ticket_table(key: str, groups: dict[Any, TicketSums], sla: dict[Any, SlaSums]) -> Table:
    labels = _labels(key, groups)
    rows = []
    for k, sums in groups.items():
        row_values = values(_facts(tickets=sums, sla=sla.get(k, SlaSums())), TICKET_COLUMNS)
        rows.append(Row(k, labels.get(k, str(k)), row_values))
    rows.sort(key=lambda r: (-(r.values["tickets_created"] or 0), r.label))
    return Table(key, TICKET_COLUMNS, rows, dimension=key)


def build(scope: F.Scope) -> Report:
    """Everything for the scope (reports are for roles that see the whole centre)."""
    with F.report_queries():
        return _build(scope)


def _build(scope: F.Scope) -> Report:
    # The work orders are read in one scan for every table, the agents and the days, the SLA
    # clocks in one for types and agents; the totals are folded from the per-type groups.
    dims = ["type", "channel", "category", "subject", "area", "team"]
    breakdown = F.ticket_breakdown(scope, [*dims, "agent"])
    groups = breakdown.groups
    sla_groups = F.sla_groups_by(scope, ["type", "agent"])
    sla_by_type = sla_groups["type"]
    facts = F.gather(scope, sources=["transfers", "surveys", "qa"])
    for sums in groups["type"].values():
        facts.tickets.add(sums)
    for sla in sla_by_type.values():
        for name in sla.__dataclass_fields__:
            setattr(facts.sla, name, getattr(facts.sla, name) + getattr(sla, name))
    call_report = None if scope.ticket_filtered else F.call_report(scope)
    if call_report is not None:
        facts.calls = call_report.total
    elif not scope.ticket_filtered:
        facts.calls = F.empty_calls()
    for fn in F.EXTRA_SOURCES.values():
        facts.extra.update(fn(scope))
    report = Report(scope=scope, values=values(facts, [m for m in METRICS if m in SUMMARY_ALL]))

    for dim in dims:
        report.tables[dim] = _ticket_table(dim, groups[dim], sla_by_type if dim == "type" else {})

    labels = _labels("type", sla_by_type)
    report.tables["sla_type"] = Table(
        "sla_type",
        SLA_COLUMNS,
        [
            Row(k, labels.get(k, str(k)), values(_facts(sla=s), SLA_COLUMNS))
            for k, s in sorted(sla_by_type.items(), key=lambda kv: -kv[1].counted)
        ],
        dimension="type",
    )
    departments = F.transfer_groups(scope, by_department=True)
    labels = _labels("department", departments)
    report.tables["departments"] = Table(
        "departments",
        TRANSFER_COLUMNS,
        [
            Row(k, labels.get(k, str(k)), values(_facts(transfers=s), TRANSFER_COLUMNS))
            for k, s in sorted(departments.items(), key=lambda kv: -kv[1].created)
        ],
    )
    if call_report is not None:
        report.tables["queues"] = Table(
            "queues",
            CALL_COLUMNS,
            [Row(q, q, values(_facts(calls=k), CALL_COLUMNS)) for q, k in call_report.by_queue],
        )
        report.tables["call_days"] = Table(
            "call_days",
            CALL_COLUMNS,
            [
                Row(d, d.isoformat(), values(_facts(calls=k), CALL_COLUMNS))
                for d, k in call_report.by_day
            ],
        )
    _total, by_channel = F.survey_figures(scope, "channel")
    labels = _labels("channel", [k for k, _f in by_channel])
    report.tables["surveys"] = Table(
        "surveys",
        SURVEY_COLUMNS,
        [Row(k, labels.get(k, str(k)), values(_facts(surveys=f), SURVEY_COLUMNS)) for k, f in by_channel],
    )  # fmt: skip
    report.tables["scorecards"] = _scorecards(
        scope, call_report, groups["agent"], sla_groups["agent"]
    )
    report.charts = _charts(scope, report, call_report, breakdown.days)
    return report


SUMMARY_ALL = frozenset(SUMMARY) | {m for m, d in METRICS.items() if d.source not in ("live",)}


def _scorecards(
    scope: F.Scope,
    call_report: Any,
    by_agent: dict[Any, TicketSums],
    sla: dict[Any, SlaSums],
) -> Table:
    from kefu.calls.models import AgentLink

    qa = F.qa_groups(scope, by_agent=True)
    _total, surveys = F.survey_figures(scope, "agent")
    csat = dict(surveys)
    calls: dict[int, Any] = {}
    if call_report is not None:
        links = dict(AgentLink.objects.values_list("pbx_agent", "user_id"))
        for name, kpis in call_report.by_agent:
            user_id = links.get(name)
            if user_id is not None and user_id not in calls:
                calls[user_id] = kpis
    users = {k for k in [*by_agent, *qa, *csat, *calls] if k is not None}
    labels = _labels("agent", users)
    rows = []
    for user_id in users:
        f = _facts(
            tickets=by_agent.get(user_id, TicketSums()),
            sla=sla.get(user_id, SlaSums()),
            qa=qa.get(user_id, QaSums()),
        )
        if user_id in csat:
            f.surveys = csat[user_id]
        if user_id in calls:
            f.calls = calls[user_id]
        rows.append(Row(user_id, labels.get(user_id, str(user_id)), values(f, SCORECARD_COLUMNS)))
    rows.sort(key=lambda r: (-(r.values["tickets_resolved"] or 0), r.label))
    return Table("scorecards", SCORECARD_COLUMNS, rows, dimension="agent")


def _charts(
    scope: F.Scope, report: Report, call_report: Any, days: dict[dt.date, tuple[int, int]]
) -> dict[str, Any]:
    charts: dict[str, Any] = {
        "volume": {
            "title": _("Work orders per day"),
            "days": [d.isoformat() for d in days],
            "series": [
                {"name": metric_label("tickets_created"), "data": [v[0] for v in days.values()]},
                {"name": metric_label("tickets_resolved"), "data": [v[1] for v in days.values()]},
            ],
        },
        "channels": {
            "title": table_title("channel"),
            "data": [
                {"name": r.label, "value": r.values["tickets_created"]}
                for r in report.tables["channel"].rows
                if r.values["tickets_created"]
            ],
        },
        "types": {
            "title": table_title("type"),
            "labels": [r.label for r in report.tables["type"].rows],
            "data": [r.values["tickets_created"] for r in report.tables["type"].rows],
        },
        "distributions": F.sla_distributions(scope),
    }
    if call_report is not None:
        charts["calls"] = {
            "title": table_title("call_days"),
            "days": [d.isoformat() for d, _k in call_report.by_day],
            "offered": [k.offered for _d, k in call_report.by_day],
            "service_level": [
                None if k.sl_offered is None else round(100 * k.sl_offered, 1)
                for _d, k in call_report.by_day
            ],
            "labels": [metric_label("calls_offered"), metric_label("service_level")],
        }
    return charts


def period_label(start: dt.date, end: dt.date) -> str:
    return f"{start:%Y-%m-%d} – {end:%Y-%m-%d}"
