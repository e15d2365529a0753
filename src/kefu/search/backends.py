"""Where the words live. One interface, :class:`Backend`, with a SQLite implementation (FTS5
tables beside the index rows) and a PostgreSQL one (tsvector columns with GIN indexes, and a
trigram index for numbers). ``KEFU_SEARCH_BACKEND`` may name another class with the same methods,
for an external engine; see docs/dev/search.md for what such a class must do.

Each record is indexed twice: by its words and by its character grams (text.py). A search asks
both for their best matches, each ranked by BM25 (term rarity × saturating term frequency ×
length normalisation, titles weighted above bodies) over records holding *any* of the query's
words or grams, so a record holding some of the words is ranked, not dropped. The caller fuses
the two scores, applies the recency boost and pages. The access filter is part of the same SQL
statement, so a row the person may not open is never a candidate.
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
GRAM_PREFIX = "~"  # grams' document counts sit beside the words' in search_termstat
GRAM_STATS_SQL = (
    "INSERT INTO search_termstat (term, docs) SELECT '~' || word, ndoc FROM ts_stat('SELECT "  # noqa: S608 - fixed table name
    + "gram FROM "
    + TABLE
    + "') WHERE length(word) <= 99 AND word <> ''"
)
# Newest index rows ranked first, then more, then all, until a span holds enough matches: a
# common word over a million rows would otherwise rank them all.
SPANS = (5_000, 20_000, 100_000, 400_000)
# Grams held by more than this share of the records say little and cost much: they are left out
# of the gram query (unless nothing else is left); of the rest, the rarest are asked for.
COMMON_GRAM_SHARE = 0.1
COMMON_GRAM_MIN_DOCS = 1000
MAX_GRAMS = 12


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


@dataclass(frozen=True, slots=True)
class Candidate:
    id: int
    kind: str
    object_id: int
    updated: float  # seconds since the epoch (cheaper to fetch a thousand of than datetimes)
    relevance: float  # BM25 of the words (0: no word matched, or not among the best)
    grams: float = 0.0  # BM25 of the character grams (0 likewise)


def merge(words: Sequence[Candidate], grams: Sequence[Candidate]) -> list[Candidate]:
    """One candidate per row from the word list (scores in ``relevance``) and the gram list
    (scores in ``relevance`` too, moved to ``grams``)."""
    out = {c.id: c for c in words}
    for g in grams:
        w = out.get(g.id)
        out[g.id] = Candidate(
            g.id, g.kind, g.object_id, g.updated, w.relevance if w else 0.0, g.relevance
        )
    return list(out.values())


def best_of(first: Sequence[Candidate], second: Sequence[Candidate]) -> list[Candidate]:
    """Two lists of word candidates as one, each row once with its higher score."""
    out = {c.id: c for c in first}
    for c in second:
        if c.id not in out or out[c.id].relevance < c.relevance:
            out[c.id] = c
    return list(out.values())


def pick_grams(query: Query, docs_of: dict[str, int], total: int, *, exact: bool) -> list[str]:
    """The query's grams worth asking for, rarest first: none held by more than
    COMMON_GRAM_SHARE of ``total`` records (unless all are; then the rarest), none held by no
    record when the counts are ``exact``, at most MAX_GRAMS."""
    grams = list(query.grams)
    if exact:
        grams = [g for g in grams if docs_of.get(g, 0) > 0]
    grams.sort(key=lambda g: docs_of.get(g, 0))
    if total >= COMMON_GRAM_MIN_DOCS:
        rare = [g for g in grams if docs_of.get(g, 0) <= total * COMMON_GRAM_SHARE]
        grams = rare or grams[:1]
    return grams[:MAX_GRAMS]


class Backend(Protocol):
    name: str

    def upsert(self, rows: Sequence[DocRow], now: dt.datetime) -> None: ...

    def remove(self, kind: str, object_ids: Sequence[int]) -> None: ...

    def candidates(
        self, query: Query, where: Q | None, *, window: int
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
    """FTS5: ``search_fts`` (title, body; unicode61 over pre-cut words; bm25 ranking),
    ``search_gram`` (the same over character grams, with ``search_gram_vocab`` for their
    document counts) and ``search_num`` (numbers; the trigram tokenizer, so any three or more
    digits match)."""

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
                cur.executemany("DELETE FROM search_gram WHERE rowid = %s", stale)
                cur.executemany("DELETE FROM search_num WHERE rowid = %s", stale)
            cur.executemany(sql, [row.values(now) for row in rows])
            ids = self._ids(cur, rows)
            cur.executemany(
                "INSERT INTO search_fts (rowid, title, body) VALUES (%s, %s, %s)",
                [(ids[(r.kind, r.object_id)], r.analyzed.title, r.analyzed.body) for r in rows],
            )
            cur.executemany(
                "INSERT INTO search_gram (rowid, title, body) VALUES (%s, %s, %s)",
                [
                    (ids[(r.kind, r.object_id)], r.analyzed.title_grams, r.analyzed.body_grams)
                    for r in rows
                ],
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
            for table in ("search_fts", "search_gram", "search_num"):
                cur.executemany(
                    f"DELETE FROM {table} WHERE rowid = %s",  # noqa: S608 - fixed names
                    [(i,) for i in ids],
                )
        SearchDoc.objects.filter(id__in=ids).delete()

    def clear(self) -> None:
        with connection.cursor() as cur:
            cur.execute("DELETE FROM search_fts")
            cur.execute("DELETE FROM search_gram")
            cur.execute("DELETE FROM search_num")
        SearchDoc.objects.all().delete()

    def candidates(
        self, query: Query, where: Q | None, *, window: int
    ) -> tuple[list[Candidate], bool]:
        where_sql, where_params = compile_where(where)
        nums = " AND ".join(_fts_phrase(n) for n in query.numbers if len(n) >= 3)
        num_sql, num_params = "", []
        if nums:
            num_sql, num_params = f" AND {TABLE}.id IN ({NUM_MATCH})", [nums]
        with connection.cursor() as cur:
            if not query.groups and not query.grams:
                if not nums:
                    return [], False
                sql = (
                    f"SELECT {TABLE}.id, kind, object_id, {SQLITE_EPOCH}, 1.0 FROM search_num "  # noqa: S608
                    f"JOIN {TABLE} ON {TABLE}.id = search_num.rowid "
                    f"WHERE search_num MATCH %s AND ({where_sql}) "
                    f"ORDER BY search_num.rowid DESC LIMIT %s"
                )
                cur.execute(sql, [nums, *where_params, window])
                rows = [Candidate(r[0], r[1], r[2], float(r[3]), float(r[4])) for r in cur]
                return rows, len(rows) >= window
            cur.execute(f"SELECT max(id) FROM {TABLE}")  # noqa: S608
            top = int(cur.fetchone()[0] or 0)
            conds = (f"({where_sql}){num_sql}", [*where_params, *num_params])
            words: list[Candidate] = []
            grams: list[Candidate] = []
            capped = False
            if query.groups:
                match = " OR ".join(
                    "(" + " OR ".join(_fts_phrase(w) for w in group) + ")" for group in query.groups
                )
                words, more = self._ranked(cur, "search_fts", match, conds, top, window)
                capped |= more
                if len(query.groups) > 1 and more:
                    # Records holding every word, however old, are candidates too.
                    every = " AND ".join(
                        "(" + " OR ".join(_fts_phrase(w) for w in group) + ")"
                        for group in query.groups
                    )
                    words = best_of(words, self._newest_all(cur, every, conds, window))
            wanted = self._useful_grams(cur, query, top)
            if wanted:
                match = " OR ".join(_fts_phrase(g) for g in wanted)
                grams, more = self._ranked(cur, "search_gram", match, conds, top, window)
                capped |= more
        return merge(words, grams), capped

    @staticmethod
    def _newest_all(
        cur: Any, match: str, conds: tuple[str, list[Any]], window: int
    ) -> list[Candidate]:
        cur.execute(
            f"SELECT {TABLE}.id, kind, object_id, {SQLITE_EPOCH}, "  # noqa: S608 - fixed names
            f"-bm25(search_fts, {TITLE_WEIGHT}, 1.0) FROM search_fts "
            f"JOIN {TABLE} ON {TABLE}.id = search_fts.rowid "
            f"WHERE search_fts MATCH %s AND {conds[0]} ORDER BY search_fts.rowid DESC LIMIT %s",
            [match, *conds[1], window],
        )
        return [Candidate(r[0], r[1], r[2], float(r[3]), float(r[4])) for r in cur.fetchall()]

    @staticmethod
    def _useful_grams(cur: Any, query: Query, top: int) -> list[str]:
        if not query.grams:
            return []
        marks = ", ".join(["%s"] * len(query.grams))
        cur.execute(
            f"SELECT term, doc FROM search_gram_vocab WHERE term IN ({marks})",  # noqa: S608
            list(query.grams),
        )
        docs_of = {term: int(docs) for term, docs in cur.fetchall()}
        return pick_grams(query, docs_of, top, exact=True)

    @staticmethod
    def _ranked(
        cur: Any, table: str, match: str, conds: tuple[str, list[Any]], top: int, window: int
    ) -> tuple[list[Candidate], bool]:
        """The ``window`` best rows of ``table`` by BM25 for ``match``, among the newest rows
        first; True when older rows were not looked at."""
        sql = (
            f"SELECT {TABLE}.id, kind, object_id, {SQLITE_EPOCH}, "  # noqa: S608 - fixed names
            f"-bm25({table}, {TITLE_WEIGHT}, 1.0) AS score FROM {table} "
            f"JOIN {TABLE} ON {TABLE}.id = {table}.rowid "
            f"WHERE {table} MATCH %s AND {conds[0]}{{span}} ORDER BY score DESC LIMIT %s"
        )
        for span in SPANS:
            if top <= span * 2:
                break
            cur.execute(
                sql.format(span=f" AND {table}.rowid > %s"),
                [match, *conds[1], top - span, window],
            )
            rows = cur.fetchall()
            if len(rows) >= window:
                return [Candidate(r[0], r[1], r[2], float(r[3]), float(r[4])) for r in rows], True
        cur.execute(sql.format(span=""), [match, *conds[1], window])
        return [
            Candidate(r[0], r[1], r[2], float(r[3]), float(r[4])) for r in cur.fetchall()
        ], False

    def refresh_stats(self) -> int:
        with connection.cursor() as cur:
            cur.execute("INSERT INTO search_fts(search_fts) VALUES ('optimize')")
            cur.execute("INSERT INTO search_gram(search_gram) VALUES ('optimize')")
        return 0


class PostgresBackend:
    """A ``tsv`` tsvector column (GIN) over the pre-cut words and a ``gram`` one over the
    character grams, titles weighted A; a trigram GIN index on ``numbers``. Ranking: for each
    query word (or gram), IDF (from :class:`TermStat`, refreshed by a job) × ``ts_rank`` with
    length normalisation (its term-frequency part saturates), summed over the rows holding any
    of them. The newest rows are ranked first (:data:`SPANS`), then more, then all, until a span
    gives enough candidates."""

    name = "postgresql"

    def upsert(self, rows: Sequence[DocRow], now: dt.datetime) -> None:
        if not rows:
            return
        types = (
            "text", "bigint", "text", "text", "text", "text", "text", "text", "integer", "integer",
            "integer", "integer", "boolean", "timestamptz", "timestamptz", "timestamptz",
        )  # fmt: skip
        cols = ", ".join(DOC_COLUMNS)
        arrays = ", ".join(f"%s::{t}[]" for t in (*types, "text", "text", "text", "text"))
        names = ", ".join((*DOC_COLUMNS, "t_terms", "b_terms", "t_grams", "b_grams"))
        updates = ", ".join(f"{c} = excluded.{c}" for c in (*DOC_COLUMNS[2:], "tsv", "gram"))
        sql = (
            f"INSERT INTO {TABLE} ({cols}, tsv, gram) SELECT {cols}, "  # noqa: S608 - fixed names
            "setweight(to_tsvector('simple', t_terms), 'A') || to_tsvector('simple', b_terms), "
            "setweight(to_tsvector('simple', t_grams), 'A') || to_tsvector('simple', b_grams) "
            f"FROM unnest({arrays}) AS v({names}) "
            f"ON CONFLICT (kind, object_id) DO UPDATE SET {updates}"
        )
        values = [r.values(now) for r in rows]
        columns = [list(col) for col in zip(*values, strict=True)]
        columns.append([r.analyzed.title for r in rows])
        columns.append([r.analyzed.body for r in rows])
        columns.append([r.analyzed.title_grams for r in rows])
        columns.append([r.analyzed.body_grams for r in rows])
        with connection.cursor() as cur:
            cur.execute(sql, columns)

    def remove(self, kind: str, object_ids: Sequence[int]) -> None:
        SearchDoc.objects.filter(kind=kind, object_id__in=object_ids).delete()

    def clear(self) -> None:
        SearchDoc.objects.all().delete()

    @staticmethod
    def _tsquery(words: Sequence[str]) -> str:
        return " | ".join("'" + w.replace("\\", "").replace("'", "''") + "'" for w in words)

    def _idf(self, terms: Sequence[str]) -> tuple[dict[str, float], dict[str, int], int]:
        """IDF and document count of each term (grams carry GRAM_PREFIX), from the statistics
        the refresh job keeps, and the document total."""
        stats = dict(TermStat.objects.filter(term__in=[*terms, ""]).values_list("term", "docs"))
        total = max(stats.pop("", 0), 1)
        idf = {
            t: math.log(1 + (total - stats.get(t, 0) + 0.5) / (stats.get(t, 0) + 0.5))
            for t in terms
        }
        return idf, stats, total

    def candidates(
        self, query: Query, where: Q | None, *, window: int
    ) -> tuple[list[Candidate], bool]:
        where_sql, where_params = compile_where(where)
        conds: list[str] = [f"({where_sql})"]
        params: list[Any] = [*where_params]
        for number in query.numbers:
            conds.append("numbers LIKE %s")
            params.append(f"%{number}%")
        if not query.groups and not query.grams:
            return self._newest(conds, params, window) if query.numbers else ([], False)
        words_of = sorted({w for g in query.groups for w in g})
        grams_of = [GRAM_PREFIX + g for g in query.grams]
        idf, docs, total = self._idf([*words_of, *grams_of])
        words: list[Candidate] = []
        grams: list[Candidate] = []
        capped = False
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(f"SELECT max(id) FROM {TABLE}")  # noqa: S608
            top = cur.fetchone()[0] or 0
            if query.groups:
                tsq = [self._tsquery(g) for g in query.groups]
                weights = [max(idf[w] for w in g) for g in query.groups]
                words, more = self._ranked(cur, "tsv", tsq, weights, conds, params, top, window)
                capped |= more
                if len(query.groups) > 1 and more:
                    # Records holding every word, however old, are candidates too.
                    words = best_of(
                        words, self._newest_all(cur, tsq, weights, conds, params, window)
                    )
            docs_of = {g: docs.get(GRAM_PREFIX + g, 0) for g in query.grams}
            wanted = pick_grams(query, docs_of, total, exact=False)
            if wanted:
                tsq = [self._tsquery([g]) for g in wanted]
                weights = [idf[GRAM_PREFIX + g] for g in wanted]
                grams, more = self._ranked(cur, "gram", tsq, weights, conds, params, top, window)
                capped |= more
        return merge(words, grams), capped

    @staticmethod
    def _ranked(
        cur: Any,
        column: str,
        tsqueries: Sequence[str],
        weights: Sequence[float],
        conds: Sequence[str],
        params: Sequence[Any],
        top: int,
        window: int,
    ) -> tuple[list[Candidate], bool]:
        """The ``window`` best rows by Σ IDF × ts_rank over rows holding any of ``tsqueries``,
        among the newest rows first; True when older rows were not looked at."""
        # The queries are parsed once (a materialised CTE), not once per row and word.
        parsed = ", ".join(f"to_tsquery('simple', %s) AS q{i}" for i in range(len(tsqueries)))
        rank = " + ".join(f"{w:.6f} * ts_rank({column}, q.q{i}, 1)" for i, w in enumerate(weights))
        sql = (
            f"WITH q AS MATERIALIZED (SELECT {parsed}, to_tsquery('simple', %s) AS qa) "  # noqa: S608
            f"SELECT id, kind, object_id, extract(epoch from updated_at)::float8, {rank} AS s "
            f"FROM q, {TABLE} WHERE {column} @@ q.qa AND {' AND '.join(conds)}"
            "{span} ORDER BY s DESC, id DESC LIMIT %s"
        )
        head = [*tsqueries, " | ".join(f"({q})" for q in tsqueries), *params]
        for span in SPANS:
            if top <= span * 2:
                break
            cur.execute(sql.format(span=" AND id > %s::bigint"), [*head, top - span, window])
            rows = cur.fetchall()
            if len(rows) >= window:
                return [Candidate(r[0], r[1], r[2], r[3], float(r[4])) for r in rows], True
        cur.execute(sql.format(span=""), [*head, window])
        return [Candidate(r[0], r[1], r[2], r[3], float(r[4])) for r in cur.fetchall()], False

    @staticmethod
    def _newest_all(
        cur: Any,
        tsqueries: Sequence[str],
        weights: Sequence[float],
        conds: Sequence[str],
        params: Sequence[Any],
        window: int,
    ) -> list[Candidate]:
        """The newest ``window`` rows holding every group, ranked as :meth:`_ranked` ranks."""
        parsed = ", ".join(f"to_tsquery('simple', %s) AS q{i}" for i in range(len(tsqueries)))
        rank = " + ".join(f"{w:.6f} * ts_rank(c.tsv, q.q{i}, 1)" for i, w in enumerate(weights))
        sql = (
            f"WITH q AS MATERIALIZED (SELECT {parsed}) "  # noqa: S608 - fixed names
            f"SELECT c.id, c.kind, c.object_id, extract(epoch from c.updated_at)::float8, {rank} "
            f"FROM q, (SELECT id, kind, object_id, updated_at, tsv FROM {TABLE} "
            f"WHERE tsv @@ to_tsquery('simple', %s) AND {' AND '.join(conds)} "
            "ORDER BY id DESC LIMIT %s) c"
        )
        every = " & ".join(f"({q})" for q in tsqueries)
        cur.execute(sql, [*tsqueries, every, *params, window])
        return [Candidate(r[0], r[1], r[2], r[3], float(r[4])) for r in cur.fetchall()]

    def _newest(
        self, conds: Sequence[str], params: Sequence[Any], window: int
    ) -> tuple[list[Candidate], bool]:
        """Numbers alone: the newest matching rows (the trigram index finds them)."""
        sql = (
            "SELECT id, kind, object_id, extract(epoch from updated_at)::float8, 1.0 "  # noqa: S608
            f"FROM {TABLE} WHERE {' AND '.join(conds)} ORDER BY id DESC LIMIT %s"
        )
        with connection.cursor() as cur:
            cur.execute(sql, [*params, window])
            rows = [Candidate(r[0], r[1], r[2], r[3], float(r[4])) for r in cur.fetchall()]
        return rows, len(rows) >= window

    def refresh_stats(self) -> int:
        """Recount documents per word (ts_stat over the whole index) and the document total."""
        with connection.cursor() as cur:
            cur.execute("DELETE FROM search_termstat")
            cur.execute(STATS_SQL)
            cur.execute(GRAM_STATS_SQL)
            # Merge what GIN queued since the last run into the indexes proper (searches read
            # the whole queue); autovacuum does the same between runs.
            cur.execute("SELECT gin_clean_pending_list('search_doc_tsv_idx')")
            cur.execute("SELECT gin_clean_pending_list('search_doc_gram_idx')")
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
