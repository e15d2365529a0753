"""Configured business calendars as pure clock calendars, cached per process, and working time
written the way a shift leader reads it ("1 working day 3 h", "45 min")."""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kefu.core.durations import clock_parts
from kefu.sla import clock
from kefu.sla.china import statutory_holidays, statutory_workdays
from kefu.sla.models import BusinessCalendar, CalendarDay

CACHE_SECONDS = 60

_lock = threading.Lock()
_built: dict[int, tuple[float, clock.Calendar, str]] = {}


def parse_periods(value: Any, where: str) -> list[clock.Period]:
    """``[["08:30", "12:00"], ["13:30", "17:30"]]`` as periods, or a ValidationError that
    names the day and says what is wrong."""
    if not isinstance(value, list):
        raise ValidationError(_("%(w)s: expected a list of [start, end] pairs.") % {"w": where})
    periods = []
    for item in value:
        if not (isinstance(item, list | tuple) and len(item) == 2):
            raise ValidationError(
                _('%(w)s: each period is [start, end], e.g. ["08:30", "12:00"].') % {"w": where}
            )
        try:
            periods.append(clock.Period.of(str(item[0]), str(item[1])))
        except (ValueError, TypeError) as exc:
            raise ValidationError(f"{where}: {exc}") from exc
    return periods


def check_hours(hours: Any) -> None:
    if not isinstance(hours, dict):
        raise ValidationError(
            _('Weekly hours are an object: {"0": [["08:30", "12:00"]], …} (0 = Monday).')
        )
    for key, periods in hours.items():
        if str(key) not in {str(d) for d in range(7)}:
            raise ValidationError(
                _("“%(k)s” is not a weekday: use 0 (Monday) to 6 (Sunday).") % {"k": key}
            )
        day = clock.WEEKDAY_NAMES[int(key)]
        parse_periods(periods, day)
    try:
        clock.Calendar.weekly_hours(
            "UTC", {int(k): [tuple(p) for p in v] for k, v in hours.items()}
        )
    except (ValueError, TypeError) as exc:
        raise ValidationError(str(exc)) from exc


def build(bc: BusinessCalendar, days: list[CalendarDay]) -> clock.Calendar:
    """The pure calendar for a configured one: weekly hours, China's statutory holidays and 调休
    days when the kind says so, and the administrator's own dates on top (they win)."""
    if bc.kind == BusinessCalendar.Kind.ALWAYS:
        return clock.Calendar.always(bc.tz)
    hours = {int(day): [tuple(p) for p in periods] for day, periods in (bc.hours or {}).items()}
    closed: set[dt.date] = set()
    makeup: set[dt.date] = set()
    special: dict[dt.date, list[tuple[str, str]]] = {}
    if bc.kind == BusinessCalendar.Kind.CHINA:
        closed |= statutory_holidays()
        makeup |= statutory_workdays()
    for day in days:
        closed.discard(day.date)
        makeup.discard(day.date)
        if not day.is_open:
            closed.add(day.date)
        elif day.periods:
            special[day.date] = [tuple(p) for p in day.periods]
        else:
            makeup.add(day.date)
    if makeup and not any(hours.values()):
        raise ValidationError(_("Make-up working days need weekly hours to copy."))
    return clock.Calendar.weekly_hours(
        bc.tz,
        hours,
        holidays=closed,
        makeup_days=makeup,
        overrides=special,
    )


def calendar(calendar_id: int, *, fresh: bool = False) -> clock.Calendar:
    """The pure calendar, built once per process. A change clears it here at once (signals)
    and in other processes within CACHE_SECONDS; ``fresh`` rebuilds from the database."""
    now = time.monotonic()
    hit = _built.get(calendar_id)
    if hit is not None and not fresh and hit[0] > now:
        return hit[1]
    bc = BusinessCalendar.objects.get(pk=calendar_id)
    built = build(bc, list(bc.days.all()))
    with _lock:
        _built[calendar_id] = (now + CACHE_SECONDS, built, bc.name)
    return built


def calendar_name(calendar_id: int) -> str:
    calendar(calendar_id)
    return _built[calendar_id][2]


def forget() -> None:
    with _lock:
        _built.clear()


def standard_day(calendar_id: int) -> int:
    """Seconds in one working day of this calendar (its Monday, or first open weekday)."""
    try:
        return clock.standard_day_seconds(calendar(calendar_id))
    except ValueError:
        return 8 * 3600


def working_left(calendar_id: int, due: dt.datetime, now: dt.datetime) -> int:
    """Working seconds from now until the deadline on the calendar; negative when overdue
    (then the working time since the deadline)."""
    cal = calendar(calendar_id)
    if due >= now:
        return clock.working_seconds(cal, now, due)
    return -clock.working_seconds(cal, due, now)


def format_working(seconds: int, day_seconds: int | None = None) -> str:
    """Working time in the calendar's terms: whole working days first when ``day_seconds``
    (one working day) is given, then hours and minutes."""
    seconds = max(0, int(seconds))
    parts: list[str] = []
    if day_seconds and day_seconds < 86400 and seconds >= day_seconds:
        days, seconds = divmod(seconds, day_seconds)
        parts.append(ngettext("%(n)d working day", "%(n)d working days", days) % {"n": days})
    elif seconds >= 86400 * 2:
        days, seconds = divmod(seconds, 86400)
        parts.append(ngettext("%(n)d day", "%(n)d days", days) % {"n": days})
    parts += clock_parts(seconds)
    return " ".join(parts[:2]) if parts else _("%(n)d min") % {"n": 0}
