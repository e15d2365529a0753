"""When a plan is due: recurrence rules on a business calendar, with a lead time.

Pure: no Django. A rule names its nominal dates (the *period starts*, a plan's identity for each
round: "the March inspection"); the calendar may move a nominal date that falls on a holiday to
the next (or previous) working day, giving the *due date*; a plan generates its work order
``lead_days`` before the due date. The nominal date never moves, so a changed calendar or lead
time cannot make the same round twice.
"""

from __future__ import annotations

import calendar as _calendar
import contextlib
import datetime as dt
import threading
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

FREQUENCIES = ("once", "daily", "weekly", "monthly", "quarterly", "yearly", "rrule")
SHIFTS = ("none", "next", "previous")

IsWorking = Callable[[dt.date], bool]

# How far a holiday can push a due date: the longest Chinese break (春节 or 国庆, 8 days with
# weekends) fits well inside this; a calendar closed for longer leaves the nominal date.
MAX_SHIFT_DAYS = 31


class RuleError(ValueError):
    """A rule that cannot name any date (bad day of month, empty week, unreadable RRULE)."""


@dataclass(frozen=True)
class Rule:
    frequency: str
    start: dt.date
    interval: int = 1
    weekdays: tuple[int, ...] = ()  # 0 = Monday; weekly only (empty: the start's weekday)
    day: int | None = None  # day of month; -1 is the last day (monthly, quarterly, yearly)
    month: int | None = None  # yearly only (empty: the start's month)
    end: dt.date | None = None
    rrule: str = ""

    def __post_init__(self) -> None:
        if self.frequency not in FREQUENCIES:
            raise RuleError(f"unknown frequency {self.frequency!r}")
        if not 1 <= self.interval <= 366:
            raise RuleError("the interval is a whole number from 1 to 366")
        if any(not 0 <= d <= 6 for d in self.weekdays):
            raise RuleError("weekdays run from 0 (Monday) to 6 (Sunday)")
        if self.day is not None and not (1 <= self.day <= 31 or self.day == -1):
            raise RuleError("the day of the month is 1 to 31, or -1 for the last day")
        if self.month is not None and not 1 <= self.month <= 12:
            raise RuleError("the month is 1 to 12")
        if self.end is not None and self.end < self.start:
            raise RuleError("the rule ends before it starts")
        if self.frequency == "rrule":
            _parse_rrule(self.rrule, self.start)


def _clamp(year: int, month: int, day: int) -> dt.date:
    last = _calendar.monthrange(year, month)[1]
    return dt.date(year, month, last if day == -1 or day > last else day)


def _add_months(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + months
    return index // 12, index % 12 + 1


# An RRULE names dates: it repeats daily at most (a finer rule would name the same date many
# times a day and make the scheduler walk every hour or minute), and its count and interval stay
# within what a service plan can mean.
RRULE_FREQUENCIES = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
RRULE_TIME_PARTS = ("BYHOUR", "BYMINUTE", "BYSECOND")
MAX_RRULE_COUNT = 1000
MAX_RRULE_INTERVAL = 366


# An RRULE may name no date at all (FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30): dateutil then walks
# every period up to the year 9999 before it gives up, seconds of CPU, and it checks UNTIL only
# against dates it finds. Its only other stop is ``datetime.MAXYEAR``, read from its module's
# ``datetime``; that name is given a view of the module whose MAXYEAR can be lowered for one
# walk, in one thread (every other walk, here or in other threads, sees the real value).
LOOKAHEAD_YEARS = 10  # a rule must name a date within this many years of its start


class _DatetimeWithBound(types.ModuleType):
    def __init__(self) -> None:
        super().__init__("datetime")
        self._local = threading.local()

    def __getattr__(self, name: str) -> Any:
        if name == "MAXYEAR":
            return getattr(self._local, "maxyear", dt.MAXYEAR)
        return getattr(dt, name)


_DATETIME = _DatetimeWithBound()


@contextlib.contextmanager
def _walk_until(year: int) -> Iterator[None]:
    """dateutil's walks in this thread stop after ``year``."""
    from dateutil import rrule as dateutil_rrule

    dateutil_rrule.datetime = _DATETIME
    previous = getattr(_DATETIME._local, "maxyear", dt.MAXYEAR)
    _DATETIME._local.maxyear = min(previous, max(year, 1))
    try:
        yield
    finally:
        _DATETIME._local.maxyear = previous


def _rrule_parts(body: str) -> dict[str, str]:
    parts: dict[str, str] = {}
    for part in body.upper().split(";"):
        name, _sep, value = part.partition("=")
        parts[name.strip()] = value.strip()
    return parts


def _parse_rrule(text: str, start: dt.date) -> object:
    from dateutil.rrule import rrule, rrulestr

    if not text.strip():
        raise RuleError("an RRULE is needed for this frequency")
    body = text.strip()
    if body.upper().startswith("RRULE:"):
        body = body[6:]
    parts = _rrule_parts(body)
    if parts.get("FREQ") not in RRULE_FREQUENCIES:
        raise RuleError("an RRULE repeats DAILY, WEEKLY, MONTHLY or YEARLY (not more often)")
    if any(name in parts for name in RRULE_TIME_PARTS):
        raise RuleError("an RRULE names days, not hours, minutes or seconds")
    try:
        parsed = rrulestr(body, dtstart=dt.datetime.combine(start, dt.time()), cache=False)
    except (ValueError, TypeError) as exc:
        raise RuleError(f"unreadable RRULE: {exc}") from None
    if not isinstance(parsed, rrule):
        raise RuleError("write a single RRULE")
    count, interval = parts.get("COUNT"), parts.get("INTERVAL")
    if count is not None and not (count.isdigit() and 1 <= int(count) <= MAX_RRULE_COUNT):
        raise RuleError(f"an RRULE's COUNT is 1 to {MAX_RRULE_COUNT}")
    if interval is not None and not (
        interval.isdigit() and 1 <= int(interval) <= MAX_RRULE_INTERVAL
    ):
        raise RuleError(f"an RRULE's INTERVAL is 1 to {MAX_RRULE_INTERVAL}")
    with _walk_until(start.year + LOOKAHEAD_YEARS):
        if next(iter(parsed), None) is None:
            raise RuleError(
                f"this RRULE names no date in the {LOOKAHEAD_YEARS} years from its start"
            )
    return parsed


def nominal_dates(rule: Rule, until: dt.date, *, since: dt.date | None = None) -> Iterator[dt.date]:
    """Every nominal date of ``rule`` from ``since`` (or its start) up to ``until`` (inclusive),
    in order. Skips ahead to ``since`` without walking the dates before it."""
    last = until if rule.end is None else min(until, rule.end)
    first = rule.start if since is None else max(since, rule.start)
    if last < first:
        return
    f, start, n = rule.frequency, rule.start, rule.interval
    if f == "once":
        if first <= start <= last:
            yield start
    elif f == "daily":
        skip = -(-(first - start).days // n)  # whole steps to reach ``first``
        day = start + dt.timedelta(days=skip * n)
        while day <= last:
            yield day
            day += dt.timedelta(days=n)
    elif f == "weekly":
        days = sorted(set(rule.weekdays)) or [start.weekday()]
        monday = start - dt.timedelta(days=start.weekday())
        weeks = max(0, ((first - monday).days // 7) // n * n)
        monday += dt.timedelta(weeks=weeks)
        while monday <= last:
            for wd in days:
                day = monday + dt.timedelta(days=wd)
                if first <= day <= last:
                    yield day
            monday += dt.timedelta(weeks=n)
    elif f in ("monthly", "quarterly", "yearly"):
        step = {"monthly": n, "quarterly": 3 * n, "yearly": 12 * n}[f]
        dom = rule.day if rule.day is not None else start.day
        year, month = start.year, start.month
        if f == "yearly" and rule.month is not None:
            month = rule.month
            if _clamp(year, month, dom) < start:
                year += 1
        behind = (first.year * 12 + first.month) - (year * 12 + month) - 1
        if behind > 0:
            year, month = _add_months(year, month, behind // step * step)
        while True:
            day = _clamp(year, month, dom)
            if day > last:
                return
            if day >= first:
                yield day
            year, month = _add_months(year, month, step)
    else:  # rrule
        # one walk from the rule's start (``after`` would restart it for every date), each date
        # once however many times the rule names it
        parsed = _parse_rrule(rule.rrule, start)
        moment = dt.datetime.combine(first, dt.time())
        named: list[dt.date] = []
        with _walk_until(last.year):
            for hit in parsed.xafter(moment, inc=True):  # type: ignore[attr-defined]
                day = hit.date()
                if day > last:
                    break
                if not named or day != named[-1]:
                    named.append(day)
        yield from named


def shift(day: dt.date, is_working: IsWorking, how: str) -> dt.date:
    """Move a nominal date off a closed day: to the next or previous working day, or not at all
    (also when no working day is found within MAX_SHIFT_DAYS)."""
    if how == "none" or is_working(day):
        return day
    step = dt.timedelta(days=1 if how == "next" else -1)
    probe = day
    for _ in range(MAX_SHIFT_DAYS):
        probe += step
        if is_working(probe):
            return probe
    return day


@dataclass(frozen=True)
class Occurrence:
    period_start: dt.date  # the nominal date: the round's identity
    due_on: dt.date  # after the calendar's shift
    generate_on: dt.date  # due_on minus the lead time


def occurrences(
    rule: Rule,
    *,
    today: dt.date,
    lead_days: int = 0,
    is_working: IsWorking = lambda _d: True,
    how: str = "none",
    after: dt.date | None = None,
) -> list[Occurrence]:
    """The rounds to generate on ``today``: their generate date has come, their due date has not
    passed (a round missed while nothing ran is not made late), and their nominal date is after
    ``after`` (the last round already made)."""
    if how not in SHIFTS:
        raise RuleError(f"unknown shift {how!r}")
    if lead_days < 0:
        raise RuleError("the lead time cannot be negative")
    horizon = today + dt.timedelta(days=lead_days + MAX_SHIFT_DAYS)
    since = today - dt.timedelta(days=MAX_SHIFT_DAYS)
    if after is not None:
        since = max(since, after + dt.timedelta(days=1))
    found = []
    for nominal in nominal_dates(rule, horizon, since=since):
        due = shift(nominal, is_working, how)
        generate = due - dt.timedelta(days=lead_days)
        if generate <= today <= due:
            found.append(Occurrence(nominal, due, generate))
    return found


def next_occurrence(
    rule: Rule,
    *,
    today: dt.date,
    is_working: IsWorking = lambda _d: True,
    how: str = "none",
    after: dt.date | None = None,
    horizon_days: int = 800,
) -> Occurrence | None:
    """The next round whose due date is today or later (for showing "next due" on a plan)."""
    since = today - dt.timedelta(days=MAX_SHIFT_DAYS)
    if after is not None:
        since = max(since, after + dt.timedelta(days=1))
    for nominal in nominal_dates(rule, today + dt.timedelta(days=horizon_days), since=since):
        due = shift(nominal, is_working, how)
        if due >= today:
            return Occurrence(nominal, due, due)
    return None
