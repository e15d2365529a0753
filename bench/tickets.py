"""kefu bench tickets — the agent workspace at scale, on PostgreSQL.

Full scale: 1,000,000 work orders and 5,000,000 events (plus 500,000 messages, 30,000
transfers, 100,000 customers, 5 teams of 16 agents), loaded with COPY. Then, against
`kefu serve` in production mode with KEFU_SERVER_TIMING=1:

- every workspace view (first page and the next, and filtered) and the ticket page, as a
  first-line agent (sees their team's ~20 % of the work orders) and as a shift leader (sees
  all): server time p50/p95 and SQL queries per page, from the Server-Timing header;
- creates through the API at concurrency 16 for 20 s: work orders per second;
- the peak resident memory of the server processes.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import random
import re
import tempfile
import time
from pathlib import Path
from typing import Any

from bench._harness import (
    Server,
    emit,
    kefu,
    percentile,
    pg_drop,
    pg_recreate,
    production_env,
    say,
    setup_django,
)

REQUIRES = ("aiohttp",)
"""Packages beyond the base install: the `bench` extra (a light client, so the load
generator costs far less CPU than the server it measures)."""

DATABASE = "kefu_bench_tickets"
PASSWORD = "Bench-pass-2026"
TEAMS = 5
AGENTS_PER_TEAM = 16


def _copy(cursor: Any, table: str, columns: list[str], rows: Any) -> int:
    n = 0
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            n += 1
    return n


def seed(n_tickets: int, n_events: int) -> dict[str, Any]:
    from django.db import connection
    from django.utils import timezone

    from kefu.accounts.models import AgentProfile, Membership, Team, User
    from kefu.accounts.services import create_api_token
    from kefu.core import demo_names as names
    from kefu.core.permissions import Role
    from kefu.tickets.models import TicketType

    rng = random.Random(7)
    now = timezone.now()
    started = time.perf_counter()
    teams = [
        Team.objects.create(name=f"一线{i + 1}组", code=f"front-{i + 1}", kind=Team.Kind.FRONTLINE)
        for i in range(TEAMS - 1)
    ]
    teams.append(
        Team.objects.create(name="二线技术支持组", code="second", kind=Team.Kind.SECOND_LINE)
    )
    departments = [
        Team.objects.create(name=n, code=c, kind=Team.Kind.DEPARTMENT)
        for n, c in (("营销部", "d1"), ("运维检修部", "d2"), ("计量中心", "d3"))
    ]
    agents: list[User] = []
    for t_index, team in enumerate(teams):
        for a in range(AGENTS_PER_TEAM):
            user = User(
                username=f"a{t_index}-{a}",
                display_name=f"坐席{t_index}-{a}",
                role=Role.AGENT_L2 if team.kind == Team.Kind.SECOND_LINE else Role.AGENT_L1,
                employee_no=f"E{t_index}{a:03d}",
            )
            user.set_password(PASSWORD)
            agents.append(user)
    User.objects.bulk_create(agents)
    agents = list(User.objects.filter(username__startswith="a").order_by("id"))
    Membership.objects.bulk_create(
        [Membership(team=teams[i // AGENTS_PER_TEAM], user=u) for i, u in enumerate(agents)]
    )
    AgentProfile.objects.bulk_create([AgentProfile(user=u) for u in agents])
    lead = User(username="lead", display_name="值班长", role=Role.SUPERVISOR)
    lead.set_password(PASSWORD)
    lead.save()
    tokens = [
        create_api_token(actor=u, user=u, name="bench", scopes=["tickets:read", "tickets:write"])[1]
        for u in agents[:16]
    ]
    types = list(TicketType.objects.values_list("id", "default_priority"))
    n_customers = max(1000, n_tickets // 10)
    channels = ["phone"] * 6 + ["portal", "chat", "email", "walk_in", "api"]
    statuses_open = [
        "new",
        "assigned",
        "in_progress",
        "in_progress",
        "waiting_customer",
        "waiting_third_party",
    ]

    with connection.cursor() as cursor:
        raw = cursor.cursor
        _copy(
            raw,
            "customers_customer",
            [
                "id",
                "kind",
                "name",
                "credit_code",
                "industry",
                "address",
                "language",
                "is_active",
                "created_at",
                "updated_at",
                "version",
            ],
            (
                (
                    i,
                    "person",
                    names.person_name(rng)[0],
                    "",
                    "",
                    names.address(rng)[0],
                    "zh-hans",
                    True,
                    now,
                    now,
                    1,
                )
                for i in range(1, n_customers + 1)
            ),
        )
        say(f"  customers: {n_customers:,}")
        day_seq: dict[dt.date, int] = {}
        ticket_rows = []
        open_ids: list[int] = []
        meta: dict[int, tuple[int, int | None, str]] = {}
        span = dt.timedelta(days=365)
        base = now - span
        for i in range(1, n_tickets + 1):
            created = base + span * (i / n_tickets) + dt.timedelta(seconds=rng.randint(0, 600))
            day = created.date()
            day_seq[day] = day_seq.get(day, 0) + 1
            team_index = rng.randrange(TEAMS - 1) if rng.random() < 0.9 else TEAMS - 1
            team = teams[team_index]
            age = (now - created).days
            if age < 10 and rng.random() < 0.35 or rng.random() < 0.01:
                status = rng.choice(statuses_open)
            else:
                status = rng.choices(
                    ["closed", "followed_up", "resolved", "cancelled"], [85, 6, 5, 4]
                )[0]
            is_open = status in (
                "new",
                "assigned",
                "in_progress",
                "waiting_customer",
                "waiting_third_party",
            )
            assignee = (
                None
                if status == "new"
                else agents[team_index * AGENTS_PER_TEAM + rng.randrange(AGENTS_PER_TEAM)].pk
            )
            updated = min(now, created + dt.timedelta(hours=rng.randint(1, 200)))
            type_id, priority = rng.choice(types)
            number = f"GD{day:%Y%m%d}-{day_seq[day]:05d}"
            meta[i] = (team.pk, assignee, status)
            if is_open:
                open_ids.append(i)
            ticket_rows.append(
                (
                    i, number, f"工单标题 {i} 停电报修 电费咨询", "客户反映小区停电，请尽快处理。Customer reports an outage.", type_id,
                    "", rng.choice(channels), priority, "", status, is_open, rng.randint(1, n_customers), "客户", "", "", "", "",
                    rng.random() < 0.01, "{}", team.pk, assignee, 2 if team.kind == Team.Kind.SECOND_LINE else 1,
                    created, updated, created, updated if status in ("resolved", "followed_up", "closed") else None, 0, "", 1,
                    "", "", False,
                )
            )  # fmt: skip
            if len(ticket_rows) == 50_000:
                _copy(raw, "tickets_ticket", TICKET_COLUMNS, ticket_rows)
                ticket_rows.clear()
        if ticket_rows:
            _copy(raw, "tickets_ticket", TICKET_COLUMNS, ticket_rows)
        from kefu.tickets.models import TicketCounter

        TicketCounter.objects.bulk_create(
            [TicketCounter(day=d, last=n) for d, n in day_seq.items()]
        )
        say(
            f"  work orders: {n_tickets:,} ({len(open_ids):,} open)  {time.perf_counter() - started:.0f} s"
        )
        n_messages = n_tickets // 2
        _copy(
            raw,
            "tickets_message",
            [
                "id",
                "ticket_id",
                "kind",
                "author_id",
                "author_name",
                "body",
                "channel",
                "created_at",
            ],
            (
                (
                    m,
                    m * 2,
                    "reply",
                    meta[m * 2][1],
                    "坐席",
                    "您好，已为您处理，请确认。",
                    "phone",
                    now,
                )
                for m in range(1, n_messages + 1)
            ),
        )
        say(f"  messages: {n_messages:,}")
        actions = [
            "ticket_created",
            "ticket_assigned",
            "ticket_replied",
            "ticket_status_changed",
            "ticket_status_changed",
        ]
        per_ticket = max(1, n_events // n_tickets)

        def event_rows() -> Any:
            for t in range(1, n_tickets + 1):
                for k in range(per_ticket):
                    action = actions[k % len(actions)]
                    data = json.dumps(
                        {"message": t // 2} if action == "ticket_replied" and t % 2 == 0 else {}
                    )
                    changes = json.dumps(
                        {"status": ["in_progress", meta[t][2]]}
                        if action == "ticket_status_changed"
                        else {}
                    )
                    yield (
                        now - dt.timedelta(minutes=n_tickets - t) + dt.timedelta(seconds=k),
                        meta[t][1],
                        "坐席",
                        action,
                        "ticket",
                        t,
                        "",
                        changes,
                        data,
                        "web",
                        "",
                    )

        written = _copy(
            raw,
            "core_event",
            [
                "at",
                "actor_id",
                "actor_label",
                "action",
                "object_type",
                "object_id",
                "object_repr",
                "changes",
                "data",
                "source",
                "request_id",
            ],
            event_rows(),
        )
        say(f"  events: {written:,}  {time.perf_counter() - started:.0f} s")
        n_transfers = max(10, n_tickets * 3 // 100)
        transfer_tickets = rng.sample(range(1, n_tickets + 1), n_transfers)
        _copy(
            raw,
            "tickets_transfer",
            [
                "ticket_id",
                "department_id",
                "state",
                "instructions",
                "due_at",
                "created_at",
                "reply",
                "review_note",
            ],
            (
                (
                    t,
                    rng.choice(departments).pk,
                    "open" if meta[t][2] in ("in_progress", "waiting_third_party") else "accepted",
                    "请核实",
                    now + dt.timedelta(days=2),
                    now,
                    "",
                    "",
                )
                for t in transfer_tickets
            ),
        )
        say(f"  transfers: {n_transfers:,}")
        for table in ("customers_customer", "tickets_ticket", "tickets_message"):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"  # noqa: S608
            )
        cursor.execute("ANALYZE")
    say(f"  loaded in {time.perf_counter() - started:.0f} s")
    from kefu.tickets.models import Ticket

    sample = list(
        Ticket.objects.filter(team=teams[0]).order_by("?").values_list("number", flat=True)[:200]
    )
    return {
        "tokens": tokens,
        "agent": agents[0].username,
        "lead": "lead",
        "sample": sample,
        "team": teams[0].pk,
        "types": [t for t, _p in types],
    }


TICKET_COLUMNS = [
    "id", "number", "title", "description", "ticket_type_id", "subject", "channel", "priority", "severity", "status",
    "is_open", "customer_id", "contact_name", "contact_phone", "contact_email", "place", "staff_concerned", "sensitive",
    "custom_fields", "team_id", "assignee_id", "line", "created_at", "updated_at", "first_response_at", "resolved_at",
    "reopen_count", "followup_result", "version", "area", "sla_metric", "sla_breached",
]  # fmt: skip

TIMING = re.compile(r'app;dur=([\d.]+).*desc="(\d+) queries"')


async def _login(client: Any, url: str, username: str) -> None:
    page = await client.get(f"{url}/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert token, "no CSRF token on the sign-in page"
    response = await client.post(
        f"{url}/login/",
        data={"csrfmiddlewaretoken": token.group(1), "login": username, "password": PASSWORD},
        headers={"Referer": f"{url}/login/"},
    )
    assert response.status_code == 302, f"sign-in failed for {username}"


async def _measure_pages(
    url: str, username: str, rounds: int, data: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    import httpx

    results: dict[str, dict[str, Any]] = {}
    async with httpx.AsyncClient(timeout=60) as client:
        await _login(client, url, username)

        async def timed(name: str, path: str) -> str:
            response = await client.get(url + path)
            assert response.status_code == 200, f"{path}: {response.status_code}"
            match = TIMING.search(response.headers.get("server-timing", ""))
            assert match, "run the server with KEFU_SERVER_TIMING=1"
            entry = results.setdefault(name, {"ms": [], "queries": []})
            entry["ms"].append(float(match.group(1)))
            entry["queries"].append(int(match.group(2)))
            return response.text

        views = [
            "mine",
            "team",
            "unassigned",
            "waiting",
            "transferred",
            "sensitive",
            "recent",
            "all",
        ]
        for view in views:
            await timed(f"view:{view}", f"/tickets/?view={view}")  # warm-up
        rng = random.Random(3)
        for _ in range(rounds):
            for view in views:
                html = await timed(f"view:{view}", f"/tickets/?view={view}")
                cursor = re.search(
                    r'href="\?[^"]*cursor=([^"&]+)[^"]*" data-testid="next-page"', html
                )
                if cursor:
                    await timed(f"view:{view}", f"/tickets/?view={view}&cursor={cursor.group(1)}")
            await timed(
                "view:all+filters",
                f"/tickets/?view=all&status=closed&type={rng.choice(data['types'])}&priority={rng.randint(1, 4)}",
            )
            await timed("ticket page", f"/tickets/{rng.choice(data['sample'])}/")
            await timed("counts", "/tickets/counts/")
    return results


async def _creates(
    url: str, tokens: list[str], concurrency: int, seconds: float
) -> tuple[int, int, float, list[float]]:
    """Each of `concurrency` clients opens work orders one after another over its own
    keep-alive connection (aiohttp: a client that costs far less CPU than the server)."""
    import aiohttp

    counter = {"ok": 0, "failed": 0}
    latencies: list[float] = []
    timeout = aiohttp.ClientTimeout(total=30)

    async def worker(i: int, until: float) -> None:
        headers = {"Authorization": f"Bearer {tokens[i % len(tokens)]}"}
        async with aiohttp.ClientSession(headers=headers, timeout=timeout) as client:
            n = 0
            while time.monotonic() < until:
                n += 1
                body = {
                    "title": f"压测工单 {i}-{n}",
                    "type": "fault",
                    "description": "小区停电，请尽快处理。",
                    "customer_id": (i * 1000 + n) % 500 + 1,
                }
                started = time.perf_counter()
                try:
                    async with client.post(f"{url}/api/v1/tickets", json=body) as response:
                        await response.read()
                        ok = response.status == 201
                except (aiohttp.ClientError, TimeoutError):
                    ok = False
                latencies.append(time.perf_counter() - started)
                counter["ok" if ok else "failed"] += 1

    start = time.monotonic()
    await asyncio.gather(*(worker(i, start + seconds) for i in range(concurrency)))
    return counter["ok"], counter["failed"], time.monotonic() - start, latencies


def main(scale: float, argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="kefu bench tickets")
    parser.add_argument(
        "--rounds",
        type=int,
        default=0,
        help="page measurements per view (default 40 × scale, at least 10)",
    )
    parser.add_argument("--create-seconds", type=float, default=20.0)
    parser.add_argument("--workers", type=int, default=0)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument(
        "--reuse", action="store_true", help="use the database a previous --keep run left"
    )
    args = parser.parse_args(argv)
    n_tickets = max(2000, int(1_000_000 * scale))
    n_events = n_tickets * 5
    rounds = args.rounds or max(10, int(40 * scale))
    say(f"kefu bench tickets: {n_tickets:,} work orders, {n_events:,} events on PostgreSQL")
    data_dir = Path(tempfile.mkdtemp(prefix="kefu-bench-tickets-"))
    import os

    workers = args.workers or 2 * (os.cpu_count() or 1)
    if args.reuse:
        from bench._harness import pg_url

        url = pg_url(DATABASE)
    else:
        url = pg_recreate(DATABASE)
    env = production_env(url, data_dir, KEFU_SERVER_TIMING="1", KEFU_WEB_WORKERS=str(workers))
    state_file = Path(tempfile.gettempdir()) / f"{DATABASE}.json"
    try:
        if args.reuse and state_file.exists():
            data = json.loads(state_file.read_text())
        else:
            kefu("migrate", env=env)
            setup_django(env)
            data = seed(n_tickets, n_events)
            state_file.write_text(json.dumps(data))
            from django.db import connections

            connections.close_all()
        server = Server(env, workers=workers)
        say(f"  server: kefu serve, {workers} workers (production mode)")
        try:
            pages = {}
            for who in ("agent", "lead"):
                measured = asyncio.run(_measure_pages(server.url, data[who], rounds, data))
                for name, values in measured.items():
                    pages[f"{who} {name}"] = values
            created, failed, elapsed, create_latencies = asyncio.run(
                _creates(server.url, data["tokens"], 16, args.create_seconds)
            )
        finally:
            server.stop()
    finally:
        if not args.keep:
            pg_drop(DATABASE)
            state_file.unlink(missing_ok=True)

    say("")
    say(f"  {'page':<34} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8}")
    report = {}
    for name, values in sorted(pages.items()):
        p50, p95 = percentile(values["ms"], 50), percentile(values["ms"], 95)
        queries = max(values["queries"])
        report[name] = {
            "p50_ms": round(p50, 1),
            "p95_ms": round(p95, 1),
            "queries": queries,
            "n": len(values["ms"]),
        }
        say(f"  {name:<34} {len(values['ms']):>5} {p50:>8.1f} {p95:>8.1f} {queries:>8}")
    list_pages = {k: v for k, v in report.items() if " view:" in k}
    list_p95 = max(v["p95_ms"] for v in list_pages.values())
    page_p95 = max(v["p95_ms"] for k, v in report.items() if k.endswith("ticket page"))
    queries_max = max(v["queries"] for v in list_pages.values())
    per_s = created / elapsed
    rss_mb = round(server.peak_rss / 1_048_576, 1)
    say(
        f"  creates: {created:,} in {elapsed:.1f} s at concurrency 16 = {per_s:.0f}/s (failed {failed}); p95 {percentile(create_latencies, 95) * 1000:.0f} ms"
    )
    say(
        f"  worst list view p95 {list_p95} ms, ticket page p95 {page_p95} ms, at most {queries_max} queries per list page"
    )
    say(f"  peak server RSS: {rss_mb} MB ({workers} workers)")
    emit(
        {
            "bench": "tickets",
            "tickets": n_tickets,
            "events": n_events,
            "list_p95_ms": list_p95,
            "ticket_page_p95_ms": page_p95,
            "queries_per_page_max": queries_max,
            "create_per_s": round(per_s, 1),
            "create_failed": failed,
            "rss_mb": rss_mb,
            "workers": workers,
            "pages": report,
        }
    )
    return 0 if failed == 0 else 1
