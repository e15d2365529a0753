"""The queue_log import on PostgreSQL, set-based.

1. Lines are parsed in blocks (in a process pool for a big file) straight into ``COPY`` text and
   copied into a staging table without indexes (not written to the WAL): a temporary table
   inside the import's transaction, or, for a big import (see ``import_queue_log``), an
   unlogged table of its own that a second connection can read.
2. Staged events already stored are dropped (only when the stored events overlap the staged
   times), the rest go into the event table in one ``INSERT … SELECT`` — idempotent by the
   natural key ``(ts, h)``.
3. Calls are built in SQL: one grouped ``INSERT … SELECT`` over the staged events of call ids
   with no stored call; calls already stored whose call id has new events are rebuilt from all
   their events.

SQLite takes ``ingest``'s row-wise path.
"""

from __future__ import annotations

import concurrent.futures
import logging
import multiprocessing
import re
import secrets
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import DatabaseError, IntegrityError, connection, transaction
from psycopg import sql

from kefu.calls import ingest
from kefu.calls.parsers.queue_log import to_copy

log = logging.getLogger(__name__)
BLOCK_LINES = 100_000
BIG = 200_000
"""Lines from which an import outside a caller's transaction stores its events and builds its
calls on two connections at once (``services._import_big``)."""
STAGE = "calls_qlog_stage"
"""The temporary staging table of an import inside one transaction."""
SHARED_PREFIX = "calls_qlog_stage_"
"""Unlogged staging tables of big imports: ``calls_qlog_stage_<backend pid>_<random>``."""
_COLUMNS = (
    "ts bigint, h bigint, callid text, queue text, agent text, event text, d1 text, d2 text, "
    "d3 text, d4 text, d5 text"
)


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


_SHARED_NAME = re.compile(rf"^{SHARED_PREFIX}(\d+)_(\d+)_[0-9a-f]{{8}}$")
ORPHAN_AFTER_S = 3600
"""A staging table whose connection is gone is dropped once it is this old."""
WAIT_S = 30
"""How long a big import's second connection waits for a lock before it gives up (see
bound_waits)."""
TURN = 0x6B65_6675_7131  # the advisory lock queue_log imports take turns on


def take_turn() -> None:
    """Wait until no other queue_log import is storing events or calls, and hold the turn to
    the end of the transaction. (A big import's second connection waits for its first, which
    PostgreSQL cannot see; taking turns keeps two imports from waiting on each other through
    it.)"""
    with connection.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(%s)", [TURN])


def bound_waits() -> None:
    """For a big import's second connection: give up on a lock after WAIT_S. Its first
    connection waits for it where PostgreSQL cannot see, so a third session queued between them
    (an ALTER TABLE behind the first, holding up the second) would otherwise wait for ever;
    this way the import fails and the third session goes on."""
    with connection.cursor() as cur:
        cur.execute(f"SET LOCAL lock_timeout = '{int(WAIT_S)}s'")


def shared_stage() -> str:
    """A new name for a big import's staging table. Tables left by an import whose connection
    is gone (a killed process) are dropped first, once ORPHAN_AFTER_S old."""
    connection.ensure_connection()
    now = int(time.time())
    with connection.cursor() as cur:
        cur.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relkind = 'r' AND c.relname LIKE %s",
            [SHARED_PREFIX.replace("_", r"\_") + "%"],
        )
        names = [row[0] for row in cur.fetchall()]
        cur.execute("SELECT pid FROM pg_stat_activity")
        alive = {str(row[0]) for row in cur.fetchall()}
        for name in names:
            match = _SHARED_NAME.match(name)
            if match is None or match[1] in alive or now - int(match[2]) < ORPHAN_AFTER_S:
                continue
            try:  # a table still in use after all is left alone, without waiting for it
                with transaction.atomic():
                    table = sql.Identifier(name)
                    cur.execute(
                        sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE NOWAIT").format(table)
                    )
                    cur.execute(sql.SQL("DROP TABLE {}").format(table))
            except DatabaseError:
                continue
        cur.execute("SELECT pg_backend_pid()")
        pid = cur.fetchone()[0]
    return f"{SHARED_PREFIX}{pid}_{now}_{secrets.token_hex(4)}"


def drop_shared(table: str) -> None:
    """Drop a big import's staging table; if the connection is gone, a later import will."""
    if not _SHARED_NAME.match(table):
        return
    try:
        with connection.cursor() as cur:
            cur.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(table)))
    except DatabaseError:
        log.warning("could not drop the staging table %s; a later big import will", table)


def overlaps(table: str) -> bool:
    """Whether a stored event falls within the staged events' times."""
    with connection.cursor() as cur:
        cur.execute(f'SELECT MIN(ts), MAX(ts) FROM "{table}"')  # noqa: S608 - our own name
        low, high = cur.fetchone()
        if low is None:
            return True  # nothing staged: the one-transaction path records it
        cur.execute(
            "SELECT 1 FROM calls_queuelogevent WHERE ts >= %s AND ts <= %s LIMIT 1", [low, high]
        )
        return cur.fetchone() is not None


def stage(
    lines: Iterable[str],
    summary: ingest.Summary,
    *,
    first_line: int,
    workers: int,
    progress: Callable[[int], None] | None,
    table: str = STAGE,
) -> Staged:
    """Parse ``lines`` and copy the events into the staging table ``table`` (emptied first):
    the temporary STAGE, or a new unlogged table named by :func:`shared_stage`."""
    staged = Staged()
    connection.ensure_connection()
    with connection.connection.cursor() as cur:
        if table == STAGE:
            cur.execute(
                f"CREATE TEMP TABLE IF NOT EXISTS {STAGE} ({_COLUMNS}) ON COMMIT DELETE ROWS"
            )
            cur.execute(f"TRUNCATE {STAGE}")
        else:
            cur.execute(f'CREATE UNLOGGED TABLE "{table}" ({_COLUMNS})')
        with cur.copy(f'COPY "{table}" ({ingest.EVENT_COLUMNS}) FROM STDIN') as copy:
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
            cur.execute(f'ANALYZE "{table}"')
    return staged


def _insert(fast: str, careful: str, params: list[Any] | None = None) -> int:
    """Run ``fast`` (a plain INSERT) in a savepoint; if a key is already stored (another import
    of the same lines at the same time, or a line twice in one file), run ``careful`` (the
    same with ON CONFLICT DO NOTHING) instead. Returns the rows added."""
    with connection.cursor() as cur:
        try:
            with transaction.atomic():
                cur.execute(fast, params)
                return int(cur.rowcount)
        except IntegrityError:
            pass
        cur.execute(careful, params)
        return int(cur.rowcount)


def drop_stored(table: str = STAGE) -> None:
    """Drop the staged events that are stored already (worth it only when :func:`overlaps`)."""
    with connection.cursor() as cur:
        cur.execute(
            f'DELETE FROM "{table}" s USING calls_queuelogevent e '  # noqa: S608
            "WHERE e.ts = s.ts AND e.h = s.h"
        )


def insert_events(table: str = STAGE) -> int:
    """Move the staged events into the event table; returns how many were added."""
    insert = (
        f"INSERT INTO calls_queuelogevent ({ingest.EVENT_COLUMNS}) "  # noqa: S608 - our own name
        f'SELECT {ingest.EVENT_COLUMNS} FROM "{table}"'
    )
    return _insert(insert, f"{insert} ON CONFLICT (ts, h) DO NOTHING")


def stored_calls(table: str = STAGE) -> list[tuple[str, object, str]]:
    """``(call id, offered_at, agent)`` of the stored calls that staged events belong to."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT external_id, offered_at, agent FROM calls_call "  # noqa: S608 - our own name
            f"WHERE source = 'queue_log' AND external_id IN (SELECT callid FROM \"{table}\")"
        )
        return [(r[0], r[1], r[2]) for r in cur.fetchall()]


def insert_calls(table: str, skip: list[str]) -> int:
    """Build the calls of the staged events, except those of the call ids ``skip`` (stored
    calls, rebuilt from all their events by ``ingest.derive_calls``). Returns how many."""
    with connection.cursor() as cur:
        cur.execute("SET LOCAL work_mem = '256MB'")
    params: list[Any] | None = [skip] if skip else None
    return _insert(
        ingest.derive_sql(True, source=f'"{table}"', conflict="none", skip=bool(skip)),
        ingest.derive_sql(True, source=f'"{table}"', conflict="nothing", skip=bool(skip)),
        params,
    )


def store_calls(table: str = STAGE) -> tuple[int, list[tuple[str, object, str]]]:
    """Build the calls of the staged (new) events. Returns how many calls were written and the
    ``(call id, offered_at, agent)`` each rebuilt call had before."""
    stored = stored_calls(table)
    added = insert_calls(table, [callid for callid, _at, _agent in stored])
    ingest.derive_calls(sorted(callid for callid, _at, _agent in stored))
    return added + len(stored), stored
