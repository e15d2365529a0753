"""kefu bench search — the search index at 1,000,000 work orders and 10,000 articles, on
PostgreSQL and on SQLite.

Each database runs in its own process (Kefu's settings pick one database per process):
1. Index build: work-order texts in realistic mixed Chinese and English (the demo's complaint
   templates with place names, account and phone numbers, app and payment terms in English)
   are segmented and written through the product's backend, in batches of 2,000, timed from
   text to committed index; the rate is MB of UTF-8 source text per second of wall time.
2. Queries: 60 queries (common and rare Chinese words, synonyms, English, mixed, partial phone
   and account numbers), each run as an administrator (everything), as an agent (their two
   teams' work orders, inside the query) and with filters (status, type, dates). The time is
   the whole search call: parsing, the database query, ranking, and the snippets of one page.

Full scale by default; --scale 0.01 for a quick run. Ends with a JSON line.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench._harness import (
    ROOT,
    emit,
    kefu,
    pg_drop,
    pg_recreate,
    pg_url,
    production_env,
    say,
    setup_django,
    summary_ms,
)

DATABASE = "kefu_bench_search"
BATCH = 2000
ENGLISH = [
    "APP 登录失败，提示 error code E{n}，password reset 后仍然不行",
    "WeChat Pay 扣款成功但电费未到账，transaction id {acct}",
    "iPhone 15 上网上国网 APP 闪退，version 3.{d}.1",
    "Alipay 自动扣费 failed，bank card ending {tail}",
    "invoice PDF 下载失败，需要 VAT invoice 重新开具",
    "customer requests English service: power outage since {h} o'clock, building {d}",
    "smart meter display blank, reading not available, account {acct}",
    "EV charger installation 充电桩报装 progress inquiry",
]
STATUSES = ["new", "assigned", "in_progress", "waiting_customer", "resolved", "closed"]
TYPES = ["fault", "consultation", "complaint", "request", "praise"]
QUERIES = [
    "停电", "没电", "断电", "跳闸", "电压", "闪烁", "电线断落", "抢修", "电费", "阶梯电价",
    "电表", "显示屏", "校验", "发票", "缴费", "光伏", "并网", "充电桩", "过户", "增容",
    "投诉", "服务态度", "营业厅", "计划停电", "故障停电", "阳光花园 停电", "锦绣家园 电压",
    "东湖区 跳闸", "空调 无法启动", "家中 跳闸", "电费 偏高", "退费", "线上缴费", "子女 代缴",
    "password reset", "error code", "WeChat Pay", "invoice", "iPhone", "smart meter",
    "EV charger", "English service", "APP 闪退", "Alipay failed", "VAT invoice 开具",
    "power outage", "bank card", "transaction", "电能表", "掉闸", "1380013", "0755",
    "07123", "8821", "13912345", "0712345678", "停电 抢修 时限", "电表 显示屏 不亮",
    "光伏 并网 流程", "充电桩 独立电表",
]  # fmt: skip


def make_text(rng: random.Random, templates: list[tuple[str, str]], fill: Any) -> tuple[str, str]:
    title_tpl, body_tpl = rng.choice(templates)
    title, body = fill(title_tpl, rng), fill(body_tpl, rng)
    phone = f"1{rng.choice('3589')}{rng.randint(0, 9)}{rng.randint(10_000_000, 99_999_999)}"
    acct = f"07{rng.randint(10_000_000, 99_999_999)}"
    extra = [f"联系电话 {phone}，户号 {acct}。"]
    if rng.random() < 0.35:
        extra.append(
            rng.choice(ENGLISH).format(
                n=rng.randint(1000, 9999),
                acct=acct,
                d=rng.randint(1, 30),
                tail=rng.randint(1000, 9999),
                h=rng.randint(1, 12),
            )  # fmt: skip
        )
    if rng.random() < 0.5:
        extra.append(fill(rng.choice(templates)[1], rng))  # a reply or a second message
    return title, body + "\n" + "\n".join(extra)


def build_index(n_tickets: int, n_articles: int) -> dict[str, Any]:
    from django.db import transaction

    from kefu.search import text as search_text
    from kefu.search.backends import DocRow, get_backend
    from kefu.search.services import synonyms
    from kefu.tickets.demo import TEMPLATES, _fill

    synonyms()
    templates = [t for _w, _c, texts in TEMPLATES.values() for t in texts]
    rng = random.Random(6)
    backend = get_backend()
    start_day = dt.datetime(2024, 11, 1, tzinfo=dt.UTC)
    span = 2 * 365 * 86400
    total = n_tickets + n_articles
    size = 0
    elapsed = 0.0
    now = dt.datetime.now(dt.UTC)
    for first in range(0, total, BATCH):
        sources = []
        for i in range(first, min(first + BATCH, total)):
            at = start_day + dt.timedelta(seconds=span * i / total)
            if i % 100 == 99 and (i // 100) < n_articles:
                title, body = make_text(rng, templates, _fill)
                sources.append(("article", i, "知识：" + title, body, at, "published", "1", None))
            else:
                title, body = make_text(rng, templates, _fill)
                sources.append(
                    ("ticket", i, title, body, at, rng.choice(STATUSES), rng.choice(TYPES),
                     rng.randint(1, 10))
                )  # fmt: skip
        started = time.perf_counter()
        rows = [
            DocRow(
                kind=kind,
                object_id=oid,
                title=title,
                body=body,
                analyzed=search_text.analyze(title, body),
                created_at=at,
                updated_at=at,
                status=status,
                type_code=code,
                team_id=team,
                is_public=kind == "article",
                assignee_id=None,
                created_by_id=None,
            )  # fmt: skip
            for kind, oid, title, body, at, status, code, team in sources
        ]
        with transaction.atomic():
            backend.upsert(rows, now)
        elapsed += time.perf_counter() - started
        size += sum(len(r.title.encode()) + len(r.body.encode()) for r in rows)
        if (first // BATCH) % 50 == 0:
            say(f"    {first + len(rows):,} / {total:,} indexed ({size / elapsed / 1e6:.1f} MB/s)")
    started = time.perf_counter()
    backend.refresh_stats()
    stats_s = time.perf_counter() - started
    return {"docs": total, "mb": size / 1e6, "seconds": elapsed, "stats_s": stats_s}


def users() -> dict[str, Any]:
    from kefu.accounts.models import Membership, Team, User
    from kefu.core.permissions import Role

    teams = [Team.objects.get_or_create(code=f"t{i}", defaults={"name": f"班组{i}"})[0]
             for i in range(1, 11)]  # fmt: skip
    admin = User.objects.get_or_create(
        username="bench-admin", defaults={"role": Role.ADMIN, "display_name": "管理员"}
    )[0]
    agent = User.objects.get_or_create(
        username="bench-agent", defaults={"role": Role.AGENT_L1, "display_name": "座席"}
    )[0]
    for team in teams[:2]:
        Membership.objects.get_or_create(user=agent, team=team)
    return {"admin": admin, "agent": agent}


def run_queries(rounds: int) -> dict[str, Any]:
    from kefu.search.services import Filters, search

    people = users()
    cases: list[tuple[str, Any, str, Filters]] = []
    for q in QUERIES:
        cases.append(("admin", people["admin"], q, Filters()))
        cases.append(("agent", people["agent"], q, Filters()))
        cases.append(
            (
                "filtered",
                people["admin"],
                q,
                Filters(kinds=("ticket",), status="in_progress", since=dt.date(2026, 1, 1)),
            )
        )
    for _label, user, q, filters in cases:  # warm the caches once
        search(user, q, filters, limit=20)
    times: dict[str, list[float]] = {"admin": [], "agent": [], "filtered": []}
    hits = 0
    for _ in range(rounds):
        for label, user, q, filters in cases:
            started = time.perf_counter()
            result = search(user, q, filters, limit=20)
            times[label].append(time.perf_counter() - started)
            hits += bool(result.hits)
    every = [t for values in times.values() for t in values]
    return {
        "all": summary_ms(every),
        **{k: summary_ms(v) for k, v in times.items()},
        "with_hits": hits / max(len(every), 1),
    }


def one_backend(backend: str, scale: float, keep: bool, reuse: bool = False) -> int:
    n_tickets = max(10_000, int(1_000_000 * scale))
    n_articles = max(100, int(10_000 * scale))
    data_dir = Path(tempfile.mkdtemp(prefix=f"kefu-bench-search-{backend}-"))
    if backend == "postgresql":
        url = pg_url(DATABASE) if reuse else pg_recreate(DATABASE)
        env = production_env(url, data_dir)
    else:
        env = {
            "KEFU_DATABASE_URL": f"sqlite:///{data_dir / 'kefu.sqlite3'}",
            "KEFU_DATA_DIR": str(data_dir),
        }
    try:
        kefu("migrate", env=env)
        setup_django(env)
        if reuse:
            from kefu.search.models import SearchDoc

            docs = SearchDoc.objects.count()
            built = {"docs": docs, "mb": 0.0, "seconds": 1.0, "stats_s": 0.0}
            say(f"  [{backend}] reusing the kept index of {docs:,} documents")
        else:
            say(f"  [{backend}] indexing {n_tickets:,} work orders and {n_articles:,} articles")
            built = build_index(n_tickets, n_articles)
        rate = built["mb"] / built["seconds"]
        say(
            f"  [{backend}] index: {built['docs']:,} documents, {built['mb']:.0f} MB of text in "
            f"{built['seconds']:.0f} s = {rate:.1f} MB/s ({built['docs'] / built['seconds']:,.0f} docs/s); "
            f"ranking statistics {built['stats_s']:.1f} s"
        )
        rounds = 3
        measured = run_queries(rounds)
        for label in ("admin", "agent", "filtered", "all"):
            m = measured[label]
            say(
                f"  [{backend}] queries {label:>8}: n={m['n']} p50 {m['p50_ms']:.1f} ms, "
                f"p95 {m['p95_ms']:.1f} ms, p99 {m['p99_ms']:.1f} ms"
            )
        say(f"  [{backend}] {measured['with_hits']:.0%} of searches found something")
        emit(
            {
                "bench": "search-backend",
                "backend": backend,
                "docs": built["docs"],
                "index_mb_per_s": round(rate, 2),
                "p50_ms": measured["all"]["p50_ms"],
                "p95_ms": measured["all"]["p95_ms"],
            }
        )
        return 0
    finally:
        from django.db import connections

        connections.close_all()
        if backend == "postgresql" and not (keep or reuse):
            pg_drop(DATABASE)
        if not keep:
            shutil.rmtree(data_dir, ignore_errors=True)


def main(scale: float, argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="kefu bench search")
    parser.add_argument("--backend", choices=["postgresql", "sqlite"], help="run one database only")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database")
    parser.add_argument(
        "--reuse", action="store_true", help="query a database kept with --keep (PostgreSQL)"
    )
    args = parser.parse_args(argv)
    if args.backend:
        return one_backend(args.backend, scale, args.keep, args.reuse)
    say(
        f"kefu bench search: {max(10_000, int(1_000_000 * scale)):,} work orders + articles, PostgreSQL then SQLite"
    )
    results: dict[str, dict[str, Any]] = {}
    for backend in ("postgresql", "sqlite"):
        child = subprocess.run(
            [sys.executable, "-m", "kefu", "bench", "search", "--scale", str(scale), "--backend", backend],
            cwd=ROOT, capture_output=True, text=True, check=False,
        )  # fmt: skip
        lines = child.stdout.strip().splitlines()
        for line in lines[:-1]:
            say(line)
        if child.returncode != 0 or not lines:
            say(child.stderr[-3000:])
            return 1
        results[backend] = json.loads(lines[-1])
    pg, lite = results["postgresql"], results["sqlite"]
    emit(
        {
            "bench": "search",
            "docs": pg["docs"],
            "index_mb_per_s": min(pg["index_mb_per_s"], lite["index_mb_per_s"]),
            "pg_index_mb_per_s": pg["index_mb_per_s"],
            "sqlite_index_mb_per_s": lite["index_mb_per_s"],
            "pg_p50_ms": pg["p50_ms"],
            "pg_p95_ms": pg["p95_ms"],
            "sqlite_p50_ms": lite["p50_ms"],
            "sqlite_p95_ms": lite["p95_ms"],
        }
    )
    return 0
