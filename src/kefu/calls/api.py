"""The hotline in the API: calls (list, one call, wrap-up, link a customer or a work order) and
KPIs. Every path loads calls through ``calls.access``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja import Query, Router
from pydantic import Field

from kefu.calls import kpi, selectors, services
from kefu.calls.access import access_call
from kefu.calls.models import Call, Outcome
from kefu.core.api_base import Input, Out
from kefu.core.pagination import SortKey, paginate
from kefu.core.permissions import require_perm
from kefu.core.validation import BodyId, PathId

router = Router(tags=["calls"])


class CallOut(Out):
    id: int
    source: str
    external_id: str
    state: str
    outcome: str
    started_at: dt.datetime
    offered_at: dt.datetime | None
    answered_at: dt.datetime | None
    ended_at: dt.datetime | None
    caller: str
    callee: str
    queue: str
    agent: str
    user: int | None
    customer: int | None
    ticket: str | None
    wait_s: int
    ring_s: int | None
    talk_s: int
    hold_s: int
    acw_s: int
    ivr_s: int
    ivr_path: str
    recording_url: str
    transferred: bool
    wrapup: str | None
    wrapup_note: str


class CallPage(Out):
    items: list[CallOut]
    next_cursor: str | None


def _out(c: Call) -> dict[str, Any]:
    return {
        "id": c.pk,
        "source": c.source,
        "external_id": c.external_id,
        "state": c.state,
        "outcome": c.outcome,
        "started_at": c.started_at,
        "offered_at": c.offered_at,
        "answered_at": c.answered_at,
        "ended_at": c.ended_at,
        "caller": c.caller,
        "callee": c.callee,
        "queue": c.queue,
        "agent": c.agent,
        "user": c.user_id,
        "customer": c.customer_id,
        "ticket": c.ticket.number if c.ticket_id and c.ticket else None,
        "wait_s": c.wait_s,
        "ring_s": c.ring_s,
        "talk_s": c.talk_s,
        "hold_s": c.hold_s,
        "acw_s": c.acw_s,
        "ivr_s": c.ivr_s,
        "ivr_path": c.ivr_path,
        "recording_url": c.recording_url,
        "transferred": c.transferred,
        "wrapup": c.wrapup.code if c.wrapup_id and c.wrapup else None,
        "wrapup_note": c.wrapup_note,
    }


class CallFilter(Input):
    queue: str = Field("", max_length=64)
    agent: str = Field("", max_length=80)
    outcome: str = Field("", max_length=10)
    caller: str = Field("", max_length=40)
    day: dt.date | None = None
    cursor: str | None = None
    limit: int = Field(50, ge=1, le=200)


SORT = {"started": SortKey("started_at", "datetime")}


@router.get("/calls", response=CallPage, summary="Calls, newest first")
def list_calls(request: HttpRequest, f: Query[CallFilter]) -> dict[str, Any]:
    require_perm(request.user, "calls.view")
    if f.outcome and f.outcome not in Outcome.values:
        from django.core.exceptions import ValidationError

        raise ValidationError({"outcome": [f"choose one of: {', '.join(Outcome.values)}"]})
    filters = selectors.CallFilters(
        queue=f.queue, agent=f.agent, outcome=f.outcome, day=f.day, caller=f.caller
    )
    from zoneinfo import ZoneInfo

    qs = selectors.list_calls(request.user, filters, ZoneInfo(settings.TIME_ZONE))
    page = paginate(qs, sort="-started", keys=SORT, cursor=f.cursor, limit=f.limit)
    return {"items": [_out(c) for c in page.items], "next_cursor": page.next_cursor}


@router.get("/calls/kpi", response=dict[str, Any], summary="Hotline KPIs for a date range")
def call_kpis(request: HttpRequest) -> dict[str, Any]:
    """Query parameters as on the KPI page: ``from``, ``to`` (dates), ``interval`` (15, 30,
    60), ``queue``, ``agent``, ``short_abandon``, ``sl`` (Y seconds), ``ring`` (R seconds)."""
    from kefu.calls.views import kpi_query

    require_perm(request.user, "calls.view")
    report = selectors.kpi_report(kpi_query(request.GET))

    def row(k: kpi.Kpis) -> dict[str, Any]:
        return {key: getattr(k, key) for key in kpi.KPI_KEYS}

    q = report.query
    return {
        "from": q.start.isoformat(),
        "to": q.end.isoformat(),
        "interval_minutes": q.interval_min,
        "short_abandon_s": q.short_abandon_s,
        "service_level_s": q.service_level_s,
        "timely_ring_s": q.timely_ring_s,
        "total": row(report.total),
        "by_day": [{"day": d.isoformat(), **row(k)} for d, k in report.by_day],
        "by_interval": [{"start": s.isoformat(), **row(k)} for s, k in report.by_interval],
        "by_queue": [{"queue": n, **row(k)} for n, k in report.by_queue],
        "by_agent": [{"agent": n, **row(k)} for n, k in report.by_agent],
    }


@router.get("/calls/{call_id}", response=CallOut, summary="One call")
def get_call(request: HttpRequest, call_id: PathId) -> dict[str, Any]:
    return _out(access_call(request.user, call_id))


class WrapUpIn(Input):
    code: str = Field(..., max_length=30)
    note: str = Field("", max_length=2000)
    acw_s: int | None = Field(None, ge=0, le=86_400)


@router.post("/calls/{call_id}/wrapup", response=CallOut, summary="Wrap up a call")
def wrap_up(request: HttpRequest, call_id: PathId, payload: WrapUpIn) -> dict[str, Any]:
    call = access_call(request.user, call_id, perm="calls.handle")
    services.wrap_up(
        actor=request.user, call=call, code=payload.code, note=payload.note, acw_s=payload.acw_s
    )
    return _out(access_call(request.user, call_id))


class CallLinkIn(Input):
    customer: BodyId | None = None
    ticket: str | None = Field(None, max_length=20)


@router.post("/calls/{call_id}/link", response=CallOut, summary="Link a customer or work order")
def link(request: HttpRequest, call_id: PathId, payload: CallLinkIn) -> dict[str, Any]:
    from django.core.exceptions import ValidationError

    call = access_call(request.user, call_id, perm="calls.handle")
    if payload.customer is None and payload.ticket is None:
        raise ValidationError({"customer": ["give a customer id or a work-order number"]})
    if payload.customer is not None:
        from kefu.customers.access import access_customer

        services.link_customer(
            actor=request.user, call=call, customer=access_customer(request.user, payload.customer)
        )
    if payload.ticket is not None:
        from kefu.tickets.access import access_ticket

        services.log_call_on_ticket(
            actor=request.user, call=call, ticket=access_ticket(request.user, payload.ticket)
        )
    return _out(access_call(request.user, call_id))
