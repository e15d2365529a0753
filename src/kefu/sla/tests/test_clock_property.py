"""Property tests: the compiled clock against a brute-force, minute-by-minute reference.

The reference below knows nothing about the implementation: it walks UTC minute by
minute, converts each minute to wall-clock time with zoneinfo and applies the
"definition of open" from docs/sla-clock.md literally. Every generated quantity is a
whole number of minutes and every zone used has whole-minute offsets, so a UTC
minute is either wholly open or wholly closed and minute granularity is exact.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta, timezone
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from kefu.sla.clock import (  # internals: the sub-second walk
    Calendar,
    CompiledCalendar,
    Period,
    _add_paused,
    _merge_pauses,
    add_working_time,
    is_open,
    next_open,
    open_intervals,
    working_seconds,
)

TZS = [
    "Asia/Shanghai",
    "UTC",
    "America/New_York",
    "Europe/London",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
]
MIN = 60
DAY_MIN = 1440
RANGE_START = int(datetime(2025, 1, 1, tzinfo=UTC).timestamp()) // MIN
RANGE_END = int(datetime(2028, 1, 1, tzinfo=UTC).timestamp()) // MIN

# --------------------------------------------------------------------------- reference


def _periods_of(cal: Calendar, d: date) -> Sequence[Period]:
    return cal.overrides[d] if d in cal.overrides else cal.weekly[d.weekday()]


def _crosses(p: Period) -> bool:
    return p.end <= p.start


def ref_is_open(cal: Calendar, t: int) -> bool:
    """The definition of "open", applied literally to the UTC instant t (epoch seconds)."""
    if cal.always_open:
        return True
    wall = datetime.fromtimestamp(t, ZoneInfo(cal.tz))
    d, clock = wall.date(), wall.time()
    for p in _periods_of(cal, d):
        if _crosses(p):
            if clock >= p.start:
                return True
        elif p.start <= clock < p.end:
            return True
    return any(_crosses(p) and clock < p.end for p in _periods_of(cal, d - timedelta(days=1)))


def ref_open_minutes(cal: Calendar, start: int, n: int) -> list[bool]:
    """Open flags of the n UTC minutes starting at epoch second ``start``."""
    return [ref_is_open(cal, start + MIN * i) for i in range(n)]


def ref_paused(pauses: Sequence[tuple[int, int | None]], t: int) -> bool:
    return any(ps <= t and (pe is None or t < pe) for ps, pe in pauses)


def ref_deadline_index(work: Sequence[bool], minutes: int) -> int | None:
    """Minutes after start of the earliest instant with ``minutes`` working minutes done."""
    if minutes == 0:
        return 0
    done = 0
    for i, w in enumerate(work):
        done += w
        if done == minutes:
            return i + 1
    return None


# --------------------------------------------------------------------------- strategies


def _hm(minute: int) -> time:
    minute %= DAY_MIN
    return time(minute // 60, minute % 60)


DST_EDGES = [m * 30 for m in range(1, 8)]  # 00:30 .. 03:30
_gap = st.one_of(st.integers(0, 20).map(lambda x: x * 30), st.integers(0, 600))
_length = st.one_of(st.integers(1, 48).map(lambda x: x * 30), st.integers(1, DAY_MIN))


@st.composite
def day_periods(draw: st.DrawFn) -> tuple[Period, ...]:
    kind = draw(st.sampled_from(["periods"] * 5 + ["dst", "overnight", "whole", "closed"]))
    if kind == "closed":
        return ()
    if kind == "dst":  # boundaries at the wall times where DST changes happen (01:00-03:00)
        edges = draw(st.lists(st.sampled_from(DST_EDGES), min_size=2, max_size=4, unique=True))
        edges.sort()
        return tuple(Period(_hm(s), _hm(e)) for s, e in zip(edges[::2], edges[1::2], strict=False))
    if kind == "whole":
        return (Period(time(0), time(0)),)
    if kind == "overnight":
        s = draw(st.integers(18 * 60, 23 * 60))
        return (Period(_hm(s), _hm(s + draw(st.integers(60, 12 * 60)))),)
    periods = []
    cursor = 0
    for _ in range(draw(st.integers(1, 3))):
        s = cursor + draw(_gap)
        if s >= DAY_MIN:
            break
        e = s + draw(_length)
        periods.append(Period(_hm(s), _hm(e)))  # e > 1440 -> crosses midnight
        cursor = e
    return tuple(periods)


@cache
def transitions(tz: str) -> tuple[int, ...]:
    """UTC minutes (2025-2027) at which tz changes its offset."""
    zone = ZoneInfo(tz)
    found = []
    prev = datetime.fromtimestamp(RANGE_START * MIN, zone).utcoffset()
    for minute in range(RANGE_START, RANGE_END, 30):
        off = datetime.fromtimestamp(minute * MIN, zone).utcoffset()
        if off != prev:
            found.append(minute)
            prev = off
    return tuple(found)


# The compiled arrays are built in 2**25-second chunks; starts near the seams test the joins.
CHUNK_SEAMS = tuple(k * 2**25 // MIN for k in range(52, 56))


@st.composite
def start_minute(draw: st.DrawFn, tz: str) -> int:
    where = draw(st.sampled_from(["anywhere", "anywhere", "dst", "dst", "seam"]))
    near = transitions(tz) if where == "dst" else CHUNK_SEAMS if where == "seam" else ()
    if near:
        return draw(st.sampled_from(near)) + draw(st.integers(-3 * DAY_MIN, 3 * DAY_MIN))
    return draw(st.integers(RANGE_START, RANGE_END))


@st.composite
def scenarios(draw: st.DrawFn, max_days: int = 45) -> dict[str, Any]:
    tz = draw(st.sampled_from(TZS))
    start = draw(start_minute(tz)) * MIN
    if draw(st.integers(0, 19)) == 0:
        cal = Calendar.always(tz)
    else:
        weekly = tuple(draw(day_periods()) for _ in range(7))
        local_day = datetime.fromtimestamp(start, ZoneInfo(tz)).date()
        overrides = {}
        for _ in range(draw(st.integers(0, 6))):
            d = local_day + timedelta(days=draw(st.integers(-2, max_days + 2)))
            overrides[d] = () if draw(st.booleans()) else draw(day_periods())
        cal = Calendar(tz=tz, weekly=weekly, overrides=overrides)
    # (plain integer draws are log-biased towards short windows; draw whole days separately)
    days = st.integers(3, max_days).map(lambda d: d * DAY_MIN)
    span = draw(st.one_of(st.integers(1, 3 * DAY_MIN), days)) + draw(st.integers(0, DAY_MIN - 1))
    pauses: list[tuple[int, int | None]] = []
    for _ in range(draw(st.integers(0, 3))):
        ps = start + MIN * draw(st.integers(-DAY_MIN, span))
        if draw(st.integers(0, 4)) == 0:
            pauses.append((ps, None))
        else:
            pauses.append((ps, ps + MIN * draw(st.integers(0, 4 * DAY_MIN))))
    return {"cal": cal, "start": start, "span": span, "pauses": pauses}


def dt(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def as_pauses(pauses: Sequence[tuple[int, int | None]], tz: str) -> list[Any]:
    # Hand the pauses over in the calendar's zone (any aware zone must do).
    zone = ZoneInfo(tz)
    return [
        (datetime.fromtimestamp(ps, zone), None if pe is None else datetime.fromtimestamp(pe, zone))
        for ps, pe in pauses
    ]


FAST = settings(max_examples=200, deadline=None, database=None)
SLOW = settings(
    max_examples=200,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# --------------------------------------------------------------------------- properties


@SLOW
@given(scenarios(), st.data())
def test_matches_minute_by_minute_reference(sc: dict[str, Any], data: st.DataObject) -> None:
    cal: Calendar = sc["cal"]
    start, span, pauses = sc["start"], sc["span"], sc["pauses"]
    zone = ZoneInfo(cal.tz)
    start_dt = datetime.fromtimestamp(start, zone)  # inputs in local time, outputs in UTC
    p_args = as_pauses(pauses, cal.tz)

    opened = ref_open_minutes(cal, start, span)
    work = [o and not ref_paused(pauses, start + MIN * i) for i, o in enumerate(opened)]

    # working_seconds over [start, start + k minutes), with and without pauses
    ks = {span, data.draw(st.integers(0, span), label="k")}
    for k in ks:
        end_dt = dt(start + MIN * k)
        assert working_seconds(cal, start_dt, end_dt) == MIN * sum(opened[:k])
        assert working_seconds(cal, start_dt, end_dt, p_args) == MIN * sum(work[:k])
        assert working_seconds(cal, end_dt, start_dt) == 0

    # add_working_time for a target that is reached inside the window; bias towards
    # targets that are used up exactly at the end of a period (or of the window)
    for flags, p in ((opened, ()), (work, p_args)):
        total = sum(flags)
        at_ends = [sum(flags[:i]) for i in range(1, span) if flags[i - 1] and not flags[i]]
        minutes = data.draw(
            st.one_of(st.integers(0, total), st.sampled_from([*at_ends, total])),
            label="target minutes",
        )
        idx = ref_deadline_index(flags, minutes)
        assert idx is not None
        got = add_working_time(cal, start_dt, MIN * minutes, p)
        assert got == dt(start + MIN * idx)
        assert got is not None
        assert got.utcoffset() == timedelta(0)
        # the microsecond walk (used for sub-second inputs) agrees with the second walk
        us = 1_000_000
        cc = cal.compiled
        in_us = _add_paused(
            cc.between_us, cc.add_us, start * us, MIN * minutes * us, _merge_pauses(p)
        )
        assert in_us == (start + MIN * idx) * us

    # the same on a private compiled calendar built in small chunks (many seams)
    tiny = CompiledCalendar(cal, chunk_seconds=data.draw(st.integers(60, 3 * 86400), label="chunk"))
    k = data.draw(st.integers(0, span), label="k2")
    assert tiny.between(start, start + MIN * k) == MIN * sum(opened[:k])
    at_ends = [sum(opened[:i]) for i in range(1, span) if opened[i - 1] and not opened[i]]
    minutes = data.draw(st.sampled_from([*at_ends, sum(opened)]), label="tiny target")
    idx = ref_deadline_index(opened, minutes)
    assert idx is not None
    assert tiny.add(start, MIN * minutes) == start + MIN * idx

    # an open-ended pause inside the window: anything beyond what is left never arrives
    open_ended = [ps for ps, pe in pauses if pe is None and ps < start + MIN * span]
    if open_ended:
        assert add_working_time(cal, start_dt, MIN * (sum(work) + 1), p_args) is None

    # is_open / next_open at some minutes of the window
    for i in {0, span - 1, *data.draw(st.lists(st.integers(0, span - 1), max_size=8), label="i")}:
        t = start + MIN * i
        assert is_open(cal, dt(t)) is opened[i]
        if any(opened[i:]):
            assert next_open(cal, dt(t)) == dt(t + MIN * opened[i:].index(True))

    # open_intervals tile exactly the open minutes of the window
    covered = sum(
        int((e - s).total_seconds())
        for s, e in open_intervals(cal, start_dt, dt(start + MIN * span))
    )
    assert covered == MIN * sum(opened)


@FAST
@given(
    scenarios(max_days=400),
    st.integers(0, 2_000 * 3600),
    st.integers(0, 59),
    st.integers(0, 999_999),
)
def test_add_and_working_seconds_are_inverse(
    sc: dict[str, Any], seconds: int, extra_second: int, micro: int
) -> None:
    cal: Calendar = sc["cal"]
    assume(cal.always_open or any(cal.weekly))
    start = dt(sc["start"] + extra_second)
    pauses = as_pauses([p for p in sc["pauses"] if p[1] is not None], cal.tz)
    fixed = timezone(timedelta(hours=-3, minutes=-30))
    starts = (
        start,
        start.replace(microsecond=micro),
        start.replace(microsecond=micro).astimezone(ZoneInfo(cal.tz)),
        start.astimezone(fixed),
    )
    for s in starts:
        for p in ((), pauses):
            deadline = add_working_time(cal, s, seconds, p)
            assert deadline is not None
            assert deadline >= s
            assert working_seconds(cal, s, deadline, p) == seconds
            if seconds:  # earliest: one microsecond earlier is not enough
                early = deadline - timedelta(microseconds=1)
                assert working_seconds(cal, s, early, p) == seconds - 1


@FAST
@given(scenarios(max_days=60), st.integers(0, 60 * 86400), st.integers(0, 60 * 86400))
def test_working_seconds_is_additive(sc: dict[str, Any], x: int, y: int) -> None:
    cal: Calendar = sc["cal"]
    a = dt(sc["start"])
    b, c = a + timedelta(seconds=x), a + timedelta(seconds=x + y)
    p = as_pauses(sc["pauses"], cal.tz)
    for pauses in ((), p):
        ab = working_seconds(cal, a, b, pauses)
        bc = working_seconds(cal, b, c, pauses)
        assert ab + bc == working_seconds(cal, a, c, pauses)
        assert 0 <= ab <= x


@FAST
@given(
    scenarios(max_days=30),
    st.integers(0, 400 * 3600),
    st.integers(-5 * 366 * 86400, 5 * 366 * 86400),
)
def test_lazy_growth_in_any_order_gives_the_same_answers(
    sc: dict[str, Any], seconds: int, jump: int
) -> None:
    """A fresh compiled calendar first asked about a far-away instant (so it grows the other way)."""
    cal: Calendar = sc["cal"]
    assume(cal.always_open or any(cal.weekly))
    start = sc["start"]
    fresh = CompiledCalendar(cal)
    fresh.add(start + jump, seconds)
    shared = cal.compiled
    assert fresh.add(start, seconds) == shared.add(start, seconds)
    end = start + 40 * 86400
    assert fresh.between(start, end) == shared.between(start, end)
    assert fresh.between(start + jump, end) == shared.between(start + jump, end)
    # the microsecond paths agree with the second paths on whole seconds
    us = 1_000_000
    assert fresh.add_us(start * us, seconds * us) == shared.add(start, seconds) * us
    assert fresh.between_us(start * us, end * us) == shared.between(start, end) * us
