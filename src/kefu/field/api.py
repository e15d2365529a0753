"""Field service in the API: visits (dispatch, the visit's moves), a work order's field
records, remote-support sessions, customer assets, spare parts, reservations and stock."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from ninja.errors import HttpError
from pydantic import Field

from kefu.accounts.models import User
from kefu.core.api_base import Input, Out
from kefu.core.pagination import CursorError, SortKey, paginate
from kefu.core.permissions import require_perm
from kefu.core.validation import BodyId, PathId
from kefu.customers.access import access_customer
from kefu.field import access, selectors, services, stock
from kefu.field.models import (
    Asset,
    Location,
    Part,
    RemoteSession,
    Reservation,
    ServiceLevel,
    Stock,
    Visit,
    VisitPhoto,
)

router = Router(tags=["Field service"])


def _me(request: HttpRequest) -> User:
    """The signed-in staff member (the API refuses anonymous requests before this)."""
    user = request.user
    if not isinstance(user, User):
        raise Http404
    return user


# --- shapes ---------------------------------------------------------------------------------------


class FieldVisitOut(Out):
    id: int
    ticket: str
    engineer: int
    engineer_name: str
    state: str
    window_start: dt.datetime
    window_end: dt.datetime
    address: str
    contact_name: str
    contact_phone: str
    asset: int | None
    instructions: str
    travel_started_at: dt.datetime | None
    arrived_at: dt.datetime | None
    arrival_lat: float | None
    arrival_lng: float | None
    departed_at: dt.datetime | None
    report: str
    outcome: str
    photos: int
    confirmed_at: dt.datetime | None
    confirmed_name: str
    confirmed_via: str
    disputed_at: dt.datetime | None
    cancel_reason: str


def _visit_out(v: Visit, photos: int | None = None) -> dict[str, Any]:
    return {
        "id": v.pk,
        "ticket": v.ticket.number,
        "engineer": v.engineer_id,
        "engineer_name": v.engineer.display_name,
        "state": v.state,
        "window_start": v.window_start,
        "window_end": v.window_end,
        "address": v.address,
        "contact_name": v.contact_name,
        "contact_phone": v.contact_phone,
        "asset": v.asset_id,
        "instructions": v.instructions,
        "travel_started_at": v.travel_started_at,
        "arrived_at": v.arrived_at,
        "arrival_lat": float(v.arrival_lat) if v.arrival_lat is not None else None,
        "arrival_lng": float(v.arrival_lng) if v.arrival_lng is not None else None,
        "departed_at": v.departed_at,
        "report": v.report,
        "outcome": v.outcome,
        "photos": photos if photos is not None else v.photos.count(),
        "confirmed_at": v.confirmed_at,
        "confirmed_name": v.confirmed_name,
        "confirmed_via": v.confirmed_via,
        "disputed_at": v.disputed_at,
        "cancel_reason": v.cancel_reason,
    }


def _photo_counts(visit_ids: list[int]) -> dict[int, int]:
    if not visit_ids:
        return {}
    rows = (
        VisitPhoto.objects.filter(visit_id__in=visit_ids)
        .values("visit_id")
        .annotate(n=Count("pk"))
        .values_list("visit_id", "n")
    )
    return dict(rows)


class FieldVisitPageOut(Out):
    items: list[FieldVisitOut]
    next_cursor: str | None


class FieldRemoteOut(Out):
    id: int
    ticket: str
    engineer: int
    tool: str
    tool_detail: str
    started_at: dt.datetime
    ended_at: dt.datetime | None
    outcome: str
    notes: str


def _remote_out(s: RemoteSession) -> dict[str, Any]:
    return {
        "id": s.pk,
        "ticket": s.ticket.number,
        "engineer": s.engineer_id,
        "tool": s.tool,
        "tool_detail": s.tool_detail,
        "started_at": s.started_at,
        "ended_at": s.ended_at,
        "outcome": s.outcome,
        "notes": s.notes,
    }


class FieldReservationOut(Out):
    id: int
    ticket: str
    part: int
    part_code: str
    location: int
    qty: int
    consumed: int
    released: int
    open_qty: int


def _reservation_out(r: Reservation) -> dict[str, Any]:
    return {
        "id": r.pk,
        "ticket": r.ticket.number,
        "part": r.part_id,
        "part_code": r.part.code,
        "location": r.location_id,
        "qty": r.qty,
        "consumed": r.consumed,
        "released": r.released,
        "open_qty": r.open_qty,
    }


class FieldDeadlineOut(Out):
    kind: str
    due_at: dt.datetime
    met_at: dt.datetime | None
    breached_at: dt.datetime | None
    service_level: str


class FieldAssetOut(Out):
    id: int
    customer: int
    product: str
    model: str
    serial: str
    installed_on: dt.date | None
    address: str
    warranty_until: dt.date | None
    contract_number: str
    contract_until: dt.date | None
    service_level: int | None
    service_level_name: str | None
    covered: bool
    notes: str
    is_active: bool


def _asset_out(a: Asset, today: dt.date) -> dict[str, Any]:
    return {
        "id": a.pk,
        "customer": a.customer_id,
        "product": a.product,
        "model": a.model,
        "serial": a.serial,
        "installed_on": a.installed_on,
        "address": a.address,
        "warranty_until": a.warranty_until,
        "contract_number": a.contract_number,
        "contract_until": a.contract_until,
        "service_level": a.service_level_id,
        "service_level_name": a.service_level.name if a.service_level else None,
        "covered": a.level_on(today) is not None,
        "notes": a.notes,
        "is_active": a.is_active,
    }


class FieldTicketOut(Out):
    visits: list[FieldVisitOut]
    remote_sessions: list[FieldRemoteOut]
    reservations: list[FieldReservationOut]
    deadlines: list[FieldDeadlineOut]
    assets: list[FieldAssetOut]


class FieldStockOut(Out):
    location: int
    location_name: str
    on_hand: int
    reserved: int
    available: int
    min_qty: int
    low: bool
    suggested_order: int
    daily_use: float


class FieldPartOut(Out):
    id: int
    code: str
    name: str
    unit: str
    lead_time_days: int
    stock: list[FieldStockOut]


class FieldLowStockOut(Out):
    part: int
    part_code: str
    location: int
    available: int
    min_qty: int
    daily_use: float
    lead_time_days: int
    suggested_order: int
    arrives_on: dt.date | None
    runs_out_on: dt.date | None


# --- visits ---------------------------------------------------------------------------------------


class FieldVisitFilter(Schema):
    engineer: Literal["me", "all"] = "all"
    state: str = ""
    cursor: str | None = None
    limit: int = Field(50, ge=1, le=200)


@router.get("/field/visits", response=FieldVisitPageOut, summary="Visits (newest first)")
def list_visits(request: HttpRequest, filters: Query[FieldVisitFilter]) -> dict[str, Any]:
    require_perm(request.user, "field.view")
    qs = access.visible_visits(request.user).select_related("ticket", "engineer")
    if filters.engineer == "me":
        qs = qs.filter(engineer_id=request.user.pk)
    if filters.state:
        if filters.state not in Visit.State.values:
            raise ValidationError({"state": [_("Unknown state.")]})
        qs = qs.filter(state=filters.state)
    try:
        page = paginate(
            qs,
            sort="-id",
            keys={"id": SortKey("id", "int")},
            cursor=filters.cursor,
            limit=filters.limit,
        )
    except CursorError as exc:
        raise HttpError(400, str(exc)) from None
    counts = _photo_counts([v.pk for v in page.items])
    return {
        "items": [_visit_out(v, counts.get(v.pk, 0)) for v in page.items],
        "next_cursor": page.next_cursor,
    }


@router.get("/field/visits/{visit_id}", response=FieldVisitOut, summary="One visit")
def get_visit(request: HttpRequest, visit_id: PathId) -> dict[str, Any]:
    return _visit_out(access.access_visit(request.user, visit_id))


class FieldDispatchIn(Input):
    engineer: BodyId
    window_start: dt.datetime
    window_end: dt.datetime
    address: str = Field("", max_length=200)
    asset: BodyId | None = None
    contact_name: str = Field("", max_length=60)
    contact_phone: str = Field("", max_length=32)
    instructions: str = Field("", max_length=2000)


@router.post(
    "/tickets/{ref}/visits", response={201: FieldVisitOut}, summary="Send an engineer on site"
)
def dispatch_visit(request: HttpRequest, ref: str, payload: FieldDispatchIn) -> Any:
    ticket = access.field_ticket(request.user, ref, perm="field.dispatch")
    asset = None
    if payload.asset is not None:
        asset = access.visible_assets(request.user).filter(pk=payload.asset).first()
        if asset is None:
            raise ValidationError({"asset": [_("No such asset.")]})
    visit = services.dispatch_visit(
        actor=_me(request),
        ticket=ticket,
        engineer=User.objects.filter(pk=payload.engineer).first(),
        window_start=payload.window_start,
        window_end=payload.window_end,
        address=payload.address,
        asset=asset,
        contact_name=payload.contact_name,
        contact_phone=payload.contact_phone,
        instructions=payload.instructions,
    )
    return Status(201, _visit_out(visit, 0))


class FieldPartUseIn(Input):
    reservation: BodyId
    qty: int = Field(..., ge=1, le=stock.MAX_QTY)


class FieldMoveIn(Input):
    to: Literal["en_route", "on_site", "done", "confirmed", "cancelled"]
    lat: float | None = Field(None, ge=-90, le=90)
    lng: float | None = Field(None, ge=-180, le=180)
    accuracy: int | None = Field(None, ge=0, le=100_000)
    report: str = Field("", max_length=5000)
    outcome: str = ""
    parts: list[FieldPartUseIn] = Field(default_factory=list, max_length=50)
    name: str = Field("", max_length=60)
    comment: str = Field("", max_length=500)
    reason: str = Field("", max_length=200)


@router.post(
    "/field/visits/{visit_id}/transitions",
    response=FieldVisitOut,
    summary="Move a visit: travel, check in, check out with the report, confirm, cancel",
)
def move_visit(request: HttpRequest, visit_id: PathId, payload: FieldMoveIn) -> dict[str, Any]:
    visit = access.access_visit(request.user, visit_id)
    used: dict[int, Any] = {}
    for p in payload.parts:
        used[p.reservation] = used.get(p.reservation, 0) + p.qty
    visit = services.transition_visit(
        actor=_me(request),
        visit=visit,
        to=payload.to,
        lat=payload.lat,
        lng=payload.lng,
        accuracy=payload.accuracy,
        report=payload.report,
        outcome=payload.outcome,
        used=used,
        name=payload.name,
        comment=payload.comment,
        reason=payload.reason,
    )
    return _visit_out(access.access_visit(request.user, visit.pk))


@router.get("/tickets/{ref}/field", response=FieldTicketOut, summary="A work order's field service")
def ticket_field(request: HttpRequest, ref: str) -> dict[str, Any]:
    ticket = access.field_ticket(request.user, ref, perm="field.view")
    data = selectors.ticket_field(ticket)
    today = timezone.localdate()
    for v in data.visits:
        v.ticket = ticket
    for s in data.sessions:
        s.ticket = ticket
    for r in data.reservations:
        r.ticket = ticket
    photos = _photo_counts([v.pk for v in data.visits])
    return {
        "visits": [_visit_out(v, photos.get(v.pk, 0)) for v in data.visits],
        "remote_sessions": [_remote_out(s) for s in data.sessions],
        "reservations": [_reservation_out(r) for r in data.reservations],
        "deadlines": [
            {
                "kind": d.kind,
                "due_at": d.due_at,
                "met_at": d.met_at,
                "breached_at": d.breached_at,
                "service_level": d.service_level.name,
            }
            for d in data.deadlines
        ],
        "assets": [_asset_out(a, today) for a in data.assets],
    }


# --- remote support -------------------------------------------------------------------------------


class FieldRemoteIn(Input):
    tool: Literal["phone", "desktop", "video", "login", "other"]
    tool_detail: str = Field("", max_length=80)
    started_at: dt.datetime | None = None
    ended_at: dt.datetime | None = None
    outcome: Literal["", "resolved", "workaround", "onsite", "not_fixed"] = ""
    notes: str = Field("", max_length=5000)


@router.post(
    "/tickets/{ref}/remote-sessions",
    response={201: FieldRemoteOut},
    summary="Log a remote-support session",
)
def log_remote(request: HttpRequest, ref: str, payload: FieldRemoteIn) -> Any:
    ticket = access.field_ticket(request.user, ref, perm="field.remote")
    session = services.log_remote_session(actor=_me(request), ticket=ticket, **payload.dict())
    return Status(201, _remote_out(session))


class FieldRemoteEndIn(Input):
    outcome: Literal["resolved", "workaround", "onsite", "not_fixed"]
    notes: str = Field("", max_length=5000)


@router.post(
    "/field/remote-sessions/{session_id}/end",
    response=FieldRemoteOut,
    summary="End a remote-support session",
)
def end_remote(request: HttpRequest, session_id: PathId, payload: FieldRemoteEndIn) -> Any:
    session = access.access_remote_session(request.user, session_id)
    session = services.end_remote_session(
        actor=_me(request), session=session, outcome=payload.outcome, notes=payload.notes
    )
    return _remote_out(session)


# --- assets ---------------------------------------------------------------------------------------


class FieldAssetFilter(Schema):
    customer: PathId | None = None
    q: str = Field("", max_length=80)
    cursor: str | None = None
    limit: int = Field(50, ge=1, le=200)


class FieldAssetPageOut(Out):
    items: list[FieldAssetOut]
    next_cursor: str | None


@router.get("/field/assets", response=FieldAssetPageOut, summary="Customer assets")
def list_assets(request: HttpRequest, filters: Query[FieldAssetFilter]) -> dict[str, Any]:
    require_perm(request.user, "field.view")
    qs = access.visible_assets(request.user).select_related("service_level")
    if filters.customer is not None:
        qs = qs.filter(customer_id=filters.customer)
    if filters.q:
        qs = qs.filter(
            Q(serial__icontains=filters.q)
            | Q(product__icontains=filters.q)
            | Q(model__icontains=filters.q)
        )
    try:
        page = paginate(
            qs,
            sort="id",
            keys={"id": SortKey("id", "int")},
            cursor=filters.cursor,
            limit=filters.limit,
        )
    except CursorError as exc:
        raise HttpError(400, str(exc)) from None
    today = timezone.localdate()
    return {"items": [_asset_out(a, today) for a in page.items], "next_cursor": page.next_cursor}


@router.get("/field/assets/{asset_id}", response=FieldAssetOut, summary="One asset")
def get_asset(request: HttpRequest, asset_id: PathId) -> dict[str, Any]:
    return _asset_out(access.access_asset(request.user, asset_id), timezone.localdate())


class FieldAssetIn(Input):
    product: str = Field(..., max_length=80)
    model: str = Field(..., max_length=80)
    serial: str = Field(..., max_length=80)
    installed_on: dt.date | None = None
    address: str = Field("", max_length=200)
    warranty_until: dt.date | None = None
    contract_number: str = Field("", max_length=40)
    contract_until: dt.date | None = None
    service_level: BodyId | None = None
    notes: str = Field("", max_length=2000)
    is_active: bool = True


class FieldAssetCreateIn(FieldAssetIn):
    customer: BodyId


class FieldAssetPatchIn(Input):
    product: str | None = Field(None, max_length=80)
    model: str | None = Field(None, max_length=80)
    serial: str | None = Field(None, max_length=80)
    installed_on: dt.date | None = None
    address: str | None = Field(None, max_length=200)
    warranty_until: dt.date | None = None
    contract_number: str | None = Field(None, max_length=40)
    contract_until: dt.date | None = None
    service_level: BodyId | None = None
    notes: str | None = Field(None, max_length=2000)
    is_active: bool | None = None


def _level(values: dict[str, Any]) -> dict[str, Any]:
    if "service_level" in values and values["service_level"] is not None:
        level = ServiceLevel.objects.filter(pk=values["service_level"]).first()
        if level is None:
            raise ValidationError({"service_level": [_("No such service level.")]})
        values["service_level"] = level
    return values


@router.post("/field/assets", response={201: FieldAssetOut}, summary="Register an asset")
def create_asset(request: HttpRequest, payload: FieldAssetCreateIn) -> Any:
    values = payload.dict()
    try:
        customer = access_customer(request.user, values.pop("customer"))
    except Http404:
        raise ValidationError({"customer": [_("No such customer.")]}) from None
    asset = services.create_asset(actor=_me(request), customer=customer, values=_level(values))
    return Status(201, _asset_out(asset, timezone.localdate()))


@router.patch("/field/assets/{asset_id}", response=FieldAssetOut, summary="Change an asset")
def update_asset(request: HttpRequest, asset_id: PathId, payload: FieldAssetPatchIn) -> Any:
    asset = access.access_asset(request.user, asset_id, perm="field.assets")
    values = _level(payload.dict(exclude_unset=True))
    for name in ("product", "model", "serial", "is_active"):
        if name in values and values[name] is None:
            raise ValidationError({name: [_("This field cannot be empty.")]})
    asset = services.update_asset(actor=_me(request), asset=asset, values=values)
    asset = Asset.objects.select_related("service_level").get(pk=asset.pk)
    return _asset_out(asset, timezone.localdate())


# --- spare parts ----------------------------------------------------------------------------------


def _part_out(part: Part, rows: list[Stock], used: dict[tuple[int, int], int]) -> dict[str, Any]:
    today = timezone.localdate()
    out = []
    for s in rows:
        s.part = part
        g = selectors.suggestion_for(s, used, today)
        out.append(
            {
                "location": s.location_id,
                "location_name": s.location.name,
                "on_hand": s.on_hand,
                "reserved": s.reserved,
                "available": s.available,
                "min_qty": s.min_qty,
                "low": s.is_low,
                "suggested_order": g.order_qty,
                "daily_use": g.daily_use,
            }
        )
    return {
        "id": part.pk,
        "code": part.code,
        "name": part.name,
        "unit": part.unit,
        "lead_time_days": part.lead_time_days,
        "stock": out,
    }


@router.get("/field/parts", response=list[FieldPartOut], summary="Spare parts and their stock")
def list_parts(request: HttpRequest, q: str = "") -> list[dict[str, Any]]:
    require_perm(request.user, "field.view")
    parts = Part.objects.filter(is_active=True)
    if q:
        parts = parts.filter(Q(code__icontains=q[:80]) | Q(name__icontains=q[:80]))
    rows = list(parts.order_by("code")[:500])
    by_part: dict[int, list[Stock]] = {}
    for s in Stock.objects.filter(part__in=rows).select_related("location"):
        by_part.setdefault(s.part_id, []).append(s)
    used = selectors.used_in_period(timezone.localdate())
    return [_part_out(p, by_part.get(p.pk, []), used) for p in rows]


@router.get("/field/parts/{part_id}", response=FieldPartOut, summary="One part and its stock")
def get_part(request: HttpRequest, part_id: PathId) -> dict[str, Any]:
    part = access.access_part(request.user, part_id)
    rows = list(Stock.objects.filter(part=part).select_related("location"))
    return _part_out(part, rows, selectors.used_in_period(timezone.localdate()))


def _location(pk: int, field: str = "location") -> Location:
    location = Location.objects.filter(pk=pk).first()
    if location is None:
        raise ValidationError({field: [_("No such location.")]})
    return location


class FieldReceiveIn(Input):
    location: BodyId
    qty: int = Field(..., ge=1, le=stock.MAX_QTY)
    note: str = Field("", max_length=200)


@router.post("/field/parts/{part_id}/receive", response=FieldPartOut, summary="Receive parts")
def receive(request: HttpRequest, part_id: PathId, payload: FieldReceiveIn) -> dict[str, Any]:
    part = access.access_part(request.user, part_id, perm="field.stock")
    stock.receive(
        actor=_me(request),
        part=part,
        location=_location(payload.location),
        qty=payload.qty,
        note=payload.note,
    )
    return get_part(request, part_id)


class FieldTransferIn(Input):
    source: BodyId
    target: BodyId
    qty: int = Field(..., ge=1, le=stock.MAX_QTY)
    note: str = Field("", max_length=200)


@router.post("/field/parts/{part_id}/transfer", response=FieldPartOut, summary="Transfer parts")
def transfer(request: HttpRequest, part_id: PathId, payload: FieldTransferIn) -> dict[str, Any]:
    part = access.access_part(request.user, part_id, perm="field.stock")
    stock.transfer(
        actor=_me(request),
        part=part,
        source=_location(payload.source, "source"),
        target=_location(payload.target, "target"),
        qty=payload.qty,
        note=payload.note,
    )
    return get_part(request, part_id)


class FieldReserveIn(Input):
    part: BodyId
    location: BodyId
    qty: int = Field(..., ge=1, le=stock.MAX_QTY)


@router.post(
    "/tickets/{ref}/part-reservations",
    response={201: FieldReservationOut},
    summary="Reserve parts for a work order",
)
def reserve(request: HttpRequest, ref: str, payload: FieldReserveIn) -> Any:
    ticket = access.field_ticket(request.user, ref, perm="field.parts")
    part = Part.objects.filter(pk=payload.part).first()
    if part is None:
        raise ValidationError({"part": [_("No such part.")]})
    reservation = stock.reserve(
        actor=_me(request),
        ticket=ticket,
        part=part,
        location=_location(payload.location),
        qty=payload.qty,
    )
    return Status(201, _reservation_out(reservation))


class FieldQtyIn(Input):
    qty: int | None = Field(None, ge=1, le=stock.MAX_QTY)


@router.post(
    "/field/reservations/{reservation_id}/consume",
    response=FieldReservationOut,
    summary="Use reserved parts",
)
def consume(request: HttpRequest, reservation_id: PathId, payload: FieldQtyIn) -> Any:
    reservation = access.access_reservation(request.user, reservation_id)
    if payload.qty is None:
        raise ValidationError({"qty": [_("This field is required.")]})
    reservation = stock.consume(actor=_me(request), reservation=reservation, qty=payload.qty)
    return _reservation_out(reservation)


@router.post(
    "/field/reservations/{reservation_id}/release",
    response=FieldReservationOut,
    summary="Give reserved parts back (all that is left when qty is not given)",
)
def release(request: HttpRequest, reservation_id: PathId, payload: FieldQtyIn) -> Any:
    reservation = access.access_reservation(request.user, reservation_id)
    reservation = stock.release(actor=_me(request), reservation=reservation, qty=payload.qty)
    return _reservation_out(reservation)


@router.get("/field/low-stock", response=list[FieldLowStockOut], summary="Stock below its minimum")
def low_stock(request: HttpRequest) -> list[dict[str, Any]]:
    require_perm(request.user, "field.view")
    return [
        {
            "part": r.stock.part_id,
            "part_code": r.stock.part.code,
            "location": r.stock.location_id,
            "available": r.stock.available,
            "min_qty": r.stock.min_qty,
            "daily_use": r.suggestion.daily_use,
            "lead_time_days": r.stock.part.lead_time_days,
            "suggested_order": r.suggestion.order_qty,
            "arrives_on": r.suggestion.arrives_on,
            "runs_out_on": r.suggestion.runs_out_on,
        }
        for r in selectors.low_stock()
    ]
