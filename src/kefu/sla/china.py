"""Mainland-China business calendar (法定节假日 and 调休) from the ``chinese_calendar`` library.

The library (package ``chinesecalendar``) ships the State Council's holiday
arrangements year by year. Each year's data only exists once the State Council
has published it (usually in November or December for the following year), so
:func:`supported_years` lets the product warn administrators that a year has no
statutory data yet and its holidays must be entered by hand (``extra_holidays``
/ ``extra_workdays``) or the library upgraded.

Pure Python; no Django imports.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from functools import lru_cache

from chinese_calendar import constants as _cc

from .clock import Calendar, PeriodLike

__all__ = [
    "DEFAULT_HOURS",
    "china_calendar",
    "statutory_holidays",
    "statutory_workdays",
    "supported_years",
    "year_is_supported",
]

#: Default opening hours: Monday to Friday 08:30-12:00 and 13:30-17:30 (7.5 h a day).
DEFAULT_HOURS: Mapping[int, tuple[tuple[str, str], ...]] = {
    weekday: (("08:30", "12:00"), ("13:30", "17:30")) for weekday in range(5)
}


def statutory_holidays() -> frozenset[date]:
    """Statutory holiday dates (法定节假日, including the weekends inside each break)."""
    return frozenset(date(d.year, d.month, d.day) for d in _cc.holidays)


def statutory_workdays() -> frozenset[date]:
    """Make-up working days (调休上班), usually Saturdays or Sundays."""
    return frozenset(date(d.year, d.month, d.day) for d in _cc.workdays)


def supported_years() -> tuple[int, int]:
    """First and last year for which the installed library has statutory data."""
    years = [int(d.year) for d in _cc.holidays]
    return min(years), max(years)


def year_is_supported(year: int) -> bool:
    """Whether ``year`` has statutory holiday data (otherwise enter it by hand)."""
    first, last = supported_years()
    return first <= year <= last


def china_calendar(
    tz: str = "Asia/Shanghai",
    hours: Mapping[int, Iterable[PeriodLike]] | None = None,
    extra_holidays: Iterable[date] = (),
    extra_workdays: Iterable[date] = (),
    removed_holidays: Iterable[date] = (),
    removed_workdays: Iterable[date] = (),
) -> Calendar:
    """A :class:`Calendar` for mainland China.

    Statutory holidays are closed all day; 调休 make-up working days are open
    with the standard weekday hours (Monday's, or the first weekday that has
    hours). ``hours`` defaults to :data:`DEFAULT_HOURS`.

    Local adjustments: ``extra_holidays`` close additional dates (this wins over
    a statutory make-up day), ``extra_workdays`` open additional dates (this wins
    over a statutory holiday), and ``removed_holidays`` / ``removed_workdays``
    drop statutory dates so that the date follows its weekday's hours again.
    A date in both ``extra_holidays`` and ``extra_workdays`` is a ValueError.
    """
    extra_h = frozenset(extra_holidays)
    extra_w = frozenset(extra_workdays)
    removed_h = frozenset(removed_holidays)
    removed_w = frozenset(removed_workdays)
    if hours is None:
        return _china_calendar_cached(tz, extra_h, extra_w, removed_h, removed_w)
    return _build(tz, hours, extra_h, extra_w, removed_h, removed_w)


@lru_cache(maxsize=32)
def _china_calendar_cached(
    tz: str,
    extra_h: frozenset[date],
    extra_w: frozenset[date],
    removed_h: frozenset[date],
    removed_w: frozenset[date],
) -> Calendar:
    # Returning the same Calendar object lets callers share one compiled calendar
    # without re-hashing hundreds of holidays per call.
    return _build(tz, DEFAULT_HOURS, extra_h, extra_w, removed_h, removed_w)


def _build(
    tz: str,
    hours: Mapping[int, Iterable[PeriodLike]],
    extra_h: frozenset[date],
    extra_w: frozenset[date],
    removed_h: frozenset[date],
    removed_w: frozenset[date],
) -> Calendar:
    clash = extra_h & extra_w
    if clash:
        listed = ", ".join(str(d) for d in sorted(clash))
        raise ValueError(f"dates in both extra_holidays and extra_workdays: {listed}")
    holidays = (statutory_holidays() - removed_h - extra_w) | extra_h
    workdays = (statutory_workdays() - removed_w - extra_h) | extra_w
    return Calendar.weekly_hours(tz, hours, holidays=holidays, makeup_days=workdays)
