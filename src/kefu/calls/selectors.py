"""Read queries: the call list, a call's timeline, and KPI sums per interval, queue and agent.

KPIs are summed by the database per 15-minute interval (UTC) and queue, and per agent; longer
intervals, hours of the day, days and totals are rolled up from those sums in Python (sums add
up; the ratios are computed last, in ``kpi.compute``). 15-minute steps line up with every time
zone in use, so the local-time roll-up is exact.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from django.db import connection
from django.db.models import QuerySet

from kefu.calls import kpi, rollup
from kefu.calls.access import visible_calls
from kefu.calls.models import AGENT_EVENTS, Call, QueueLogEvent
from kefu.core.events import history

STEP = 900
OFFERED = ("answered", "abandoned", "unanswered")


@dataclass(frozen=True)
class CallFilters:
    queue: str = ""
    agent: str = ""
    outcome: str = ""
    day: dt.date | None = None
    caller: str = ""


def list_calls(user: Any, filters: CallFilters, tz: dt.tzinfo) -> QuerySet[Call]:
    qs = visible_calls(user).select_related("customer", "user", "ticket", "wrapup")
    if filters.queue:
        qs = qs.filter(queue=filters.queue)
    if filters.agent:
        qs = qs.filter(agent=filters.agent)
    if filters.outcome:
        qs = qs.filter(outcome=filters.outcome)
    if filters.caller:
        qs = qs.filter(caller=filters.caller)
    if filters.day:
        start = dt.datetime.combine(filters.day, dt.time(0), tzinfo=tz)
        qs = qs.filter(started_at__gte=start, started_at__lt=start + dt.timedelta(days=1))
    return qs.order_by("-started_at", "-id")


def queue_names() -> list[str]:
    return list(Call.objects.exclude(queue="").values_list("queue", flat=True).distinct()[:200])


def call_timeline(call: Call) -> list[Any]:
    """The call's queue events (queue_log calls) or its recorded changes (others)."""
    if call.source == "queue_log":
        return list(QueueLogEvent.objects.filter(callid=call.external_id).order_by("ts", "id"))
    return list(history("call", call.pk, 200))


# --- KPIs -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KpiQuery:
    start: dt.date
    end: dt.date  # inclusive
    tz: dt.tzinfo
    interval_min: int = 30
    queue: str = ""
    agent: str = ""
    short_abandon_s: int = kpi.DEFAULT_SHORT_ABANDON_S
    service_level_s: int = kpi.DEFAULT_SERVICE_LEVEL_S
    timely_ring_s: int = kpi.DEFAULT_TIMELY_RING_S
    per_agent: bool = True  # False: leave ``by_agent`` empty (a screen that shows no agents)

    @property
    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        first = dt.datetime.combine(self.start, dt.time(0), tzinfo=self.tz)
        last = dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time(0), tzinfo=self.tz)
        return first.astimezone(dt.UTC), last.astimezone(dt.UTC)


@dataclass
class KpiReport:
    query: KpiQuery
    total: kpi.Kpis
    by_interval: list[tuple[dt.datetime, kpi.Kpis]] = field(default_factory=list)
    by_day: list[tuple[dt.date, kpi.Kpis]] = field(default_factory=list)
    by_hour: list[tuple[int, kpi.Kpis]] = field(default_factory=list)
    by_queue: list[tuple[str, kpi.Kpis]] = field(default_factory=list)
    by_agent: list[tuple[str, kpi.Kpis]] = field(default_factory=list)


def _bucket_sql() -> str:
    if connection.vendor == "postgresql":
        return f"CAST(FLOOR(EXTRACT(EPOCH FROM offered_at) / {STEP}) AS BIGINT)"
    return f"CAST(strftime('%%s', offered_at) AS INTEGER) / {STEP}"


_SUMS = """
    COUNT(*),
    SUM(CASE WHEN outcome = 'answered' THEN 1 ELSE 0 END),
    SUM(CASE WHEN outcome = 'abandoned' THEN 1 ELSE 0 END),
    SUM(CASE WHEN outcome = 'abandoned' AND wait_s < %s THEN 1 ELSE 0 END),
    SUM(CASE WHEN outcome = 'answered' AND wait_s <= %s THEN 1 ELSE 0 END),
    SUM(CASE WHEN outcome = 'answered' AND ring_s IS NOT NULL THEN 1 ELSE 0 END),
    SUM(CASE WHEN outcome = 'answered' AND ring_s <= %s THEN 1 ELSE 0 END),
    SUM(CASE WHEN outcome = 'answered' THEN wait_s ELSE 0 END),
    SUM(CASE WHEN outcome = 'answered' THEN talk_s ELSE 0 END),
    SUM(CASE WHEN outcome = 'answered' THEN hold_s ELSE 0 END),
    SUM(CASE WHEN outcome = 'answered' THEN acw_s ELSE 0 END),
    MAX(wait_s)
"""


N_SUMS = 12  # the columns of _SUMS, in the order of kpi.Totals' fields
MAX_COLUMN = 11  # longest_wait_s: a maximum, not a sum


def _totals(values: Iterable[Any], staffed: int | None = None) -> kpi.Totals:
    v = [int(x or 0) for x in values]
    return dataclasses.replace(kpi.Totals(*v), staffed_s=staffed)


def _group(keys: np.ndarray, sums: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sum rows of ``sums`` with equal ``keys`` (the longest wait column: the maximum)."""
    unique, index = np.unique(keys, return_inverse=True)
    out = np.zeros((len(unique), sums.shape[1]), dtype=np.int64)
    np.add.at(out, index, sums)
    longest = np.zeros(len(unique), dtype=np.int64)
    np.maximum.at(longest, index, sums[:, MAX_COLUMN])
    out[:, MAX_COLUMN] = longest
    return unique, out


def _from_row(row: np.ndarray, staffed: int | None) -> kpi.Totals:
    return dataclasses.replace(kpi.Totals(*(int(x) for x in row)), staffed_s=staffed)


def _sums(
    q: KpiQuery, group: str, bounds: tuple[dt.datetime, dt.datetime] | None = None
) -> list[tuple[Any, ...]]:
    """KPI sums straight from the calls, grouped by ``group``."""
    start, end = bounds or q.bounds
    where = ["offered_at >= %s", "offered_at < %s", f"outcome IN {OFFERED!r}"]
    params: list[Any] = [q.short_abandon_s, q.service_level_s, q.timely_ring_s]
    if connection.vendor == "sqlite":
        params += [start.strftime("%Y-%m-%d %H:%M:%S"), end.strftime("%Y-%m-%d %H:%M:%S")]
    else:
        params += [start, end]
    for column, value in (("queue", q.queue), ("agent", q.agent)):
        if value:
            where.append(f"{column} = %s")
            params.append(value)
    sql = (
        f"SELECT {group}, {_SUMS} FROM calls_call WHERE {' AND '.join(where)} "  # noqa: S608
        f"GROUP BY {group}"
    )
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return list(cur.fetchall())


def _kept(q: KpiQuery) -> bool:
    """Whether the kept sums (``rollup``) answer this query; if not, the calls are read."""
    return not q.agent and rollup.covers(q.short_abandon_s, q.service_level_s, q.timely_ring_s)


def _kept_columns(q: KpiQuery, aggregate: bool) -> str:
    short = f"short_{q.short_abandon_s}" if q.short_abandon_s else "0"
    columns = [
        "offered", "answered", "abandoned", short, f"within_{q.service_level_s}", "rung",
        f"timely_{q.timely_ring_s}", "wait_answered_s", "talk_s", "hold_s", "acw_s",
    ]  # fmt: skip
    if aggregate:
        return ", ".join([*(f"SUM({c})" for c in columns), "MAX(longest_wait_s)"])
    return ", ".join([*columns, "longest_wait_s"])


def _interval_rows(q: KpiQuery) -> list[tuple[Any, ...]]:
    """``(15-minute bucket, queue, sums…)`` of the query's range."""
    if not _kept(q):
        return _sums(q, f"{_bucket_sql()}, queue")
    start, end = (int(b.timestamp()) for b in q.bounds)
    sql = (
        f"SELECT bucket, queue, {_kept_columns(q, False)} FROM calls_intervalsums "  # noqa: S608
        "WHERE bucket >= %s AND bucket < %s"
    )
    params: list[Any] = [start // STEP, end // STEP]
    if q.queue:
        sql += " AND queue = %s"
        params.append(q.queue)
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return list(cur.fetchall())


def _agent_rows(q: KpiQuery) -> list[tuple[Any, ...]]:
    """``(agent, sums…)`` of the query's range: whole UTC days from the kept sums, the hours
    before the first and after the last UTC midnight from the calls."""
    start, end = q.bounds
    first_day = -(-int(start.timestamp()) // rollup.DAY)
    last_day = int(end.timestamp()) // rollup.DAY
    if not _kept(q) or first_day >= last_day:
        return _sums(q, "agent")
    sql = (
        f"SELECT agent, {_kept_columns(q, True)} FROM calls_agentdaysums "  # noqa: S608
        "WHERE day >= %s AND day < %s"
    )
    params: list[Any] = [first_day, last_day]
    if q.queue:
        sql += " AND queue = %s"
        params.append(q.queue)
    with connection.cursor() as cur:
        cur.execute(sql + " GROUP BY agent", params)
        rows = list(cur.fetchall())
    head = (start, dt.datetime.fromtimestamp(first_day * rollup.DAY, tz=dt.UTC))
    tail = (dt.datetime.fromtimestamp(last_day * rollup.DAY, tz=dt.UTC), end)
    for bounds in (head, tail):
        if bounds[0] < bounds[1]:
            rows += _sums(q, "agent", bounds)
    merged: dict[str, np.ndarray] = {}
    for agent, *values in rows:
        row = np.array([int(v or 0) for v in values], dtype=np.int64)
        if agent in merged:
            longest = max(merged[agent][MAX_COLUMN], row[MAX_COLUMN])
            merged[agent] = merged[agent] + row
            merged[agent][MAX_COLUMN] = longest
        else:
            merged[agent] = row
    return [(agent, *row.tolist()) for agent, row in merged.items()]


def _staffed(q: KpiQuery) -> tuple[dict[int, int], dict[str, int]]:
    start, end = (int(b.timestamp()) for b in q.bounds)
    kinds = {  # every one of models.AGENT_EVENTS, so the partial index serves the query
        "AGENTLOGIN": "login",
        "ADDMEMBER": "login",
        "AGENTLOGOFF": "logoff",
        "REMOVEMEMBER": "logoff",
        "PAUSE": "pause",
        "PAUSEALL": "pause",
        "UNPAUSE": "unpause",
        "UNPAUSEALL": "unpause",
    }
    rows = QueueLogEvent.objects.filter(ts__gte=start - 86_400, ts__lt=end, event__in=AGENT_EVENTS)
    if q.agent:
        rows = rows.filter(agent=q.agent)
    events = [
        (ts, agent, kinds[event])
        for ts, agent, event in rows.order_by("ts", "id").values_list("ts", "agent", "event")
    ]
    if not events:
        return {}, {}
    return kpi.staffed_totals(events, start, end, STEP)


def kpi_report(q: KpiQuery) -> KpiReport:
    tz = q.tz
    step = q.interval_min * 60
    rows = _interval_rows(q)
    buckets = np.array([int(r[0]) for r in rows], dtype=np.int64)
    queues = [r[1] or "—" for r in rows]
    sums = np.array([[int(x or 0) for x in r[2:]] for r in rows], dtype=np.int64).reshape(
        len(rows), N_SUMS
    )
    per_interval, staffed_agent = _staffed(q) if not q.queue else ({}, {})
    staffed_bucket = {ts // STEP: seconds for ts, seconds in per_interval.items()}

    # every 15-minute bucket once, with its local interval, day and hour
    bucket_ids, per_bucket = _group(buckets, sums)
    all_buckets = sorted(set(bucket_ids.tolist()) | set(staffed_bucket))
    position = {b: i for i, b in enumerate(bucket_ids.tolist())}
    interval_of: list[dt.datetime] = []
    day_of: list[dt.date] = []
    hour_of: list[int] = []
    for bucket in all_buckets:
        local = dt.datetime.fromtimestamp(bucket * STEP, tz=dt.UTC).astimezone(tz)
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        offset = int((local - midnight).total_seconds()) // step * step
        interval_of.append(midnight + dt.timedelta(seconds=offset))
        day_of.append(local.date())
        hour_of.append(local.hour)
    full = np.zeros((len(all_buckets), N_SUMS), dtype=np.int64)
    staffed_col = np.zeros(len(all_buckets), dtype=np.int64)
    for i, bucket in enumerate(all_buckets):
        if bucket in position:
            full[i] = per_bucket[position[bucket]]
        staffed_col[i] = staffed_bucket.get(bucket, 0)
    has_staff = bool(staffed_bucket)

    def roll(labels: list[Any]) -> list[tuple[Any, kpi.Kpis]]:
        if not labels:
            return []
        keys = sorted(set(labels))
        index = {k: i for i, k in enumerate(keys)}
        ids = np.array([index[label] for label in labels], dtype=np.int64)
        _ids, grouped = _group(ids, full)
        staff = np.zeros(len(keys), dtype=np.int64)
        np.add.at(staff, ids, staffed_col)
        return [
            (k, kpi.compute(_from_row(grouped[i], int(staff[i]) if has_staff else None)))
            for i, k in enumerate(keys)
        ]

    queue_names = sorted(set(queues))
    queue_index = {name: i for i, name in enumerate(queue_names)}
    _ids, per_queue = _group(np.array([queue_index[n] for n in queues], dtype=np.int64), sums)
    by_agent = []
    for agent, *values in sorted(_agent_rows(q) if q.per_agent else [], key=lambda r: r[0] or ""):
        if agent:
            by_agent.append((agent, kpi.compute(_totals(values, staffed_agent.get(agent)))))
    total = _from_row(full.sum(axis=0), int(staffed_col.sum()) if has_staff else None)
    if len(full):
        total = kpi.Totals(**{**total.__dict__, "longest_wait_s": int(full[:, MAX_COLUMN].max())})
    return KpiReport(
        query=q,
        total=kpi.compute(total),
        by_interval=roll(interval_of),
        by_day=roll(day_of),
        by_hour=roll(hour_of),
        by_queue=[
            (name, kpi.compute(_from_row(per_queue[i], None))) for i, name in enumerate(queue_names)
        ],
        by_agent=by_agent,
    )


def zone(name: str) -> dt.tzinfo:
    return ZoneInfo(name)
