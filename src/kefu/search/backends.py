"""Where the words live. One interface, :class:`Backend`, with a SQLite implementation (FTS5
tables beside the index rows) and a PostgreSQL one (a tsvector column with a GIN index, and a
trigram index for numbers). ``KEFU_SEARCH_BACKEND`` may name another class with the same methods,
for an external engine; see docs/dev/search.md for what such a class must do.

Both backends return *candidates* and whether there may be more: at most ``window`` matching
rows, newest first, each with a relevance score of the BM25 family (term rarity × saturating term frequency × length
normalisation, titles weighted above bodies). The caller applies the recency boost and pages. The
access filter is part of the same SQL statement, so a row the person may not open is never a
candidate.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from django.conf import settings
from django.core.exceptions import EmptyResultSet, FullResultSet
from django.db import connection, transaction
from django.db.models import Q
from django.utils.module_loading import import_string

from kefu.search.models import SearchDoc, TermStat
from kefu.search.text import Analyzed, Query

TABLE = SearchDoc._meta.db_table
DOC_COLUMNS = (
    "kind", "object_id", "ref", "title", "body", "numbers", "status", "type_code", "team_id",
    "customer_id", "assignee_id", "created_by_id", "is_public", "created_at", "updated_at",
    "indexed_at",
)  # fmt: skip
TITLE_WEIGHT = 4.0
SQLITE_EPOCH = f"CAST(strftime('%%s', {TABLE}.updated_at) AS REAL)"
NUM_MATCH = "SELECT rowid FROM search_num WHERE search_num MATCH %s"
STATS_SQL = (
    "INSERT INTO search_termstat (term, docs) SELECT word, ndoc FROM ts_stat('SELECT tsv FROM "  # noqa: S608 - fixed table name
    + TABLE
    + "') WHERE length(word) <= 100 AND word <> ''"
)


@dataclass(frozen=True)
class DocRow:
    """One record as the index stores it."""

    kind: str
    object_id: int
    title: str
    body: str
    analyzed: Analyzed
    created_at: dt.datetime
    updated_at: dt.datetime
    status: str = ""
    type_code: str = ""
    team_id: int | None = None
    customer_id: int | None = None
    assignee_id: int | None = None
    created_by_id: int | None = None
    is_public: bool = False
    ref: str = ""

    def values(self, now: dt.datetime) -> tuple[Any, ...]:
        return (
            self.kind, self.object_id, self.ref[:40], self.title[:300], self.body[:4000],
            self.analyzed.numbers, self.status, self.type_code, self.team_id, self.customer_id,
            self.assignee_id, self.created_by_id, self.is_public, self.created_at,
            self.updated_at, now,
        )  # fmt: skip


@dataclass(frozen=True)
class Candidate:
    id: int
    kind: str
    object_id: int
    updated: float  # seconds since the epoch (cheaper to fetch a thousand of than datetimes)
    relevance: float


class Backend(Protocol):
    name: str

    def upsert(self, rows: Sequence[DocRow], now: dt.datetime) -> None: ...

    def remove(self, kind: str, object_ids: Sequence[int]) -> None: ...

    def candidates(
        self, query: Query, where: Q | None, *, window: int, match_all: bool = True
    ) -> tuple[list[Candidate], bool]: ...

    def refresh_stats(self) -> int: ...

    def clear(self) -> None: ...


def compile_where(where: Q | None) -> tuple[str, list[Any]]:
    """``where`` (a filter on SearchDoc) as SQL over the bare table name, for raw statements."""
    if where is None:
        return "1=1", []
    query = SearchDoc.objects.filter(where).query
    compiler = query.get_compiler(connection=connection)
    compiler.setup_query()
    try:
        sql, params = compiler.compile(query.where)
    except FullResultSet:
        return "1=1", []
    except EmptyResultSet:
        return "1=0", []
    return (sql or "1=1"), list(params)


def _fts_phrase(word: str) -> str:
    return '"' + word.replace('"', '""') + '"'


class SqliteBackend:
    """FTS5: ``search_fts`` (title, body; unicode61 over pre-cut words; bm25 ranking) and
    ``search_num`` (numbers; the trigram tokenizer, so any three or more digits match)."""

    name = "sqlite"

    def upsert(self, rows: Sequence[DocRow], now: dt.datetime) -> None:
        if not rows:
            return
        cols = ", ".join(DOC_COLUMNS)
        marks = ", ".join(["%s"] * len(DOC_COLUMNS))
        updates = ", ".join(f"{c} = excluded.{c}" for c in DOC_COLUMNS[2:])
        sql = (
            f"INSERT INTO {TABLE} ({cols}) VALUES ({marks}) "  # noqa: S608 - fixed names
            f"ON CONFLICT (kind, object_id) DO UPDATE SET {updates} RETURNING id"
        )
        sql = sql.removesuffix(" RETURNING id")
        with connection.cursor() as cur:
            old = self._ids(cur, rows)
            if old:
                stale = [(i,) for i in old.values()]
                cur.executemany("DELETE FROM search_fts WHERE rowid = %s", stale)
                cur.executemany("DELETE FROM search_num WHERE rowid = %s", stale)
            cur.executemany(sql, [row.values(now) for row in rows])
            ids = self._ids(cur, rows)
            cur.executemany(
                "INSERT INTO search_fts (rowid, title, body) VALUES (%s, %s, %s)",
                [(ids[(r.kind, r.object_id)], r.analyzed.title, r.analyzed.body) for r in rows],
            )
            cur.executemany(
                "INSERT INTO search_num (rowid, numbers) VALUES (%s, %s)",
                [
                    (ids[(r.kind, r.object_id)], r.analyzed.numbers)
                    for r in rows
                    if r.analyzed.numbers
                ],
            )

    @staticmethod
    def _ids(cur: Any, rows: Sequence[DocRow]) -> dict[tuple[str, int], int]:
        found: dict[tuple[str, int], int] = {}
        by_kind: dict[str, list[int]] = {}
        for r in rows:
            by_kind.setdefault(r.kind, []).append(r.object_id)
        for kind, object_ids in by_kind.items():
            for start in range(0, len(object_ids), 500):
                part = object_ids[start : start + 500]
                marks = ", ".join(["%s"] * len(part))
                cur.execute(
                    f"SELECT kind, object_id, id FROM {TABLE} "  # noqa: S608 - fixed names
                    f"WHERE kind = %s AND object_id IN ({marks})",
                    [kind, *part],
                )
                found.update({(k, o): i for k, o, i in cur.fetchall()})
        return found

    def remove(self, kind: str, object_ids: Sequence[int]) -> None:
        ids = list(
            SearchDoc.objects.filter(kind=kind, object_id__in=object_ids).values_list(
                "id", flat=True
            )
        )
        if not ids:
            return
        with connection.cursor() as cur:
            cur.executemany("DELETE FROM search_fts WHERE rowid = %s", [(i,) for i in ids])
            cur.executemany("DELETE FROM search_num WHERE rowid = %s", [(i,) for i in ids])
        SearchDoc.objects.filter(id__in=ids).delete()

    def clear(self) -> None:
        with connection.cursor() as cur:
            cur.execute("DELETE FROM search_fts")
            cur.execute("DELETE FROM search_num")
        SearchDoc.objects.all().delete()

    def candidates(
        self, query: Query, where: Q | None, *, window: int, match_all: bool = True
    ) -> tuple[list[Candidate], bool]:
        where_sql, where_params = compile_where(where)
        nums = " AND ".join(_fts_phrase(n) for n in query.numbers if len(n) >= 3)
        if query.groups:
            joiner = " AND " if match_all else " OR "
            match = joiner.join(
                "(" + " OR ".join(_fts_phrase(w) for w in group) + ")" for group in query.groups
            )
            num_sql = ""
            params: list[Any] = [match, *where_params]
            if nums:
                num_sql = f" AND {TABLE}.id IN ({NUM_MATCH})"
                params.append(nums)
            sql = (
                f"SELECT {TABLE}.id, kind, object_id, {SQLITE_EPOCH}, "  # noqa: S608
                f"-bm25(search_fts, {TITLE_WEIGHT}, 1.0) FROM search_fts "
                f"JOIN {TABLE} ON {TABLE}.id = search_fts.rowid "
                f"WHERE search_fts MATCH %s AND ({where_sql}){num_sql} "
                f"ORDER BY search_fts.rowid DESC LIMIT %s"
            )
        elif nums:
            params = [nums, *where_params]
            sql = (
                f"SELECT {TABLE}.id, kind, object_id, {SQLITE_EPOCH}, 1.0 FROM search_num "  # noqa: S608
                f"JOIN {TABLE} ON {TABLE}.id = search_num.rowid "
                f"WHERE search_num MATCH %s AND ({where_sql}) "
                f"ORDER BY search_num.rowid DESC LIMIT %s"
            )
        else:
            return [], False
        params.append(window)
        with connection.cursor() as cur:
            cur.execute(sql, params)
            rows = [Candidate(r[0], r[1], r[2], float(r[3]), float(r[4])) for r in cur.fetchall()]
        return rows, len(rows) >= window

    def refresh_stats(self) -> int:
        with connection.cursor() as cur:
            cur.execute("INSERT INTO search_fts(search_fts) VALUES ('optimize')")
        return 0


class PostgresBackend:
    """A ``tsv`` tsvector column (GIN) over the pre-cut words, titles weighted A; a trigram GIN
    index on ``numbers``. Ranking: for each query word, IDF (from :class:`TermStat`, refreshed
    by a job) × ``ts_rank`` with length normalisation (its term-frequency part saturates), summed.
    The newest 100,000 rows are searched first, then 400,000, then all, until a span gives
    enough candidates: a common word over a million rows would otherwise rank them all."""

    name = "postgresql"
    SPANS = (100_000, 400_000)  # newest index rows searched first, then more, then all
    ENOUGH = 500  # candidates that make a span enough
    FEW = 20_000  # documents holding the rarest word below which spans are not worth it

    def upsert(self, rows: Sequence[DocRow], now: dt.datetime) -> None:
        if not rows:
            return
        types = (
            "text", "bigint", "text", "text", "text", "text", "text", "text", "integer", "integer",
            "integer", "integer", "boolean", "timestamptz", "timestamptz", "timestamptz",
        )  # fmt: skip
        cols = ", ".join(DOC_COLUMNS)
        arrays = ", ".join(f"%s::{t}[]" for t in (*types, "text", "text"))
        names = ", ".join((*DOC_COLUMNS, "t_terms", "b_terms"))
        updates = ", ".join(f"{c} = excluded.{c}" for c in (*DOC_COLUMNS[2:], "tsv"))
        sql = (
            f"INSERT INTO {TABLE} ({cols}, tsv) SELECT {cols}, "  # noqa: S608 - fixed names
            "setweight(to_tsvector('simple', t_terms), 'A') || to_tsvector('simple', b_terms) "
            f"FROM unnest({arrays}) AS v({names}) "
            f"ON CONFLICT (kind, object_id) DO UPDATE SET {updates}"
        )
        values = [r.values(now) for r in rows]
        columns = [list(col) for col in zip(*values, strict=True)]
        columns.append([r.analyzed.title for r in rows])
        columns.append([r.analyzed.body for r in rows])
        with connection.cursor() as cur:
            cur.execute(sql, columns)

    def remove(self, kind: str, object_ids: Sequence[int]) -> None:
        SearchDoc.objects.filter(kind=kind, object_id__in=object_ids).delete()

    def clear(self) -> None:
        SearchDoc.objects.all().delete()

    @staticmethod
    def _tsquery(words: Sequence[str]) -> str:
        return " | ".join("'" + w.replace("\\", "").replace("'", "''") + "'" for w in words)

    def _stats(self, query: Query) -> tuple[list[float], int, int]:
        """Each group's IDF, and at most how many rows can hold every group (the fewest
        documents of any group; a group's count is the sum of its words')."""
        words = sorted({w for g in query.groups for w in g})
        stats = dict(TermStat.objects.filter(term__in=[*words, ""]).values_list("term", "docs"))
        total = max(stats.pop("", 0), 1)
        idf, most = [], total
        for group in query.groups:
            df = max((stats.get(w, 0) for w in group), default=0)
            idf.append(math.log(1 + (total - df + 0.5) / (df + 0.5)))
            most = min(most, sum(stats.get(w, 0) for w in group))
        return idf, most, total

    def candidates(
        self, query: Query, where: Q | None, *, window: int, match_all: bool = True
    ) -> tuple[list[Candidate], bool]:
        where_sql, where_params = compile_where(where)
        conds: list[str] = [f"({where_sql})"]
        params: list[Any] = [*where_params]
        rank_sql, rank_params = "1.0", []
        most = None  # numbers alone: no statistics, assume many
        total = 1
        if query.groups:
            idfs, most, total = self._stats(query)
            groups = ["(" + self._tsquery(g) + ")" for g in query.groups]
            conds.append("tsv @@ to_tsquery('simple', %s)")
            params.append((" & " if match_all else " | ").join(groups))
            parts = []
            for group, idf in zip(groups, idfs, strict=True):
                parts.append(f"{idf:.6f} * ts_rank(tsv, to_tsquery('simple', %s), 1)")
                rank_params.append(group)
            rank_sql = " + ".join(parts)
        for number in query.numbers:
            conds.append("numbers LIKE %s")
            params.append(f"%{number}%")
        if len(conds) == 1:
            return [], False
        # The newest matching rows first (no ranking work yet), then the rank of those only.
        # A word in one row of twenty or more: walking the newest rows backwards finds enough
        # at once. Rarer: collect the matches from the GIN index and sort them — the planner
        # tends to walk the primary key and test every row instead, so it is told not to.
        common = most is None or (match_all and most * 20 >= total)
        inner = (
            f"SELECT id, kind, object_id, updated_at, tsv FROM {TABLE} "  # noqa: S608
            f"WHERE {' AND '.join(conds)}"
        )
        outer = (
            "SELECT id, kind, object_id, extract(epoch from updated_at)::float8, "  # noqa: S608
            f"{rank_sql} FROM ({{inner}} ORDER BY id DESC LIMIT %s) c"
        )
        with transaction.atomic(), connection.cursor() as cur:
            rows: list[Any] = []
            more = False
            cur.execute(f"SELECT max(id) FROM {TABLE}")  # noqa: S608
            top = cur.fetchone()[0] or 0
            if not common:
                cur.execute("SET LOCAL enable_indexscan = off")
                cur.execute("SET LOCAL max_parallel_workers_per_gather = 0")
            # Few matches at most: one plain query. Many: the newest rows first, widening.
            spans = () if most is not None and match_all and most <= self.FEW else self.SPANS
            for span in spans:
                if top <= span * 2:
                    continue
                sql = outer.format(inner=inner + " AND id > %s::bigint")
                cur.execute(sql, [*rank_params, *params, top - span, window])
                rows = cur.fetchall()
                if len(rows) >= min(window, self.ENOUGH):
                    more = True  # older rows were not looked at: say the list is partial
                    break
            else:
                cur.execute(outer.format(inner=inner), [*rank_params, *params, window])
                rows = cur.fetchall()
            if not common:
                cur.execute("RESET enable_indexscan")
                cur.execute("RESET max_parallel_workers_per_gather")
        found = [Candidate(r[0], r[1], r[2], r[3], float(r[4])) for r in rows]
        return found, more or len(found) >= window

    def refresh_stats(self) -> int:
        """Recount documents per word (ts_stat over the whole index) and the document total."""
        with connection.cursor() as cur:
            cur.execute("DELETE FROM search_termstat")
            cur.execute(STATS_SQL)
            cur.execute(
                f"INSERT INTO search_termstat (term, docs) SELECT '', count(*) FROM {TABLE}"  # noqa: S608
            )
            cur.execute(f"ANALYZE {TABLE}")  # the planner's word frequencies, for the same reason
            cur.execute("SELECT count(*) FROM search_termstat")
            return int(cur.fetchone()[0])


_backend: Backend | None = None


def get_backend() -> Backend:
    global _backend  # noqa: PLW0603 - one backend per process, chosen once
    if _backend is None:
        path = getattr(settings, "KEFU_SEARCH_BACKEND", "")
        if path:
            _backend = import_string(path)()
        elif connection.vendor == "postgresql":
            _backend = PostgresBackend()
        else:
            _backend = SqliteBackend()
    return _backend


def reset_backend() -> None:
    global _backend  # noqa: PLW0603
    _backend = None
