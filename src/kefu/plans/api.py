"""/api/v1/plans: service plans and their rounds, checklist templates, ticking a work order's
checklist, and rectifications with their state moves."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Status

from kefu.core.api_base import Input, Out
from kefu.core.permissions import require_perm
from kefu.core.validation import BodyId, PathId
from kefu.plans import access
from kefu.plans.models import ChecklistResult, ChecklistTemplate, Rectification
from kefu.plans.services import checklists, rectifications
from kefu.plans.services.setup import create_checklist, create_plan
from kefu.tickets.access import access_ticket

router = Router(tags=["Service plans and inspections"])


class PlansPlanOut(Out):
    id: int
    name: str
    kind: str
    customer_id: int | None
    site: str
    asset_id: int | None
    checklist_id: int | None
    frequency: str
    interval: int
    weekdays: list[int]
    day_of_month: int | None
    month: int | None
    rrule: str
    starts_on: dt.date
    ends_on: dt.date | None
    lead_days: int
    calendar_id: int | None
    shift: str
    assignee_id: int | None
    inspector_id: int | None
    is_active: bool
    next_due_on: dt.date | None
    last_period: dt.date | None


PLAN_OUT = tuple(PlansPlanOut.model_fields)


def _plan_out(plan: Any) -> dict[str, Any]:
    return {name: getattr(plan, name) for name in PLAN_OUT}


@router.get("/plans", response=list[PlansPlanOut])
def list_plans(request: HttpRequest, kind: str = "", active: bool | None = None) -> list[Any]:
    require_perm(request.user, "plans.view")
    qs = access.visible_plans(request.user)
    if kind:
        qs = qs.filter(kind=kind[:20])
    if active is not None:
        qs = qs.filter(is_active=active)
    return [_plan_out(p) for p in qs.order_by("name")[:500]]


class PlansPlanIn(Input):
    name: str
    kind: Literal[
        "inspection", "maintenance", "installation", "fire_safety", "drill", "training", "care"
    ]
    frequency: Literal["once", "daily", "weekly", "monthly", "quarterly", "yearly", "rrule"]
    starts_on: dt.date
    description: str = ""
    customer: BodyId | None = None
    site: str = ""
    asset: BodyId | None = None
    checklist: BodyId | None = None
    interval: int = 1
    weekdays: list[int] = []
    day_of_month: int | None = None
    month: int | None = None
    rrule: str = ""
    ends_on: dt.date | None = None
    lead_days: int = 0
    calendar: BodyId | None = None
    shift: Literal["none", "next", "previous"] = "next"
    assignee: BodyId | None = None
    inspector: BodyId | None = None
    rectify_days: int = 7
    care_action: Literal["", "callback", "notice", "both"] = ""
    care_trigger: Literal["schedule", "after_tag"] = "schedule"
    audience_tier: BodyId | None = None
    audience_tag: BodyId | None = None
    trigger_tag: str = ""
    delay_days: int = 0
    notice_channel: Literal["", "sms", "email"] = ""
    notice_text: str = ""


def _ref(model: Any, pk: int | None, field: str, **filters: Any) -> Any:
    if pk is None:
        return None
    found = model.objects.filter(pk=pk, **filters).first()
    if found is None:
        raise ValidationError({field: ["No such record."]})
    return found


@router.post("/plans", response={201: PlansPlanOut})
def add_plan(request: HttpRequest, body: PlansPlanIn) -> Status[Any]:
    from kefu.accounts.models import User
    from kefu.customers.access import access_customer
    from kefu.customers.models import Tag, VipTier
    from kefu.sla.models import BusinessCalendar

    require_perm(request.user, "plans.manage")
    for name, low, high in (("interval", 1, 366), ("lead_days", 0, 365),
                            ("rectify_days", 0, 365), ("delay_days", 0, 365)):  # fmt: skip
        if not low <= getattr(body, name) <= high:
            raise ValidationError({name: [f"Between {low} and {high}."]})
    data = body.model_dump()
    data["customer"] = (
        access_customer(request.user, body.customer) if body.customer is not None else None
    )
    data["asset"] = None
    if body.asset is not None:
        from kefu.field.models import Asset

        asset = _ref(Asset, body.asset, "asset")
        access_customer(request.user, asset.customer_id)
        data["asset"] = asset
    data["checklist"] = _ref(ChecklistTemplate, body.checklist, "checklist")
    data["calendar"] = _ref(BusinessCalendar, body.calendar, "calendar")
    data["assignee"] = _ref(User, body.assignee, "assignee", is_active=True)
    data["inspector"] = _ref(User, body.inspector, "inspector", is_active=True)
    data["audience_tier"] = _ref(VipTier, body.audience_tier, "audience_tier")
    data["audience_tag"] = _ref(Tag, body.audience_tag, "audience_tag")
    actor: Any = request.user
    plan = create_plan(actor=actor, **data)
    return Status(201, _plan_out(plan))


class PlansRoundOut(Out):
    id: int
    period_start: dt.date
    due_on: dt.date
    ticket: str | None
    targets: int
    finished_at: dt.datetime | None


@router.get("/plans/{plan_id}/rounds", response=list[PlansRoundOut])
def plan_rounds(request: HttpRequest, plan_id: PathId) -> list[dict[str, Any]]:
    plan = access.access_plan(request.user, plan_id)
    return [
        {
            "id": r.pk,
            "period_start": r.period_start,
            "due_on": r.due_on,
            "ticket": r.ticket.number if r.ticket else None,
            "targets": r.targets,
            "finished_at": r.finished_at,
        }
        for r in plan.rounds.select_related("ticket").order_by("-period_start")[:200]
    ]


class PlansItemIn(Input):
    text: str
    section: str = ""
    guidance: str = ""
    photo_required: bool = False


class PlansChecklistIn(Input):
    name: str
    kind: Literal[
        "inspection", "maintenance", "installation", "fire_safety", "drill", "training", "care"
    ]
    description: str = ""
    items: list[PlansItemIn]


class PlansChecklistOut(Out):
    id: int
    name: str
    kind: str
    version: int
    items: list[str]


@router.post("/plans/checklists", response={201: PlansChecklistOut})
def add_checklist(request: HttpRequest, body: PlansChecklistIn) -> Status[Any]:
    require_perm(request.user, "plans.manage")
    actor: Any = request.user
    template = create_checklist(
        actor=actor,
        name=body.name,
        kind=body.kind,
        description=body.description,
        items=[i.model_dump() for i in body.items],
    )
    version = template.versions.get()
    return Status(
        201,
        {
            "id": template.pk,
            "name": template.name,
            "kind": template.kind,
            "version": version.number,
            "items": [i.text for i in version.items.all()],
        },
    )


class PlansResultOut(Out):
    id: int
    position: int
    text: str
    result: str
    note: str
    rectification: str | None


def _results(ticket: Any) -> list[dict[str, Any]]:
    rows = ChecklistResult.objects.filter(run__ticket=ticket).select_related(
        "item", "rectification__ticket"
    )
    out = []
    for r in rows:
        rect = getattr(r, "rectification", None)
        out.append(
            {
                "id": r.pk,
                "position": r.item.position,
                "text": r.item.text,
                "result": r.result,
                "note": r.note,
                "rectification": rect.ticket.number if rect is not None else None,
            }
        )
    return out


@router.get("/plans/tickets/{ref}/checklist", response=list[PlansResultOut])
def ticket_checklist(request: HttpRequest, ref: str) -> list[dict[str, Any]]:
    require_perm(request.user, "plans.view")
    ticket = access_ticket(request.user, ref[:40])
    return _results(ticket)


class PlansCheckIn(Input):
    result: Literal["pass", "fail", "na"]
    note: str = ""


@router.post("/plans/tickets/{ref}/checklist/{result_id}", response=list[PlansResultOut])
def tick(
    request: HttpRequest, ref: str, result_id: PathId, body: PlansCheckIn
) -> list[dict[str, Any]]:
    ticket = access_ticket(request.user, ref[:40], perm="tickets.edit")
    actor: Any = request.user
    result = checklists.access_result(actor, ticket, result_id)
    checklists.check_item(actor=actor, result=result, value=body.result, note=body.note)
    return _results(ticket)


class PlansRectificationOut(Out):
    id: int
    ticket: str
    hazard: str
    state: str
    owner_id: int
    inspector_id: int
    deadline: dt.datetime
    overdue: bool
    escalation_level: int
    evidence_note: str
    version: int


def _rect_out(r: Rectification, now: dt.datetime) -> dict[str, Any]:
    return {
        "id": r.pk,
        "ticket": r.ticket.number,
        "hazard": r.hazard,
        "state": r.state,
        "owner_id": r.owner_id,
        "inspector_id": r.inspector_id,
        "deadline": r.deadline,
        "overdue": r.state in rectifications.OVERDUE_STATES and r.deadline < now,
        "escalation_level": r.escalation_level,
        "evidence_note": r.evidence_note,
        "version": r.version,
    }


@router.get("/plans/rectifications", response=list[PlansRectificationOut])
def list_rectifications(
    request: HttpRequest, state: str = "", overdue: bool = False
) -> list[dict[str, Any]]:
    qs = access.visible_rectifications(request.user).select_related("ticket")
    now = timezone.now()
    if state:
        qs = qs.filter(state=state[:20])
    if overdue:
        qs = qs.filter(rectifications.overdue_q(now))
    return [_rect_out(r, now) for r in qs.order_by("-escalation_level", "deadline")[:500]]


class PlansMoveIn(Input):
    to: Literal["rectifying", "submitted", "signed_off", "returned"]
    note: str = ""
    version: int | None = None


@router.post("/plans/rectifications/{rect_id}/move", response=PlansRectificationOut)
def move(request: HttpRequest, rect_id: PathId, body: PlansMoveIn) -> dict[str, Any]:
    rect = access.access_rectification(request.user, rect_id)
    actor: Any = request.user
    rect = rectifications.transition_rectification(
        actor=actor, rect=rect, to=body.to, note=body.note, expected_version=body.version
    )
    return _rect_out(rect, timezone.now())
