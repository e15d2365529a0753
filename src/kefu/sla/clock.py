"""Business-time clock for SLA deadlines.

A :class:`Calendar` says when a service desk is open (weekly opening hours,
holidays, make-up working days such as 调休, or 7x24). This module answers,
for timezone-aware instants:

* :func:`is_open` / :func:`next_open` / :func:`open_intervals`
* :func:`working_seconds` -- open, non-paused seconds in ``[start, end)``
* :func:`add_working_time` -- the earliest instant at which a given amount of
  working time has elapsed (a deadline)
* :func:`standard_day_seconds` -- the length of one "working day" (N个工作日)

The rules are explained, with worked examples, in ``docs/sla-clock.md``.

"Open" is defined on local wall-clock readings: a UTC instant is open iff its
wall-clock reading in the calendar's zone falls inside a period of its local
date, or inside the part after midnight of a crossing-midnight period of the
previous local date. Wall times skipped by a DST gap never occur; wall times
repeated by a DST fold occur (and count) twice.

Implementation: a calendar is compiled once (cached by value) into sorted
arrays of open intervals in UTC epoch seconds plus cumulative open seconds.
The arrays are built lazily, one ~year-long chunk at a time, and extended in
both directions on demand; queries are answered with :mod:`bisect`. The
epoch-second fast paths are :meth:`CompiledCalendar.add` and
:meth:`CompiledCalendar.between`; the datetime functions wrap them.

Pure Python; no Django imports.
"""

from __future__ import annotations

import re
import threading
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property, lru_cache
from itertools import accumulate
from typing import Any, Final, TypeAlias
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "Calendar",
    "CompiledCalendar",
    "FrozenDateMap",
    "Pause",
    "Period",
    "PeriodLike",
    "add_working_time",
    "compile_calendar",
    "is_open",
    "next_open",
    "open_intervals",
    "standard_day_seconds",
    "working_seconds",
]

WEEKDAY_NAMES: Final = (
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
)

_DAY: Final = 86_400
_US: Final = 1_000_000  # microseconds per second
_ONE_US: Final = timedelta(microseconds=1)
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_ORDINAL: Final = 719_163  # date(1970, 1, 1).toordinal()

# Compiled arrays are built in fixed UTC chunks (~388 days) aligned to the epoch.
_CHUNK: Final = 1 << 25
# Probe the zone's UTC offset this often when looking for DST transitions.
# (Assumes a zone never changes offset and changes it back within 6 hours.)
_PROBE: Final = 6 * 3600
# add_working_time/next_open give up after this long without any open time.
HORIZON_YEARS: Final = 10
_HORIZON: Final = (HORIZON_YEARS * 365 + 3) * _DAY
# Keep two days away from datetime.min/max so wall-clock conversions never overflow.
_MIN_TS: Final = -62_135_596_800 + 2 * _DAY  # 0001-01-03T00:00:00Z
_MAX_TS: Final = 253_402_300_800 - 2 * _DAY  # 9999-12-30T00:00:00Z

_HHMM = re.compile(r"(\d{1,2}):(\d{2})")


# --------------------------------------------------------------------------- model


def _parse_time(value: str | time, *, is_end: bool) -> time:
    if isinstance(value, time):
        return value
    if not isinstance(value, str):
        raise TypeError(f"expected a datetime.time or an 'HH:MM' string, got {value!r}")
    m = _HHMM.fullmatch(value.strip())
    if m is None:
        raise ValueError(f"invalid time {value!r}: expected 'HH:MM'")
    hour, minute = int(m.group(1)), int(m.group(2))
    if hour == 24 and minute == 0 and is_end:
        return time(0, 0)
    if hour > 23 or minute > 59:
        raise ValueError(f"invalid time {value!r}")
    return time(hour, minute)


def _fmt_time(t: time) -> str:
    return f"{t.hour:02d}:{t.minute:02d}"


@dataclass(frozen=True, order=True)
class Period:
    """Local wall-clock opening hours of one date, in whole minutes.

    ``end <= start`` means the period crosses midnight into the next date
    (``22:00-06:00``); ``end == 00:00`` means "until midnight"; ``00:00-00:00``
    is the whole day. The period belongs to the date on which it starts.
    """

    start: time
    end: time

    def __post_init__(self) -> None:
        for name in ("start", "end"):
            value = getattr(self, name)
            if not isinstance(value, time):
                raise TypeError(f"Period.{name} must be a datetime.time, got {value!r}")
            if value.tzinfo is not None:
                raise ValueError(f"Period.{name} must be a naive wall-clock time, got {value!r}")
            if value.second or value.microsecond:
                raise ValueError(f"Period.{name} must be a whole minute, got {value.isoformat()}")
            if value.fold:
                object.__setattr__(self, name, value.replace(fold=0))

    @classmethod
    def of(cls, start: str | time, end: str | time) -> Period:
        """Build from ``datetime.time`` values or ``"HH:MM"`` strings (``"24:00"`` = end of day)."""
        return cls(_parse_time(start, is_end=False), _parse_time(end, is_end=True))

    @property
    def crosses_midnight(self) -> bool:
        return self.end <= self.start

    @property
    def start_minute(self) -> int:
        """Minutes after the start of its date."""
        return self.start.hour * 60 + self.start.minute

    @property
    def end_minute(self) -> int:
        """Minutes after the start of its date; up to 2880 for a crossing period."""
        end = self.end.hour * 60 + self.end.minute
        return end + 1440 if self.crosses_midnight else end

    @property
    def seconds(self) -> int:
        """Nominal length (wall-clock, ignoring DST)."""
        return (self.end_minute - self.start_minute) * 60

    def __str__(self) -> str:
        return f"{_fmt_time(self.start)}-{_fmt_time(self.end)}"


PeriodLike: TypeAlias = "Period | tuple[str | time, str | time]"
#: ``(start, end)``; ``end is None`` means the pause is still running.
Pause: TypeAlias = "tuple[datetime, datetime | None]"


def _coerce_period(value: object) -> Period:
    if isinstance(value, Period):
        return value
    if isinstance(value, tuple | list) and len(value) == 2:
        return Period.of(value[0], value[1])
    raise TypeError(f"expected a Period or a (start, end) pair, got {value!r}")


def _coerce_day(value: object, where: str) -> tuple[Period, ...]:
    if isinstance(value, Period | str | bytes):
        raise TypeError(f"{where}: expected a sequence of periods, got {value!r}")
    if not isinstance(value, Iterable):
        raise TypeError(f"{where}: expected a sequence of periods, got {value!r}")
    periods = sorted(_coerce_period(p) for p in value)
    for prev, cur in zip(periods, periods[1:], strict=False):
        if cur.start_minute < prev.end_minute:
            raise ValueError(f"{where}: periods {prev} and {cur} overlap")
    return tuple(periods)


class FrozenDateMap(Mapping[date, tuple[Period, ...]]):
    """An immutable, hashable ``{date: periods}`` mapping, sorted by date."""

    __slots__ = ("_dict", "_hash", "_items")

    def __init__(self, items: Iterable[tuple[date, tuple[Period, ...]]] = ()) -> None:
        d = dict(items)
        self._dict: dict[date, tuple[Period, ...]] = d
        self._items: tuple[tuple[date, tuple[Period, ...]], ...] = tuple(sorted(d.items()))
        self._hash: int | None = None

    def __getitem__(self, key: date) -> tuple[Period, ...]:
        return self._dict[key]

    def __iter__(self) -> Iterator[date]:
        return (k for k, _ in self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: object) -> bool:
        return key in self._dict

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FrozenDateMap):
            return self._items == other._items
        if isinstance(other, Mapping):
            return self._dict == dict(other.items())
        return NotImplemented

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(self._items)
        return self._hash

    def __reduce__(self) -> tuple[Any, ...]:
        return (FrozenDateMap, (self._items,))

    def __repr__(self) -> str:
        if len(self._items) <= 6:
            inner = ", ".join(f"{d.isoformat()}: {list(map(str, ps))}" for d, ps in self._items)
            return f"FrozenDateMap({{{inner}}})"
        first, last = self._items[0][0], self._items[-1][0]
        return f"<FrozenDateMap: {len(self._items)} dates {first}..{last}>"


_EMPTY_OVERRIDES: Final = FrozenDateMap()


@lru_cache(maxsize=64)
def _zone(tz: str) -> ZoneInfo:
    if not isinstance(tz, str):
        raise TypeError(f"tz must be an IANA zone name (str), got {tz!r}")
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise ValueError(f"unknown time zone {tz!r}") from exc


@dataclass(frozen=True)
class Calendar:
    """When the clock runs.

    ``weekly`` has exactly 7 entries (Monday..Sunday). A date in ``overrides``
    uses those periods instead of its weekday's: an empty tuple closes the day
    (节假日), a non-empty one makes it a special or make-up working day (调休).
    ``always_open`` (7x24) ignores everything else.

    Instances are hashable; the compiled form is cached per value.
    """

    tz: str
    weekly: tuple[tuple[Period, ...], ...]
    overrides: Mapping[date, tuple[Period, ...]] = _EMPTY_OVERRIDES
    always_open: bool = False

    def __post_init__(self) -> None:
        _zone(self.tz)
        weekly: Any = self.weekly
        if isinstance(weekly, str | bytes | Mapping) or not isinstance(weekly, Iterable):
            raise TypeError("weekly must be a sequence of 7 sequences of periods (Monday..Sunday)")
        days = list(weekly)
        if len(days) != 7:
            raise ValueError(
                f"weekly must have exactly 7 entries (Monday..Sunday), got {len(days)}"
            )
        object.__setattr__(
            self,
            "weekly",
            tuple(_coerce_day(day, WEEKDAY_NAMES[i]) for i, day in enumerate(days)),
        )
        overrides: Any = self.overrides
        if not isinstance(overrides, Mapping):
            raise TypeError("overrides must be a mapping of date -> periods")
        items = []
        for d, periods in overrides.items():
            if isinstance(d, datetime) or not isinstance(d, date):
                raise TypeError(f"override keys must be datetime.date values, got {d!r}")
            items.append((d, _coerce_day(periods, d.isoformat())))
        object.__setattr__(self, "overrides", FrozenDateMap(items))
        object.__setattr__(self, "always_open", bool(self.always_open))

    # The hash of a calendar with hundreds of holidays is not free; compute it once.
    @cached_property
    def _hash(self) -> int:
        return hash((self.tz, self.weekly, self.overrides, self.always_open))

    def __hash__(self) -> int:
        return self._hash

    @cached_property
    def compiled(self) -> CompiledCalendar:
        """The (shared, cached) compiled form of this calendar."""
        return compile_calendar(self)

    def __getstate__(self) -> dict[str, Any]:
        # Drop per-process caches (string hashes are randomised per process).
        return {k: v for k, v in self.__dict__.items() if k not in ("_hash", "compiled")}

    @property
    def zone(self) -> ZoneInfo:
        return _zone(self.tz)

    def periods_on(self, day: date) -> tuple[Period, ...]:
        """The periods that start on local date ``day`` (override or weekday)."""
        found = self.overrides.get(day)
        return self.weekly[day.weekday()] if found is None else found

    @classmethod
    def always(cls, tz: str = "UTC") -> Calendar:
        """A 7x24 calendar: every instant is open."""
        return cls(tz=tz, weekly=((),) * 7, always_open=True)

    @classmethod
    def weekly_hours(
        cls,
        tz: str,
        hours: Mapping[int, Iterable[PeriodLike]],
        *,
        holidays: Iterable[date] = (),
        makeup_days: Iterable[date] = (),
        makeup_hours: Iterable[PeriodLike] | None = None,
        overrides: Mapping[date, Iterable[PeriodLike]] | None = None,
    ) -> Calendar:
        """Build from ``{weekday: [("08:30", "12:00"), ...]}`` (0 = Monday; missing = closed).

        ``holidays`` are closed all day; ``makeup_days`` (调休) are open with
        ``makeup_hours``, by default Monday's hours (or the first non-empty
        weekday's). ``overrides`` sets arbitrary dates explicitly.
        """
        weekly: list[tuple[Period, ...]] = [()] * 7
        for weekday, periods in hours.items():
            if not isinstance(weekday, int) or isinstance(weekday, bool) or not 0 <= weekday <= 6:
                raise ValueError(f"weekday keys must be 0 (Monday) .. 6 (Sunday), got {weekday!r}")
            weekly[weekday] = _coerce_day(periods, WEEKDAY_NAMES[weekday])
        holiday_set = set(holidays)
        makeup_set = set(makeup_days)
        clash = holiday_set & makeup_set
        if clash:
            raise ValueError(f"dates both holiday and make-up day: {_fmt_dates(clash)}")
        result: dict[date, tuple[Period, ...]] = {d: () for d in holiday_set}
        if makeup_set:
            if makeup_hours is not None:
                mk = _coerce_day(makeup_hours, "makeup_hours")
            else:
                mk = next((day for day in weekly if day), ())
            if not mk:
                raise ValueError("make-up days need makeup_hours (no weekday has opening hours)")
            result.update((d, mk) for d in makeup_set)
        if overrides:
            clash = (holiday_set | makeup_set) & set(overrides)
            if clash:
                raise ValueError(
                    f"dates given twice (override and holiday/make-up): {_fmt_dates(clash)}"
                )
            for d, periods in overrides.items():
                result[d] = _coerce_day(periods, str(d))
        return cls(tz=tz, weekly=tuple(weekly), overrides=FrozenDateMap(result.items()))


def _fmt_dates(dates: Iterable[date]) -> str:
    return ", ".join(str(d) for d in sorted(dates))


def standard_day_seconds(cal: Calendar) -> int:
    """Length of one working day (N个工作日 = N x this much working time).

    Monday's hours, or those of the first weekday that has any; 86400 for 7x24.
    """
    if cal.always_open:
        return _DAY
    for day in cal.weekly:
        if day:
            return sum(p.seconds for p in day)
    raise ValueError("calendar has no weekly opening hours, so a working day has no length")


# --------------------------------------------------------------------------- compiled

# (lo, hi, starts, ends, cum): open intervals [starts[i], ends[i]) in UTC epoch seconds,
# sorted, disjoint and non-adjacent, all inside [lo, hi), which is fully known.
# cum[i] = open seconds before starts[i] (plus an arbitrary constant); len(cum) == n + 1.
_State: TypeAlias = "tuple[int, int, list[int], list[int], list[int]]"


class CompiledCalendar:
    """Open intervals of a :class:`Calendar` in UTC epoch seconds, built lazily.

    All methods take and return integer epoch seconds (``*_us`` variants:
    integer epoch microseconds). Thread-safe: the arrays are replaced, never
    mutated, and cumulative values never change once published.
    """

    def __init__(self, calendar: Calendar, *, chunk_seconds: int = _CHUNK) -> None:
        if chunk_seconds < 60:
            raise ValueError("chunk_seconds must be at least 60")
        self.calendar: Final = calendar
        self._chunk = chunk_seconds  # tests use small chunks to exercise the seams
        self._lock = threading.Lock()
        if calendar.always_open:
            self._state: _State = (_MIN_TS, _MAX_TS, [_MIN_TS], [_MAX_TS], [0, _MAX_TS - _MIN_TS])
            return
        self._zone = _zone(calendar.tz)

        def secs(periods: tuple[Period, ...]) -> tuple[tuple[int, int], ...]:
            return tuple((p.start_minute * 60, p.end_minute * 60) for p in periods)

        self._weekly = tuple(secs(day) for day in calendar.weekly)
        self._overrides = {
            d.toordinal() - _EPOCH_ORDINAL: secs(ps) for d, ps in calendar.overrides.items()
        }
        # lo > hi: nothing built yet.
        self._state = (_MAX_TS + 1, _MIN_TS - 1, [], [], [0])

    # ---- building

    def _offset(self, ts: int) -> int:
        off = datetime.fromtimestamp(ts, self._zone).utcoffset()
        assert off is not None
        return off.days * _DAY + off.seconds

    def _segments(self, u0: int, u1: int) -> list[tuple[int, int, int]]:
        """Split [u0, u1) into (start, end, utc_offset) pieces of constant offset."""
        segs: list[tuple[int, int, int]] = []
        seg_start, cur = u0, self._offset(u0)
        p, last = u0, u1 - 1
        while p < last:
            q = min(p + _PROBE, last)
            if self._offset(q) == cur:
                p = q
                continue
            lo, hi = p, q  # offset(lo) == cur != offset(hi): bisect to the transition
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if self._offset(mid) == cur:
                    lo = mid
                else:
                    hi = mid
            segs.append((seg_start, hi, cur))
            seg_start, cur, p = hi, self._offset(hi), hi
        segs.append((seg_start, u1, cur))
        return segs

    def _build(self, u0: int, u1: int) -> tuple[list[int], list[int]]:
        """Open intervals inside [u0, u1), exactly per the wall-clock definition."""
        segs = self._segments(u0, u1)
        offs = [off for _, _, off in segs]
        first_day = (u0 + min(offs)) // _DAY - 1  # -1: yesterday's overnight periods
        last_day = (u1 + max(offs)) // _DAY
        weekly, overrides = self._weekly, self._overrides
        # Wall-clock open intervals in "local epoch seconds", merged.
        w_starts: list[int] = []
        w_ends: list[int] = []
        for day in range(first_day, last_day + 1):
            periods = overrides.get(day)
            if periods is None:
                periods = weekly[(day + 3) % 7]  # 1970-01-01 was a Thursday
            base = day * _DAY
            for s, e in periods:
                s += base
                e += base
                if w_ends and s <= w_ends[-1]:
                    if e > w_ends[-1]:
                        w_ends[-1] = e
                else:
                    w_starts.append(s)
                    w_ends.append(e)
        # Pre-image under t -> t + offset(t), piece by piece.
        starts: list[int] = []
        ends: list[int] = []
        n = len(w_starts)
        for a, b, off in segs:
            i = bisect_right(w_ends, a + off)
            wb = b + off
            while i < n and w_starts[i] < wb:
                s = max(w_starts[i] - off, a)
                e = min(w_ends[i] - off, b)
                if s < e:
                    if ends and ends[-1] == s:
                        ends[-1] = e
                    else:
                        starts.append(s)
                        ends.append(e)
                i += 1
        return starts, ends

    def _chunk_bounds(self, ts: int) -> tuple[int, int]:
        k = ts // self._chunk * self._chunk
        return max(k, _MIN_TS), min(k + self._chunk, _MAX_TS)

    def _grow(self, forward: bool) -> _State:
        """Add one chunk after hi (or before lo). Caller holds the lock."""
        lo, hi, starts, ends, cum = self._state
        if forward:
            u0, u1 = self._chunk_bounds(hi)
            u0 = hi
            new_s, new_e = self._build(u0, u1)
            if ends and new_s and ends[-1] == new_s[0]:
                new_s[0] = starts[-1]
                starts, ends = starts[:-1], ends[:-1]
                base_cum = cum[:-1]
            else:
                base_cum = cum
            all_s, all_e = starts + new_s, ends + new_e
            tail = accumulate(
                (e - s for s, e in zip(new_s, new_e, strict=True)), initial=base_cum[-1]
            )
            new_cum = base_cum[:-1] + list(tail)
            state: _State = (lo, u1, all_s, all_e, new_cum)
        else:
            u0, u1 = self._chunk_bounds(lo - 1)
            u1 = lo
            new_s, new_e = self._build(u0, u1)
            if starts and new_e and new_e[-1] == starts[0]:
                new_e[-1] = ends[0]
                starts, ends = starts[1:], ends[1:]
            all_s, all_e = new_s + starts, new_e + ends
            # Keep every published cumulative value unchanged: count backwards.
            total_new = sum(e - s for s, e in zip(all_s, all_e, strict=True)) - (cum[-1] - cum[0])
            new_cum = list(
                accumulate(
                    (e - s for s, e in zip(all_s, all_e, strict=True)),
                    initial=cum[0] - total_new,
                )
            )
            state = (u0, hi, all_s, all_e, new_cum)
        self._state = state
        return state

    def _cover(self, a: int, b: int) -> _State:
        """Make sure [a, b] is inside the built range; return the state."""
        if a < _MIN_TS or b > _MAX_TS:
            raise ValueError("instant outside the supported range (0001-01-03 .. 9999-12-30 UTC)")
        with self._lock:
            lo, hi, *_ = self._state
            if lo > hi:  # first use
                k = self._chunk_bounds(a)[0]
                self._state = (k, k, [], [], [0])
            while a < self._state[0]:
                self._grow(forward=False)
            while b > self._state[1]:
                self._grow(forward=True)
            return self._state

    def _grow_until(self, need_cum: int, origin: int, what: str) -> _State:
        """Extend forward until cum[-1] >= need_cum, giving up after a long closed stretch."""
        with self._lock:
            while True:
                state = self._state
                lo, hi, _, ends, cum = state
                if cum[-1] >= need_cum:
                    return state
                last_open = ends[-1] if ends else lo
                if hi - max(origin, last_open) >= _HORIZON:
                    raise ValueError(
                        f"{what}: the calendar has no open time in the {HORIZON_YEARS} years "
                        f"after {_fmt_ts(max(origin, last_open))}"
                    )
                if hi >= _MAX_TS:
                    raise ValueError(f"{what}: the result would fall after year 9999")
                self._grow(forward=True)

    # ---- queries, epoch seconds

    def cumulative(self, ts: int) -> int:
        """Open seconds before ``ts`` plus an arbitrary per-instance constant."""
        lo, hi, starts, ends, cum = self._state
        if ts < lo or ts > hi:
            lo, hi, starts, ends, cum = self._cover(ts, ts)
        i = bisect_right(starts, ts) - 1
        if i < 0:
            return cum[0]
        if ts < ends[i]:
            return cum[i] + ts - starts[i]
        return cum[i + 1]

    def between(self, a: int, b: int) -> int:
        """Open seconds in ``[a, b)`` (0 if ``b <= a``)."""
        if b <= a:
            return 0
        lo, hi, starts, ends, cum = self._state
        if a < lo or b > hi:
            lo, hi, starts, ends, cum = self._cover(a, b)
        i = bisect_right(starts, b) - 1
        if i < 0:
            return 0
        fb = cum[i] + b - starts[i] if b < ends[i] else cum[i + 1]
        i = bisect_right(starts, a) - 1
        if i < 0:
            return fb - cum[0]
        return fb - (cum[i] + a - starts[i] if a < ends[i] else cum[i + 1])

    def add(self, start: int, seconds: int) -> int:
        """Earliest ``T >= start`` with ``between(start, T) == seconds``."""
        if seconds <= 0:
            if seconds == 0:
                return start
            raise ValueError(f"working time must not be negative, got {seconds}")
        lo, hi, starts, ends, cum = self._state
        if start < lo or start > hi:
            lo, hi, starts, ends, cum = self._cover(start, start)
        i = bisect_right(starts, start) - 1
        if i < 0:
            target = cum[0] + seconds
        elif start < ends[i]:
            target = cum[i] + start - starts[i] + seconds
        else:
            target = cum[i + 1] + seconds
        if target > cum[-1]:
            lo, hi, starts, ends, cum = self._grow_until(target, start, "add_working_time")
        j = bisect_left(cum, target) - 1
        return starts[j] + target - cum[j]

    def is_open(self, ts: int) -> bool:
        lo, hi, starts, ends, cum = self._state
        if ts < lo or ts >= hi:
            lo, hi, starts, ends, cum = self._cover(ts, ts + 1)
        i = bisect_right(starts, ts) - 1
        return i >= 0 and ts < ends[i]

    def next_open(self, ts: int) -> int:
        """``ts`` if open, else the start of the next open interval."""
        _, _, starts, ends, _ = self._cover(ts, ts + 1)
        i = bisect_right(starts, ts) - 1
        if i >= 0 and ts < ends[i]:
            return ts
        while i + 1 >= len(starts):
            cum = self._state[4]
            _, _, starts, ends, _ = self._grow_until(cum[-1] + 1, ts, "next_open")
            i = bisect_right(starts, ts) - 1
        return starts[i + 1]

    def intervals(self, a: int, b: int) -> Iterator[tuple[int, int]]:
        """Open intervals clipped to ``[a, b)``, in order."""
        if b <= a:
            return
        _, _, starts, ends, _ = self._cover(a, b)
        i = bisect_right(ends, a)
        n = len(starts)
        while i < n and starts[i] < b:
            yield max(starts[i], a), min(ends[i], b)
            i += 1

    # ---- queries, epoch microseconds (sub-second inputs)

    def _cumulative_us(self, t: int) -> tuple[int, _State]:
        n, r = divmod(t, _US)
        state = self._state
        if n < state[0] or n >= state[1]:
            state = self._cover(n, n + 1)
        _, _, starts, ends, cum = state
        i = bisect_right(starts, n) - 1
        if i < 0:
            return cum[0] * _US, state
        if n < ends[i]:  # every second of an interval is wholly open
            return (cum[i] + n - starts[i]) * _US + r, state
        return cum[i + 1] * _US, state

    def between_us(self, a: int, b: int) -> int:
        """Open microseconds in ``[a, b)``."""
        if b <= a:
            return 0
        self._cover(a // _US, b // _US + 1)
        return self._cumulative_us(b)[0] - self._cumulative_us(a)[0]

    def add_us(self, start: int, amount: int) -> int:
        """Earliest ``T >= start`` with ``between_us(start, T) == amount``."""
        if amount <= 0:
            if amount == 0:
                return start
            raise ValueError(f"working time must not be negative, got {amount} us")
        f, (_, _, starts, _, cum) = self._cumulative_us(start)
        q, r = divmod(f + amount, _US)
        need = q + 1 if r else q
        if need > cum[-1]:
            _, _, starts, _, cum = self._grow_until(need, start // _US, "add_working_time")
        j = (bisect_right(cum, q) if r else bisect_left(cum, q)) - 1
        return (starts[j] + q - cum[j]) * _US + r


@lru_cache(maxsize=256)
def compile_calendar(cal: Calendar) -> CompiledCalendar:
    """The shared compiled form of ``cal`` (cached by value)."""
    return CompiledCalendar(cal)


# --------------------------------------------------------------------------- datetime API


def _fmt_ts(ts: int) -> str:
    return (_EPOCH + timedelta(seconds=ts)).isoformat()


def _split(value: datetime, name: str) -> tuple[int, int]:
    """``(epoch seconds rounded down, microseconds)`` of an aware datetime.

    The hot path of the wrappers: ``timestamp()`` is a float, but once the
    microseconds are taken off it is within far less than half a second of an
    integer for every representable date, so rounding recovers the exact value.
    """
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, got {value!r}")
    tz = value.tzinfo
    if tz is not UTC and tz.__class__ is not ZoneInfo:  # ZoneInfo offsets are whole seconds
        offset = None if tz is None else value.utcoffset()
        if offset is None:
            raise ValueError(f"{name} must be timezone-aware, got naive {value.isoformat()}")
        if offset.microseconds:  # exotic sub-second UTC offset: exact, slower
            return divmod((value - _EPOCH) // _ONE_US, _US)
    us = value.microsecond
    return round(value.timestamp() - us * 1e-6), us


def _to_us(value: datetime, name: str) -> int:
    sec, us = _split(value, name)
    return sec * _US + us


def _from_us(us: int) -> datetime:
    sec, frac = divmod(us, _US)
    return datetime.fromtimestamp(sec, UTC).replace(microsecond=frac)


def _amount_us(seconds: float | timedelta) -> int:
    if isinstance(seconds, timedelta):
        amount = seconds // _ONE_US
    elif isinstance(seconds, int):
        amount = seconds * _US
    elif isinstance(seconds, float):
        amount = round(seconds * _US)
    else:
        raise TypeError(f"seconds must be an int, float or timedelta, got {seconds!r}")
    if amount < 0:
        raise ValueError(f"working time must not be negative, got {seconds!r}")
    return amount


def _merge_pauses(pauses: Iterable[Pause]) -> list[tuple[int, int | None]]:
    """Pauses as sorted, disjoint, non-adjacent [start, end) in epoch us; None = forever."""
    spans: list[tuple[int, int | None]] = []
    for pause in pauses:
        try:
            p_start, p_end = pause
        except (TypeError, ValueError):
            raise TypeError(f"a pause must be a (start, end | None) pair, got {pause!r}") from None
        s = _to_us(p_start, "pause start")
        if p_end is None:
            spans.append((s, None))
            continue
        e = _to_us(p_end, "pause end")
        if e < s:
            raise ValueError(
                f"pause ends before it starts: {p_start.isoformat()} > {p_end.isoformat()}"
            )
        if e > s:
            spans.append((s, e))
    if not spans:
        return spans
    spans.sort(key=lambda span: span[0])
    merged: list[tuple[int, int | None]] = []
    for span_start, span_end in spans:
        if merged:
            ms, me = merged[-1]
            if me is None:
                break  # everything after an open-ended pause is paused anyway
            if span_start <= me:
                merged[-1] = (ms, None if span_end is None else max(me, span_end))
                continue
        merged.append((span_start, span_end))
    return merged


def _paused_working_us(
    cc: CompiledCalendar, a: int, b: int, pauses: list[tuple[int, int | None]]
) -> int:
    total = cc.between_us(a, b)
    for ps, pe in pauses:
        if ps >= b:
            break
        lo = max(a, ps)
        hi: int = b if pe is None else min(b, pe)
        if lo < hi:
            total -= cc.between_us(lo, hi)
    return total


def is_open(cal: Calendar, at: datetime) -> bool:
    """Whether the calendar is open at the instant ``at``."""
    return cal.compiled.is_open(_to_us(at, "at") // _US)


def next_open(cal: Calendar, at: datetime) -> datetime:
    """``at`` (in UTC) if open, else the next instant the calendar opens.

    Raises ValueError if it does not open within 10 years.
    """
    t = _to_us(at, "at")
    n = t // _US
    opened = cal.compiled.next_open(n)
    return _from_us(t) if opened == n else _from_us(opened * _US)


def open_intervals(
    cal: Calendar, start: datetime, end: datetime
) -> Iterator[tuple[datetime, datetime]]:
    """Open intervals clipped to ``[start, end)``, as UTC ``(start, end)`` pairs."""
    a, b = _to_us(start, "start"), _to_us(end, "end")
    if b <= a:
        return
    for s, e in cal.compiled.intervals(a // _US, -(-b // _US)):
        yield _from_us(max(s * _US, a)), _from_us(min(e * _US, b))


def working_seconds(
    cal: Calendar, start: datetime, end: datetime, pauses: Iterable[Pause] = ()
) -> int:
    """Open, non-paused working time in ``[start, end)``, in whole seconds (rounded down).

    0 if ``end <= start``.
    """
    if not pauses:
        a_sec, a_us = _split(start, "start")
        b_sec, b_us = _split(end, "end")
        if not (a_us or b_us):
            return cal.compiled.between(a_sec, b_sec)
        return cal.compiled.between_us(a_sec * _US + a_us, b_sec * _US + b_us) // _US
    a, b = _to_us(start, "start"), _to_us(end, "end")
    merged = _merge_pauses(pauses)
    if not merged:
        return cal.compiled.between_us(a, b) // _US
    if b <= a:
        return 0
    return _paused_working_us(cal.compiled, a, b, merged) // _US


def add_working_time(
    cal: Calendar,
    start: datetime,
    seconds: float | timedelta,
    pauses: Iterable[Pause] = (),
) -> datetime | None:
    """The deadline: the earliest instant ``T >= start`` with ``working_seconds(start, T) == seconds``.

    A deadline that falls exactly at the end of a period is that end (12:00,
    not 13:30). ``seconds == 0`` returns ``start``. Returns None if an
    open-ended pause stops the clock before the target is reached. Raises
    ValueError if the calendar has no open time for 10 years.
    """
    if not pauses:
        if isinstance(seconds, int):
            whole: int | None = seconds
        elif isinstance(seconds, timedelta) and not seconds.microseconds:
            whole = seconds.days * _DAY + seconds.seconds
        else:
            whole = None
        if whole is not None and whole >= 0:
            sec, us = _split(start, "start")
            cc = cal.compiled
            if not us or not whole or not cc.is_open(sec):
                # (a closed second contributes nothing, so its fraction does not matter)
                if whole:
                    return datetime.fromtimestamp(cc.add(sec, whole), UTC)
                return datetime.fromtimestamp(sec, UTC).replace(microsecond=us)
            # Starting `us` into an open second: intervals have whole-second ends, so the
            # earliest T with whole+1 seconds done from `sec` is preceded by an open second,
            # and the deadline is `us` into that second.
            return datetime.fromtimestamp(cc.add(sec, whole + 1) - 1, UTC).replace(microsecond=us)
    t = _to_us(start, "start")
    amount = _amount_us(seconds)
    merged = _merge_pauses(pauses)
    cc = cal.compiled
    if not merged:
        return _from_us(cc.add_us(t, amount))
    if amount == 0:
        return _from_us(t)
    if (
        t % _US == 0
        and amount % _US == 0
        and all(ps % _US == 0 and (pe is None or pe % _US == 0) for ps, pe in merged)
    ):  # all whole seconds: the same walk on the (faster) second API
        in_seconds = [(ps // _US, None if pe is None else pe // _US) for ps, pe in merged]
        done = _add_paused(cc.between, cc.add, t // _US, amount // _US, in_seconds)
        return None if done is None else datetime.fromtimestamp(done, UTC)
    done = _add_paused(cc.between_us, cc.add_us, t, amount, merged)
    return None if done is None else _from_us(done)


def _add_paused(
    between: Callable[[int, int], int],
    add: Callable[[int, int], int],
    cur: int,
    remaining: int,
    merged: list[tuple[int, int | None]],
) -> int | None:
    """Walk the gaps between merged pauses, spending ``remaining`` working time."""
    if remaining == 0:
        return cur
    for ps, pe in merged:
        if pe is not None and pe <= cur:
            continue
        if ps > cur:
            available = between(cur, ps)
            if available >= remaining:
                return add(cur, remaining)
            remaining -= available
        if pe is None:
            return None
        cur = pe
    return add(cur, remaining)
