"""kefu bench plans — the service-plan scheduler's daily run over 2,000 monthly plans.

1. 2,000 × scale monthly inspection plans (each with a checklist of three items, due on the 1st)
   are created on SQLite (``--backend postgresql`` for a database of its own on PostgreSQL).
2. ``generate_due`` for 1 June is timed: it makes every plan's June round — a work order with
   its checklist — and moves each plan's next due date (first_run_s).
3. It is timed again for the same day, as the next run of the periodic job would be: it finds
   every round made and makes none (second_run_s).

Full scale by default; --scale 0.1 for a quick run. Ends with a JSON line.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import tempfile
import time
from pathlib import Path

from bench._harness import emit, kefu, pg_drop, pg_recreate, production_env, say, setup_django

DATABASE = "kefu_bench_plans"
ITEMS = [
    {"section": "配电房", "text": "变压器温度正常"},
    {"section": "配电房", "text": "消防器材在位"},
    {"section": "配电房", "text": "应急照明可用"},
]


def run(n_plans: int) -> dict[str, float | int]:
    from kefu.plans.defaults import install as install_plans
    from kefu.plans.models import PlanRound
    from kefu.plans.services.schedule import generate_due
    from kefu.plans.services.setup import create_checklist, create_plan
    from kefu.tickets.defaults import install as install_tickets

    install_tickets()
    install_plans()
    checklist = create_checklist(
        actor=None, name="配电房月度巡检表", kind="inspection", items=ITEMS
    )
    started = time.perf_counter()
    for i in range(n_plans):
        create_plan(
            actor=None,
            name=f"配电房月度巡检 {i + 1:05d}",
            kind="inspection",
            frequency="monthly",
            day_of_month=1,
            starts_on=dt.date(2026, 1, 1),
            site=f"{i % 40 + 1}号楼配电房",
            checklist=checklist,
        )
    say(f"  {n_plans:,} monthly plans created in {time.perf_counter() - started:.1f} s")
    day = dt.date(2026, 6, 1)
    started = time.perf_counter()
    first = generate_due(day)
    first_s = time.perf_counter() - started
    say(f"  first run for {day}: {len(first):,} rounds in {first_s:.2f} s")
    started = time.perf_counter()
    second = generate_due(day)
    second_s = time.perf_counter() - started
    say(f"  second run for {day}: {len(second):,} rounds in {second_s:.2f} s")
    if PlanRound.objects.count() != len(first) or second:
        raise RuntimeError("the second run made rounds, or the rounds do not add up")
    return {
        "plans": n_plans,
        "rounds": len(first),
        "first_run_s": round(first_s, 3),
        "second_run_s": round(second_s, 3),
        "ms_per_round": round(first_s * 1000 / max(1, len(first)), 2),
    }


def main(scale: float, argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="kefu bench plans")
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database")
    args = parser.parse_args(argv)
    n_plans = max(10, int(2000 * scale))
    say(f"kefu bench plans: {n_plans:,} monthly plans on {args.backend}")
    data_dir = Path(tempfile.mkdtemp(prefix="kefu-bench-plans-"))
    if args.backend == "postgresql":
        env = production_env(pg_recreate(DATABASE), data_dir)
    else:
        env = {
            "KEFU_DATABASE_URL": f"sqlite:///{data_dir / 'kefu.sqlite3'}",
            "KEFU_DATA_DIR": str(data_dir),
        }
    try:
        kefu("migrate", env=env)
        setup_django(env)
        result = run(n_plans)
    finally:
        if args.backend == "postgresql" and not args.keep:
            from django.db import connections

            connections.close_all()
            pg_drop(DATABASE)
        shutil.rmtree(data_dir, ignore_errors=True)
    emit({"bench": "plans", **result, "backend": args.backend})
    return 0
