"""Known-answer tests for the SLA business-time clock.

Every expected value was worked out by hand; the reasoning is in the comment on
each row. docs/sla-clock.md walks through the same cases (by test id).

Calendars used:

* CHINA: ``china_calendar()`` -- Asia/Shanghai (UTC+8, no DST), Monday-Friday
  08:30-12:00 and 13:30-17:30 (7.5 h a day), statutory holidays closed, 调休
  make-up days open with Monday's hours.
* OVERNIGHT: Asia/Shanghai, every day 22:00-06:00, 2026-05-01 closed.
* NY_NIGHT: America/New_York, every day 01:00-03:30 (spans both DST changes).
* ALWAYS: 7x24.
"""

from __future__ import annotations

import pickle
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from kefu.sla.china import china_calendar, supported_years, year_is_supported
from kefu.sla.clock import (
    Calendar,
    Period,
    add_working_time,
    compile_calendar,
    is_open,
    next_open,
    open_intervals,
    standard_day_seconds,
    working_seconds,
)

SH = ZoneInfo("Asia/Shanghai")
NY = ZoneInfo("America/New_York")
H = 3600
M = 60

CHINA = china_calendar()
OVERNIGHT = Calendar.weekly_hours(
    "Asia/Shanghai", {d: [("22:00", "06:00")] for d in range(7)}, holidays=[date(2026, 5, 1)]
)
NY_NIGHT = Calendar.weekly_hours("America/New_York", {d: [("01:00", "03:30")] for d in range(7)})
ALWAYS = Calendar.always("Asia/Shanghai")


def sh(y: int, mo: int, d: int, h: int = 0, mi: int = 0, sec: int = 0, us: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, sec, us, tzinfo=SH)


def ny(y: int, mo: int, d: int, h: int = 0, mi: int = 0, *, fold: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=NY, fold=fold)


def utc(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=UTC)


# (calendar, start, working seconds, pauses, expected deadline)
ADD_CASES = [
    # ---- ordinary days (CHINA; 2026-03-10 is a Tuesday)
    pytest.param(CHINA, sh(2026, 3, 10, 9), 2 * H, (), sh(2026, 3, 10, 11), id="same-day"),
    # 09:00-12:00 is exactly 3 h; the earliest instant with 3 h done is 12:00, not 13:30.
    pytest.param(CHINA, sh(2026, 3, 10, 9), 3 * H, (), sh(2026, 3, 10, 12), id="ends-at-noon"),
    # 3 h until 12:00, lunch, then 1 h from 13:30.
    pytest.param(CHINA, sh(2026, 3, 10, 9), 4 * H, (), sh(2026, 3, 10, 14, 30), id="across-lunch"),
    # Closed 12:00-13:30, so the clock starts at 13:30.
    pytest.param(
        CHINA, sh(2026, 3, 10, 12, 30), 1 * H, (), sh(2026, 3, 10, 14, 30), id="start-at-lunch"
    ),
    # Opens at 08:30; one hour later.
    pytest.param(
        CHINA, sh(2026, 3, 10, 7), 1 * H, (), sh(2026, 3, 10, 9, 30), id="start-before-opening"
    ),
    # Closed after 17:30; Wednesday 08:30 + 1 h.
    pytest.param(
        CHINA, sh(2026, 3, 10, 18), 1 * H, (), sh(2026, 3, 11, 9, 30), id="start-after-closing"
    ),
    # Saturday 2026-03-14 is an ordinary weekend: Monday 08:30 + 1 h.
    pytest.param(
        CHINA, sh(2026, 3, 14, 10), 1 * H, (), sh(2026, 3, 16, 9, 30), id="start-on-weekend"
    ),
    # Friday 16:30-17:30 gives 1 h; the other hour is Monday 08:30-09:30.
    pytest.param(
        CHINA, sh(2026, 3, 13, 16, 30), 2 * H, (), sh(2026, 3, 16, 9, 30), id="over-weekend"
    ),
    # A zero target is due at once, even while closed.
    pytest.param(CHINA, sh(2026, 3, 14, 10), 0, (), sh(2026, 3, 14, 10), id="zero-target"),
    # 4 working days = 4 x 7.5 h = 30 h: Mon 10:00-17:30 (6 h), Tue-Thu (22.5 h), Fri 08:30-10:00.
    pytest.param(
        CHINA, sh(2026, 3, 9, 10), 4 * 27_000, (), sh(2026, 3, 13, 10), id="four-working-days"
    ),
    # ---- National Day 2026: Oct 1-7 closed, Saturday Oct 10 is a 调休 working day
    # Wed Sep 30 16:00-17:30 (1.5 h), Oct 1-7 closed, Thu Oct 8 08:30 + 2.5 h = 11:00.
    pytest.param(CHINA, sh(2026, 9, 30, 16), 4 * H, (), sh(2026, 10, 8, 11), id="national-day"),
    # 22.5 h: Sep 30 1.5 h, Oct 8 7.5 h, Oct 9 7.5 h (16.5 h); 6 h more on Sat Oct 10 (调休):
    # 08:30-12:00 (3.5 h) + 13:30-16:00 (2.5 h). Without the make-up day: Monday Oct 12 16:00.
    pytest.param(
        CHINA,
        sh(2026, 9, 30, 16),
        22 * H + 30 * M,
        (),
        sh(2026, 10, 10, 16),
        id="national-day-tiaoxiu",
    ),
    # Starting inside the holiday: the clock waits until Oct 8 08:30.
    pytest.param(
        CHINA, sh(2026, 10, 3, 10), 1 * H, (), sh(2026, 10, 8, 9, 30), id="start-in-national-day"
    ),
    # ---- Spring Festival 2026: Feb 15-23 closed; Sat Feb 14 and Sat Feb 28 are 调休 days
    # Fri Feb 13 17:00-17:30 (0.5 h); Sat Feb 14 is a working day: 08:30 + 1.5 h = 10:00.
    pytest.param(
        CHINA,
        sh(2026, 2, 13, 17),
        2 * H,
        (),
        sh(2026, 2, 14, 10),
        id="spring-festival-makeup-before",
    ),
    # Sat Feb 14 16:00-17:30 (1.5 h); Feb 15-23 closed; Tue Feb 24: 08:30-12:00 (3.5 h)
    # + 13:30-16:30 (3 h) = 8 h.
    pytest.param(
        CHINA, sh(2026, 2, 14, 16), 8 * H, (), sh(2026, 2, 24, 16, 30), id="spring-festival-break"
    ),
    # Fri Feb 27 13:30-17:30 (4 h); Sat Feb 28 (调休): 08:30-12:00 (3.5 h) + 13:30-14:00.
    pytest.param(
        CHINA,
        sh(2026, 2, 27, 13, 30),
        8 * H,
        (),
        sh(2026, 2, 28, 14),
        id="spring-festival-makeup-after",
    ),
    # ---- longer than a month: 200 h = 26 full days (195 h) + 5 h.
    # From Mon Mar 2: 22 weekdays in March, Apr 1-3 (25), Apr 4-6 Qingming closed, Tue Apr 7 (26);
    # Wed Apr 8: 08:30-12:00 (3.5 h) + 13:30-15:00 (1.5 h).
    pytest.param(
        CHINA, sh(2026, 3, 2, 8, 30), 200 * H, (), sh(2026, 4, 8, 15), id="200-working-hours"
    ),
    # ---- overnight calendar (22:00-06:00 every day; May 1 closed)
    # Opens at 22:00 the same evening.
    pytest.param(
        OVERNIGHT, sh(2026, 4, 30, 21), 30 * M, (), sh(2026, 4, 30, 22, 30), id="overnight-evening"
    ),
    # The Apr 30 period belongs to Apr 30 and runs until 06:00 on the May 1 holiday: 7 h.
    pytest.param(
        OVERNIGHT,
        sh(2026, 4, 30, 23),
        7 * H,
        (),
        sh(2026, 5, 1, 6),
        id="overnight-holiday-next-day",
    ),
    # 02:00 on May 1 is still inside Apr 30's period.
    pytest.param(
        OVERNIGHT,
        sh(2026, 5, 1, 2),
        2 * H,
        (),
        sh(2026, 5, 1, 4),
        id="overnight-spill-into-holiday",
    ),
    # May 1's own 22:00-06:00 period does not happen; the next one starts May 2 22:00.
    pytest.param(
        OVERNIGHT,
        sh(2026, 5, 1, 23),
        1 * H,
        (),
        sh(2026, 5, 2, 23),
        id="overnight-holiday-start-day",
    ),
    # 7 h until May 1 06:00, then nothing until May 2 22:00, 1 h more.
    pytest.param(
        OVERNIGHT, sh(2026, 4, 30, 23), 8 * H, (), sh(2026, 5, 2, 23), id="overnight-across-holiday"
    ),
    # ---- pauses (CHINA)
    # Work 16:00-17:00 (1 h); paused 17:00 Sep 30 .. 09:00 Oct 8 (the holiday is closed anyway);
    # 1 h more from Oct 8 09:00. Without the pause: Oct 8 09:00.
    pytest.param(
        CHINA,
        sh(2026, 9, 30, 16),
        2 * H,
        [(sh(2026, 9, 30, 17), sh(2026, 10, 8, 9))],
        sh(2026, 10, 8, 10),
        id="pause-spans-holiday",
    ),
    # Overlapping, unsorted pauses merge to 10:00-11:00: work 09:00-10:00 and 11:00-12:00.
    pytest.param(
        CHINA,
        sh(2026, 3, 10, 9),
        2 * H,
        [
            (sh(2026, 3, 10, 10, 30), sh(2026, 3, 10, 11)),
            (sh(2026, 3, 10, 10), sh(2026, 3, 10, 10, 45)),
        ],
        sh(2026, 3, 10, 12),
        id="overlapping-pauses",
    ),
    # A pause that began before the start only counts from the start: paused until 10:00.
    pytest.param(
        CHINA,
        sh(2026, 3, 10, 9),
        1 * H,
        [(sh(2026, 3, 9, 17), sh(2026, 3, 10, 10))],
        sh(2026, 3, 10, 11),
        id="pause-before-start",
    ),
    # 1 h of work by 10:00, then paused for good: the 2 h target is never reached.
    pytest.param(
        CHINA, sh(2026, 3, 10, 9), 2 * H, [(sh(2026, 3, 10, 10), None)], None, id="open-ended-pause"
    ),
    # The target (3 h, at 12:00) is reached exactly when the open-ended pause begins.
    pytest.param(
        CHINA,
        sh(2026, 3, 10, 9),
        3 * H,
        [(sh(2026, 3, 10, 12), None)],
        sh(2026, 3, 10, 12),
        id="open-ended-pause-after-deadline",
    ),
    # ---- DST in America/New_York, every day 01:00-03:30 local
    # Sun 2026-03-08: 02:00 EST jumps to 03:00 EDT. 01:30-02:00 EST (30 min), wall 02:00-03:00
    # does not exist, 03:00-03:30 EDT (30 min): 06:30Z -> 07:30Z.
    pytest.param(
        NY_NIGHT, ny(2026, 3, 8, 1, 30), 1 * H, (), ny(2026, 3, 8, 3, 30), id="dst-spring-forward"
    ),
    # 30 min from 01:30 EST is 07:00Z, which reads 03:00 EDT.
    pytest.param(
        NY_NIGHT, ny(2026, 3, 8, 1, 30), 30 * M, (), utc(2026, 3, 8, 7), id="dst-spring-forward-gap"
    ),
    # Sat 03:00-03:30 EST (30 min), then Sun 01:00 EST + 30 min = 01:30 EST (06:30Z).
    pytest.param(
        NY_NIGHT,
        ny(2026, 3, 7, 3),
        1 * H,
        (),
        utc(2026, 3, 8, 6, 30),
        id="dst-spring-forward-day-before",
    ),
    # Sun 2026-11-01: 02:00 EDT falls back to 01:00 EST, so 01:00-02:00 happens twice and both
    # count. From 01:30 EDT (05:30Z) one hour later is 06:30Z, the second 01:30 (EST).
    # (Expected values are in UTC: Python never calls a fold=1 time equal to another zone's.)
    pytest.param(
        NY_NIGHT,
        ny(2026, 11, 1, 1, 30),
        1 * H,
        (),
        utc(2026, 11, 1, 6, 30),
        id="dst-fall-back-fold",
    ),
    # Sat 03:00-03:30 EDT (30 min), then Sun from 01:00 EDT (05:00Z) 30 min more: 05:30Z.
    pytest.param(
        NY_NIGHT,
        ny(2026, 10, 31, 3),
        1 * H,
        (),
        utc(2026, 11, 1, 5, 30),
        id="dst-fall-back-day-before",
    ),
    # From the second 01:00 (EST, 06:00Z): 2.5 h to 03:30 EST (08:30Z).
    pytest.param(
        NY_NIGHT,
        ny(2026, 11, 1, 1, fold=1),
        2 * H + 30 * M,
        (),
        utc(2026, 11, 1, 8, 30),
        id="dst-fall-back-second-pass",
    ),
    # ---- 7x24: plain elapsed time (even across a DST change of the caller's zone)
    pytest.param(ALWAYS, ny(2026, 3, 7, 12), 24 * H, (), ny(2026, 3, 8, 13), id="always-open"),
    pytest.param(
        ALWAYS,
        sh(2026, 3, 10, 9),
        2 * H,
        [(sh(2026, 3, 10, 10), sh(2026, 3, 10, 10, 30))],
        sh(2026, 3, 10, 11, 30),
        id="always-open-paused",
    ),
]


@pytest.mark.parametrize(("cal", "start", "seconds", "pauses", "expected"), ADD_CASES)
def test_add_working_time(
    cal: Calendar, start: datetime, seconds: int, pauses: Any, expected: datetime | None
) -> None:
    got = add_working_time(cal, start, seconds, pauses)
    assert got == expected
    if got is not None:
        assert got.tzinfo is UTC


@pytest.mark.parametrize(("cal", "start", "seconds", "pauses", "expected"), ADD_CASES)
def test_working_seconds_round_trip(
    cal: Calendar, start: datetime, seconds: int, pauses: Any, expected: datetime | None
) -> None:
    """The other direction of every row: working time from start to the deadline is the target."""
    if expected is None:
        # the open-ended pause row: 1 h of work happened, and never any more
        assert working_seconds(cal, start, start + timedelta(days=3650), pauses) == 1 * H
    else:
        assert working_seconds(cal, start, expected, pauses) == seconds
        assert working_seconds(cal, expected, start, pauses) == 0  # reversed range


# (calendar, start, end, pauses, expected working seconds)
BETWEEN_CASES = [
    # A plain Tuesday: 3.5 h + 4 h.
    pytest.param(CHINA, sh(2026, 3, 10), sh(2026, 3, 11), (), 27_000, id="china-tuesday"),
    # Fri 16:30-17:30 + Mon 08:30-09:30.
    pytest.param(
        CHINA, sh(2026, 3, 13, 16, 30), sh(2026, 3, 16, 9, 30), (), 2 * H, id="friday-to-monday"
    ),
    # Feb 13 (Fri), Feb 14 (调休 Sat) and Feb 24 (Tue): 3 x 7.5 h; Feb 15-23 closed.
    pytest.param(CHINA, sh(2026, 2, 13), sh(2026, 2, 25), (), 3 * 27_000, id="spring-festival"),
    # Sep 28-30 (Mon-Wed), Oct 8-9 (Thu-Fri), Oct 10 (调休 Sat): 6 x 7.5 h.
    pytest.param(CHINA, sh(2026, 9, 28), sh(2026, 10, 12), (), 6 * 27_000, id="national-day"),
    # Paused Sep 30 17:00-17:30 and Oct 8 08:30-09:00: 2 x (7.5 - 0.5) h.
    pytest.param(
        CHINA,
        sh(2026, 9, 30),
        sh(2026, 10, 9),
        [(sh(2026, 9, 30, 17), sh(2026, 10, 8, 9))],
        14 * H,
        id="pause-spans-holiday",
    ),
    # Open 08:30-10:00, then paused for good.
    pytest.param(
        CHINA,
        sh(2026, 3, 10),
        sh(2026, 3, 11),
        [(sh(2026, 3, 10, 10), None)],
        90 * M,
        id="open-ended-pause",
    ),
    # Apr 30 22:00-May 1 06:00 (8 h) and May 2 22:00-May 3 06:00 (8 h); May 1 night closed.
    pytest.param(
        OVERNIGHT, sh(2026, 4, 30, 12), sh(2026, 5, 3, 12), (), 16 * H, id="overnight-holiday"
    ),
    # 01:00-02:00 EST + 03:00-03:30 EDT.
    pytest.param(NY_NIGHT, ny(2026, 3, 8), ny(2026, 3, 9), (), 90 * M, id="dst-spring-forward-day"),
    # 01:00-02:00 EDT, 01:00-03:30 EST.
    pytest.param(NY_NIGHT, ny(2026, 11, 1), ny(2026, 11, 2), (), 210 * M, id="dst-fall-back-day"),
    pytest.param(NY_NIGHT, ny(2026, 3, 9), ny(2026, 3, 10), (), 150 * M, id="dst-ordinary-day"),
    # 7x24 counts real elapsed time: the New York day of Mar 8 has 23 hours.
    pytest.param(ALWAYS, ny(2026, 3, 8), ny(2026, 3, 9), (), 23 * H, id="always-open-dst-day"),
    pytest.param(CHINA, sh(2026, 3, 11), sh(2026, 3, 10), (), 0, id="end-before-start"),
    pytest.param(CHINA, sh(2026, 3, 10, 9), sh(2026, 3, 10, 9), (), 0, id="empty-range"),
]


@pytest.mark.parametrize(("cal", "start", "end", "pauses", "expected"), BETWEEN_CASES)
def test_working_seconds(
    cal: Calendar, start: datetime, end: datetime, pauses: Any, expected: int
) -> None:
    assert working_seconds(cal, start, end, pauses) == expected


def test_working_seconds_splits_add_up() -> None:
    a, b, c = sh(2026, 9, 29, 11), sh(2026, 10, 4), sh(2026, 10, 10, 9)
    # Sep 29 11:00-12:00 (1 h) + 13:30-17:30 (4 h) + Sep 30 (7.5 h) = 12.5 h;
    # then Oct 1-7 closed, Oct 8 and 9 (15 h) + Oct 10 (调休) 08:30-09:00 = 15.5 h.
    assert working_seconds(CHINA, a, b) == 12 * H + 30 * M
    assert working_seconds(CHINA, b, c) == 15 * H + 30 * M
    assert working_seconds(CHINA, a, c) == working_seconds(CHINA, a, b) + working_seconds(
        CHINA, b, c
    )


def test_lord_howe_half_hour_dst() -> None:
    """Australia/Lord_Howe shifts by 30 minutes; every day 01:00-03:00 local."""
    cal = Calendar.weekly_hours("Australia/Lord_Howe", {d: [("01:00", "03:00")] for d in range(7)})
    lh = ZoneInfo("Australia/Lord_Howe")
    # 2026-04-05 02:00 (+11) falls back to 01:30 (+10:30): 01:30-02:00 happens twice -> 2.5 h.
    assert (
        working_seconds(cal, datetime(2026, 4, 5, tzinfo=lh), datetime(2026, 4, 6, tzinfo=lh))
        == 150 * M
    )
    # 2026-10-04 02:00 (+10:30) jumps to 02:30 (+11): 02:00-02:30 never happens -> 1.5 h.
    assert (
        working_seconds(cal, datetime(2026, 10, 4, tzinfo=lh), datetime(2026, 10, 5, tzinfo=lh))
        == 90 * M
    )


def test_kolkata_half_hour_offset() -> None:
    # Asia/Kolkata is UTC+5:30. Mon 16:30-17:00 (30 min) + Tue 09:00-09:30 = 04:00Z.
    cal = Calendar.weekly_hours("Asia/Kolkata", {d: [("09:00", "17:00")] for d in range(5)})
    ist = ZoneInfo("Asia/Kolkata")
    start = datetime(2026, 3, 9, 16, 30, tzinfo=ist)
    assert add_working_time(cal, start, 1 * H) == utc(2026, 3, 10, 4)


# ---- is_open / next_open / open_intervals


@pytest.mark.parametrize(
    ("cal", "at", "expected"),
    [
        pytest.param(CHINA, sh(2026, 3, 10, 8, 30), True, id="opening-instant"),
        pytest.param(CHINA, sh(2026, 3, 10, 11, 59, 59), True, id="last-second-before-noon"),
        pytest.param(CHINA, sh(2026, 3, 10, 12), False, id="period-end-is-closed"),
        pytest.param(CHINA, sh(2026, 10, 1, 9), False, id="national-day"),
        pytest.param(CHINA, sh(2026, 10, 10, 9), True, id="tiaoxiu-saturday"),
        pytest.param(OVERNIGHT, sh(2026, 5, 1, 5, 59), True, id="overnight-spill"),
        pytest.param(OVERNIGHT, sh(2026, 5, 1, 22), False, id="overnight-holiday-evening"),
        pytest.param(NY_NIGHT, utc(2026, 3, 8, 7), True, id="dst-03:00-edt"),
        pytest.param(NY_NIGHT, ny(2026, 11, 1, 1, 30, fold=1), True, id="dst-second-01:30"),
        pytest.param(ALWAYS, sh(2026, 10, 1, 3), True, id="always-open"),
    ],
)
def test_is_open(cal: Calendar, at: datetime, expected: bool) -> None:
    assert is_open(cal, at) is expected


def test_next_open() -> None:
    assert next_open(CHINA, sh(2026, 3, 10, 12)) == sh(2026, 3, 10, 13, 30)
    assert next_open(CHINA, sh(2026, 10, 1, 9)) == sh(2026, 10, 8, 8, 30)
    assert next_open(CHINA, sh(2026, 3, 10, 9, 15)) == sh(2026, 3, 10, 9, 15)
    assert next_open(CHINA, sh(2026, 3, 10, 9, 15)).tzinfo is UTC


def test_open_intervals() -> None:
    assert list(open_intervals(NY_NIGHT, ny(2026, 3, 8), ny(2026, 3, 9))) == [
        (utc(2026, 3, 8, 6), utc(2026, 3, 8, 7, 30))
    ]
    assert list(open_intervals(NY_NIGHT, ny(2026, 11, 1), ny(2026, 11, 2))) == [
        (utc(2026, 11, 1, 5), utc(2026, 11, 1, 8, 30))
    ]
    # clipped to the requested range
    assert list(open_intervals(CHINA, sh(2026, 3, 10, 9), sh(2026, 3, 10, 14))) == [
        (sh(2026, 3, 10, 9), sh(2026, 3, 10, 12)),
        (sh(2026, 3, 10, 13, 30), sh(2026, 3, 10, 14)),
    ]


# ---- sub-second inputs


def test_microseconds_are_kept() -> None:
    start = sh(2026, 3, 10, 9, 0, 0, 250_000)
    assert add_working_time(CHINA, start, 1 * H) == sh(2026, 3, 10, 10, 0, 0, 250_000)
    assert add_working_time(CHINA, sh(2026, 3, 10, 9), timedelta(minutes=90)) == sh(
        2026, 3, 10, 10, 30
    )
    # 3599.5 s of working time, rounded down
    assert working_seconds(CHINA, sh(2026, 3, 10, 9, 0, 0, 500_000), sh(2026, 3, 10, 10)) == 3599


# ---- working days


def test_standard_day_seconds() -> None:
    assert standard_day_seconds(CHINA) == 27_000  # 3.5 h + 4 h
    assert standard_day_seconds(OVERNIGHT) == 8 * H
    assert standard_day_seconds(ALWAYS) == 86_400
    saturday_only = Calendar.weekly_hours("UTC", {5: [("10:00", "14:00")]})
    assert standard_day_seconds(saturday_only) == 4 * H
    with pytest.raises(ValueError, match="no weekly opening hours"):
        standard_day_seconds(Calendar.weekly_hours("UTC", {}))


# ---- validation


def test_naive_datetimes_are_rejected() -> None:
    naive = datetime(2026, 3, 10, 9)  # noqa: DTZ001
    aware = sh(2026, 3, 10, 9)
    with pytest.raises(ValueError, match="timezone-aware"):
        add_working_time(CHINA, naive, H)
    with pytest.raises(ValueError, match="timezone-aware"):
        working_seconds(CHINA, aware, naive)
    with pytest.raises(ValueError, match="timezone-aware"):
        working_seconds(CHINA, aware, aware + timedelta(hours=1), [(naive, None)])
    with pytest.raises(ValueError, match="timezone-aware"):
        is_open(CHINA, naive)
    with pytest.raises(ValueError, match="timezone-aware"):
        next_open(CHINA, naive)
    with pytest.raises(ValueError, match="timezone-aware"):
        list(open_intervals(CHINA, naive, aware))


def test_bad_periods_are_rejected() -> None:
    with pytest.raises(ValueError, match="whole minute"):
        Period(time(8, 30, 15), time(12))
    with pytest.raises(ValueError, match="invalid time"):
        Period.of("25:00", "26:00")
    with pytest.raises(ValueError, match="expected 'HH:MM'"):
        Period.of("8h", "9h")
    with pytest.raises(ValueError, match=r"Monday: periods 08:00-12:00 and 11:00-13:00 overlap"):
        Calendar.weekly_hours("UTC", {0: [("08:00", "12:00"), ("11:00", "13:00")]})
    with pytest.raises(ValueError, match="overlap"):  # an overnight period overlaps a later one
        Calendar.weekly_hours("UTC", {2: [("20:00", "02:00"), ("23:00", "23:30")]})
    with pytest.raises(ValueError, match=r"2026-10-10: periods"):
        Calendar("UTC", ((),) * 7, {date(2026, 10, 10): (Period.of("09:00", "10:00"),) * 2})
    with pytest.raises(ValueError, match="exactly 7 entries"):
        Calendar("UTC", ((),) * 6)
    with pytest.raises(ValueError, match="weekday keys"):
        Calendar.weekly_hours("UTC", {7: [("08:00", "12:00")]})
    # touching periods are fine, and "24:00" means midnight
    Calendar.weekly_hours("UTC", {0: [("08:00", "12:00"), ("12:00", "24:00")]})


def test_unknown_time_zone_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown time zone 'Asia/Beijing'"):
        Calendar.weekly_hours("Asia/Beijing", {0: [("08:00", "12:00")]})
    with pytest.raises(ValueError, match="unknown time zone"):
        Calendar.always("../etc/passwd")


def test_other_bad_inputs_are_rejected() -> None:
    with pytest.raises(ValueError, match="both holiday and make-up"):
        Calendar.weekly_hours(
            "UTC",
            {0: [("08:00", "12:00")]},
            holidays=[date(2026, 1, 1)],
            makeup_days=[date(2026, 1, 1)],
        )
    with pytest.raises(ValueError, match="need makeup_hours"):
        Calendar.weekly_hours("UTC", {}, makeup_days=[date(2026, 1, 3)])
    with pytest.raises(TypeError, match=r"datetime\.date"):
        Calendar("UTC", ((),) * 7, {sh(2026, 1, 1): ()})
    with pytest.raises(ValueError, match="must not be negative"):
        add_working_time(CHINA, sh(2026, 3, 10, 9), -1)
    with pytest.raises(ValueError, match="ends before it starts"):
        working_seconds(
            CHINA, sh(2026, 3, 10), sh(2026, 3, 11), [(sh(2026, 3, 10, 10), sh(2026, 3, 10, 9))]
        )


def test_never_open_calendar_gives_up() -> None:
    closed = Calendar.weekly_hours("UTC", {})
    with pytest.raises(ValueError, match="no open time in the 10 years"):
        add_working_time(closed, utc(2026, 1, 1), 1)
    with pytest.raises(ValueError, match="no open time in the 10 years"):
        next_open(closed, utc(2026, 1, 1))
    assert working_seconds(closed, utc(2026, 1, 1), utc(2027, 1, 1)) == 0


# ---- calendar values


def test_makeup_hours_default_and_explicit() -> None:
    # Monday has no hours here, so make-up days use Tuesday's (the first non-empty weekday).
    cal = Calendar.weekly_hours(
        "UTC", {1: [("09:00", "17:00")], 2: [("10:00", "12:00")]}, makeup_days=[date(2026, 3, 14)]
    )
    assert cal.overrides[date(2026, 3, 14)] == (Period.of("09:00", "17:00"),)
    explicit = Calendar.weekly_hours(
        "UTC",
        {1: [("09:00", "17:00")]},
        makeup_days=[date(2026, 3, 14)],
        makeup_hours=[("10:00", "11:00")],
    )
    assert explicit.overrides[date(2026, 3, 14)] == (Period.of("10:00", "11:00"),)


def test_calendars_are_hashable_values() -> None:
    a = Calendar.weekly_hours("UTC", {0: [("08:00", "12:00")]}, holidays=[date(2026, 1, 5)])
    b = Calendar.weekly_hours("UTC", {0: [("08:00", "12:00")]}, holidays=[date(2026, 1, 5)])
    assert a == b
    assert hash(a) == hash(b)
    assert compile_calendar(a) is compile_calendar(b)
    assert pickle.loads(pickle.dumps(CHINA)) == CHINA  # noqa: S301 - our own bytes
    assert {a: 1}[b] == 1


def test_china_calendar() -> None:
    first, last = supported_years()
    assert first == 2004
    assert last >= 2026
    assert year_is_supported(2026)
    assert not year_is_supported(1999)
    assert china_calendar() is CHINA  # the default calendar is shared (and so is its compiled form)
    # A company-wide day off on Tue 2026-03-10: the 1 h target moves to Wednesday.
    closed_tuesday = china_calendar(extra_holidays=[date(2026, 3, 10)])
    assert add_working_time(closed_tuesday, sh(2026, 3, 10, 9), H) == sh(2026, 3, 11, 9, 30)
    # Without the Oct 10 make-up day the 3-working-day example ends on Monday Oct 12.
    no_makeup = china_calendar(removed_workdays=[date(2026, 10, 10)])
    assert add_working_time(no_makeup, sh(2026, 9, 30, 16), 22 * H + 30 * M) == sh(2026, 10, 12, 16)
    # Working on Oct 7 although it is a statutory holiday.
    on_duty = china_calendar(extra_workdays=[date(2026, 10, 7)])
    assert add_working_time(on_duty, sh(2026, 9, 30, 16), 4 * H) == sh(2026, 10, 7, 11)
    with pytest.raises(ValueError, match="both extra_holidays and extra_workdays"):
        china_calendar(extra_holidays=[date(2026, 3, 10)], extra_workdays=[date(2026, 3, 10)])
