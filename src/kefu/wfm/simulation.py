"""A discrete-event simulation of a day of one queue with a roster.

Pure, no Django, seeded and reproducible. Contacts arrive as a Poisson process whose rate is
constant within each interval (the forecast); handle times are drawn from history (a sample of
observed handle times, bootstrapped) or exponential with a mean; patience is exponential with a
mean estimated from history, or infinite. Agents on duty per interval come from the roster: when
the number falls, busy agents finish their contact before leaving; when it rises, new agents take
the longest-waiting contact at once. First come, first served.

Figures use the same definitions as :mod:`kefu.wfm.erlang` so they can be shown side by side:
service level = answered within t / offered; ASA = mean wait of all offered contacts (an
abandoned contact waited until it hung up); abandonment = abandoned / offered. Each figure is
attributed to the interval the contact arrived in.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class DayResult:
    offered: IntArray
    answered: IntArray
    answered_in_time: IntArray
    abandoned: IntArray
    wait_total: FloatArray  # seconds, all offered contacts

    def totals(self) -> tuple[float, float, float]:
        """(service level, ASA seconds, abandonment) over the whole day."""
        offered = int(self.offered.sum())
        if offered == 0:
            return 1.0, 0.0, 0.0
        return (
            float(self.answered_in_time.sum()) / offered,
            float(self.wait_total.sum()) / offered,
            float(self.abandoned.sum()) / offered,
        )

    def per_interval(self) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Service level, ASA and abandonment per interval (NaN where nothing arrived)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            off = self.offered.astype(np.float64)
            return (
                np.where(off > 0, self.answered_in_time / off, np.nan),
                np.where(off > 0, self.wait_total / off, np.nan),
                np.where(off > 0, self.abandoned / off, np.nan),
            )


def simulate(
    volume: npt.ArrayLike,
    agents: npt.ArrayLike,
    interval_minutes: int,
    *,
    answer_within: float = 20.0,
    handle_times: Sequence[float] | None = None,
    mean_handle: float | None = None,
    mean_patience: float | None = None,
    seed: int = 0,
    replications: int = 1,
) -> DayResult:
    """Simulate ``replications`` independent days and add their counts up."""
    vol = np.asarray(volume, dtype=np.float64)
    staff = np.asarray(agents, dtype=np.int64)
    if vol.shape != staff.shape or vol.ndim != 1:
        raise ValueError("volume and agents need one value per interval each")
    if np.any(vol < 0) or np.any(staff < 0):
        raise ValueError("volume and agents must not be negative")
    if handle_times is None and (mean_handle is None or mean_handle <= 0):
        raise ValueError("give observed handle times or a positive mean handle time")
    if handle_times is not None and (len(handle_times) == 0 or min(handle_times) <= 0):
        raise ValueError("observed handle times must be positive")
    if mean_patience is not None and mean_patience <= 0:
        raise ValueError("mean patience must be positive")
    if replications < 1:
        raise ValueError("simulate at least one day")
    rng = np.random.default_rng(seed)
    sample = None if handle_times is None else np.asarray(handle_times, dtype=np.float64)
    n = vol.size
    totals = [np.zeros(n, dtype=np.int64) for _ in range(4)]
    wait_total = np.zeros(n)
    for _ in range(replications):
        counts, waits = _one_day(vol, staff, interval_minutes * 60.0, answer_within,
                                 sample, mean_handle, mean_patience, rng)  # fmt: skip
        for acc, c in zip(totals, counts, strict=True):
            acc += c
        wait_total += waits
    return DayResult(totals[0], totals[1], totals[2], totals[3], wait_total)


_ARRIVAL, _DEPART, _SHIFT = 0, 1, 2


def _one_day(
    vol: FloatArray,
    staff: IntArray,
    length: float,
    within: float,
    sample: FloatArray | None,
    mean_handle: float | None,
    mean_patience: float | None,
    rng: np.random.Generator,
) -> tuple[list[IntArray], FloatArray]:
    n = vol.size
    offered = np.zeros(n, dtype=np.int64)
    answered = np.zeros(n, dtype=np.int64)
    in_time = np.zeros(n, dtype=np.int64)
    abandoned = np.zeros(n, dtype=np.int64)
    waits = np.zeros(n)
    events: list[tuple[float, int, int, int]] = []
    seq = 0
    arrivals_per = rng.poisson(vol)
    for i, k in enumerate(arrivals_per):
        for t in np.sort(rng.uniform(i * length, (i + 1) * length, int(k))):
            events.append((float(t), _ARRIVAL, seq, i))
            seq += 1
        events.append((i * length, _SHIFT, seq, i))
        seq += 1
    heapq.heapify(events)
    queue: deque[tuple[float, float, int]] = deque()  # (arrival, gives up at, interval)
    busy = 0
    on_duty = 0

    def handle() -> float:
        if sample is not None:
            return float(sample[rng.integers(sample.size)])
        assert mean_handle is not None
        return float(rng.exponential(mean_handle))

    def start_next(now: float) -> None:
        nonlocal busy, seq
        while busy < on_duty and queue:
            arrived, gives_up, i = queue.popleft()
            if gives_up < now:
                abandoned[i] += 1
                waits[i] += gives_up - arrived
                continue
            wait = now - arrived
            answered[i] += 1
            waits[i] += wait
            if wait <= within:
                in_time[i] += 1
            busy += 1
            heapq.heappush(events, (now + handle(), _DEPART, seq, i))
            seq += 1

    while events:
        now, kind, _, i = heapq.heappop(events)
        if kind == _SHIFT:
            on_duty = int(staff[i])
        elif kind == _DEPART:
            busy -= 1
        else:
            offered[i] += 1
            patience = np.inf if mean_patience is None else float(rng.exponential(mean_patience))
            queue.append((now, now + patience, i))
        start_next(now)
        if not events and queue:
            # after the last interval the day's last staffing stays until the queue is empty;
            # with nobody on duty the remaining contacts wait until they hang up
            if on_duty == 0:
                while queue:
                    arrived, gives_up, j = queue.popleft()
                    if np.isfinite(gives_up):
                        abandoned[j] += 1
                        waits[j] += gives_up - arrived
            else:
                # nothing is running: everyone on duty is idle, which start_next ruled out
                raise AssertionError("a queue with idle agents")
    return [offered, answered, in_time, abandoned], waits
