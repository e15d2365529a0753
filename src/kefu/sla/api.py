"""SLA in the API: a work order's clocks and deadline history, milestones, the reason for a
breach, policies and calendars (with a deadline calculator), and the compliance report."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from ninja.errors import HttpError
from pydantic import Field

from kefu.core.api_base import Input, Out
from kefu.core.permissions import Role, require_perm
from kefu.core.validation import PathId
from kefu.sla import calendars, clock, reports, services
from kefu.sla.models import BusinessCalendar, DeadlineChange, SlaClock, SlaPolicy
from kefu.tickets.access import access_ticket

router = Router(tags=["SLA"])


class DeadlineChangeOut(Out):
    at: dt.datetime
    old_due_at: dt.datetime | None
    new_due_at: dt.datetime | None
    reason: str
    actor: str | None


class ClockOut(Out):
    id: int
    metric: str
    state: Literal["running", "paused", "met", "breached", "cancelled"]
    policy: str | None
    calendar: str
    target_seconds: int
    used_seconds: int
    started_at: dt.datetime
    due_at: dt.datetime | None
    stopped_at: dt.datetime | None
    breached_at: dt.datetime | None
    warnings_fired: list[int]
    breach_reason: str
    transfer_id: int | None
    history: list[DeadlineChangeOut]


def _staff_ticket(request: HttpRequest, ref: str, perm: str = "tickets.view") -> Any:
    user = request.user
    if getattr(user, "role", None) == Role.CUSTOMER:
        raise HttpError(404, _("Not found."))
    return access_ticket(user, ref, perm=perm)


def _clock_out(c: SlaClock, history: list[DeadlineChange], now: dt.datetime) -> dict[str, Any]:
    return {
        "id": c.pk,
        "metric": c.metric,
        "state": c.state,
        "policy": c.policy.name if c.policy else None,
        "calendar": calendars.calendar_name(c.calendar_id),
        "target_seconds": c.target_seconds,
        "used_seconds": services.used(c, now),
        "started_at": c.started_at,
        "due_at": c.due_at,
        "stopped_at": c.stopped_at,
        "breached_at": c.breached_at,
        "warnings_fired": sorted(int(x) for x in c.fired),
        "breach_reason": c.breach_reason,
        "transfer_id": c.transfer_id,
        "history": [
            {
                "at": h.at,
                "old_due_at": h.old_due_at,
                "new_due_at": h.new_due_at,
                "reason": h.reason,
                "actor": h.actor.display_label if h.actor else None,
            }
            for h in history
        ],
    }


@router.get("/tickets/{ref}/sla", response=list[ClockOut], summary="A work order's SLA clocks")
def ticket_clocks(request: HttpRequest, ref: str) -> list[dict[str, Any]]:
    ticket = _staff_ticket(request, ref)
    clocks = list(
        SlaClock.objects.filter(ticket=ticket).select_related("policy").order_by("started_at", "id")
    )
    history: dict[int, list[DeadlineChange]] = {}
    for h in DeadlineChange.objects.filter(clock__in=clocks).select_related("actor"):
        history.setdefault(h.clock_id, []).append(h)
    now = timezone.now()
    return [_clock_out(c, history.get(c.pk, []), now) for c in clocks]


class MilestoneIn(Input):
    milestone: Literal["remote", "onsite"]


@router.post(
    "/tickets/{ref}/sla/milestones",
    response=list[ClockOut],
    summary="Remote support started, or engineer arrived on site",
)
def record_milestone(request: HttpRequest, ref: str, payload: MilestoneIn) -> list[dict[str, Any]]:
    ticket = _staff_ticket(request, ref, perm="tickets.transition")
    services.record_milestone(actor=request.user, ticket=ticket, milestone=payload.milestone)
    return ticket_clocks(request, ref)


class ReasonIn(Input):
    reason: str = Field(..., min_length=1, max_length=300)


@router.put(
    "/sla/clocks/{clock_id}/reason", response=ClockOut, summary="Say why a deadline was missed"
)
def explain_breach(request: HttpRequest, clock_id: PathId, payload: ReasonIn) -> dict[str, Any]:
    c = get_object_or_404(SlaClock.objects.select_related("ticket"), pk=clock_id)
    _staff_ticket(request, str(c.ticket.pk), perm="tickets.edit")
    c = services.explain_breach(actor=request.user, clock=c, reason=payload.reason)
    history = list(DeadlineChange.objects.filter(clock=c).select_related("actor"))
    return _clock_out(c, history, timezone.now())


class TargetOut(Out):
    metric: str
    amount: int
    unit: str
    seconds: int
    calendar_id: int
    calendar: str
    warn_at: list[int]


class PolicyOut(Out):
    id: int
    name: str
    order: int
    description: str
    types: list[str]
    categories: list[int]
    priorities: list[int]
    severities: list[str]
    channels: list[str]
    areas: list[str]
    vip_tiers: list[str]
    organizations: list[int]
    pause_statuses: list[str]
    targets: list[TargetOut]


def _require_staff(request: HttpRequest) -> None:
    if getattr(request.user, "role", None) == Role.CUSTOMER:
        raise PermissionDenied
    require_perm(request.user, "tickets.view")


@router.get("/sla/policies", response=list[PolicyOut], summary="Active SLA policies, in order")
def list_policies(request: HttpRequest) -> list[dict[str, Any]]:
    _require_staff(request)
    out = []
    for p in SlaPolicy.objects.filter(is_active=True).prefetch_related(
        "ticket_types", "categories", "vip_tiers", "organizations", "targets__calendar"
    ):
        out.append(
            {
                "id": p.pk,
                "name": p.name,
                "order": p.order,
                "description": p.description,
                "types": [t.code for t in p.ticket_types.all()],
                "categories": [c.pk for c in p.categories.all()],
                "priorities": list(p.priorities),
                "severities": list(p.severities),
                "channels": list(p.channels),
                "areas": list(p.areas),
                "vip_tiers": [t.code for t in p.vip_tiers.all()],
                "organizations": [o.pk for o in p.organizations.all()],
                "pause_statuses": list(p.pause_statuses),
                "targets": [
                    {
                        "metric": t.metric,
                        "amount": t.amount,
                        "unit": t.unit,
                        "seconds": (
                            compiled.seconds if (compiled := _compiled(p.pk, t.metric)) else 0
                        ),
                        "calendar_id": t.calendar_id,
                        "calendar": t.calendar.name,
                        "warn_at": list(t.warn_at),
                    }
                    for t in p.targets.all()
                ],
            }
        )
    return out


def _compiled(policy_id: PathId, metric: str) -> Any:
    from kefu.sla.policies import by_id

    policy = by_id(policy_id)
    return policy.targets.get(metric) if policy else None


class CalendarOut(Out):
    id: int
    code: str
    name: str
    kind: str
    tz: str
    hours: dict[str, list[list[str]]]
    working_day_seconds: int


@router.get("/sla/calendars", response=list[CalendarOut], summary="Business calendars")
def list_calendars(request: HttpRequest) -> list[dict[str, Any]]:
    _require_staff(request)
    return [
        {
            "id": c.pk,
            "code": c.code,
            "name": c.name,
            "kind": c.kind,
            "tz": c.tz,
            "hours": c.hours if c.kind != BusinessCalendar.Kind.ALWAYS else {},
            "working_day_seconds": calendars.standard_day(c.pk),
        }
        for c in BusinessCalendar.objects.all()
    ]


class DeadlineQuery(Schema):
    start: dt.datetime | None = Field(None, description="Default: now")
    seconds: int = Field(..., ge=1, le=10 * 366 * 86400, description="Working time to add")


class DeadlineOut(Out):
    calendar: str
    start: dt.datetime
    seconds: int
    due_at: dt.datetime


@router.get(
    "/sla/calendars/{calendar_id}/deadline",
    response=DeadlineOut,
    summary="When a given working time ends on a calendar",
)
def calendar_deadline(
    request: HttpRequest, calendar_id: PathId, q: Query[DeadlineQuery]
) -> dict[str, Any]:
    _require_staff(request)
    bc = get_object_or_404(BusinessCalendar, pk=calendar_id)
    start = q.start or timezone.now()
    if timezone.is_naive(start):
        raise HttpError(422, _("start needs a time zone, e.g. 2026-11-23T09:00:00+08:00."))
    try:
        due = clock.add_working_time(calendars.calendar(bc.pk), start, q.seconds)
    except ValueError as exc:
        raise HttpError(422, str(exc)) from exc
    return {"calendar": bc.name, "start": start, "seconds": q.seconds, "due_at": due}


class SlaReportQuery(Schema):
    start: dt.date = Field(..., alias="from")
    end: dt.date = Field(..., alias="to")
    group: Literal["policy", "team", "agent", "type", "month"] = "policy"


class CellOut(Out):
    metric: str
    total: int
    met: int
    percent: float | None
    avg_working_seconds: float | None


class RowOut(Out):
    key: str | None
    label: str
    total: int
    met: int
    percent: float | None
    metrics: list[CellOut]


@router.get("/sla/report", response=list[RowOut], summary="SLA compliance for a period")
def report(request: HttpRequest, q: Query[SlaReportQuery]) -> list[dict[str, Any]]:
    require_perm(request.user, "sla.view")
    if q.end < q.start:
        raise HttpError(422, _("“to” is before “from”."))
    if (q.end - q.start).days > 3 * 366:
        raise HttpError(422, _("At most three years at a time."))
    zone = timezone.get_current_timezone()
    since = dt.datetime.combine(q.start, dt.time.min, tzinfo=zone)
    until = dt.datetime.combine(q.end + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    rows = reports.compliance(q.group, since, until)
    return [
        {
            "key": str(r.key) if r.key is not None else None,
            "label": r.label,
            "total": r.total,
            "met": r.met,
            "percent": r.percent,
            "metrics": [
                {
                    "metric": m,
                    "total": cell.total,
                    "met": cell.met,
                    "percent": cell.percent,
                    "avg_working_seconds": round(cell.avg_seconds, 1)
                    if cell.avg_seconds is not None
                    else None,
                }
                for m, cell in r.cells.items()
            ],
        }
        for r in rows
    ]
