"""/api/v1/requirements: customer requirements — the ranked list, one requirement with its
sources, raising (from a work order, a chat or any contact), scoring, moving, merging."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from pydantic import Field

from kefu.core.api_base import Input, Out
from kefu.core.validation import BodyId, PathId
from kefu.requirements import access, selectors, services
from kefu.requirements.models import Requirement, Source

router = Router(tags=["Customer requirements"])

KindName = Literal["functional", "performance", "service", "emotional"]


class RequirementOut(Out):
    id: int
    reference: str
    title: str
    kind: str
    status: str
    importance: int | None
    feasibility: int | None
    benefit: int | None
    score: Decimal | None
    askers: int
    created_at: dt.datetime
    shipped_at: dt.datetime | None
    merged_into: int | None
    version: int


class RequirementSourceOut(Out):
    id: int
    channel: str
    label: str
    ticket: str | None
    customer_id: int | None
    note: str
    added_at: dt.datetime


class RequirementDetailOut(RequirementOut):
    description: str
    decision_note: str
    ship_note: str
    sources: list[RequirementSourceOut]


class RequirementListQuery(Schema):
    status: str = ""
    kind: str = ""
    q: str = Field("", max_length=100)
    all: bool = False


class RequirementCreateIn(Input):
    title: str = Field(max_length=150)
    kind: KindName
    description: str = Field("", max_length=8000)
    ticket: BodyId | None = None
    customer: BodyId | None = None
    note: str = Field("", max_length=500)


class RequirementSourceIn(Input):
    ticket: BodyId | None = None
    customer: BodyId | None = None
    note: str = Field("", max_length=500)


class RequirementScoreIn(Input):
    importance: int | None = Field(None, ge=1, le=5)
    feasibility: int | None = Field(None, ge=1, le=5)
    benefit: int | None = Field(None, ge=1, le=5)
    version: int | None = None


class RequirementMoveIn(Input):
    to: str = Field(max_length=20)
    note: str = Field("", max_length=4000)
    version: int | None = None


class RequirementMergeIn(Input):
    target: BodyId
    note: str = Field("", max_length=2000)


def _out(r: Requirement, askers: int | None = None) -> dict[str, Any]:
    return {
        "id": r.pk,
        "reference": r.reference,
        "title": r.title,
        "kind": r.kind,
        "status": r.status,
        "importance": r.importance,
        "feasibility": r.feasibility,
        "benefit": r.benefit,
        "score": r.score,
        "askers": askers
        if askers is not None
        else getattr(r, "askers", None) or len(services.asking_customers(r)),
        "created_at": r.created_at,
        "shipped_at": r.shipped_at,
        "merged_into": r.merged_into_id,
        "version": r.version,
    }


def _source(s: Source) -> dict[str, Any]:
    """One source as ``access.with_customers`` prepared it for the caller."""
    shown = s.shown_customer  # type: ignore[attr-defined]
    return {
        "id": s.pk,
        "channel": s.channel,
        "label": s.shown_label,  # type: ignore[attr-defined]
        "ticket": s.ticket.number if s.ticket else None,
        "customer_id": shown.pk if shown is not None else None,
        "note": s.note,
        "added_at": s.added_at,
    }


def _detail(request: HttpRequest, r: Requirement) -> dict[str, Any]:
    r.refresh_from_db()
    return {
        **_out(r, len(services.asking_customers(r))),
        "description": r.description,
        "decision_note": r.decision_note,
        "ship_note": r.ship_note,
        "sources": [
            _source(s)
            for s in access.with_customers(
                request.user, selectors.sources_of(access.visible_sources(request.user, r))
            )
        ],
    }


@router.get("/requirements", response=list[RequirementOut])
def list_requirements(
    request: HttpRequest, params: Query[RequirementListQuery]
) -> list[dict[str, Any]]:
    """Highest priority first (then most customers asking); open ones unless ``all``."""
    from kefu.requirements.models import Kind
    from kefu.requirements.states import Status as RequirementStatus

    f = selectors.Filters(
        status=params.status if params.status in RequirementStatus.values else "",
        kind=params.kind if params.kind in Kind.values else "",
        q=params.q,
        open_only=not params.all,
    )
    rows = selectors.ranked(access.visible_requirements(request.user), f)[:200]
    return [_out(r, r.askers) for r in rows]  # type: ignore[attr-defined]


@router.post("/requirements", response={201: RequirementDetailOut})
def create(request: HttpRequest, payload: RequirementCreateIn) -> Status[Any]:
    ticket = customer = None
    if payload.ticket is not None:
        from kefu.tickets.access import access_ticket

        ticket = access_ticket(request.user, payload.ticket)
    elif payload.customer is not None:
        from kefu.customers.access import access_customer

        customer = access_customer(request.user, payload.customer)
    r = services.create_requirement(
        actor=request.user,  # type: ignore[arg-type]
        title=payload.title,
        kind=payload.kind,
        description=payload.description,
        ticket=ticket,
        customer=customer,
        note=payload.note,
    )
    return Status(201, _detail(request, r))


@router.get("/requirements/{requirement_id}", response=RequirementDetailOut)
def get_requirement(request: HttpRequest, requirement_id: PathId) -> dict[str, Any]:
    return _detail(request, access.access_requirement(request.user, requirement_id))


@router.post("/requirements/{requirement_id}/sources", response={201: RequirementDetailOut})
def add_source(
    request: HttpRequest, requirement_id: PathId, payload: RequirementSourceIn
) -> Status[Any]:
    """Another customer asked: link their work order (or just them)."""
    from django.core.exceptions import ValidationError

    r = access.access_requirement(request.user, requirement_id, perm="requirements.raise")
    if payload.ticket is not None:
        from kefu.tickets.access import access_ticket

        ticket = access_ticket(request.user, payload.ticket)
        services.raise_from_ticket(
            actor=request.user,  # type: ignore[arg-type]
            ticket=ticket,
            requirement=r,
            note=payload.note,
        )
    elif payload.customer is not None:
        from kefu.customers.access import access_customer

        customer = access_customer(request.user, payload.customer)
        if (
            services.add_source(
                actor=request.user,  # type: ignore[arg-type]
                requirement=r,
                customer=customer,
                note=payload.note,
            )
            is None
        ):
            raise ValidationError({"customer": [_("This customer is linked already.")]})
    else:
        raise ValidationError({"ticket": [_("Give a work order or a customer.")]})
    return Status(201, _detail(request, r))


@router.post("/requirements/{requirement_id}/score", response=RequirementDetailOut)
def score(
    request: HttpRequest, requirement_id: PathId, payload: RequirementScoreIn
) -> dict[str, Any]:
    r = access.access_requirement(request.user, requirement_id, perm="requirements.manage")
    services.score_requirement(
        actor=request.user,  # type: ignore[arg-type]
        requirement=r,
        importance=payload.importance,
        feasibility=payload.feasibility,
        benefit=payload.benefit,
        expected_version=payload.version,
    )
    return _detail(request, r)


@router.post("/requirements/{requirement_id}/move", response=RequirementDetailOut)
def move(
    request: HttpRequest, requirement_id: PathId, payload: RequirementMoveIn
) -> dict[str, Any]:
    r = access.access_requirement(request.user, requirement_id, perm="requirements.manage")
    services.move_requirement(
        actor=request.user,  # type: ignore[arg-type]
        requirement=r,
        to=payload.to,
        note=payload.note,
        expected_version=payload.version,
    )
    return _detail(request, r)


@router.post("/requirements/{requirement_id}/merge", response=RequirementDetailOut)
def merge(
    request: HttpRequest, requirement_id: PathId, payload: RequirementMergeIn
) -> dict[str, Any]:
    source = access.access_requirement(request.user, requirement_id, perm="requirements.manage")
    target = access.access_requirement(request.user, payload.target, perm="requirements.manage")
    merged = services.merge_requirements(
        actor=request.user,  # type: ignore[arg-type]
        source=source,
        target=target,
        note=payload.note,
    )
    return _detail(request, merged)
