"""kefu bench reports — a month's full report, and the wall board's update cost.

1. Writes a month (November 2026, the centre's time zone) into a PostgreSQL database with
   ``generate_series``: 1,000,000 work orders at full scale (types, channels, categories,
   regions, 1,000 agents in 20 teams; 80 % resolved, some reopened, escalated or transferred),
   one SLA clock each, transfers to departments for 5 %, and 3,205,128 calls — the calls that
   10,000,000 queue-log events describe (3.12 events a call, as in ``kefu bench calls``) — plus
   today's share of both for the wall board.
2. Rebuilds the hotline's kept KPI sums where the calls app keeps them (``calls.rollup``).
3. Times the month's full report (``reports.report.build``: every figure, every breakdown
   table, scorecards, charts), median of three, and its PDF and Excel files.
4. Times the wall board's snapshot (``reports.wallboard.compute_snapshot``) with 1,000 agents
   signed in: the work done once a second for every viewer; median of ten.

Full scale by default; --scale 0.01 for a quick run. Ends with a JSON line.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench._harness import emit, kefu, pg_drop, pg_recreate, production_env, say, setup_django

DATABASE = "kefu_bench_reports"
AGENTS = 1000
TEAMS = 20
EVENTS_PER_CALL = 3.12


def _filler(cur: Any, table: str, given: dict[str, str]) -> tuple[str, str]:
    """Column list and SELECT expressions for an INSERT … SELECT: ``given`` expressions, and a
    neutral value for every other NOT NULL column without a default."""
    cur.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_name = %s AND is_nullable = 'NO' AND column_default IS NULL",
        [table],
    )
    neutral = {
        "integer": "0", "bigint": "0", "smallint": "0", "boolean": "false", "jsonb": "'{}'::jsonb",
        "double precision": "0", "numeric": "0", "date": "CURRENT_DATE",
        "timestamp with time zone": "now()",
    }  # fmt: skip
    columns = dict(given)
    for name, kind in cur.fetchall():
        if name not in columns and name != "id":
            columns[name] = neutral.get(kind, "''")
    return ", ".join(columns), ", ".join(columns.values())


def _insert(cur: Any, table: str, given: dict[str, str], source: str) -> None:
    """INSERT … SELECT with literal values only (no parameters, so ``%`` is the operator)."""
    names, values = _filler(cur, table, given)
    cur.execute(f"INSERT INTO {table} ({names}) SELECT {values} {source}")  # noqa: S608


def _people(tz: Any) -> tuple[list[int], list[int]]:
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from kefu.accounts.models import Membership, Team, User
    from kefu.calls.models import AgentLink
    from kefu.core.permissions import Role
    from kefu.routing.models import AgentLoad, Presence, RoutingQueue

    teams = Team.objects.bulk_create(
        [Team(name=f"班组{i + 1}", code=f"team-{i + 1}") for i in range(TEAMS)]
    )
    Team.objects.create(name="营销部", code="dept-marketing", kind=Team.Kind.DEPARTMENT)
    password = make_password(None)
    users = User.objects.bulk_create(
        [
            User(
                username=f"agent{i:04d}",
                display_name=f"座席{i:04d}",
                employee_no=f"A{i:04d}",
                role=Role.AGENT_L1,
                password=password,
            )
            for i in range(AGENTS)
        ]  # fmt: skip
    )
    Membership.objects.bulk_create(
        [Membership(team=teams[i % TEAMS], user=u) for i, u in enumerate(users)]
    )
    AgentLink.objects.bulk_create(
        [AgentLink(pbx_agent=f"SIP/{8000 + i}", user=u) for i, u in enumerate(users)]
    )
    now = timezone.now()
    states = ["available", "busy", "busy", "after_call", "break", "busy", "available", "offline"]
    Presence.objects.bulk_create(
        [
            Presence(
                user=u,
                state=states[i % len(states)],
                since=now - dt.timedelta(seconds=i * 7),
                reason="meal" if states[i % len(states)] == "break" else "",
            )
            for i, u in enumerate(users)
        ]  # fmt: skip
    )
    AgentLoad.objects.bulk_create(
        [AgentLoad(user=u, channel=c, active=i % 2, capacity=3) for i, u in enumerate(users) for c in ("voice", "ticket")]
    )  # fmt: skip
    for i in range(8):
        queue = RoutingQueue.objects.create(code=f"q{i}", name=f"队列{i + 1}")
        queue.teams.set(teams[i::8])
    return [t.pk for t in teams], [u.pk for u in users]


def _generate(n_tickets: int, n_calls: int, start: dt.datetime, days: int) -> None:
    from django.db import connection

    from kefu.sla.models import BusinessCalendar
    from kefu.tickets.models import Category, TicketType

    types = list(TicketType.objects.order_by("pk").values_list("pk", flat=True))
    complaint = TicketType.objects.get(code="complaint").pk
    categories = list(Category.objects.values_list("pk", flat=True)) or [None]
    calendar = BusinessCalendar.objects.order_by("pk").first()
    assert calendar is not None
    span = days * 86400
    channels = ["phone", "phone", "phone", "portal", "email", "chat", "walk_in", "letter"]
    areas = ["urban", "rural", "remote", ""]
    subjects = ["staff", "equipment", "policy", ""]
    with connection.cursor() as cur:
        cur.execute("SELECT MIN(id), MAX(id) FROM accounts_user WHERE role = 'agent_l1'")
        first_user, last_user = cur.fetchone()
        cur.execute("SELECT MIN(id) FROM accounts_team")
        first_team = cur.fetchone()[0]
        cur.execute("SELECT id FROM accounts_team WHERE kind = 'department' LIMIT 1")
        department = cur.fetchone()[0]
        pick = "(ARRAY[{}])[1 + (i % {})]"
        at = f"('{start.isoformat()}'::timestamptz + make_interval(secs => ((i - 1) * {span}) / {n_tickets}))"
        _insert(
            cur,
            "tickets_ticket",
            {
                "number": "'B' || lpad(i::text, 9, '0')",
                "title": "'工单 ' || i",
                "ticket_type_id": pick.format(",".join(map(str, types)), len(types)).replace("i %", "(i / 7) %"),
                "category_id": (pick.format(",".join(map(str, categories)), len(categories))
                                if categories != [None] else "NULL"),
                "channel": pick.format(",".join(f"'{c}'" for c in channels), len(channels)),
                "area": pick.format(",".join(f"'{a}'" for a in areas), len(areas)).replace("i %", "(i / 3) %"),
                "subject": pick.format(",".join(f"'{s}'" for s in subjects), len(subjects)).replace("i %", "(i / 5) %"),
                "priority": "3",
                "status": "CASE WHEN i % 10 < 8 THEN 'resolved' WHEN i % 10 = 8 THEN 'in_progress' ELSE 'assigned' END",
                "is_open": "i % 10 >= 8",
                "sensitive": "i % 997 = 0",
                "team_id": f"{first_team} + (i % {TEAMS})",
                "assignee_id": f"{first_user} + (i % {last_user - first_user + 1})",
                "line": "CASE WHEN i % 23 = 0 THEN 2 ELSE 1 END",
                "reopen_count": "CASE WHEN i % 31 = 0 THEN 1 ELSE 0 END",
                "created_at": at,
                "updated_at": at,
                "first_response_at": f"{at} + make_interval(secs => 60 + (i * 7919) % 7200)",
                "resolved_at": f"CASE WHEN i % 10 < 8 THEN {at} + make_interval(secs => 600 + (i * 104729) % 259200) END",
                "custom_fields": "'{}'::jsonb",
                "version": "1",
            },
            f"FROM generate_series(1::bigint, {n_tickets}) AS i",
        )  # fmt: skip
        say(f"    {n_tickets:,} work orders (complaint type id {complaint})")
        _insert(
            cur,
            "sla_slaclock",
            {
                "ticket_id": "t.id",
                "metric": "'resolution'",
                "target_seconds": "86400",
                "calendar_id": str(calendar.pk),
                "started_at": "t.created_at",
                "warn_at": "'[]'::jsonb",
                "pauses": "'[]'::jsonb",
                "fired": "'[]'::jsonb",
                "state": "CASE WHEN t.resolved_at IS NULL THEN 'running' WHEN t.resolved_at - t.created_at <= interval '1 day' THEN 'met' ELSE 'breached' END",
                "stopped_at": "t.resolved_at",
                "due_at": "t.created_at + interval '1 day'",
                "breached_at": "CASE WHEN t.resolved_at IS NULL OR t.resolved_at - t.created_at > interval '1 day' THEN t.created_at + interval '1 day' END",
                "elapsed_seconds": "CAST(EXTRACT(EPOCH FROM COALESCE(t.resolved_at, t.created_at + interval '1 day') - t.created_at) AS integer)",
            },
            "FROM tickets_ticket t",
        )  # fmt: skip
        say("    one SLA clock per work order")
        _insert(
            cur,
            "tickets_transfer",
            {
                "ticket_id": "t.id",
                "department_id": str(department),
                "state": "'replied'",
                "instructions": "'请核实并回复'",
                "due_at": "t.created_at + interval '1 day'",
                "created_at": "t.created_at + interval '5 minutes'",
                "reply": "'已处理'",
                "replied_at": "t.created_at + make_interval(secs => 600 + (t.id * 7919) % 172800)",
            },
            "FROM tickets_ticket t WHERE t.id % 20 = 0",
        )  # fmt: skip
        say("    transfers to a department for 5 %")
        call_at = f"('{start.isoformat()}'::timestamptz + make_interval(secs => ((i - 1) * {span}) / {n_calls}))"
        _insert(
            cur,
            "calls_call",
            {
                "source": "'bench'",
                "external_id": "'c' || i",
                "state": "'ended'",
                "outcome": "CASE WHEN i % 100 < 88 THEN 'answered' WHEN i % 100 < 98 THEN 'abandoned' ELSE 'ivr' END",
                "started_at": call_at,
                "offered_at": f"CASE WHEN i % 100 < 98 THEN {call_at} END",
                "queue": "(ARRAY['support','billing','outage','vip'])[1 + i % 4]",
                "agent": f"CASE WHEN i % 100 < 88 THEN 'SIP/' || (8000 + i % {AGENTS}) ELSE '' END",
                "wait_s": "(i * 7919) % 61",
                "ring_s": "CASE WHEN i % 100 < 88 THEN (i * 13) % 15 END",
                "talk_s": "CASE WHEN i % 100 < 88 THEN 60 + (i * 104729) % 300 ELSE 0 END",
                "hold_s": "CASE WHEN i % 100 < 88 THEN (i * 31) % 20 ELSE 0 END",
                "acw_s": "CASE WHEN i % 100 < 88 THEN (i * 17) % 40 ELSE 0 END",
                "ivr_s": "10",
                "transferred": "i % 50 = 0",
                "updated_at": call_at,
            },
            f"FROM generate_series(1::bigint, {n_calls}) AS i",
        )  # fmt: skip
        say(f"    {n_calls:,} calls")


def main(scale: float, argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="kefu bench reports")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    args = parser.parse_args(argv)
    n_tickets = max(5_000, int(1_000_000 * scale))
    events = max(20_000, int(10_000_000 * scale))
    n_calls = int(events / EVENTS_PER_CALL)
    say(
        f"kefu bench reports: a month of {n_tickets:,} work orders and {events:,} call events "
        f"({n_calls:,} calls), {AGENTS:,} agents, on PostgreSQL"
    )
    data_dir = Path(tempfile.mkdtemp(prefix="kefu-bench-reports-"))
    url = pg_recreate(DATABASE)
    env = production_env(url, data_dir)
    try:
        kefu("migrate", env=env)
        setup_django(env)
        from django.db import connection
        from django.utils import timezone

        from kefu.reports import documents
        from kefu.reports.facts import Scope
        from kefu.reports.report import build
        from kefu.reports.wallboard import compute_snapshot

        tz = timezone.get_current_timezone()
        month = dt.datetime(2026, 11, 1, tzinfo=tz)
        started = time.perf_counter()
        _people(tz)
        _generate(n_tickets, n_calls, month, 30)
        today = timezone.localdate()
        midnight = dt.datetime.combine(today, dt.time.min, tzinfo=tz)
        seconds_today = max(60, int((timezone.now() - midnight).total_seconds()))
        per_day = max(1, n_calls // 30)
        with connection.cursor() as cur:  # today's share, for the wall board
            today_at = (
                f"('{midnight.isoformat()}'::timestamptz"
                f" + make_interval(secs => (i::bigint * {seconds_today}) / {per_day}))"
            )
            _insert(
                cur,
                "calls_call",
                {
                    "source": "'today'",
                    "external_id": "'t' || i",
                    "state": "'ended'",
                    "outcome": "CASE WHEN i % 10 < 9 THEN 'answered' ELSE 'abandoned' END",
                    "started_at": today_at,
                    "offered_at": today_at,
                    "queue": "(ARRAY['support','billing','outage','vip'])[1 + i % 4]",
                    "agent": f"'SIP/' || (8000 + i % {AGENTS})",
                    "wait_s": "i % 40",
                    "ring_s": "5",
                    "talk_s": "120",
                    "acw_s": "20",
                    "updated_at": "now()",
                },
                f"FROM generate_series(1::bigint, {per_day}) AS i",
            )
        from kefu.tickets.models import Ticket

        generated_s = time.perf_counter() - started
        say(f"  generated in {generated_s:.1f} s")
        started = time.perf_counter()
        rollup_s = None
        try:
            from kefu.calls import rollup

            if hasattr(rollup, "refresh_all"):
                rollup.refresh_all()
                rollup_s = time.perf_counter() - started
                say(f"  hotline KPI sums rebuilt in {rollup_s:.1f} s")
        except ImportError:
            say("  (the calls app keeps no KPI sums: the report reads the calls)")
        with connection.cursor() as cur:
            cur.execute("ANALYZE")

        scope = Scope(month.date(), dt.date(2026, 11, 30), tz)
        timings = []
        report: Any = None
        for _ in range(3):
            started = time.perf_counter()
            report = build(scope)
            timings.append(time.perf_counter() - started)
        month_s = statistics.median(timings)
        v = report.values
        say(
            f"  month report (every figure, {len(report.tables)} tables, "
            f"{len(report.tables['scorecards'].rows):,} scorecards, charts): "
            f"{month_s:.2f} s (median of 3: {', '.join(f'{t:.2f}' for t in timings)})"
        )
        say(
            f"    received {v['tickets_created']:,}, resolved {v['tickets_resolved']:,}, "
            f"FCR {v['fcr_rate']} %, SLA {v['sla_compliance']} %, calls offered "
            f"{v['calls_offered']:,}, service level {v['service_level']} %, AHT {v['aht_s']} s"
        )
        started = time.perf_counter()
        now = timezone.localtime()
        blocks = documents.resolve(report, documents.default_sections(), now)
        pdf = documents.to_pdf("月度报告", "bench", blocks)
        xlsx = documents.to_xlsx("月度报告", "bench", blocks)
        files_s = time.perf_counter() - started
        say(
            f"  PDF ({len(pdf) / 1e3:,.0f} kB) and Excel ({len(xlsx) / 1e3:,.0f} kB): {files_s:.2f} s"
        )

        # today's share of work orders, for the wall board: the part of a November day up to
        # this time of day, moved to today (after the month's report has been measured)
        busy_day = dt.datetime(2026, 11, 20, tzinfo=tz)
        shift = midnight - busy_day
        with connection.cursor() as cur:
            cur.execute(
                "UPDATE tickets_ticket SET created_at = created_at + %s, "
                "resolved_at = resolved_at + %s, first_response_at = first_response_at + %s, "
                "sla_due_at = sla_due_at + %s, updated_at = updated_at + %s "
                "WHERE created_at >= %s AND created_at < %s",
                [shift] * 5 + [busy_day, busy_day + (timezone.now() - midnight)],
            )
            cur.execute("ANALYZE tickets_ticket")
        compute_snapshot()  # warm
        snaps = []
        snapshot: Any = None
        for _ in range(10):
            started = time.perf_counter()
            snapshot = compute_snapshot()
            snaps.append(time.perf_counter() - started)
        update_ms = statistics.median(snaps) * 1000
        tiles = {t["id"]: t["text"] for t in snapshot["centre"]}
        say(
            f"  wall board snapshot with {len(snapshot['agents']):,} agents signed in "
            f"({AGENTS:,} in all): {update_ms:.0f} ms (median of 10); today: calls answered "
            f"{tiles['calls_answered']}, service level {tiles['service_level']}, work orders "
            f"{Ticket.objects.filter(created_at__gte=midnight).count():,}"
        )
        emit(
            {
                "bench": "reports",
                "scale": scale,
                "work_orders": n_tickets,
                "call_events": events,
                "calls": n_calls,
                "agents": AGENTS,
                "generate_s": round(generated_s, 1),
                "call_sums_rebuild_s": round(rollup_s, 2) if rollup_s is not None else None,
                "month_report_s": round(month_s, 3),
                "report_files_s": round(files_s, 3),
                "wallboard_update_ms": round(update_ms, 1),
                "database": "postgresql",
            }
        )
        return 0
    finally:
        if not args.keep:
            from django.db import connections

            connections.close_all()
            pg_drop(DATABASE)
