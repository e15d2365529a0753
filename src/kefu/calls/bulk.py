"""The queue_log import on PostgreSQL, set-based.

1. Lines are parsed in blocks (in a process pool for a big file) straight into ``COPY`` text and
   copied into a temporary staging table without indexes (not written to the WAL).
2. Staged events already stored are dropped (only when the stored events overlap the staged
   times), the rest go into the event table in one ``INSERT … SELECT … ON CONFLICT DO NOTHING``
   — idempotent by the natural key ``(ts, h)``.
3. Calls are built in SQL: one grouped ``INSERT … SELECT`` over the new events for new call
   ids; calls already stored whose call id has new events are rebuilt from all their events.

The caller runs all of it inside one transaction. SQLite takes ``ingest``'s row-wise path.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from django.db import IntegrityError, connection, transaction

from kefu.calls import ingest
from kefu.calls.parsers.queue_log import to_copy

BLOCK_LINES = 100_000
STAGE = "calls_qlog_stage"


@dataclass
class Staged:
    parsed: int = 0
    days: set[int] = field(default_factory=set)


def _blocks(lines: Iterable[str], first_line: int) -> Iterator[tuple[str, int, int]]:
    """``(text, first line number, lines)`` blocks of about BLOCK_LINES lines, each line ending
    with a newline."""
    chunk: list[str] = []
    number = first_line
    for line in lines:
        chunk.append(line)
        if len(chunk) >= BLOCK_LINES:
            yield _text(chunk), number, len(chunk)
            number += len(chunk)
            chunk = []
    if chunk:
        yield _text(chunk), number, len(chunk)


def _text(chunk: list[str]) -> str:
    text = "".join(chunk)
    if text.count("\n") == len(chunk) and text.endswith("\n"):
        return text  # lines read from a file
    return "".join(f"{line.rstrip(chr(13) + chr(10))}\n" for line in chunk)


def _parsed(
    blocks: Iterator[tuple[str, int, int]], workers: int
) -> Iterator[tuple[tuple[str, int, list[tuple[int, str]], list[int]], int]]:
    """Each block parsed (in order), with the line number after it."""
    if workers <= 1:
        for text, first, count in blocks:
            yield to_copy(text, first), first + count
        return
    # forked workers run only the pure parser and leave the parent's connection alone
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    with concurrent.futures.ProcessPoolExecutor(workers, mp_context=context) as pool:
        pending: list[tuple[concurrent.futures.Future[tuple[str, int, list[tuple[int, str]], list[int]]], int]] = []  # fmt: skip
        for text, first, count in blocks:
            pending.append((pool.submit(to_copy, text, first), first + count))
            if len(pending) > workers * 2:
                future, after = pending.pop(0)
                yield future.result(), after
        for future, after in pending:
            yield future.result(), after


def stage(
    lines: Iterable[str],
    summary: ingest.Summary,
    *,
    first_line: int,
    workers: int,
    progress: Callable[[int], None] | None,
) -> Staged:
    """Parse ``lines`` and copy the events into the staging table (emptied first)."""
    staged = Staged()
    connection.ensure_connection()
    with connection.connection.cursor() as cur:
        cur.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {STAGE} (ts bigint, h bigint, callid text, "
            "queue text, agent text, event text, d1 text, d2 text, d3 text, d4 text, d5 text) "
            "ON COMMIT DELETE ROWS"
        )
        cur.execute(f"TRUNCATE {STAGE}")
        with cur.copy(f"COPY {STAGE} ({ingest.EVENT_COLUMNS}) FROM STDIN") as copy:
            for (text, count, rejects, days), after in _parsed(_blocks(lines, first_line), workers):
                if count:
                    copy.write(text)
                staged.parsed += count
                staged.days.update(days)
                for line_no, reason in rejects:
                    summary.reject(line_no, reason)
                summary.lines = after - first_line
                if progress is not None:
                    progress(summary.lines)
        if staged.parsed:
            cur.execute(f"ANALYZE {STAGE}")
    return staged


def _insert(fast: str, careful: str) -> int:
    """Run ``fast`` (a plain INSERT) in a savepoint; if a key is already stored (another import
    of the same lines at the same time, or a line twice in one file), run ``careful`` (the
    same with ON CONFLICT DO NOTHING) instead. Returns the rows added."""
    with connection.cursor() as cur:
        try:
            with transaction.atomic():
                cur.execute(fast)
                return int(cur.rowcount)
        except IntegrityError:
            pass
        cur.execute(careful)
        return int(cur.rowcount)


def store_events() -> int:
    """Move the staged events not stored yet into the event table; the staging table keeps
    only those. Returns how many were added."""
    with connection.cursor() as cur:
        cur.execute(f"SELECT MIN(ts), MAX(ts) FROM {STAGE}")  # noqa: S608 - constant
        low, high = cur.fetchone()
        if low is None:
            return 0
        cur.execute(
            "SELECT 1 FROM calls_queuelogevent WHERE ts >= %s AND ts <= %s LIMIT 1", [low, high]
        )
        if cur.fetchone() is not None:
            cur.execute(
                f"DELETE FROM {STAGE} s USING calls_queuelogevent e "  # noqa: S608 - constant
                "WHERE e.ts = s.ts AND e.h = s.h"
            )
    insert = (
        f"INSERT INTO calls_queuelogevent ({ingest.EVENT_COLUMNS}) "  # noqa: S608 - constant
        f"SELECT {ingest.EVENT_COLUMNS} FROM {STAGE}"
    )
    return _insert(insert, f"{insert} ON CONFLICT (ts, h) DO NOTHING")


def store_calls() -> tuple[int, list[tuple[str, object, str]]]:
    """Build the calls of the staged (new) events. Returns how many calls were written and the
    ``(call id, offered_at, agent)`` each rebuilt call had before."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT external_id, offered_at, agent FROM calls_call "  # noqa: S608 - constant
            f"WHERE source = 'queue_log' AND external_id IN (SELECT callid FROM {STAGE})"
        )
        stored = [(r[0], r[1], r[2]) for r in cur.fetchall()]
        if stored:  # rebuilt below from all their events
            cur.execute(
                f"DELETE FROM {STAGE} WHERE callid = ANY(%s)",  # noqa: S608 - constant
                [[callid for callid, _at, _agent in stored]],
            )
        cur.execute("SET LOCAL work_mem = '256MB'")
    added = _insert(
        ingest.derive_sql(True, source=STAGE, conflict="none"),
        ingest.derive_sql(True, source=STAGE, conflict="nothing"),
    )
    ingest.derive_calls(sorted(callid for callid, _at, _agent in stored))
    return added + len(stored), stored
