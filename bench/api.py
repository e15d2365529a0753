"""kefu bench api — sign-in and customer list/get/create against `kefu serve` on PostgreSQL.

Full scale: 100,000 customers, 16 concurrent clients for 60 s, a mixed load of
40 % list, 40 % get, 15 % create and 5 % sign-in. Prints per-operation latency percentiles,
requests per second, and the peak resident memory of the server (all worker processes).
"""

from __future__ import annotations

import argparse
import asyncio
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
    pg_drop,
    pg_recreate,
    production_env,
    say,
    setup_django,
    summary_ms,
)

REQUIRES = ("aiohttp",)
"""Packages beyond the base install: the `bench` extra (a light client, so the load
generator costs far less CPU than the server it measures)."""

DATABASE = "kefu_bench_api"
PASSWORD = "Bench-pass-2026"


def seed(customers: int, agents: int) -> dict[str, Any]:
    from django.db import connection

    from kefu.accounts.models import AgentProfile, User
    from kefu.accounts.services import create_api_token
    from kefu.core import demo_names as names
    from kefu.core.permissions import Role
    from kefu.core.validation import normalize_phone
    from kefu.customers.models import AccountNumber, ContactPoint, Customer, VipTier

    rng = random.Random(42)
    tier = VipTier.objects.create(code="gold", name="重要用户", rank=1, priority_weight=300)
    users = []
    for i in range(agents):
        user = User(
            username=f"bench{i:02d}",
            display_name=f"压测坐席{i:02d}",
            role=Role.AGENT_L1,
            employee_no=f"T{i:04d}",
        )
        user.set_password(PASSWORD)
        user.save()
        AgentProfile.objects.create(user=user)
        users.append(user)
    tokens = [
        create_api_token(
            actor=u, user=u, name="bench", scopes=["customers:read", "customers:write"]
        )[1]
        for u in users
    ]

    phones: list[str] = []
    batch = 5000
    started = time.perf_counter()
    account_seq = 0
    for offset in range(0, customers, batch):
        rows = []
        for _ in range(min(batch, customers - offset)):
            name, _s, _g = names.person_name(rng)
            address, _kind = names.address(rng)
            rows.append(
                Customer(name=name, address=address, vip_tier=tier if rng.random() < 0.05 else None)
            )
        created = Customer.objects.bulk_create(rows)
        contacts, accounts = [], []
        for customer in created:
            number = names.mobile(rng)
            normalized = normalize_phone(number)
            phones.append(number)
            contacts.append(
                ContactPoint(
                    customer=customer,
                    kind="phone",
                    value=number,
                    normalized=normalized,
                    is_primary=True,
                )
            )
            if rng.random() < 0.3:
                email = f"c{customer.pk}@example.cn"
                contacts.append(
                    ContactPoint(
                        customer=customer,
                        kind="email",
                        value=email,
                        normalized=email,
                        is_primary=True,
                    )
                )
            account_seq += 1
            accounts.append(AccountNumber(customer=customer, number=f"07{account_seq:08d}"))
        ContactPoint.objects.bulk_create(contacts, ignore_conflicts=True)
        AccountNumber.objects.bulk_create(accounts)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    say(f"  seeded {customers:,} customers in {time.perf_counter() - started:.1f} s")
    ids = list(Customer.objects.values_list("id", flat=True))
    return {"tokens": tokens, "ids": ids, "phones": phones, "logins": [u.username for u in users]}


async def _load(
    url: str, data: dict[str, Any], concurrency: int, seconds: float
) -> tuple[dict[str, list[float]], dict[str, int], float]:
    import aiohttp

    ids, phones, tokens, logins = data["ids"], data["phones"], data["tokens"], data["logins"]
    latencies: dict[str, list[float]] = {"list": [], "get": [], "create": [], "login": []}
    errors: dict[str, int] = {k: 0 for k in latencies}
    counter = {"n": 0}
    timings: dict[str, float] = {}
    TIMEOUT = aiohttp.ClientTimeout(total=30)  # noqa: N806

    async def op_list(client: aiohttp.ClientSession, rng: random.Random) -> bool:
        variant = rng.random()
        params: dict[str, Any] = {"limit": 50}
        if variant < 0.35:
            pass
        elif variant < 0.6:
            params["sort"] = "name"
        elif variant < 0.8:
            params["vip_tier"] = "any"
        else:
            params["q"] = rng.choice(phones)
        async with client.get(f"{url}/api/v1/customers", params=params) as response:
            await response.read()
            return response.status == 200

    async def op_get(client: aiohttp.ClientSession, rng: random.Random) -> bool:
        async with client.get(f"{url}/api/v1/customers/{rng.choice(ids)}") as response:
            await response.read()
            return response.status == 200

    async def op_create(client: aiohttp.ClientSession, rng: random.Random) -> bool:
        counter["n"] += 1
        n = counter["n"]
        body = {
            "name": f"压测客户{n}",
            "contacts": [{"kind": "phone", "value": f"139{rng.randint(0, 99999999):08d}"}],
            "accounts": [{"number": f"09{n:08d}"}],
        }
        async with client.post(f"{url}/api/v1/customers", json=body) as response:
            await response.read()
            return response.status == 201

    async def op_login(client: aiohttp.ClientSession, rng: random.Random) -> bool:
        # a fresh visitor; unsafe=True keeps cookies from an IP-address host (127.0.0.1)
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(timeout=TIMEOUT, cookie_jar=jar) as fresh:
            async with fresh.get(f"{url}/login/") as page:
                text = await page.text()
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', text)
            if not token:
                return False
            start = time.perf_counter()
            async with fresh.post(
                f"{url}/login/",
                data={
                    "csrfmiddlewaretoken": token.group(1),
                    "login": rng.choice(logins),
                    "password": PASSWORD,
                },
                headers={"Referer": f"{url}/login/"},
                allow_redirects=False,
            ) as response:
                await response.read()
            timings["login"] = time.perf_counter() - start
            return response.status == 302

    ops = [
        ("list", 0.40, op_list),
        ("get", 0.40, op_get),
        ("create", 0.15, op_create),
        ("login", 0.05, op_login),
    ]

    async def worker(i: int, until: float) -> None:
        rng = random.Random(1000 + i)
        async with aiohttp.ClientSession(
            headers={"Authorization": f"Bearer {tokens[i % len(tokens)]}"},
            timeout=TIMEOUT,
        ) as client:
            while time.monotonic() < until:
                name, _w, func = rng.choices(ops, [o[1] for o in ops])[0]
                start = time.perf_counter()
                try:
                    ok = await func(client, rng)
                except (aiohttp.ClientError, TimeoutError):
                    ok = False
                elapsed = time.perf_counter() - start
                if name == "login" and ok:
                    elapsed = timings["login"]
                if ok:
                    latencies[name].append(elapsed)
                else:
                    errors[name] += 1

    # warm-up: one of each, so first-request costs do not count
    async with aiohttp.ClientSession(
        headers={"Authorization": f"Bearer {tokens[0]}"}, timeout=TIMEOUT
    ) as warm:
        rng = random.Random(0)
        for _name, _w, func in ops:
            await func(warm, rng)
    start = time.monotonic()
    await asyncio.gather(*(worker(i, start + seconds) for i in range(concurrency)))
    return latencies, errors, time.monotonic() - start


def main(scale: float, argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="kefu bench api")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument(
        "--seconds",
        type=float,
        default=0,
        help="load duration (default 60 s × scale, at least 10 s)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=0,
        help="server worker processes (default: KEFU_WEB_WORKERS or 2 × cores)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    args = parser.parse_args(argv)
    customers = max(1000, int(100_000 * scale))
    seconds = args.seconds or max(10.0, 60.0 * scale)

    say(
        f"kefu bench api: {customers:,} customers on PostgreSQL, concurrency {args.concurrency}, {seconds:.0f} s"
    )
    url = pg_recreate(DATABASE)
    data_dir = Path(tempfile.mkdtemp(prefix="kefu-bench-api-"))
    env = production_env(url, data_dir)
    try:
        kefu("migrate", env=env)
        setup_django(env)
        data = seed(customers, agents=args.concurrency)
        from django.db import connections

        connections.close_all()
        import os

        workers = (
            args.workers or int(os.environ.get("KEFU_WEB_WORKERS", 0)) or 2 * (os.cpu_count() or 1)
        )
        server = Server(env, workers=workers)
        say(
            f"  server: kefu serve, {workers} uvicorn workers, PostgreSQL + Redis (production mode)"
        )
        try:
            latencies, errors, elapsed = asyncio.run(
                _load(server.url, data, args.concurrency, seconds)
            )
        finally:
            server.stop()
    finally:
        if not args.keep:
            pg_drop(DATABASE)

    total = sum(len(v) for v in latencies.values())
    all_latencies = [x for v in latencies.values() for x in v]
    overall = summary_ms(all_latencies)
    per_op = {}
    say("")
    say(
        f"  {'operation':<8} {'count':>7} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>7}"
    )
    for name, values in latencies.items():
        s = summary_ms(values)
        per_op[name] = {
            "count": s["n"],
            "rps": round(len(values) / elapsed, 1),
            "p50_ms": s["p50_ms"],
            "p95_ms": s["p95_ms"],
            "p99_ms": s["p99_ms"],
            "errors": errors[name],
        }
        say(
            f"  {name:<8} {s['n']:>7} {len(values) / elapsed:>8.1f} {s['p50_ms']:>8.1f} {s['p95_ms']:>8.1f} {s['p99_ms']:>8.1f} {errors[name]:>7}"
        )
    rss_mb = round(server.peak_rss / 1_048_576, 1)
    rps = round(total / elapsed, 1)
    say(
        f"  {'mixed':<8} {total:>7} {rps:>8.1f} {overall['p50_ms']:>8.1f} {overall['p95_ms']:>8.1f} {overall['p99_ms']:>8.1f} {sum(errors.values()):>7}"
    )
    say(f"  peak server RSS: {rss_mb} MB ({workers} workers)")
    emit(
        {
            "bench": "api",
            "customers": customers,
            "concurrency": args.concurrency,
            "seconds": round(elapsed, 1),
            "workers": workers,
            "rps": rps,
            "p50_ms": overall["p50_ms"],
            "p95_ms": overall["p95_ms"],
            "p99_ms": overall["p99_ms"],
            "errors": sum(errors.values()),
            "rss_mb": rss_mb,
            "operations": per_op,
        }
    )
    return 0 if sum(errors.values()) == 0 else 1
