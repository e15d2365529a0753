"""Bulk ingestion: queue_log events and CDR-style call records into the database.

Fast paths, because a PBX writes millions of lines: rows go in through ``COPY`` into a temporary
table and one ``INSERT … ON CONFLICT DO NOTHING`` on PostgreSQL, and ``executemany`` with
``INSERT OR IGNORE`` in one transaction on SQLite. The natural keys (``(ts, h)`` for an event,
``(source, external_id)`` for a call) make every import idempotent. Calls are then derived from
their events in one grouped ``INSERT … ON CONFLICT DO UPDATE`` that touches only the PBX's
columns, never what agents added (customer, work order, wrap-up).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection

from kefu.calls.parsers import CallRecord, LineError
from kefu.calls.parsers.queue_log import QueueEvent, parse_line

BATCH = 50_000
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


def _copy_text(rows: Sequence[Sequence[Any]], width: int) -> str:
    out = io.StringIO()
    for row in rows:
        text = "\t".join(map(str, row))
        if text.count("\t") != width - 1 or "\\" in text or "\n" in text or "\r" in text:
            text = "\t".join(
                str(v)
                .replace("\\", "\\\\")
                .replace("\t", "\\t")
                .replace("\n", "\\n")
                .replace("\r", "\\r")
                for v in row
            )
        out.write(text)
        out.write("\n")
    return out.getvalue()


def insert_events(rows: Sequence[QueueEvent]) -> int:
    """Add the events not stored yet; returns how many were added. Run inside a transaction."""
    if not rows:
        return 0
    connection.ensure_connection()
    raw = connection.connection
    if _is_pg():
        with raw.cursor() as cur:
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
                f"SELECT {EVENT_COLUMNS} FROM calls_qlog_in ON CONFLICT (ts, h) DO NOTHING"
            )
            return int(cur.rowcount)
    cur = raw.cursor()
    try:
        before = raw.total_changes
        cur.executemany(
            f"INSERT OR IGNORE INTO calls_queuelogevent ({EVENT_COLUMNS}) "  # noqa: S608
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        return int(raw.total_changes - before)
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


def _derive_sql(pg: bool) -> str:
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
FROM calls_queuelogevent
WHERE callid IN (SELECT callid FROM calls_queuelogevent WHERE id > %s)
  AND callid NOT IN ('NONE', 'REALTIME')
GROUP BY callid
HAVING SUM(CASE WHEN event IN ('ENTERQUEUE', 'CONNECT', {_ENDS}) THEN 1 ELSE 0 END) > 0
ON CONFLICT (source, external_id) DO UPDATE SET
    state = excluded.state, outcome = excluded.outcome, started_at = excluded.started_at,
    offered_at = excluded.offered_at, answered_at = excluded.answered_at,
    ended_at = excluded.ended_at, caller = excluded.caller, queue = excluded.queue,
    agent = excluded.agent, wait_s = excluded.wait_s, ring_s = excluded.ring_s,
    talk_s = excluded.talk_s, transferred = excluded.transferred, updated_at = excluded.updated_at
"""  # noqa: S608 - built from constants only


def derive_calls(after_event_id: int) -> int:
    """(Re)build the calls whose events have ids above ``after_event_id``; returns how many."""
    with connection.cursor() as cur:
        cur.execute(_derive_sql(_is_pg()), [after_event_id])
        return int(cur.rowcount)


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
            f"INSERT OR IGNORE INTO calls_call ({CALL_COLUMNS}) VALUES ({', '.join(['?'] * 22)})",  # noqa: S608
            rows,
        )
        return int(raw.total_changes - before)
    finally:
        cur.close()
