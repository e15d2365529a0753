"""Bulk ingestion: queue_log events and CDR-style call records into the database.

Fast paths, because a PBX writes millions of lines: rows go in through ``COPY`` into a temporary
table and one ``INSERT … ON CONFLICT DO NOTHING`` on PostgreSQL, and ``executemany`` with
``INSERT … ON CONFLICT DO NOTHING`` in one transaction on SQLite (only the natural key is
ignored; any other broken constraint stops the import). The natural keys (``(ts, h)`` for an event,
``(source, external_id)`` for a call) make every import idempotent. Calls are then derived from
their events in one grouped ``INSERT … ON CONFLICT DO UPDATE`` that touches only the PBX's
columns, never what agents added (customer, work order, wrap-up).
"""

from __future__ import annotations

import datetime as dt
import io
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
from django.db import connection, transaction

from kefu.calls.parsers import CallRecord, LineError
from kefu.calls.parsers.queue_log import QueueEvent, parse_line

BATCH = 50_000
DUPLICATE = (sqlite3.IntegrityError, psycopg.IntegrityError)
MAX_REJECTS_KEPT = 1000
Progress = Callable[[int], None]  # called with the number of lines read so far


@dataclass
class Summary:
    lines: int = 0
    added: int = 0
    duplicates: int = 0
    rejected: int = 0
    rejects: list[tuple[int, str]] = field(default_factory=list)
    calls: int = 0

    def reject(self, line_no: int, reason: str) -> None:
        self.rejected += 1
        if len(self.rejects) < MAX_REJECTS_KEPT:
            self.rejects.append((line_no, reason))


EVENT_COLUMNS = "ts, h, callid, queue, agent, event, d1, d2, d3, d4, d5"


def _is_pg() -> bool:
    return connection.vendor == "postgresql"


def _escape(value: Any) -> str:
    if value is None:
        return "\\N"
    return (
        str(value)
        .replace("\\", "\\\\")
        .replace("\t", "\\t")
        .replace("\n", "\\n")
        .replace("\r", "\\r")
    )


def _copy_text(rows: Sequence[Sequence[Any]], width: int) -> str:
    """Rows in PostgreSQL's COPY text format (None is NULL)."""
    out = io.StringIO()
    for row in rows:
        text = "\t".join(map(str, row))
        if (
            None in row
            or text.count("\t") != width - 1
            or "\\" in text
            or "\n" in text
            or "\r" in text
        ):
            text = "\t".join(map(_escape, row))
        out.write(text)
        out.write("\n")
    return out.getvalue()


def _unique(rows: Sequence[QueueEvent]) -> list[QueueEvent]:
    """The rows with duplicate keys (the same line twice in one file) left out."""
    seen: set[tuple[int, int]] = set()
    out = []
    for row in rows:
        key = (row[0], row[1])
        if key not in seen:
            seen.add(key)
            out.append(row)
    return out


def insert_events(rows: Sequence[QueueEvent]) -> list[QueueEvent]:
    """Add the events not stored yet and return them. Run inside a transaction.

    The batch first goes straight in (``COPY`` on PostgreSQL, a plain ``executemany`` on
    SQLite) inside a savepoint; if a key is already stored, the savepoint is rolled back and
    each row is checked against the natural key instead. A new log takes the fast way; a file
    imported again takes the careful one."""
    if not rows:
        return []
    rows = _unique(rows)
    connection.ensure_connection()
    raw = connection.connection
    if _is_pg():
        with raw.cursor() as cur:
            try:
                with (
                    transaction.atomic(),
                    cur.copy(f"COPY calls_queuelogevent ({EVENT_COLUMNS}) FROM STDIN") as copy,
                ):
                    copy.write(_copy_text(rows, 11))
                return list(rows)
            except DUPLICATE:
                pass
            cur.execute(
                "CREATE TEMP TABLE IF NOT EXISTS calls_qlog_in (ts bigint, h bigint, callid text, "
                "queue text, agent text, event text, d1 text, d2 text, d3 text, d4 text, d5 text) "
                "ON COMMIT DELETE ROWS"
            )
            cur.execute("TRUNCATE calls_qlog_in")
            with cur.copy(f"COPY calls_qlog_in ({EVENT_COLUMNS}) FROM STDIN") as copy:
                copy.write(_copy_text(rows, 11))
            cur.execute(
                f"INSERT INTO calls_queuelogevent ({EVENT_COLUMNS}) "  # noqa: S608 - constant
                f"SELECT {EVENT_COLUMNS} FROM calls_qlog_in ON CONFLICT (ts, h) DO NOTHING "
                "RETURNING ts, h"
            )
            added = {(ts, h) for ts, h in cur.fetchall()}
            return [r for r in rows if (r[0], r[1]) in added]
    insert = (
        f"INSERT INTO calls_queuelogevent ({EVENT_COLUMNS}) "  # noqa: S608 - constant
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    )
    cur = raw.cursor()
    try:
        try:
            with transaction.atomic():
                cur.executemany(insert, rows)
            return list(rows)
        except DUPLICATE:
            pass
        out = []
        for row in rows:
            cur.execute(f"{insert} ON CONFLICT (ts, h) DO NOTHING", row)
            if cur.rowcount == 1:
                out.append(row)
        return out
    finally:
        cur.close()


def read_queue_log(
    lines: Iterable[str], summary: Summary, *, first_line: int = 1
) -> Iterator[list[QueueEvent]]:
    """Parse lines into batches of events, noting rejected lines in ``summary``."""
    batch: list[QueueEvent] = []
    append = batch.append
    line_no = first_line - 1
    for line_no, line in enumerate(lines, first_line):  # noqa: B007 - used after the loop
        if not line.strip():
            continue
        try:
            append(parse_line(line))
        except LineError as exc:
            summary.reject(line_no, str(exc))
        if len(batch) >= BATCH:
            summary.lines = line_no - first_line + 1
            yield batch
            batch = []
            append = batch.append
    summary.lines = line_no - first_line + 1
    if batch:
        yield batch


def max_event_id() -> int:
    with connection.cursor() as cur:
        cur.execute("SELECT COALESCE(MAX(id), 0) FROM calls_queuelogevent")
        return int(cur.fetchone()[0])


# --- calls derived from queue_log events ---------------------------------------------------------

_EXITS = "'ABANDON', 'EXITWITHTIMEOUT', 'EXITWITHKEY', 'EXITEMPTY'"
_TRANSFERS = "'TRANSFER', 'BLINDTRANSFER', 'ATTENDEDTRANSFER'"
_ENDS = f"'COMPLETECALLER', 'COMPLETEAGENT', {_TRANSFERS}, {_EXITS}"


def derive_sql(
    pg: bool,
    n: int = 0,
    *,
    source: str = "calls_queuelogevent",
    conflict: str = "update",
    skip: bool = False,
) -> str:
    """Calls built from the events of ``source``: of the ``n`` call ids given as parameters, or
    of every call id in it (with ``skip``, but those in the array given as the parameter;
    PostgreSQL), in time order. A stored call is rebuilt (``conflict="update"``), left alone
    (``"nothing"``) or an error (``"none"``: the fastest insert)."""

    def stamp(expr: str) -> str:
        return f"to_timestamp({expr})" if pg else f"datetime({expr}, 'unixepoch')"

    def num(expr: str) -> str:
        return f"CAST(NULLIF({expr}, '') AS INTEGER)"

    offered = "MIN(CASE WHEN event = 'ENTERQUEUE' THEN ts END)"
    connected = "MIN(CASE WHEN event = 'CONNECT' THEN ts END)"
    left = f"MAX(CASE WHEN event IN ({_EXITS}) THEN ts END)"
    wait = (
        f"COALESCE(MAX(CASE WHEN event = 'CONNECT' THEN {num('d1')} END), "
        f"{connected} - COALESCE({offered}, MIN(ts)), "
        f"{left} - COALESCE({offered}, MIN(ts)), 0)"
    )
    talk = (
        "COALESCE(MAX(CASE WHEN event IN ('COMPLETECALLER', 'COMPLETEAGENT') "
        f"THEN {num('d2')} WHEN event IN ({_TRANSFERS}) THEN {num('d4')} END), 0)"
    )
    true, false = ("TRUE", "FALSE") if pg else ("1", "0")
    where = f"callid IN ({', '.join(['%s'] * n)})" if n else "callid NOT IN ('NONE', 'REALTIME')"
    if skip:
        where += " AND NOT (callid = ANY(%s))"  # hashed from PostgreSQL 14
    on_conflict = {
        "update": "ON CONFLICT (source, external_id) DO UPDATE SET" + _UPDATE,
        "nothing": "ON CONFLICT (source, external_id) DO NOTHING",
        "none": "",
    }[conflict]
    now = "now()" if pg else "strftime('%Y-%m-%d %H:%M:%f', 'now')"
    return f"""
INSERT INTO calls_call (source, external_id, state, outcome, started_at, offered_at,
    answered_at, ended_at, caller, callee, queue, agent, ivr_s, wait_s, ring_s, talk_s, hold_s,
    acw_s, transferred, ivr_path, recording_url, wrapup_note, updated_at)
SELECT 'queue_log', callid,
    CASE WHEN SUM(CASE WHEN event IN ({_ENDS}) THEN 1 ELSE 0 END) > 0 THEN 'ended'
         WHEN {connected} IS NOT NULL THEN 'talking' ELSE 'ringing' END,
    CASE WHEN {connected} IS NOT NULL THEN 'answered'
         WHEN {left} IS NOT NULL THEN 'abandoned' ELSE 'live' END,
    {stamp("MIN(ts)")},
    {stamp(f"COALESCE({offered}, MIN(ts))")},
    {stamp(connected)},
    {stamp(f"MAX(CASE WHEN event IN ({_ENDS}) THEN ts END)")},
    COALESCE(MAX(CASE WHEN event = 'ENTERQUEUE' THEN d2 END), ''),
    '',
    COALESCE(MAX(CASE WHEN event = 'ENTERQUEUE' THEN queue END), MAX(queue)),
    COALESCE(MAX(CASE WHEN event = 'CONNECT' THEN agent END), ''),
    0,
    {wait},
    MAX(CASE WHEN event = 'CONNECT' THEN {num("d3")} END),
    {talk},
    0, 0,
    CASE WHEN SUM(CASE WHEN event IN ({_TRANSFERS}) THEN 1 ELSE 0 END) > 0
         THEN {true} ELSE {false} END,
    '', '', '', {now}
FROM {source}
WHERE {where}
GROUP BY callid
HAVING SUM(CASE WHEN event IN ('ENTERQUEUE', 'CONNECT', {_ENDS}) THEN 1 ELSE 0 END) > 0
ORDER BY MIN(ts)
{on_conflict}
"""  # noqa: S608 - built from constants only


_UPDATE = """
    state = excluded.state, outcome = excluded.outcome, started_at = excluded.started_at,
    offered_at = excluded.offered_at, answered_at = excluded.answered_at,
    ended_at = excluded.ended_at, caller = excluded.caller, queue = excluded.queue,
    agent = excluded.agent, wait_s = excluded.wait_s, ring_s = excluded.ring_s,
    talk_s = excluded.talk_s, transferred = excluded.transferred, updated_at = excluded.updated_at
"""


def derive_calls(callids: Sequence[str]) -> int:
    """(Re)build the calls with these ids from all their stored events; returns how many."""
    done = 0
    pg = _is_pg()
    with connection.cursor() as cur:
        for start in range(0, len(callids), 500):
            chunk = list(callids[start : start + 500])
            cur.execute(derive_sql(pg, len(chunk)), chunk)
            done += int(cur.rowcount)
    return done


# The same rules in Python, for calls whose events all arrive in one import (nearly all of
# them): cheaper than grouping the stored events again. Calls already stored are rebuilt by
# derive_calls from everything stored, so a call that spans two imports comes out the same.

_ENDS_SET = frozenset(
    {"COMPLETECALLER", "COMPLETEAGENT", "TRANSFER", "BLINDTRANSFER", "ATTENDEDTRANSFER",
     "ABANDON", "EXITWITHTIMEOUT", "EXITWITHKEY", "EXITEMPTY"}
)  # fmt: skip
_EXITS_SET = frozenset({"ABANDON", "EXITWITHTIMEOUT", "EXITWITHKEY", "EXITEMPTY"})
_TRANSFERS_SET = frozenset({"TRANSFER", "BLINDTRANSFER", "ATTENDEDTRANSFER"})
NOT_CALLS = frozenset({"NONE", "REALTIME"})

# facts per call id, by position
MIN_TS, ENTER, CONNECT, LEFT, END, CALLER, QUEUE_IN, QUEUE, AGENT, HOLD, RING, TALK, XFER, CALL = (
    range(14)
)


def _num(text: str) -> int | None:
    return int(text) if text else None


def collect(facts: dict[str, list[Any]], rows: Iterable[QueueEvent]) -> None:
    """Fold events into per-call facts."""
    for ts, _h, callid, queue, agent, event, d1, d2, d3, d4, _d5 in rows:
        if callid in NOT_CALLS:
            continue
        f = facts.get(callid)
        if f is None:
            f = facts[callid] = [ts, None, None, None, None, None, None, queue, None, None,
                                 None, None, False, False]  # fmt: skip
        elif ts < f[MIN_TS]:
            f[MIN_TS] = ts
        if queue > f[QUEUE]:
            f[QUEUE] = queue
        if event == "ENTERQUEUE":
            f[CALL] = True
            f[ENTER] = ts if f[ENTER] is None else min(f[ENTER], ts)
            f[CALLER] = d2 if f[CALLER] is None else max(f[CALLER], d2)
            f[QUEUE_IN] = queue if f[QUEUE_IN] is None else max(f[QUEUE_IN], queue)
        elif event == "CONNECT":
            f[CALL] = True
            f[CONNECT] = ts if f[CONNECT] is None else min(f[CONNECT], ts)
            f[AGENT] = agent if f[AGENT] is None else max(f[AGENT], agent)
            for pos, value in ((HOLD, _num(d1)), (RING, _num(d3))):
                if value is not None and (f[pos] is None or value > f[pos]):
                    f[pos] = value
        elif event in _ENDS_SET:
            f[CALL] = True
            f[END] = ts if f[END] is None else max(f[END], ts)
            if event in _EXITS_SET:
                f[LEFT] = ts if f[LEFT] is None else max(f[LEFT], ts)
                continue
            talk = _num(d4) if event in _TRANSFERS_SET else _num(d2)
            if event in _TRANSFERS_SET:
                f[XFER] = True
            if talk is not None and (f[TALK] is None or talk > f[TALK]):
                f[TALK] = talk


_DAYS: dict[int, str] = {}


def _when(ts: int | None) -> str | None:
    """A UNIX time as the UTC text both databases read (``YYYY-MM-DD HH:MM:SS``)."""
    if ts is None:
        return None
    day, second = divmod(ts, 86400)
    prefix = _DAYS.get(day)
    if prefix is None:
        prefix = _DAYS[day] = dt.datetime.fromtimestamp(day * 86400, tz=dt.UTC).strftime("%Y-%m-%d")
    hour, rest = divmod(second, 3600)
    return f"{prefix} {hour:02d}:{rest // 60:02d}:{rest % 60:02d}"


DERIVED_COLUMNS = (
    "source, external_id, state, outcome, started_at, offered_at, answered_at, ended_at, caller, "
    "callee, queue, agent, ivr_s, wait_s, ring_s, talk_s, hold_s, acw_s, transferred, ivr_path, "
    "recording_url, wrapup_note, updated_at"
)


def _call_row(callid: str, f: list[Any], now: str | None) -> tuple[Any, ...]:
    offered = f[ENTER] if f[ENTER] is not None else f[MIN_TS]
    if f[HOLD] is not None:
        wait = f[HOLD]
    elif f[CONNECT] is not None:
        wait = f[CONNECT] - offered
    elif f[LEFT] is not None:
        wait = f[LEFT] - offered
    else:
        wait = 0
    state = "ended" if f[END] is not None else ("talking" if f[CONNECT] is not None else "ringing")
    outcome = (
        "answered" if f[CONNECT] is not None else ("abandoned" if f[LEFT] is not None else "live")
    )
    return (
        "queue_log", callid, state, outcome, _when(f[MIN_TS]), _when(offered), _when(f[CONNECT]),
        _when(f[END]), f[CALLER] or "", "", f[QUEUE_IN] if f[QUEUE_IN] is not None else f[QUEUE],
        f[AGENT] or "", 0, wait, f[RING], f[TALK] or 0, 0, 0, f[XFER], "", "", "", now,
    )  # fmt: skip


def _existing(callids: list[str]) -> set[str]:
    found: set[str] = set()
    with connection.cursor() as cur:
        if _is_pg():
            cur.execute(
                "SELECT external_id FROM calls_call WHERE source = 'queue_log' "
                "AND external_id = ANY(%s)",
                [callids],
            )
            return {r[0] for r in cur.fetchall()}
        for start in range(0, len(callids), 500):
            chunk = callids[start : start + 500]
            cur.execute(
                "SELECT external_id FROM calls_call WHERE source = 'queue_log' "  # noqa: S608
                f"AND external_id IN ({', '.join(['%s'] * len(chunk))})",
                chunk,
            )
            found.update(r[0] for r in cur.fetchall())
    return found


def store_calls(facts: dict[str, list[Any]]) -> int:
    """Write the calls of these facts: new ones from the facts, stored ones rebuilt from all
    their events. Returns how many calls were written."""
    callids = [c for c, f in facts.items() if f[CALL]]
    if not callids:
        return 0
    stored = _existing(callids)
    now = _when(int(dt.datetime.now(tz=dt.UTC).timestamp()))
    rows = [_call_row(c, facts[c], now) for c in callids if c not in stored]
    if rows:
        connection.ensure_connection()
        raw = connection.connection
        if _is_pg():
            with (
                raw.cursor() as cur,
                cur.copy(f"COPY calls_call ({DERIVED_COLUMNS}) FROM STDIN") as copy,
            ):
                copy.write(_copy_text(rows, 23))
        else:
            cur = raw.cursor()
            try:
                cur.executemany(
                    f"INSERT INTO calls_call ({DERIVED_COLUMNS}) "  # noqa: S608 - constant
                    f"VALUES ({', '.join(['?'] * 23)})",
                    rows,
                )
            finally:
                cur.close()
    return len(rows) + derive_calls(sorted(stored))


# --- call records (CDR files, the bank log) ------------------------------------------------------

CALL_COLUMNS = (
    "source, external_id, state, outcome, started_at, offered_at, answered_at, ended_at, caller, "
    "callee, queue, agent, ivr_s, wait_s, talk_s, hold_s, acw_s, transferred, ivr_path, "
    "recording_url, wrapup_note, updated_at"
)


def _iso(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    utc = value.astimezone(dt.UTC)
    return utc.isoformat(sep=" ") if _is_pg() else utc.strftime("%Y-%m-%d %H:%M:%S")


def insert_calls(records: Sequence[CallRecord], now: dt.datetime) -> int:
    """Add the calls not stored yet (by source and call id); returns how many were added."""
    if not records:
        return 0
    pg = _is_pg()
    stamp = _iso(now)
    rows = [
        (
            r.source,
            r.external_id,
            "ended",
            r.outcome,
            _iso(r.started_at),
            _iso(r.offered_at),
            _iso(r.answered_at),
            _iso(r.ended_at),
            r.caller[:40],
            r.callee[:40],
            r.queue[:64],
            r.agent[:80],
            r.ivr_s,
            r.wait_s,
            r.talk_s,
            0,
            0,
            False,
            r.ivr_path[:200],
            "",
            "",
            stamp,
        )
        for r in records
    ]
    connection.ensure_connection()
    raw = connection.connection
    if pg:
        with raw.cursor() as cur:
            cur.executemany(
                f"INSERT INTO calls_call ({CALL_COLUMNS}) VALUES ({', '.join(['%s'] * 22)}) "  # noqa: S608
                "ON CONFLICT (source, external_id) DO NOTHING",
                rows,
            )
            return int(cur.rowcount)
    cur = raw.cursor()
    try:
        before = raw.total_changes
        cur.executemany(
            f"INSERT INTO calls_call ({CALL_COLUMNS}) VALUES ({', '.join(['?'] * 22)}) "  # noqa: S608
            "ON CONFLICT (source, external_id) DO NOTHING",
            rows,
        )
        return int(raw.total_changes - before)
    finally:
        cur.close()
