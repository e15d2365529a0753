"""kefu bench search-quality — recall@10 and nDCG@10 over the labelled query set.

Loads the demo centre into a fresh embedded database (SQLite) and, unless --sqlite-only, into
PostgreSQL too; runs every query of bench/data/search_queries.json as the demo supervisor, and
scores the first ten hits against the labels (see kefu/search/metrics.py for the measures).
Prints each query that misses a relevant record. --scale has no effect: the demo is one size.
Ends with a JSON line.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from bench._harness import ROOT, emit, kefu, pg_drop, pg_recreate, say, setup_django

QUERIES = Path(__file__).resolve().parent / "data" / "search_queries.json"
DATABASE = "kefu_bench_search_quality"


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
    from kefu.accounts.models import User
    from kefu.search.metrics import ndcg_at, recall_at
    from kefu.search.services import search

    user = User.objects.get(username="supervisor")
    queries = load_queries()
    recalls, ndcgs, unresolved = [], [], []
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
        recall, ndcg = recall_at(ranked, relevant), ndcg_at(ranked, relevant)
        recalls.append(recall)
        ndcgs.append(ndcg)
        if verbose and recall < 1:
            shown = ", ".join(f"{h.kind}:{h.title[:14]}" for h in hits[:4]) or "nothing"
            say(f"    {item['q']!r}: recall {recall:.2f}, nDCG {ndcg:.2f}; top: {shown}")
    return {
        "queries": len(queries),
        "recall_at_10": round(sum(recalls) / len(recalls), 4),
        "ndcg_at_10": round(sum(ndcgs) / len(ndcgs), 4),
        "unresolved": unresolved,
    }


def one_database(database: str) -> int:
    data_dir = Path(tempfile.mkdtemp(prefix="kefu-bench-quality-"))
    if database == "postgresql":
        url = pg_recreate(DATABASE)
    else:
        url = f"sqlite:///{data_dir / 'kefu.sqlite3'}"
    env = {"KEFU_DATABASE_URL": url, "KEFU_DATA_DIR": str(data_dir)}  # `kefu demo` is embedded
    try:
        kefu("demo", "--no-serve", env=env)
        setup_django(env)
        result = evaluate()
        emit({"database": database, **result})
        return 0
    finally:
        from django.conf import settings
        from django.db import connections

        if settings.configured:
            connections.close_all()
        if database == "postgresql":
            pg_drop(DATABASE)
        shutil.rmtree(data_dir, ignore_errors=True)


def main(scale: float, argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="kefu bench search-quality")
    parser.add_argument("--database", choices=["sqlite", "postgresql"], help="one database only")
    parser.add_argument("--sqlite-only", action="store_true", help="skip PostgreSQL")
    args = parser.parse_args(argv)
    if args.database:
        return one_database(args.database)
    databases = ["sqlite"] if args.sqlite_only else ["sqlite", "postgresql"]
    say(f"kefu bench search-quality: {len(load_queries())} labelled queries over the demo centre")
    results = {}
    for database in databases:
        say(f"  [{database}] loading the demo centre and searching")
        child = subprocess.run(
            [sys.executable, "-m", "kefu", "bench", "search-quality", "--database", database],
            cwd=ROOT, capture_output=True, text=True, check=False,
        )  # fmt: skip
        lines = child.stdout.strip().splitlines()
        for line in lines[:-1]:
            say(line)
        if child.returncode != 0 or not lines:
            say(child.stderr[-3000:])
            return 1
        results[database] = json.loads(lines[-1])
        r = results[database]
        say(
            f"  [{database}] recall@10 {r['recall_at_10']:.3f}, nDCG@10 {r['ndcg_at_10']:.3f}"
            + (f"; unresolved labels: {r['unresolved']}" if r["unresolved"] else "")
        )
    lite = results["sqlite"]
    out = {
        "bench": "search-quality",
        "queries": lite["queries"],
        "recall_at_10": lite["recall_at_10"],
        "ndcg_at_10": lite["ndcg_at_10"],
    }
    if "postgresql" in results:
        out["pg_recall_at_10"] = results["postgresql"]["recall_at_10"]
        out["pg_ndcg_at_10"] = results["postgresql"]["ndcg_at_10"]
    emit(out)
    return 0
