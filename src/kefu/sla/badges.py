"""Countdown badges (working time left in the calendar's terms) for lists and the ticket page,
and the ticket page's SLA panel: every clock with its state and the history of its deadline."""

from __future__ import annotations

import datetime as dt
from html import escape
from typing import Any

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import formats, timezone
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from kefu.sla import calendars
from kefu.sla.models import DeadlineChange, Metric, SlaClock
from kefu.sla.services import LIVE, used
from kefu.tickets.models import Ticket

SOON_SECONDS = 3600
"""Under an hour of working time left: the badge turns amber."""


def _when(value: dt.datetime | None) -> str:
    if value is None:
        return "—"
    return formats.date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT")


def badge(
    due: dt.datetime | None,
    calendar_id: int | None,
    metric: str,
    paused_left: int | None,
    now: dt.datetime,
) -> str:
    """One badge: "3 h 20 min left", "overdue 45 min", "paused · 1 working day left"."""
    if calendar_id is None or (due is None and paused_left is None):
        return ""
    day = calendars.standard_day(calendar_id)
    label = escape(str(Metric(metric).label)) if metric in Metric.values else ""
    if due is None:
        left = calendars.format_working(paused_left or 0, day)
        text = escape(_("paused · %(t)s left") % {"t": left})
        return (
            f'<span class="badge kefu-sla kefu-sla-paused" title="{label}" data-sla="paused">'
            f'<i class="bi bi-pause-circle"></i> {text}</span>'
        )
    seconds = calendars.working_left(calendar_id, due, now)
    title = escape(f"{label} · {_when(due)} · {calendars.calendar_name(calendar_id)}")
    if due <= now:
        text = escape(_("overdue %(t)s") % {"t": calendars.format_working(-seconds, day)})
        return (
            f'<span class="badge kefu-sla kefu-sla-overdue" title="{title}" data-sla="overdue">'
            f'<i class="bi bi-alarm"></i> {text}</span>'
        )
    state = "soon" if seconds < SOON_SECONDS else "ok"
    text = escape(_("%(t)s left") % {"t": calendars.format_working(seconds, day)})
    return (
        f'<span class="badge kefu-sla kefu-sla-{state}" title="{title}" data-sla="{state}">'
        f'<i class="bi bi-stopwatch"></i> {text}</span>'
    )


def ticket_badge(ticket: Ticket) -> str:
    """The nearest deadline of a work order (from its SLA columns)."""
    if not ticket.is_open:
        return ""
    return badge(
        ticket.sla_due_at,
        ticket.sla_calendar_id,
        ticket.sla_metric,
        ticket.sla_paused_left,
        timezone.now(),
    )


def _clock_row(c: SlaClock, now: dt.datetime) -> dict[str, Any]:
    day = calendars.standard_day(c.calendar_id)
    spent = used(c, now)
    row: dict[str, Any] = {
        "clock": c,
        "metric": Metric(c.metric).label,
        "target": calendars.format_working(c.target_seconds, day),
        "used": calendars.format_working(spent, day),
        "percent": min(100, round(100 * spent / c.target_seconds)) if c.target_seconds else 0,
        "calendar": calendars.calendar_name(c.calendar_id),
        "badge": "",
    }
    if c.state in LIVE:
        paused_left = max(0, c.target_seconds - spent) if c.state == SlaClock.State.PAUSED else None
        row["badge"] = SafeString(badge(c.due_at, c.calendar_id, c.metric, paused_left, now))
    return row


def ticket_panel(request: HttpRequest, ticket: Ticket) -> str:
    """The SLA card on the ticket page."""
    clocks = list(
        SlaClock.objects.filter(ticket=ticket)
        .select_related("policy", "transfer__department")
        .order_by("started_at", "id")
    )
    if not clocks:
        return ""
    now = timezone.now()
    changes = list(
        DeadlineChange.objects.filter(clock__ticket=ticket)
        .select_related("clock", "actor")
        .order_by("-at", "-id")[:30]
    )
    return render_to_string(
        "sla/_panel.html",
        {
            "rows": [_clock_row(c, now) for c in clocks],
            "changes": changes,
            "policy": next((c.policy for c in reversed(clocks) if c.policy), None),
            "ticket": ticket,
        },
        request=request,
    )
