"""Workforce screens: the planner's overview, a forecast against actuals with staffing, a roster
(editable cells, coverage heat map, simulation beside Erlang, adherence, export), and the agent's
own schedule."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.accounts.models import User
from kefu.core.exports import safe_cell
from kefu.core.permissions import require_perm
from kefu.core.validation import parse_id
from kefu.tickets.views.common import error_text, staff
from kefu.wfm import selectors, services
from kefu.wfm.access import access_forecast, access_roster, can_plan
from kefu.wfm.forms import ForecastForm, OverrideForm, RosterForm
from kefu.wfm.models import SHIFT_LABELS, Override, Roster


def _shift_choices() -> list[tuple[str, Any]]:
    return [("", _("Off")), *SHIFT_LABELS.items()]


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = staff(request)
    require_perm(user, "wfm.view")
    return render(
        request,
        "wfm/home.html",
        {
            "nav": "wfm",
            "forecasts": selectors.list_forecasts(),
            "rosters": selectors.list_rosters(),
            "overrides": Override.objects.filter(ends_at__gte=timezone.now()).order_by("starts_at")[
                :20
            ],
            "can_plan": can_plan(user),
            "forecast_form": ForecastForm(initial={"start": timezone.localdate()}),
            "override_form": OverrideForm(),
            "roster_form": RosterForm(initial={"start": timezone.localdate()}),
        },
    )


def _planner_form(request: HttpRequest, form_class: Any) -> tuple[User, Any]:
    user = staff(request)
    require_perm(user, "wfm.plan")
    return user, form_class(request.POST)


def _redisplay(request: HttpRequest, form: Any, key: str) -> HttpResponse:
    user = staff(request)
    context = {
        "nav": "wfm",
        "forecasts": selectors.list_forecasts(),
        "rosters": selectors.list_rosters(),
        "overrides": Override.objects.filter(ends_at__gte=timezone.now()).order_by("starts_at")[
            :20
        ],
        "can_plan": can_plan(user),
        "forecast_form": ForecastForm(initial={"start": timezone.localdate()}),
        "override_form": OverrideForm(),
        "roster_form": RosterForm(initial={"start": timezone.localdate()}),
    }
    context[key] = form
    return render(request, "wfm/home.html", context, status=422)


@login_required
@require_POST
def forecast_new(request: HttpRequest) -> HttpResponse:
    user, form = _planner_form(request, ForecastForm)
    if form.is_valid():
        try:
            fc = services.build_forecast(actor=user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            return redirect("wfm:forecast", forecast_id=fc.pk)
    return _redisplay(request, form, "forecast_form")


@login_required
@require_POST
def override_new(request: HttpRequest) -> HttpResponse:
    user, form = _planner_form(request, OverrideForm)
    if form.is_valid():
        try:
            services.add_override(actor=user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Override saved; forecasts made from now on apply it."))
            return redirect("wfm:home")
    return _redisplay(request, form, "override_form")


@login_required
@require_POST
def roster_new(request: HttpRequest) -> HttpResponse:
    user, form = _planner_form(request, RosterForm)
    if form.is_valid():
        data = dict(form.cleaned_data)
        try:
            ros = services.create_roster(actor=user, forecast_obj=data.pop("forecast"), **data)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.info(request, _("The roster is being optimised; refresh in a minute."))
            return redirect("wfm:roster", roster_id=ros.pk)
    return _redisplay(request, form, "roster_form")


@login_required
def forecast_detail(request: HttpRequest, forecast_id: int) -> HttpResponse:
    user = staff(request)
    fc = access_forecast(user, forecast_id)
    chart = selectors.forecast_vs_actual(fc)
    staffing = services.staffing_table(fc.values, fc.aht_seconds, fc.interval_minutes,
                                       shrinkage=0.3)  # fmt: skip
    chart["required"] = staffing["scheduled"]
    return render(
        request,
        "wfm/forecast.html",
        {"nav": "wfm", "fc": fc, "chart": chart, "peak": max(staffing["scheduled"], default=0)},
    )


@login_required
def roster_detail(request: HttpRequest, roster_id: int) -> HttpResponse:
    user = staff(request)
    ros = access_roster(user, roster_id)
    grid = selectors.roster_grid(ros)
    cov = selectors.coverage(ros)
    try:
        day = int(request.GET.get("day", "0"))
    except ValueError:
        day = 0
    day = max(0, min(ros.days - 1, day))
    figures = (
        selectors.day_figures(ros, day) if cov["scheduled"] and any(cov["scheduled"]) else None
    )
    return render(
        request,
        "wfm/roster.html",
        {
            "nav": "wfm",
            "ros": ros,
            "grid": grid,
            "cov": cov,
            "figures": figures,
            "day": day,
            "day_choices": list(enumerate(grid.days)),
            "choices": _shift_choices(),
            "can_edit": can_plan(user),
            "adherence": selectors.adherence(ros) if ros.status == Roster.Status.PUBLISHED else [],
        },
    )


@login_required
@require_POST
def roster_cell(request: HttpRequest, roster_id: int) -> HttpResponse:
    """Change one cell (HTMX); answers with the re-drawn cell and the agent's broken rules."""
    user = staff(request)
    ros = access_roster(user, roster_id)
    require_perm(user, "wfm.plan")
    try:
        agent = User.objects.get(pk=parse_id(request.POST.get("agent")) or 0)
        day = dt.date.fromisoformat(request.POST.get("day", ""))
    except (ValueError, User.DoesNotExist):
        raise Http404("no such agent or day") from None
    code = request.POST.get("code", "")
    status = 200
    try:
        problems = services.set_shift(actor=user, roster_obj=ros, agent=agent, day=day, code=code)
    except ValidationError as exc:
        problems = [error_text(exc)]
        status = 422
    current = selectors.assignments_of(ros).get(str(agent.pk), [None] * ros.days)
    return render(
        request,
        "wfm/_cell.html",
        {
            "ros": ros,
            "agent": agent,
            "day": day,
            "code": current[(day - ros.start).days] or "",
            "choices": _shift_choices(),
            "can_edit": True,
            "problems": problems,
        },
        status=status,
    )


@login_required
@require_POST
def roster_publish(request: HttpRequest, roster_id: int) -> HttpResponse:
    user = staff(request)
    ros = access_roster(user, roster_id)
    try:
        services.publish_roster(actor=user, roster_obj=ros)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, _("Published: the team's agents can see their shifts."))
    return redirect("wfm:roster", roster_id=ros.pk)


@login_required
def roster_export(request: HttpRequest, roster_id: int) -> HttpResponse:
    """The roster and its coverage as an Excel workbook."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    user = staff(request)
    ros = access_roster(user, roster_id)
    grid = selectors.roster_grid(ros)
    cov = selectors.coverage(ros)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = _("Roster")
    sheet.append([_("Agent"), _("Employee no."), *[d.strftime("%m-%d %a") for d in grid.days]])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for agent, cells in grid.rows:
        sheet.append([safe_cell(agent.display_name), safe_cell(agent.employee_no or ""),
                      *[c or "" for _d, c in cells]])  # fmt: skip
    sheet.append([])
    for code, label in SHIFT_LABELS.items():
        sheet.append([code, str(label)])
    gap_sheet = book.create_sheet(_("Coverage"))
    gap_sheet.append([_("Day"), _("Time"), _("Required"), _("Scheduled"), _("Gap")])
    short = PatternFill("solid", fgColor="F8D7DA")
    spd = len(cov["times"])
    for i, (req, sched, gap) in enumerate(zip(cov["required"], cov["scheduled"], cov["gap"],
                                               strict=True)):  # fmt: skip
        gap_sheet.append([cov["days"][i // spd], cov["times"][i % spd], req, sched, gap])
        if gap < 0:
            for cell in gap_sheet[gap_sheet.max_row]:
                cell.fill = short
    out = io.BytesIO()
    book.save(out)
    response = HttpResponse(
        out.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="roster-{ros.pk}-{ros.start}.xlsx"'
    return response


@login_required
def my_schedule(request: HttpRequest) -> HttpResponse:
    user = staff(request)
    if not (user.is_authenticated and user.is_active):
        raise PermissionDenied
    require_perm(user, "wfm.own")
    today = timezone.localdate()
    shifts = selectors.my_shifts(user, today - dt.timedelta(days=today.weekday()), 28)
    rows = [
        {
            "shift": s,
            "label": SHIFT_LABELS.get(s.code, s.code),
            "window": selectors.shift_window(s.day, s.code),
        }
        for s in shifts
    ]
    return render(request, "wfm/me.html", {"nav": "wfm-me", "rows": rows, "today": today})
