"""KPI sums kept as calls are written, so a month of KPIs reads thousands of rows, not millions
of calls.

Two tables hold the sums of ``kpi.Totals``: per 15-minute interval (UTC) and queue
(``IntervalSums``), and per UTC day, PBX agent and queue (``AgentDaySums``). Every count that
depends on a threshold (short abandons, answered within Y, picked up within R) is kept for each
threshold of a fixed set (``models.SHORT_ABANDON_SET`` …), so any threshold of the set is exact;
a report with another threshold reads the calls.

The sums are never patched: whatever writes calls names the time range (or the interval and
agent of one call) it touched, and the rows of that range are rebuilt from the calls with one
grouped ``INSERT … SELECT`` — so the sums always equal what the calls say, and rebuilding twice
changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection

from kefu.calls.models import SERVICE_LEVEL_SET, SHORT_ABANDON_SET, TIMELY_RING_SET

STEP = 900
DAY = 86_400
DAY_LOCK = 0x6B66_7264  # advisory locks per day (with the day number) while its sums are rebuilt
COUNTED = ("answered", "abandoned", "unanswered")  # the outcomes of offered calls
OFFERED = "('answered', 'abandoned', 'unanswered')"

SUM_COLUMNS: tuple[str, ...] = (
    "offered", "answered", "abandoned", "rung", "wait_answered_s", "talk_s", "hold_s", "acw_s",
    "longest_wait_s",
    *(f"short_{t}" for t in SHORT_ABANDON_SET),
    *(f"within_{t}" for t in SERVICE_LEVEL_SET),
    *(f"timely_{t}" for t in TIMELY_RING_SET),
)  # fmt: skip

SUM_EXPRESSIONS: tuple[str, ...] = (
    "COUNT(*)",
    "SUM(CASE WHEN outcome = 'answered' THEN 1 ELSE 0 END)",
    "SUM(CASE WHEN outcome = 'abandoned' THEN 1 ELSE 0 END)",
    "SUM(CASE WHEN outcome = 'answered' AND ring_s IS NOT NULL THEN 1 ELSE 0 END)",
    "SUM(CASE WHEN outcome = 'answered' THEN wait_s ELSE 0 END)",
    "SUM(CASE WHEN outcome = 'answered' THEN talk_s ELSE 0 END)",
    "SUM(CASE WHEN outcome = 'answered' THEN hold_s ELSE 0 END)",
    "SUM(CASE WHEN outcome = 'answered' THEN acw_s ELSE 0 END)",
    "MAX(wait_s)",
    *(f"SUM(CASE WHEN outcome = 'abandoned' AND wait_s < {t} THEN 1 ELSE 0 END)"
      for t in SHORT_ABANDON_SET),
    *(f"SUM(CASE WHEN outcome = 'answered' AND wait_s <= {t} THEN 1 ELSE 0 END)"
      for t in SERVICE_LEVEL_SET),
    *(f"SUM(CASE WHEN outcome = 'answered' AND ring_s <= {t} THEN 1 ELSE 0 END)"
      for t in TIMELY_RING_SET),
)  # fmt: skip


def covers(short_abandon_s: int, service_level_s: int, timely_ring_s: int) -> bool:
    """Whether the kept sums answer a report with these thresholds exactly."""
    return (
        (short_abandon_s == 0 or short_abandon_s in SHORT_ABANDON_SET)
        and service_level_s in SERVICE_LEVEL_SET
        and timely_ring_s in TIMELY_RING_SET
    )


def _pg() -> bool:
    return connection.vendor == "postgresql"


def epoch_sql(column: str, divisor: int) -> str:
    """``column`` (a timestamp) as UNIX seconds // ``divisor``, in SQL."""
    if _pg():
        return f"CAST(FLOOR(EXTRACT(EPOCH FROM {column}) / {divisor}) AS BIGINT)"
    return f"(CAST(strftime('%%s', {column}) AS INTEGER) / {divisor})"


def stamp(ts: int) -> Any:
    """A UNIX time as a parameter compared with a timestamp column."""
    when = dt.datetime.fromtimestamp(ts, tz=dt.UTC)
    return when if _pg() else when.strftime("%Y-%m-%d %H:%M:%S")


def _rebuild(
    table: str, keys: Sequence[str], key_sql: Sequence[str], start: int, end: int,
    key_range: tuple[int, int], agents: Sequence[str] | None,
) -> None:  # fmt: skip
    first = keys[0]
    where_agent = ""
    params: list[Any] = []
    if agents is not None:
        where_agent = f" AND agent IN ({', '.join(['%s'] * len(agents))})"
        params = list(agents)
    columns = ", ".join([*keys, *SUM_COLUMNS])
    expressions = ", ".join([*key_sql, *SUM_EXPRESSIONS])
    group = ", ".join(str(i + 1) for i in range(len(keys)))
    agent_only = " AND agent <> ''" if "agent" in keys else ""
    with connection.cursor() as cur:
        if _pg():
            # one rebuild of a day at a time (a concurrent one would miss the rows this one
            # inserts, delete nothing and then collide with them); days in order
            cur.execute(
                "SELECT pg_advisory_xact_lock(%s, d) FROM generate_series(%s, %s) AS d ORDER BY d",
                [DAY_LOCK, start // DAY, (end - 1) // DAY],
            )
        cur.execute(
            f"DELETE FROM {table} WHERE {first} >= %s AND {first} < %s{where_agent}",  # noqa: S608
            [*key_range, *params],
        )
        cur.execute(
            f"INSERT INTO {table} ({columns}) SELECT {expressions} FROM calls_call "  # noqa: S608
            f"WHERE offered_at >= %s AND offered_at < %s AND outcome IN {OFFERED}"
            f"{agent_only}{where_agent} GROUP BY {group}",
            [stamp(start), stamp(end), *params],
        )


def rebuild_intervals(start: int, end: int) -> None:
    """Rebuild the interval sums of [start, end) (UNIX times on 15-minute boundaries)."""
    _rebuild(
        "calls_intervalsums", ("bucket", "queue"), (epoch_sql("offered_at", STEP), "queue"),
        start, end, (start // STEP, end // STEP), None,
    )  # fmt: skip


def rebuild_agent_days(start: int, end: int, agents: Sequence[str] | None = None) -> None:
    """Rebuild the agent-day sums of [start, end) (UNIX times on UTC midnights), for every
    agent or only ``agents``."""
    _rebuild(
        "calls_agentdaysums", ("day", "agent", "queue"),
        (epoch_sql("offered_at", DAY), "agent", "queue"),
        start, end, (start // DAY, end // DAY), agents,
    )  # fmt: skip


def refresh_days(days: Iterable[int]) -> None:
    """Rebuild every sum of these UTC days (UNIX time // 86400): contiguous days in one go."""
    ordered = sorted(set(days))
    runs: list[list[int]] = []
    for day in ordered:
        if runs and runs[-1][1] == day:
            runs[-1][1] = day + 1
        else:
            runs.append([day, day + 1])
    for first, last in runs:
        rebuild_intervals(first * DAY, last * DAY)
        rebuild_agent_days(first * DAY, last * DAY)


def refresh_calls(keys: Iterable[tuple[dt.datetime | None, str]]) -> None:
    """Rebuild the sums a few calls count in: ``keys`` are each call's ``(offered_at, agent)``,
    before and after the change (a call that moved leaves its old interval)."""
    buckets: set[int] = set()
    agent_days: dict[int, set[str]] = {}
    for offered_at, agent in keys:
        if offered_at is None:
            continue
        ts = int(offered_at.timestamp())
        buckets.add(ts // STEP)
        if agent:
            agent_days.setdefault(ts // DAY, set()).add(agent)
    for bucket in sorted(buckets):
        rebuild_intervals(bucket * STEP, (bucket + 1) * STEP)
    for day, agents in sorted(agent_days.items()):
        rebuild_agent_days(day * DAY, (day + 1) * DAY, sorted(agents))


def refresh_all() -> None:
    """Rebuild every sum from the calls (after a restore, or for a database from before the
    sums were kept)."""
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT MIN({epoch_sql('offered_at', DAY)}), MAX({epoch_sql('offered_at', DAY)}) "  # noqa: S608
            f"FROM calls_call WHERE offered_at IS NOT NULL AND outcome IN {OFFERED}",
            [],
        )
        low, high = cur.fetchone()
        cur.execute("DELETE FROM calls_intervalsums")
        cur.execute("DELETE FROM calls_agentdaysums")
    if low is not None:
        refresh_days(range(int(low), int(high) + 1))
