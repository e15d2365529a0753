"""SLA pages: the report, a calendar's coming days, and the actions on the ticket page's SLA
card (after-sales milestones, the reason for a breach)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.core.exports import SafeCsvWriter
from kefu.core.permissions import require_perm
from kefu.core.validation import parse_id
from kefu.sla import calendars, reports, services
from kefu.sla.models import BusinessCalendar, Metric, SlaClock
from kefu.tickets.access import access_ticket
from kefu.tickets.views.common import staff

PAGE_BREACHES = 50
"""The newest missed deadlines on the page; the CSV download has them all."""


def _period(request: HttpRequest) -> tuple[dt.date, dt.date, list[str]]:
    """The report's dates (inclusive), defaulting to the last 90 days; problems as messages."""
    today = timezone.localdate()
    problems = []
    values = {}
    for name, default in (("from", today - dt.timedelta(days=89)), ("to", today)):
        raw = request.GET.get(name, "")
        try:
            values[name] = dt.date.fromisoformat(raw) if raw else default
        except ValueError:
            problems.append(_("“%(v)s” is not a date (use YYYY-MM-DD).") % {"v": raw})
            values[name] = default
    start, end = values["from"], values["to"]
    if end < start:
        problems.append(_("The end date is before the start date; showing the start date only."))
        end = start
    if (end - start).days > 3 * 366:
        problems.append(_("At most three years at a time; showing the last three years."))
        start = end - dt.timedelta(days=3 * 366)
    return start, end, problems


def _bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    zone = timezone.get_current_timezone()
    return (
        dt.datetime.combine(start, dt.time.min, tzinfo=zone),
        dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=zone),
    )


@login_required
def report(request: HttpRequest) -> HttpResponse:
    user = staff(request)
    require_perm(user, "sla.view")
    start, end, problems = _period(request)
    group = request.GET.get("group", "policy")
    if group not in reports.GROUPS:
        group = "policy"
    since, until = _bounds(start, end)
    rows = reports.compliance(group, since, until)
    metrics = [m for m in reports.REPORT_METRICS if any(m in r.cells for r in rows)]
    charts = [
        reports.distribution(Metric.FIRST_RESPONSE, since, until),
        reports.distribution(Metric.RESOLUTION, since, until),
    ]
    monthly = reports.compliance("month", since, until) if group != "month" else rows
    trend = {
        "months": [r.label for r in monthly],
        "series": [
            {
                "name": str(Metric(m).label),
                "data": [r.cells[m].percent if m in r.cells else None for r in monthly],
            }
            for m in (Metric.FIRST_RESPONSE, Metric.RESOLUTION)
        ],
    }
    for problem in problems:
        messages.warning(request, problem)
    return render(
        request,
        "sla/report.html",
        {
            "start": start,
            "end": end,
            "group": group,
            "groups": reports.GROUPS,
            "rows": rows,
            "total": reports.totals(rows),
            "metrics": [(m, Metric(m).label) for m in metrics],
            "charts": {"distributions": charts, "trend": trend},
            "breaches": reports.breaches(user, since, until, limit=PAGE_BREACHES),
            "breach_total": reports.breach_count(user, since, until),
            "calendars": BusinessCalendar.objects.all(),
            "nav": "sla_report",
        },
    )


@login_required
def breaches_csv(request: HttpRequest) -> HttpResponse:
    user = staff(request)
    require_perm(user, "sla.view")
    start, end, _problems = _period(request)
    since, until = _bounds(start, end)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="sla-breaches-{start}-{end}.csv"'
    response.write("\ufeff")  # Excel opens UTF-8 Chinese text correctly with a BOM
    writer = SafeCsvWriter(response)
    writer.writerow(
        [
            _("Work order"), _("Title"), _("Metric"), _("Policy"), _("Deadline"),
            _("Over by"), _("Team"), _("Assignee"), _("Reason for the breach"),
            _("Deadline changes"),
        ]
    )  # fmt: skip
    for b in reports.breaches(user, since, until, limit=100_000):
        c = b.clock
        ticket = c.ticket
        writer.writerow(
            [
                ticket.number,
                _cell(ticket.title),
                Metric(c.metric).label,
                c.policy.name if c.policy else "",
                timezone.localtime(c.due_at).strftime("%Y-%m-%d %H:%M") if c.due_at else "",
                b.over,
                ticket.team.name if ticket.team else "",
                ticket.assignee.display_name if ticket.assignee else "",
                _cell(c.breach_reason),
                _cell(b.last_change),
            ]
        )
    return response


def _cell(text: str) -> str:
    """Spreadsheets run cells that start with = + - @ as formulas: neutralise them."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@login_required
def calendar_view(request: HttpRequest, calendar_id: int) -> HttpResponse:
    """The next weeks of one calendar: open hours per day, holidays and make-up working days."""
    user = staff(request)
    require_perm(user, "tickets.view")
    bc = get_object_or_404(BusinessCalendar, pk=calendar_id)
    cal = calendars.calendar(bc.pk)
    first = timezone.localdate()
    first -= dt.timedelta(days=first.weekday())
    weeks: list[list[dict[str, Any]]] = []
    overrides = {d.date: d for d in bc.days.all()}
    from kefu.sla.china import statutory_holidays, statutory_workdays

    holidays, workdays = statutory_holidays(), statutory_workdays()
    raw_weeks = request.GET.get("weeks", "")
    count = min(53, parse_id(raw_weeks) or 13)
    for w in range(count):
        week = []
        for d in range(7):
            day = first + dt.timedelta(days=7 * w + d)
            periods = [] if cal.always_open else [str(p) for p in cal.periods_on(day)]
            kind = "open" if (periods or cal.always_open) else "closed"
            note = ""
            if day in overrides:
                note = overrides[day].note or _("set by an administrator")
            elif bc.kind == BusinessCalendar.Kind.CHINA and day in holidays:
                kind, note = "holiday", _("Statutory holiday")
            elif bc.kind == BusinessCalendar.Kind.CHINA and day in workdays:
                kind, note = "makeup", _("Make-up working day (调休)")
            week.append({"date": day, "periods": periods, "kind": kind, "note": note})
        weeks.append(week)
    from kefu.sla.china import year_is_supported

    shown_years = sorted({d["date"].year for week in weeks for d in week})
    unknown = (
        [y for y in shown_years if not year_is_supported(y)]
        if bc.kind == BusinessCalendar.Kind.CHINA
        else []
    )
    return render(
        request,
        "sla/calendar.html",
        {
            "calendar": bc,
            "unknown_years": unknown,
            "weeks": weeks,
            "always": cal.always_open,
            "day_length": calendars.format_working(calendars.standard_day(bc.pk)),
            "nav": "sla_report",
        },
    )


@login_required
@require_POST
def milestone(request: HttpRequest, number: str) -> HttpResponse:
    user = staff(request)
    ticket = access_ticket(user, number, perm="tickets.transition")
    try:
        services.record_milestone(
            actor=user, ticket=ticket, milestone=request.POST.get("milestone", "")
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("tickets:detail", number=ticket.number)


@login_required
@require_POST
def breach_reason(request: HttpRequest, clock_id: int) -> HttpResponse:
    user = staff(request)
    clock = get_object_or_404(SlaClock.objects.select_related("ticket"), pk=clock_id)
    ticket = access_ticket(user, clock.ticket.number, perm="tickets.edit")
    try:
        services.explain_breach(actor=user, clock=clock, reason=request.POST.get("reason", ""))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("tickets:detail", number=ticket.number)
