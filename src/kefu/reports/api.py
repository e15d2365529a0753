"""Monitoring and reports in the API: the metric definitions, figures for a period and filters
(from the same metrics layer as the screens), a breakdown table, and the wall board's
snapshot."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from ninja.errors import HttpError
from pydantic import Field

from kefu.core.api_base import Out
from kefu.core.permissions import require_perm
from kefu.reports import facts as F
from kefu.reports.metrics import METRICS, SOURCES, values
from kefu.reports.report import TABLE_TITLES, build, metric_label
from kefu.reports.selectors import MAX_DAYS, MAX_YEAR, MIN_YEAR

router = Router(tags=["Monitoring and reports"])


class ReportsMetricOut(Out):
    id: str
    label: str
    unit: str
    source: str
    better: str
    help: str


@router.get(
    "/reports/metrics", response=list[ReportsMetricOut], summary="Every metric's definition"
)
def metric_definitions(request: HttpRequest) -> list[dict[str, Any]]:
    require_perm(request.user, "reports.view")
    return [
        {
            "id": m.id,
            "label": metric_label(m.id),
            "unit": m.unit,
            "source": m.source,
            "better": m.better,
            "help": _(m.help),
        }
        for m in METRICS.values()
    ]


class ReportsQuery(Schema):
    start: dt.date = Field(..., alias="from")
    end: dt.date = Field(..., alias="to")
    type: int | None = Field(None, ge=1, le=2**63 - 1)
    channel: str = Field("", max_length=16)
    category: int | None = Field(None, ge=1, le=2**63 - 1)
    subject: str = Field("", max_length=16)
    area: str = Field("", max_length=16)
    team: int | None = Field(None, ge=1, le=2**63 - 1)
    agent: int | None = Field(None, ge=1, le=2**63 - 1)
    queue: str = Field("", max_length=64)


def _scope(q: ReportsQuery) -> F.Scope:
    if not (q.start.year >= MIN_YEAR and q.end.year <= MAX_YEAR):
        raise HttpError(422, _("Dates from %(a)d to %(b)d only.") % {"a": MIN_YEAR, "b": MAX_YEAR})
    if q.end < q.start:
        raise HttpError(422, _("“to” is before “from”."))
    if (q.end - q.start).days > MAX_DAYS:
        raise HttpError(422, _("At most three years at a time."))
    return F.Scope(
        start=q.start,
        end=q.end,
        tz=timezone.get_current_timezone(),
        ticket_type=q.type,
        channel=q.channel,
        category=q.category,
        subject=q.subject,
        area=q.area,
        team=q.team,
        agent=q.agent,
        queue=q.queue,
    )


class ReportsFiguresOut(Out):
    start: dt.date
    end: dt.date
    figures: dict[str, float | int | None]


@router.get(
    "/reports/figures",
    response=ReportsFiguresOut,
    summary="Every figure for a period and filters",
)
def figures(request: HttpRequest, q: Query[ReportsQuery]) -> dict[str, Any]:
    require_perm(request.user, "reports.view")
    scope = _scope(q)
    # the built-in sources but the present moment, and every registered one (e.g. chat)
    facts = F.gather(scope, sources=[*(s for s in SOURCES if s != "live"), *F.EXTRA_SOURCES])
    chosen = [m for m, d in METRICS.items() if d.source != "live"]
    return {"start": scope.start, "end": scope.end, "figures": values(facts, chosen)}


class ReportsTableQuery(ReportsQuery):
    table: Literal[
        "type", "channel", "category", "subject", "area", "team", "sla_type", "departments",
        "queues", "call_days", "surveys", "scorecards",
    ]  # fmt: skip


class ReportsRowOut(Out):
    key: str | None
    label: str
    figures: dict[str, float | int | None]


class ReportsTableOut(Out):
    table: str
    title: str
    columns: list[str]
    rows: list[ReportsRowOut]


@router.get("/reports/table", response=ReportsTableOut, summary="One breakdown table")
def table(request: HttpRequest, q: Query[ReportsTableQuery]) -> dict[str, Any]:
    require_perm(request.user, "reports.view")
    report = build(_scope(q))
    found = report.tables.get(q.table)
    if found is None:
        return {"table": q.table, "title": _(TABLE_TITLES[q.table]), "columns": [], "rows": []}
    return {
        "table": q.table,
        "title": found.title,
        "columns": found.columns,
        "rows": [
            {"key": None if r.key is None else str(r.key), "label": r.label, "figures": r.values}
            for r in found.rows
        ],
    }


class ReportsTileOut(Out):
    id: str
    label: str
    value: float | int | None
    text: str
    level: Literal["ok", "warn", "alarm"]


class ReportsAgentOut(Out):
    id: int
    name: str
    no: str
    state: str
    state_label: str
    reason: str
    since: str | None
    seconds: int | None
    load: int


class ReportsQueueOut(Out):
    id: int
    name: str
    offered: int
    tiles: list[ReportsTileOut]


class ReportsHotlineOut(Out):
    name: str
    tiles: list[ReportsTileOut]


class ReportsWallboardOut(Out):
    day: str
    computed_at: str
    version: str
    centre: list[ReportsTileOut]
    queues: list[ReportsQueueOut]
    hotline: list[ReportsHotlineOut]
    agents: list[ReportsAgentOut]
    breaks: list[tuple[str, int]]


@router.get("/reports/wallboard", response=ReportsWallboardOut, summary="The wall board now")
def wallboard(request: HttpRequest) -> dict[str, Any]:
    from kefu.reports.wallboard import current_snapshot

    require_perm(request.user, "reports.wallboard")
    return current_snapshot()
