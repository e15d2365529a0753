"""kefu bench search-quality — recall@10 and nDCG@10 of search, on two labelled sets.

1. **The labelled set** (bench/data/search_eval/): 636 work orders written the way service
   centres' records read (utility, water and gas, metro and bus, bank, software after-sales;
   varied wording, abbreviations, typos, full-width characters, phone numbers in every format,
   some in English) and 89 graded queries (0–3) over them — plain Chinese, typos, partial
   words, compounds, English over Chinese records, phone numbers written another way, mixed.
   It is not the demo's data. The records are indexed through the product's analyser and
   backend as work orders, with the contact phone as the work-order index adds it.
2. **The demo set** (bench/data/search_queries.json): 57 queries over `kefu demo`.

Each set is loaded into a fresh SQLite database and, unless --sqlite-only, a fresh PostgreSQL
one, and every query runs through ``search()`` as a supervisor (sees everything). Beside Kefu's
figures the bench prints those of a plain character-bigram BM25 over the same records (pure
Python, k1 = 1.2, b = 0.75), for comparison. --scale has no effect. Ends with a JSON line.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from bench._harness import ROOT, emit, kefu, pg_drop, pg_recreate, say, setup_django

DATA = Path(__file__).resolve().parent / "data"
QUERIES = DATA / "search_queries.json"
EVAL_DIR = DATA / "search_eval"
DATABASE = "kefu_bench_search_quality"
EVAL_ID_BASE = 1_000_000  # object ids of the labelled set's records: 1_000_001, …
NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)  # the labelled set's "today"


# ---- the plain character-bigram BM25 the figures are compared with -----------------------------

_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]+|[a-z0-9]+")
_WIDE = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)}


def bigrams(text: str) -> list[str]:
    """Overlapping pairs of Chinese characters (a lone one stands for itself) and whole Latin
    and digit words, of the lower-cased, half-width text."""
    out: list[str] = []
    for run in _RUN.findall(text.translate(_WIDE).lower()):
        if run.isascii() or len(run) == 1:
            out.append(run)
        else:
            out.extend(run[i : i + 2] for i in range(len(run) - 1))
    return out


class BigramBM25:
    """Okapi BM25 over character bigrams: IDF log(1 + (N − df + 0.5)/(df + 0.5)), term frequency
    saturating with k1, length normalised with b."""

    def __init__(self, docs: Mapping[Any, str], *, k1: float = 1.2, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        self.tf = {key: Counter(bigrams(text)) for key, text in docs.items()}
        self.length = {key: sum(tf.values()) for key, tf in self.tf.items()}
        self.avg = sum(self.length.values()) / max(len(self.length), 1)
        self.df: Counter[str] = Counter()
        for tf in self.tf.values():
            self.df.update(tf.keys())

    def idf(self, term: str) -> float:
        n, df = len(self.tf), self.df.get(term, 0)
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def score(self, key: Any, query: str) -> float:
        tf, total = self.tf[key], 0.0
        norm = self.k1 * (1 - self.b + self.b * self.length[key] / self.avg)
        for term in set(bigrams(query)):
            f = tf.get(term, 0)
            if f:
                total += self.idf(term) * f * (self.k1 + 1) / (f + norm)
        return total

    def rank(self, query: str, k: int = 10) -> list[Any]:
        scored = [(self.score(key, query), key) for key in self.tf]
        best = sorted((s for s in scored if s[0] > 0), key=lambda s: (-s[0], str(s[1])))
        return [key for _s, key in best[:k]]


# ---- scoring ------------------------------------------------------------------------------------


def score_runs(
    runs: Iterable[tuple[str, str, Sequence[Any], Mapping[Any, int]]], verbose: bool
) -> dict[str, Any]:
    """Mean recall@10 and nDCG@10 over (query, kind, ranked keys, grades) runs, overall and by
    kind of query; prints each query that misses a relevant record when ``verbose``."""
    from kefu.search.metrics import ndcg_at, recall_at

    by_kind: dict[str, list[tuple[float, float]]] = {}
    every: list[tuple[float, float]] = []
    for q, kind, ranked, relevant in runs:
        recall, ndcg = recall_at(ranked, relevant), ndcg_at(ranked, relevant)
        every.append((recall, ndcg))
        by_kind.setdefault(kind, []).append((recall, ndcg))
        if verbose and recall < 1:
            say(f"    {q!r}: recall {recall:.2f}, nDCG {ndcg:.2f}")

    def mean(pairs: list[tuple[float, float]], i: int) -> float:
        return round(sum(p[i] for p in pairs) / max(len(pairs), 1), 4)

    return {
        "queries": len(every),
        "recall_at_10": mean(every, 0),
        "ndcg_at_10": mean(every, 1),
        "by_kind": {k: [mean(v, 0), mean(v, 1), len(v)] for k, v in sorted(by_kind.items())},
    }


# ---- the labelled set -------------------------------------------------------------------------


def load_eval() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    corpus = json.loads((EVAL_DIR / "corpus.json").read_text(encoding="utf-8"))
    queries = json.loads((EVAL_DIR / "queries.json").read_text(encoding="utf-8"))
    return list(corpus["records"]), list(queries["queries"])


def grades(
    rules: Sequence[Mapping[str, Any]], records: Sequence[Mapping[str, Any]]
) -> dict[str, int]:
    """Each record's grade for a query: the highest grade of a rule whose every field it has."""
    out: dict[str, int] = {}
    for record in records:
        grade = max(
            (
                int(rule["grade"])
                for rule in rules
                if all(record.get(k) == v for k, v in rule.items() if k != "grade")
            ),
            default=0,
        )
        if grade:
            out[record["id"]] = grade
    return out


def eval_object_id(record_id: str) -> int:
    return EVAL_ID_BASE + int(record_id[1:])


def index_eval(records: Sequence[Mapping[str, Any]]) -> None:
    """The labelled records, indexed as work orders are (kefu.tickets.search.build): the title,
    the text, and the contact phone's digits as an extra number."""
    from django.db import transaction

    from kefu.search import text
    from kefu.search.backends import DocRow, get_backend
    from kefu.search.services import synonyms

    text.add_words(synonyms().words())
    rows = []
    for r in records:
        at = NOW - dt.timedelta(days=int(r["age_days"]), hours=int(r["id"][1:]) % 24)
        rows.append(
            DocRow(
                kind="ticket",
                object_id=eval_object_id(r["id"]),
                title=r["title"],
                body=r["body"],
                analyzed=text.analyze(
                    r["title"], r["body"], [re.sub(r"\D", "", r["contact_phone"])]
                ),
                created_at=at,
                updated_at=at,
                status="resolved",
                type_code="complaint",
            )
        )
    backend = get_backend()
    with transaction.atomic():
        backend.upsert(rows, NOW)
    backend.refresh_stats()


def evaluate_eval(user: Any, verbose: bool = True) -> dict[str, Any]:
    """Kefu and the bigram baseline on the labelled set (already indexed)."""
    from kefu.search.services import search

    records, queries = load_eval()
    by_object = {eval_object_id(r["id"]): r["id"] for r in records}
    baseline = BigramBM25({r["id"]: f"{r['title']}\n{r['body']}" for r in records})
    ours, theirs = [], []
    for item in queries:
        relevant = grades(item["rules"], records)
        hits = search(user, item["q"], limit=10).hits
        ranked = [by_object.get(h.object_id) for h in hits]
        ours.append((item["q"], item["kind"], ranked, relevant))
        theirs.append((item["q"], item["kind"], baseline.rank(item["q"]), relevant))
    result = score_runs(ours, verbose)
    base = score_runs(theirs, False)
    return {
        **result,
        "records": len(records),
        "baseline_recall_at_10": base["recall_at_10"],
        "baseline_ndcg_at_10": base["ndcg_at_10"],
        "baseline_by_kind": base["by_kind"],
    }


def supervisor() -> Any:
    from kefu.accounts.models import User
    from kefu.core.permissions import Role

    user, _created = User.objects.get_or_create(
        username="quality-supervisor",
        defaults={"role": Role.SUPERVISOR, "display_name": "值班长"},
    )
    return user


# ---- the demo set -------------------------------------------------------------------------------


def load_queries() -> list[dict[str, Any]]:
    return list(json.loads(QUERIES.read_text(encoding="utf-8"))["queries"])


def resolve(label: str) -> list[tuple[str, int]]:
    """The index keys (kind, object id) a label names, in the loaded demo data."""
    from kefu.customers.models import Customer
    from kefu.kb.demo_articles import ARTICLES
    from kefu.kb.models import Article
    from kefu.tickets.models import Ticket

    kind, sep, name = label.partition(":")
    if not sep:
        kind, _sep, name = label.partition("~")
        if kind != "ticket":
            raise ValueError(f"unknown label {label!r}")
        ids: Iterable[int] = Ticket.objects.filter(title__contains=name).values_list(
            "pk", flat=True
        )
        return [("ticket", i) for i in ids]
    if kind == "article":
        titles = {key: title for key, _c, _v, title, *_rest in ARTICLES}
        ids = Article.objects.filter(title=titles[name]).values_list("pk", flat=True)
    elif kind == "ticket":
        ids = Ticket.objects.filter(title=name).values_list("pk", flat=True)
    elif kind == "customer":
        ids = Customer.objects.filter(name=name).values_list("pk", flat=True)
    else:
        raise ValueError(f"unknown label {label!r}")
    return [(kind, i) for i in ids]


def evaluate(verbose: bool = True) -> dict[str, Any]:
    """Kefu and the bigram baseline on the demo set (the demo loaded)."""
    from kefu.accounts.models import User
    from kefu.search.models import SearchDoc
    from kefu.search.services import search

    user = User.objects.get(username="supervisor")
    queries = load_queries()
    unresolved: list[str] = []
    docs = {(d.kind, d.object_id): f"{d.title}\n{d.body}" for d in SearchDoc.objects.all()}
    baseline = BigramBM25(docs)
    ours, theirs = [], []
    for item in queries:
        relevant: dict[tuple[str, int], int] = {}
        for label, grade in item["relevant"].items():
            keys = resolve(label)
            if not keys:
                unresolved.append(label)
            for key in keys:
                relevant[key] = max(grade, relevant.get(key, 0))
        hits = search(user, item["q"], limit=10).hits
        ranked = [(h.kind, h.object_id) for h in hits]
        kind = "english" if item["q"].isascii() else "chinese"
        ours.append((item["q"], kind, ranked, relevant))
        theirs.append((item["q"], kind, baseline.rank(item["q"]), relevant))
    result = score_runs(ours, verbose)
    base = score_runs(theirs, False)
    return {
        **result,
        "unresolved": unresolved,
        "baseline_recall_at_10": base["recall_at_10"],
        "baseline_ndcg_at_10": base["ndcg_at_10"],
    }


# ---- running ----------------------------------------------------------------------------------


def one_run(database: str, which: str) -> int:
    data_dir = Path(tempfile.mkdtemp(prefix="kefu-bench-quality-"))
    if database == "postgresql":
        url = pg_recreate(DATABASE)
    else:
        url = f"sqlite:///{data_dir / 'kefu.sqlite3'}"
    env = {"KEFU_DATABASE_URL": url, "KEFU_DATA_DIR": str(data_dir)}  # embedded settings
    try:
        if which == "demo":
            kefu("demo", "--no-serve", env=env)
            setup_django(env)
            result = evaluate()
        else:
            kefu("manage", "migrate", "--no-input", env=env)
            setup_django(env)
            index_eval(load_eval()[0])
            result = evaluate_eval(supervisor())
        emit({"database": database, "set": which, **result})
        return 0
    finally:
        from django.conf import settings
        from django.db import connections

        if settings.configured:
            connections.close_all()
        if database == "postgresql":
            pg_drop(DATABASE)
        shutil.rmtree(data_dir, ignore_errors=True)


def _child(database: str, which: str) -> dict[str, Any] | None:
    child = subprocess.run(
        [sys.executable, "-m", "kefu", "bench", "search-quality", "--database", database,
         "--set", which],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    lines = child.stdout.strip().splitlines()
    for line in lines[:-1]:
        say(line)
    if child.returncode != 0 or not lines:
        say(child.stderr[-3000:])
        return None
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def main(scale: float, argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="kefu bench search-quality")
    parser.add_argument("--database", choices=["sqlite", "postgresql"], help="one database only")
    parser.add_argument("--set", choices=["eval", "demo"], default="eval", help="with --database")
    parser.add_argument("--sqlite-only", action="store_true", help="skip PostgreSQL")
    args = parser.parse_args(argv)
    if args.database:
        return one_run(args.database, args.set)
    databases = ["sqlite"] if args.sqlite_only else ["sqlite", "postgresql"]
    records, queries = load_eval()
    say(
        f"kefu bench search-quality: the labelled set ({len(records)} work orders, "
        f"{len(queries)} graded queries) and the demo set ({len(load_queries())} queries)"
    )
    results: dict[tuple[str, str], dict[str, Any]] = {}
    for which in ("eval", "demo"):
        for database in databases:
            say(f"  [{which} / {database}] loading and searching")
            result = _child(database, which)
            if result is None:
                return 1
            results[(which, database)] = result
            say(
                f"  [{which} / {database}] Kefu recall@10 {result['recall_at_10']:.3f}, "
                f"nDCG@10 {result['ndcg_at_10']:.3f}; character-bigram BM25 recall@10 "
                f"{result['baseline_recall_at_10']:.3f}, nDCG@10 "
                f"{result['baseline_ndcg_at_10']:.3f}"
                + (
                    f"; unresolved labels: {result['unresolved']}"
                    if result.get("unresolved")
                    else ""
                )
            )
            if which == "eval":
                base = result["baseline_by_kind"]
                for kind, (recall, ndcg, n) in result["by_kind"].items():
                    say(
                        f"      {kind:<9} {n:>3} queries: recall@10 {recall:.3f} nDCG@10 {ndcg:.3f}"
                        f"   (bigram BM25 {base[kind][0]:.3f} / {base[kind][1]:.3f})"
                    )
    lite, demo = results[("eval", "sqlite")], results[("demo", "sqlite")]
    out: dict[str, Any] = {
        "bench": "search-quality",
        "records": lite["records"],
        "queries": lite["queries"],
        "recall_at_10": lite["recall_at_10"],
        "ndcg_at_10": lite["ndcg_at_10"],
        "baseline_recall_at_10": lite["baseline_recall_at_10"],
        "baseline_ndcg_at_10": lite["baseline_ndcg_at_10"],
    }
    if ("eval", "postgresql") in results:
        pg = results[("eval", "postgresql")]
        out["pg_recall_at_10"] = pg["recall_at_10"]
        out["pg_ndcg_at_10"] = pg["ndcg_at_10"]
    out["demo_queries"] = demo["queries"]
    out["demo_recall_at_10"] = demo["recall_at_10"]
    out["demo_ndcg_at_10"] = demo["ndcg_at_10"]
    out["demo_baseline_recall_at_10"] = demo["baseline_recall_at_10"]
    out["demo_baseline_ndcg_at_10"] = demo["baseline_ndcg_at_10"]
    if ("demo", "postgresql") in results:
        out["demo_pg_recall_at_10"] = results[("demo", "postgresql")]["recall_at_10"]
        out["demo_pg_ndcg_at_10"] = results[("demo", "postgresql")]["ndcg_at_10"]
    emit(out)
    return 0
