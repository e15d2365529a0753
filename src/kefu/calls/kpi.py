"""Contact-centre KPIs, each defined once. Pure: no Django, no database.

The database sums calls per group (an interval, a queue, an agent, a day) into :class:`Totals`;
:func:`compute` turns the sums into the figures. Sums add up, ratios do not, so a day's KPIs are
computed from the day's sums, never averaged from its intervals.

Definitions (``docs/calls.md`` has the same words, the KPI page shows them as help):

- offered (呼入人工量): calls that asked for an agent — entered a queue, or were put through to
  an agent directly. Calls that ended in the voice menu are not offered.
- answered (人工接通量): offered calls an agent picked up.
- abandoned (放弃量): offered calls the caller left before an agent picked up (hung up, timed
  out, pressed a key to leave, or the queue emptied).
- short abandoned (短时放弃): abandoned after waiting less than the short-abandon threshold
  (default 5 s); such callers were never really waiting for an agent.
- abandonment rate (放弃率) = (abandoned − short abandoned) / (offered − short abandoned).
- 人工接通率 (answer rate) = answered / offered.
- ASA, average speed of answer (平均应答速度) = total queue wait of answered calls / answered.
- talk time, average (平均通话时长) = total talk time / answered.
- ACW, average after-call work (平均话后处理时长) = total after-call work / answered.
- AHT, average handle time (平均处理时长) = (talk + hold + after-call work) / answered.
- service level, answered basis (服务水平·按接通) = answered within Y s / answered.
- service level, offered basis (服务水平·按呼入) = answered within Y s / (offered − short
  abandoned). The usual 80/20 target means this one at Y = 20 s is at least 80 %.
- 接听及时率 (timely pick-up) = answered calls the agent picked up within R s of ringing (default
  10 s) / answered calls whose ring time is known.
- longest wait (最长等待) = the longest queue wait of any offered call, answered or not.
- occupancy (座席占用率) = handle time (talk + hold + after-call work) / staffed time (agents
  logged in and not paused). Unknown where the source does not report agent sessions.

A ratio whose denominator is zero is ``None`` (shown as "—"), never 0 or 100 %.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

DEFAULT_SHORT_ABANDON_S = 5
DEFAULT_SERVICE_LEVEL_S = 20
DEFAULT_TIMELY_RING_S = 10
INTERVALS_MIN = (15, 30, 60)


@dataclass(frozen=True)
class Totals:
    """Sums over one group of calls."""

    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    short_abandoned: int = 0
    answered_within: int = 0  # answered after waiting at most Y seconds
    rung: int = 0  # answered calls whose ring time is known
    timely: int = 0  # ... of which the agent picked up within R seconds
    wait_answered_s: int = 0
    talk_s: int = 0
    hold_s: int = 0
    acw_s: int = 0
    longest_wait_s: int = 0
    staffed_s: int | None = None  # None: the source reports no agent sessions

    def __add__(self, other: Totals) -> Totals:
        values = {}
        for f in fields(self):
            a, b = getattr(self, f.name), getattr(other, f.name)
            if f.name == "longest_wait_s":
                values[f.name] = max(a, b)
            elif f.name == "staffed_s":
                values[f.name] = None if a is None and b is None else (a or 0) + (b or 0)
            else:
                values[f.name] = a + b
        return Totals(**values)


@dataclass(frozen=True)
class Kpis:
    offered: int
    answered: int
    abandoned: int
    short_abandoned: int
    abandon_rate: float | None
    answer_rate: float | None  # 人工接通率
    asa_s: float | None
    talk_avg_s: float | None
    acw_avg_s: float | None
    aht_s: float | None
    sl_answered: float | None
    sl_offered: float | None
    timely_rate: float | None  # 接听及时率
    longest_wait_s: int
    occupancy: float | None


def ratio(part: float, whole: float) -> float | None:
    return part / whole if whole else None


def compute(t: Totals) -> Kpis:
    handle = t.talk_s + t.hold_s + t.acw_s
    real_offered = t.offered - t.short_abandoned
    return Kpis(
        offered=t.offered,
        answered=t.answered,
        abandoned=t.abandoned,
        short_abandoned=t.short_abandoned,
        abandon_rate=ratio(t.abandoned - t.short_abandoned, real_offered),
        answer_rate=ratio(t.answered, t.offered),
        asa_s=ratio(t.wait_answered_s, t.answered),
        talk_avg_s=ratio(t.talk_s, t.answered),
        acw_avg_s=ratio(t.acw_s, t.answered),
        aht_s=ratio(handle, t.answered),
        sl_answered=ratio(t.answered_within, t.answered),
        sl_offered=ratio(t.answered_within, real_offered),
        timely_rate=ratio(t.timely, t.rung),
        longest_wait_s=t.longest_wait_s,
        occupancy=ratio(handle, t.staffed_s) if t.staffed_s else None,
    )


KPI_KEYS = (
    "offered",
    "answered",
    "abandoned",
    "short_abandoned",
    "abandon_rate",
    "answer_rate",
    "asa_s",
    "talk_avg_s",
    "acw_avg_s",
    "aht_s",
    "sl_answered",
    "sl_offered",
    "timely_rate",
    "longest_wait_s",
    "occupancy",
)
RATES = frozenset(
    {"abandon_rate", "answer_rate", "sl_answered", "sl_offered", "timely_rate", "occupancy"}
)


def staffed_seconds(
    events: list[tuple[int, str, str]], start: int, end: int, interval_s: int
) -> dict[tuple[str, int], int]:
    """Seconds each agent was staffed (logged in and not paused) per interval.

    ``events`` are ``(ts, agent, kind)`` in time order with kind one of ``login``, ``logoff``,
    ``pause``, ``unpause``; an agent seen first with ``pause`` or ``unpause`` was logged in.
    Returns ``{(agent, interval start ts): seconds}`` for intervals in ``[start, end)``.
    """
    result: dict[tuple[str, int], int] = {}
    state: dict[str, tuple[bool, bool, int]] = {}  # agent -> (logged in, paused, since)

    def credit(agent: str, since: int, until: int) -> None:
        since, until = max(since, start), min(until, end)
        while since < until:
            bucket = since - (since - start) % interval_s
            stop = min(until, bucket + interval_s)
            result[(agent, bucket)] = result.get((agent, bucket), 0) + stop - since
            since = stop

    for ts, agent, kind in events:
        logged, paused, since = state.get(
            agent, (kind in ("pause", "unpause", "logoff"), False, ts)
        )
        if logged and not paused:
            credit(agent, since, ts)
        if kind == "login":
            logged, paused = True, False
        elif kind == "logoff":
            logged, paused = False, False
        elif kind == "pause":
            logged, paused = True, True
        elif kind == "unpause":
            logged, paused = True, False
        state[agent] = (logged, paused, ts)
    for agent, (logged, paused, since) in state.items():
        if logged and not paused:
            credit(agent, since, end)
    return result


def staffed_totals(
    events: list[tuple[int, str, str]], start: int, end: int, interval_s: int
) -> tuple[dict[int, int], dict[str, int]]:
    """The same staffed time as :func:`staffed_seconds`, summed two ways: per interval (all
    agents; keyed by the interval's start) and per agent (the whole range). Works per stretch,
    not per agent and interval, so a month of a thousand agents stays quick."""
    count = max(0, -(-(end - start) // interval_s))
    diff = [0] * (count + 1)  # whole intervals, as a difference array
    part = [0] * count  # seconds of intervals covered in part
    per_agent: dict[str, int] = {}
    state: dict[str, tuple[bool, bool, int]] = {}

    def credit(agent: str, since: int, until: int) -> None:
        since, until = max(since, start), min(until, end)
        if since >= until:
            return
        per_agent[agent] = per_agent.get(agent, 0) + until - since
        first, last = (since - start) // interval_s, (until - start) // interval_s
        if first == last:
            part[first] += until - since
            return
        part[first] += start + (first + 1) * interval_s - since
        if last < count:
            part[last] += until - (start + last * interval_s)
        diff[first + 1] += 1
        diff[last] -= 1

    for ts, agent, kind in events:
        logged, paused, since = state.get(
            agent, (kind in ("pause", "unpause", "logoff"), False, ts)
        )
        if logged and not paused:
            credit(agent, since, ts)
        if kind == "login":
            logged, paused = True, False
        elif kind == "logoff":
            logged, paused = False, False
        elif kind == "pause":
            logged, paused = True, True
        elif kind == "unpause":
            logged, paused = True, False
        state[agent] = (logged, paused, ts)
    for agent, (logged, paused, since) in state.items():
        if logged and not paused:
            credit(agent, since, end)
    per_interval: dict[int, int] = {}
    whole = 0
    for i in range(count):
        whole += diff[i]
        seconds = whole * interval_s + part[i]
        if seconds:
            per_interval[start + i * interval_s] = seconds
    return per_interval, per_agent
