"""Workforce management in the API: the staffing calculator, forecasts, overrides, rosters and
the caller's own schedule."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Router, Status
from pydantic import Field

from kefu.accounts.models import Team, User
from kefu.core.api_base import Input, Out
from kefu.core.permissions import require_perm, require_staff
from kefu.core.validation import PathId
from kefu.wfm import selectors, services
from kefu.wfm.access import access_forecast, access_roster
from kefu.wfm.models import Roster

router = Router(tags=["workforce"])


def _user(request: HttpRequest) -> User:
    user = request.user
    require_staff(user)
    assert isinstance(user, User)
    return user


class StaffingIn(Input):
    volume: list[float] = Field(min_length=1, max_length=40_000)
    aht_seconds: float = Field(gt=0, le=7200)
    interval_minutes: Literal[15, 30, 60] = 30
    model: Literal["erlang_c", "erlang_a"] = "erlang_c"
    service_level: float | None = Field(0.8, gt=0, lt=1)
    answer_seconds: float = Field(20, ge=0, le=3600)
    asa_seconds: float | None = Field(None, gt=0)
    abandonment: float | None = Field(None, gt=0, lt=1)
    patience_seconds: float | None = Field(None, gt=0)
    shrinkage: float = Field(0.0, ge=0, lt=1)
    max_occupancy: float | None = Field(None, gt=0, le=1)
    concurrency: float = Field(1.0, ge=1, le=20)


class StaffingOut(Out):
    servers: list[int]
    agents: list[int]
    scheduled: list[int]
    service_level: list[float]
    asa: list[float]
    abandonment: list[float]
    occupancy: list[float]


@router.post("/wfm/staffing", response=StaffingOut, summary="Agents needed per interval")
def staffing(request: HttpRequest, payload: StaffingIn) -> dict[str, Any]:
    require_perm(_user(request), "wfm.view")
    return services.staffing_table(
        payload.volume,
        payload.aht_seconds,
        payload.interval_minutes,
        model=payload.model,
        service_level=payload.service_level,
        answer_seconds=payload.answer_seconds,
        asa_seconds=payload.asa_seconds,
        abandonment=payload.abandonment,
        patience_seconds=payload.patience_seconds,
        shrinkage=payload.shrinkage,
        max_occupancy=payload.max_occupancy,
        concurrency=payload.concurrency,
    )


class ForecastIn(Input):
    name: str = Field(min_length=1, max_length=120)
    start: dt.date
    days: int = Field(ge=1, le=62)
    channel: str = "all"
    interval_minutes: Literal[15, 30, 60] = 30
    history_days: int = Field(56, ge=7, le=730)
    aht_seconds: float = Field(240, ge=10, le=7200)
    model: Literal["glm", "seasonal_naive"] = "glm"


class ForecastOut(Out):
    id: int
    name: str
    channel: str
    start: dt.date
    days: int
    interval_minutes: int
    model: str
    aht_seconds: float
    values: list[float]
    actual: list[int]
    wape_percent: float | None


def _forecast_out(fc: Any) -> dict[str, Any]:
    chart = selectors.forecast_vs_actual(fc)
    return {
        "id": fc.pk,
        "name": fc.name,
        "channel": fc.channel,
        "start": fc.start,
        "days": fc.days,
        "interval_minutes": fc.interval_minutes,
        "model": fc.model,
        "aht_seconds": fc.aht_seconds,
        "values": fc.values,
        "actual": chart["actual"],
        "wape_percent": chart["wape"],
    }


@router.post("/wfm/forecasts", response={201: ForecastOut}, summary="Make a forecast")
def create_forecast(request: HttpRequest, payload: ForecastIn) -> Status[dict[str, Any]]:
    fc = services.build_forecast(actor=_user(request), **payload.model_dump())
    return Status(201, _forecast_out(fc))


@router.get("/wfm/forecasts/{forecast_id}", response=ForecastOut, summary="A forecast")
def get_forecast(request: HttpRequest, forecast_id: PathId) -> dict[str, Any]:
    return _forecast_out(access_forecast(_user(request), forecast_id))


class OverrideIn(Input):
    channel: str = "all"
    starts_at: dt.datetime
    ends_at: dt.datetime
    percent: float
    reason: str = Field(min_length=1, max_length=200)


class OverrideOut(Out):
    id: int
    channel: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    percent: float
    reason: str


@router.post("/wfm/overrides", response={201: OverrideOut}, summary="Add a known event")
def create_override(request: HttpRequest, payload: OverrideIn) -> Status[dict[str, Any]]:
    ov = services.add_override(actor=_user(request), **payload.model_dump())
    return Status(
        201,
        {
            "id": ov.pk,
            "channel": ov.channel,
            "starts_at": ov.starts_at,
            "ends_at": ov.ends_at,
            "percent": ov.percent,
            "reason": ov.reason,
        },
    )


class RosterIn(Input):
    team: int
    forecast: int
    start: dt.date
    weeks: int = Field(1, ge=1, le=6)
    skill: str = Field("", max_length=40)
    service_level: float = Field(0.8, gt=0, lt=1)
    answer_seconds: int = Field(20, ge=0, le=3600)
    shrinkage: float = Field(0.3, ge=0, lt=0.9)
    max_occupancy: float = Field(0.9, ge=0.3, le=1)


class ShiftOut(Out):
    agent: int
    day: dt.date
    code: str


class RosterOut(Out):
    id: int
    team: int
    start: dt.date
    weeks: int
    status: str
    solver_status: str
    interval_minutes: int
    required: list[int]
    scheduled: list[int]
    short_intervals: int
    shifts: list[ShiftOut]


def _roster_out(ros: Roster) -> dict[str, Any]:
    cov = selectors.coverage(ros)
    return {
        "id": ros.pk,
        "team": ros.team_id,
        "start": ros.start,
        "weeks": ros.weeks,
        "status": ros.status,
        "solver_status": ros.solver_status,
        "interval_minutes": ros.interval_minutes,
        "required": cov["required"],
        "scheduled": cov["scheduled"],
        "short_intervals": cov["short_intervals"],
        "shifts": [
            {"agent": a, "day": d, "code": c}
            for a, d, c in ros.shifts.order_by("agent_id", "day").values_list(
                "agent_id", "day", "code"
            )
        ],
    }


@router.post("/wfm/rosters", response={201: RosterOut}, summary="Create a roster (solved later)")
def create_roster(request: HttpRequest, payload: RosterIn) -> Status[dict[str, Any]]:
    user = _user(request)
    require_perm(user, "wfm.plan")
    data = payload.model_dump()
    team = get_object_or_404(Team, pk=data.pop("team"))
    fc = access_forecast(user, data.pop("forecast"))
    ros = services.create_roster(actor=user, team=team, forecast_obj=fc, **data)
    return Status(201, _roster_out(ros))


@router.get("/wfm/rosters/{roster_id}", response=RosterOut, summary="A roster and its coverage")
def get_roster(request: HttpRequest, roster_id: PathId) -> dict[str, Any]:
    return _roster_out(access_roster(_user(request), roster_id))


class CellIn(Input):
    agent: int
    day: dt.date
    code: str = Field("", max_length=4, description="shift code, or empty for a day off")


class RosterCellOut(Out):
    agent: int
    day: dt.date
    code: str
    problems: list[str]


@router.put("/wfm/rosters/{roster_id}/shifts", response=RosterCellOut, summary="Change one shift")
def put_cell(request: HttpRequest, roster_id: PathId, payload: CellIn) -> dict[str, Any]:
    user = _user(request)
    ros = access_roster(user, roster_id)
    agent = get_object_or_404(User, pk=payload.agent)
    problems = services.set_shift(
        actor=user, roster_obj=ros, agent=agent, day=payload.day, code=payload.code
    )
    return {"agent": agent.pk, "day": payload.day, "code": payload.code, "problems": problems}


@router.post("/wfm/rosters/{roster_id}/publish", response=RosterOut, summary="Publish a roster")
def publish(request: HttpRequest, roster_id: PathId) -> dict[str, Any]:
    user = _user(request)
    ros = access_roster(user, roster_id)
    return _roster_out(services.publish_roster(actor=user, roster_obj=ros))


class MyShiftOut(Out):
    day: dt.date
    code: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    team: str


@router.get("/wfm/me/shifts", response=list[MyShiftOut], summary="My published shifts")
def my_shifts(request: HttpRequest, since: dt.date | None = None) -> list[dict[str, Any]]:
    user = _user(request)
    require_perm(user, "wfm.own")
    first = since or timezone.localdate()
    out = []
    for s in selectors.my_shifts(user, first, 28):
        start, end = selectors.shift_window(s.day, s.code)
        out.append(
            {"day": s.day, "code": s.code, "starts_at": start, "ends_at": end,
             "team": s.roster.team.name}
        )  # fmt: skip
    return out
