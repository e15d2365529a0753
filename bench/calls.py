"""kefu bench calls — the hotline's queue_log import and a month of interval KPIs.

1. Writes a month (February 2025, a 24-hour centre) of Asterisk queue_log to a file:
   10,000,000 events at full scale — calls entering a queue, ringing agents who do not answer,
   being answered and completed by either side, transferred, or abandoned — plus agents logging
   in, pausing and logging off.
2. Imports it with ``kefu.calls.services.import_queue_log`` (parse, COPY into PostgreSQL,
   derive one call row per call id) and reports events per second for the whole import.
3. Imports the first tenth again: nothing may be added.
4. Computes the month's KPIs by 30-minute interval, day, hour, queue and agent (median of three
   runs).

Full scale by default; --scale 0.01 for a quick run. Ends with a JSON line.
"""

from __future__ import annotations

import argparse
import datetime as dt
import heapq
import os
import random
import shutil
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench._harness import emit, kefu, pg_drop, pg_recreate, production_env, say, setup_django

DATABASE = "kefu_bench_calls"
WORKERS = min(os.cpu_count() or 1, 4)  # processes parsing the log
MONTH = dt.datetime(2025, 2, 1, tzinfo=dt.UTC)
DAYS = 28
QUEUES = ("support", "billing", "outage", "vip")
AGENTS: list[str] = []  # enough for the volume: about 100 calls per agent-day


def _agent_lines(rng: random.Random, start: int) -> list[tuple[int, str]]:
    rows: list[tuple[int, str]] = []
    for agent in AGENTS:
        for day in range(DAYS):
            t = start + day * 86400 + rng.randrange(0, 3600)
            rows.append((t, f"{t}|NONE|NONE|{agent}|AGENTLOGIN|{agent}-0001\n"))
            rows.append((t + 7200, f"{t + 7200}|NONE|NONE|{agent}|PAUSEALL|meal\n"))
            rows.append((t + 9000, f"{t + 9000}|NONE|NONE|{agent}|UNPAUSEALL|\n"))
            end = t + 30000
            rows.append((end, f"{end}|NONE|NONE|{agent}|AGENTLOGOFF|{agent}-0001|30000\n"))
    rows.sort()
    return rows


def _call_lines(rng: random.Random, start: int, calls: int) -> Iterator[tuple[int, str]]:
    span = DAYS * 86400
    for i in range(calls):
        t = start + (i * span) // calls
        callid = f"{t}.{i}"
        queue = QUEUES[i % 4]
        lines = [f"{t}|{callid}|{queue}|NONE|ENTERQUEUE||138{i % 100_000_000:08d}|1\n"]
        wait = int(rng.expovariate(1 / 25))
        agent = AGENTS[i % len(AGENTS)]
        r = rng.random()
        if r < 0.2:
            lines.append(
                f"{t + 1}|{callid}|{queue}|{AGENTS[(i + 7) % len(AGENTS)]}|RINGNOANSWER|15000\n"
            )
        if r < 0.12:
            lines.append(f"{t + wait}|{callid}|{queue}|NONE|ABANDON|1|1|{wait}\n")
        else:
            talk = int(rng.expovariate(1 / 180)) + 5
            ring = rng.randrange(1, 15)
            end = t + wait + talk
            lines.append(f"{t + wait}|{callid}|{queue}|{agent}|CONNECT|{wait}|{callid}9|{ring}\n")
            if r > 0.97:
                lines.append(
                    f"{end}|{callid}|{queue}|{agent}|BLINDTRANSFER|8100|from-internal|{wait}|{talk}|1\n"
                )
            elif r > 0.55:
                lines.append(f"{end}|{callid}|{queue}|{agent}|COMPLETECALLER|{wait}|{talk}|1\n")
            else:
                lines.append(f"{end}|{callid}|{queue}|{agent}|COMPLETEAGENT|{wait}|{talk}|1\n")
        # a call's lines are written when it ends, as Asterisk does; close enough to time order
        yield t, "".join(lines)


def write_queue_log(path: Path, events: int, seed: int = 7) -> int:
    """About ``events`` lines of queue_log in time order; returns the number written."""
    rng = random.Random(seed)
    start = int(MONTH.timestamp())
    calls = int(events / 3.12)
    AGENTS[:] = [f"SIP/{10000 + i}" for i in range(max(20, calls // (DAYS * 100)))]
    written = 0
    with open(path, "w") as out:
        for _t, text in heapq.merge(_agent_lines(rng, start), _call_lines(rng, start, calls)):
            out.write(text)
            written += text.count("\n")
    return written


def main(scale: float, argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="kefu bench calls")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    args = parser.parse_args(argv)
    target = max(20_000, int(10_000_000 * scale))
    say(f"kefu bench calls: {target:,} queue_log events (one month), import and KPIs on PostgreSQL")

    data_dir = Path(tempfile.mkdtemp(prefix="kefu-bench-calls-"))
    url = pg_recreate(DATABASE)
    env = production_env(url, data_dir)
    try:
        kefu("migrate", env=env)
        setup_django(env)
        from django.db import connection

        from kefu.calls import services
        from kefu.calls.models import Call
        from kefu.calls.selectors import KpiQuery, kpi_report

        path = data_dir / "queue_log"
        started = time.perf_counter()
        events = write_queue_log(path, target)
        size = path.stat().st_size
        say(
            f"  wrote {events:,} events ({size / 1e6:,.0f} MB) in {time.perf_counter() - started:.1f} s"
        )

        started = time.perf_counter()
        with open(path, encoding="utf-8") as handle:
            run = services.import_queue_log(handle, name="queue_log", actor=None, workers=WORKERS)
        took = time.perf_counter() - started
        rate = run.added / took
        say(
            f"  import: {run.added:,} events, {run.calls:,} calls, {run.rejected} rejected "
            f"in {took:.1f} s = {rate:,.0f} events/s (parse in {WORKERS} processes, COPY, "
            "calls and KPI sums in SQL)"
        )
        with connection.cursor() as cur:
            cur.execute("ANALYZE calls_call")

        tenth = events // 10
        started = time.perf_counter()
        with open(path, encoding="utf-8") as handle:
            head = [next(handle) for _ in range(tenth)]
        again = services.import_queue_log(head, name="queue_log (again)", actor=None)
        say(
            f"  re-import of the first {tenth:,} lines: {again.added} added, "
            f"{again.duplicates:,} already there ({time.perf_counter() - started:.1f} s)"
        )

        query = KpiQuery(
            start=MONTH.date(),
            end=(MONTH + dt.timedelta(days=DAYS - 1)).date(),
            tz=dt.UTC,
            interval_min=30,
        )
        timings = []
        report: Any = None
        for _ in range(3):
            started = time.perf_counter()
            report = kpi_report(query)
            timings.append(time.perf_counter() - started)
        kpi_s = statistics.median(timings)
        total = report.total
        say(
            f"  KPIs for the month ({len(report.by_interval):,} half-hours, {len(report.by_agent)} "
            f"agents, {Call.objects.count():,} calls): {kpi_s:.2f} s (median of 3)"
        )
        say(
            f"    offered {total.offered:,}, answered {total.answered:,}, ASA {total.asa_s:.1f} s, "
            f"SL(offered, 20 s) {total.sl_offered * 100:.1f} %, occupancy "
            f"{(total.occupancy or 0) * 100:.1f} %"
        )
        emit(
            {
                "bench": "calls",
                "scale": scale,
                "events": run.added,
                "calls": run.calls,
                "import_s": round(took, 2),
                "import_events_per_s": round(rate),
                "reimport_added": again.added,
                "kpi_month_s": round(kpi_s, 3),
                "database": "postgresql",
            }
        )
        return 0
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)  # the log file: 700 MB at full scale
        if not args.keep:
            from django.db import connections

            connections.close_all()
            pg_drop(DATABASE)
