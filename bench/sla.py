"""kefu bench sla — SLA deadlines for 1,000,000 work orders, and the minute sweep on PostgreSQL.

1. Deadlines: 1,000,000 (start, working time, calendar) cases over five calendars — 7×24,
   China working days with statutory holidays and 调休, daily service hours, an overnight
   shift, and Berlin office hours across its DST changes — one in ten with a pause. Each is
   computed through the datetime API the product uses, single-threaded (so the figure is per
   core), and a sample is checked against working_seconds.
2. Sweep: 1,000,000 open work orders with a running clock each, 1,000 of them due. Prints the
   claim's query plan, the claim's time with a tenth and with all of the not-due clocks
   loaded, and the time of a full sweep that fires the due alerts (events, notifications).

Full scale by default; --scale 0.01 for a quick run. Ends with a JSON line.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import tempfile
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bench._harness import emit, kefu, pg_drop, pg_recreate, production_env, say, setup_django

DATABASE = "kefu_bench_sla"


def calendars() -> dict[str, Any]:
    from kefu.sla import clock
    from kefu.sla.china import china_calendar

    return {
        "7x24": clock.Calendar.always("Asia/Shanghai"),
        "china-workdays": china_calendar("Asia/Shanghai"),
        "service-hours": clock.Calendar.weekly_hours(
            "Asia/Shanghai", {d: [("08:00", "20:00")] for d in range(7)}
        ),
        "overnight": clock.Calendar.weekly_hours(
            "Asia/Shanghai", {d: [("22:00", "06:00")] for d in range(5)}
        ),
        "berlin-office": clock.Calendar.weekly_hours(
            "Europe/Berlin", {d: [("09:00", "12:30"), ("13:30", "17:00")] for d in range(5)}
        ),
    }


TARGETS = [15 * 60, 45 * 60, 4 * 3600, 24 * 3600, 4 * 27000, 9 * 27000]


def cases(
    n: int, rng: random.Random, cals: dict[str, Any]
) -> list[tuple[Any, dt.datetime, int, list[Any]]]:
    names = list(cals)
    base = dt.datetime(2025, 1, 1, tzinfo=ZoneInfo("Asia/Shanghai"))
    out = []
    for _ in range(n):
        cal = cals[rng.choice(names)]
        start = base + dt.timedelta(seconds=rng.randrange(0, 2 * 365 * 86400))
        seconds = rng.choice(TARGETS)
        pauses: list[Any] = []
        if rng.random() < 0.1:
            p0 = start + dt.timedelta(seconds=rng.randrange(60, 3 * 86400))
            pauses = [(p0, p0 + dt.timedelta(seconds=rng.randrange(600, 5 * 86400)))]
        out.append((cal, start, seconds, pauses))
    return out


def measure_deadlines(n: int) -> dict[str, Any]:
    from kefu.sla import clock

    rng = random.Random(11)
    cals = calendars()
    work = cases(n, rng, cals)
    for cal in cals.values():  # compile each calendar once, as a running server has
        clock.add_working_time(cal, dt.datetime(2025, 1, 1, tzinfo=dt.UTC), 60)
    started = time.perf_counter()
    cpu = time.process_time()
    dues = [
        clock.add_working_time(cal, start, seconds, pauses) for cal, start, seconds, pauses in work
    ]
    elapsed = time.perf_counter() - started
    cpu_used = time.process_time() - cpu
    # Check a sample against the inverse: the working time up to each deadline is the target.
    sample = rng.sample(range(n), min(2000, n))
    wrong = sum(
        1
        for i in sample
        if clock.working_seconds(work[i][0], work[i][1], dues[i], work[i][3]) != work[i][2]
    )
    # The epoch-second fast path (what the sweep and list badges use per clock).
    compiled = [
        (cal.compiled, int(start.timestamp()), seconds) for cal, start, seconds, p in work if not p
    ]
    started_fast = time.perf_counter()
    for c, ts, seconds in compiled:
        c.add(ts, seconds)
    fast = len(compiled) / (time.perf_counter() - started_fast)
    return {
        "n": n,
        "seconds": elapsed,
        "per_s": n / elapsed,
        "per_cpu_s": n / cpu_used,
        "wrong": wrong,
        "checked": len(sample),
        "epoch_per_s": fast,
    }


def seed_db(n: int, due: int, not_due_fraction: float, offset: int) -> None:
    """Tickets and running first-response clocks; ``due`` of them past their deadline."""
    from django.db import connection
    from django.utils import timezone

    from kefu.sla.models import BusinessCalendar, SlaPolicy
    from kefu.tickets.models import TicketType

    now = timezone.now()
    policy = SlaPolicy.objects.get(name="默认")
    calendar = BusinessCalendar.objects.get(code="workdays")
    type_id = TicketType.objects.get(code="consultation").pk
    count = int(n * not_due_fraction)
    with connection.cursor() as cursor:
        raw = cursor.cursor
        with raw.copy(
            "COPY tickets_ticket (id, number, title, description, ticket_type_id, subject, channel, "
            "priority, severity, status, is_open, contact_name, contact_phone, contact_email, place, "
            "staff_concerned, sensitive, custom_fields, line, created_at, updated_at, reopen_count, "
            "followup_result, version, area, sla_metric, sla_breached) FROM STDIN"
        ) as copy:
            for i in range(offset + 1, offset + count + 1):
                created = now - dt.timedelta(minutes=30) if i <= due else now
                copy.write_row(
                    (i, f"GD{i:012d}", f"压测工单 {i}", "", type_id, "", "phone", 3, "", "new", True,
                     "", "", "", "", "", False, "{}", 1, created, created, 0, "", 1, "", "", False)
                )  # fmt: skip
        with raw.copy(
            "COPY sla_slaclock (ticket_id, metric, policy_id, target_seconds, calendar_id, warn_at, "
            "started_at, pauses, due_at, next_alert_at, fired, state, breach_reason) FROM STDIN"
        ) as copy:
            for i in range(offset + 1, offset + count + 1):
                if i <= due:
                    started = now - dt.timedelta(days=3)
                    row_due = now - dt.timedelta(minutes=1)
                    alert = row_due
                else:
                    started = now
                    row_due = now + dt.timedelta(days=2)
                    alert = now + dt.timedelta(hours=1 + i % 30)
                copy.write_row(
                    (i, "first_response", policy.pk, 4 * 3600, calendar.pk, "[75, 90]", started, "[]",
                     row_due, alert, "[]", "running", "")
                )  # fmt: skip
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('tickets_ticket', 'id'), (SELECT MAX(id) FROM tickets_ticket))"
        )
        cursor.execute("ANALYZE tickets_ticket")
        cursor.execute("ANALYZE sla_slaclock")


def claim_ms(rounds: int = 30) -> tuple[float, str]:
    from django.db import connection, transaction
    from django.utils import timezone

    from kefu.sla.sweep import due_clocks_query

    timings = []
    with transaction.atomic(), connection.cursor() as cursor:
        sql, params = due_clocks_query(timezone.now(), 500)
        for _ in range(rounds):
            started = time.perf_counter()
            cursor.execute(sql, params)
            cursor.fetchall()
            timings.append((time.perf_counter() - started) * 1000)
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    timings.sort()
    return timings[len(timings) // 2], plan


def main(scale: float, argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="kefu bench sla")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    args = parser.parse_args(argv)
    n = max(10_000, int(1_000_000 * scale))
    due = max(100, n // 1000)
    say(f"kefu bench sla: {n:,} work orders on mixed calendars; the sweep on PostgreSQL")

    data_dir = Path(tempfile.mkdtemp(prefix="kefu-bench-sla-"))
    url = pg_recreate(DATABASE)
    env = production_env(url, data_dir)
    try:
        kefu("migrate", env=env)
        setup_django(env)
        deadlines = measure_deadlines(n)
        say(
            f"  deadlines: {n:,} in {deadlines['seconds']:.2f} s = {deadlines['per_s']:,.0f}/s on one core "
            f"({deadlines['per_cpu_s']:,.0f} per CPU-second); sample of {deadlines['checked']:,} "
            f"checked, {deadlines['wrong']} wrong"
        )
        say(f"  epoch-second fast path: {deadlines['epoch_per_s']:,.0f}/s")

        started = time.perf_counter()
        tenth = max(due, n // 10)
        seed_db(n, due, tenth / n, 0)
        claim_tenth, _plan = claim_ms()
        seed_db(n, 0, 1 - tenth / n, tenth)
        say(
            f"  loaded {n:,} work orders and clocks in {time.perf_counter() - started:.0f} s ({due:,} due)"
        )
        claim_full, plan = claim_ms()
        uses_index = "sla_clock_sweep_idx" in plan
        say(
            f"  claim of due clocks: {claim_tenth:.2f} ms with {tenth:,} open, {claim_full:.2f} ms with {n:,} open"
        )
        say("  plan:")
        for line in plan.splitlines():
            say(f"    {line}")

        from kefu.sla.models import SlaAlert
        from kefu.sla.sweep import sweep

        started = time.perf_counter()
        fired = sweep()
        sweep_ms = (time.perf_counter() - started) * 1000
        alerts = SlaAlert.objects.count()
        say(
            f"  sweep: fired {len(fired):,} alerts on {due:,} due clocks in {sweep_ms:.0f} ms "
            f"({sweep_ms / max(1, len(fired)):.2f} ms per alert with its event and notifications)"
        )
        started = time.perf_counter()
        again = sweep()
        idle_ms = (time.perf_counter() - started) * 1000
        say(f"  next sweep, nothing due: {idle_ms:.1f} ms ({len(again)} fired)")
        from django.db import connections

        connections.close_all()
    finally:
        if not args.keep:
            pg_drop(DATABASE)
    emit(
        {
            "bench": "sla",
            "tickets": n,
            "deadlines_per_s": round(deadlines["per_s"]),
            "deadlines_per_cpu_s": round(deadlines["per_cpu_s"]),
            "deadlines_wrong": deadlines["wrong"],
            "epoch_add_per_s": round(deadlines["epoch_per_s"]),
            "due": due,
            "alerts_fired": len(fired),
            "alerts_stored": alerts,
            "sweep_ms": round(sweep_ms, 1),
            "idle_sweep_ms": round(idle_ms, 2),
            "claim_ms_tenth_open": round(claim_tenth, 3),
            "claim_ms_all_open": round(claim_full, 3),
            "claim_uses_index": uses_index,
        }
    )
    return 0
