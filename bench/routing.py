"""kefu bench routing: 1,000 agents online and 50,000 waiting items on PostgreSQL; several
dispatcher processes give the items out at once.

Reports two latencies at p50/p95/p99: the decision (choosing the agent for one item on the
dispatcher's live picture of the agents), and claim to commit (claiming the item, choosing,
taking the capacity and writing the assignment with its event; items are decided in small
batches and each counts its whole batch's time). It also reports the sustained assignments per
second over the whole run, and afterwards it checks that no item was given twice and no agent
went past capacity."""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from bench._harness import (
    emit,
    kefu,
    percentile,
    pg_drop,
    pg_recreate,
    production_env,
    say,
    setup_django,
)

DATABASE = "kefu_bench_routing"
SKILLS = ["billing", "fault", "connection", "metering", "complaint", "new-energy"]


def seed(agents: int, items: int) -> int:
    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from django.utils import timezone

    from kefu.accounts.models import AgentProfile, AgentSkill, Membership, Skill, Team, User
    from kefu.core.permissions import Role
    from kefu.routing.models import AgentLoad, Presence, QueueItem, RoutingQueue

    rng = random.Random(5)
    now = timezone.now()
    password = make_password("bench-not-used")
    with transaction.atomic():
        team = Team.objects.create(code="bench", name="压测一线", kind=Team.Kind.FRONTLINE)
        skills = {c: Skill.objects.create(code=c, name=c) for c in SKILLS}
        users = User.objects.bulk_create(
            User(username=f"r{i}", display_name=f"座席{i}", role=Role.AGENT_L1, password=password,
                 employee_no=f"R{i:05d}")
            for i in range(agents)
        )  # fmt: skip
        capacity = {"voice": 1, "chat": 30, "email": 40, "ticket": 20}
        profiles = AgentProfile.objects.bulk_create(
            AgentProfile(user=u, capacity=capacity,
                         languages=["zh", "en"] if rng.random() < 0.2 else ["zh"])
            for u in users
        )  # fmt: skip
        AgentSkill.objects.bulk_create(
            AgentSkill(profile=p, skill=skills[c], level=3)
            for p in profiles
            for c in rng.sample(SKILLS, rng.randint(2, 4))
        )
        Membership.objects.bulk_create(Membership(team=team, user=u) for u in users)
        Presence.objects.bulk_create(Presence(user=u, state="available", since=now) for u in users)
        AgentLoad.objects.bulk_create(
            AgentLoad(user=u, channel=c, capacity=n, active=0)
            for u in users
            for c, n in capacity.items()
        )
        queue = RoutingQueue.objects.create(
            code="bench", name="压测队列", strategy="skills", offer_timeout=0
        )
        queue.teams.set([team])
        rows = []
        for i in range(items):
            kind = "chat" if i % 2 else "email"
            arrived = now - dt.timedelta(seconds=rng.randint(0, 3600))
            bonus = 300 if rng.random() < 0.1 else 0
            rows.append(
                QueueItem(
                    queue=queue, kind=kind, channel=kind, title=f"压测事项{i}",
                    required_skills=[rng.choice(SKILLS)] if rng.random() < 0.3 else [],
                    preferred_skills=[rng.choice(SKILLS)] if rng.random() < 0.5 else [],
                    language="en" if rng.random() < 0.05 else "",
                    bonus=bonus, arrived_at=arrived, rank_at=arrived - dt.timedelta(seconds=bonus),
                )
            )  # fmt: skip
        QueueItem.objects.bulk_create(rows, batch_size=5000)
    return queue.pk


def _dispatcher(env: dict[str, str], queue_id: int, out: Any) -> None:
    setup_django(env)
    from kefu.routing import engine, services

    choices: list[float] = []
    commits: list[float] = []
    real_choose = engine.Pool.choose
    real_batch = services.decide_batch

    def timed_choose(self: Any, item: Any) -> Any:
        started = time.perf_counter()
        agent = real_choose(self, item)
        choices.append(time.perf_counter() - started)
        return agent

    def timed_batch(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        decisions = real_batch(*args, **kwargs)
        elapsed = time.perf_counter() - started
        commits.extend([elapsed] * len(decisions or ()))  # each commits with its batch
        return decisions

    engine.Pool.choose = timed_choose  # type: ignore[method-assign]
    services.decide_batch = timed_batch  # type: ignore[assignment]
    idle = 0
    while idle < 2:
        made = services.dispatch(queue_id)
        idle = idle + 1 if not made else 0
    out.put((choices, commits))


def main(scale: float, argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="kefu bench routing")
    parser.add_argument(
        "--workers", type=int, default=2, help="dispatcher processes (one per core)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    args = parser.parse_args(argv)
    agents = max(20, int(1000 * scale))
    items = max(500, int(50_000 * scale))
    say(f"kefu bench routing: {agents:,} agents online, {items:,} waiting items on PostgreSQL, "
        f"{args.workers} dispatchers")  # fmt: skip
    data_dir = Path(tempfile.mkdtemp(prefix="kefu-bench-routing-"))
    url = pg_recreate(DATABASE)
    env = production_env(url, data_dir)
    try:
        kefu("migrate", env=env)
        setup_django(env)
        started = time.perf_counter()
        queue_id = seed(agents, items)
        say(f"  seeded in {time.perf_counter() - started:.1f} s")
        from django.db import connection, connections

        connections.close_all()
        if hasattr(connection, "close_pool"):
            connection.close_pool()  # the children open their own; a pool must not cross a fork
        ctx = multiprocessing.get_context("fork")
        out = ctx.Queue()
        procs = [
            ctx.Process(target=_dispatcher, args=(env, queue_id, out)) for _ in range(args.workers)
        ]
        started = time.perf_counter()
        for p in procs:
            p.start()
        choices: list[float] = []
        commits: list[float] = []
        for _ in procs:
            got_choices, got_commits = out.get()
            choices += got_choices
            commits += got_commits
        for p in procs:
            p.join()
        wall = time.perf_counter() - started

        from django.db.models import Count, F

        from kefu.core.models import Event
        from kefu.routing.models import AgentLoad, QueueItem

        assigned = QueueItem.objects.filter(state="assigned").count()
        doubles = (
            Event.objects.filter(action="queue_item_assigned")
            .values("object_id")
            .annotate(n=Count("id"))
            .filter(n__gt=1)
            .count()
        )
        over = AgentLoad.objects.filter(active__gt=F("capacity")).count()
        mismatched = 0
        per_agent = {
            (a, c): n
            for a, c, n in QueueItem.objects.filter(state="assigned")
            .values("agent_id", "channel")
            .annotate(n=Count("id"))
            .values_list("agent_id", "channel", "n")
        }
        for load in AgentLoad.objects.filter(active__gt=0):
            if per_agent.get((load.user_id, load.channel), 0) != load.active:
                mismatched += 1
        waiting = QueueItem.objects.filter(state="waiting").count()
        from kefu.routing.services import BATCH

        choice_ms = [v * 1000 for v in choices]
        commit_ms = [v * 1000 for v in commits]
        d50, d95, d99 = (round(percentile(choice_ms, q), 3) for q in (50, 95, 99))
        c50, c95, c99 = (round(percentile(commit_ms, q), 2) for q in (50, 95, 99))
        rate = assigned / wall if wall else 0.0
        say(f"  assigned {assigned:,} in {wall:.1f} s = {rate:,.0f}/s ({waiting:,} left waiting: "
            f"no agent with the skills, language or room)")  # fmt: skip
        say(f"  decision (choosing the agent, {len(choice_ms):,} choices): "
            f"p50 {d50} ms, p95 {d95} ms, p99 {d99} ms")  # fmt: skip
        say(f"  claim to commit (batches of up to {BATCH}, per item): "
            f"p50 {c50} ms, p95 {c95} ms, p99 {c99} ms")  # fmt: skip
        say(f"  items given twice: {doubles}; agents past capacity: {over}; "
            f"loads not matching the items held: {mismatched}")  # fmt: skip
        emit(
            {
                "bench": "routing",
                "agents": agents,
                "items": items,
                "workers": args.workers,
                "assigned": assigned,
                "decision_p50_ms": d50,
                "decision_p95_ms": d95,
                "decision_p99_ms": d99,
                "commit_p50_ms": c50,
                "commit_p95_ms": c95,
                "commit_p99_ms": c99,
                "assignments_per_s": round(rate, 1),
                "double_assignments": doubles,
                "over_capacity": over,
                "load_mismatches": mismatched,
            }
        )
        return 0
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            pg_drop(DATABASE)
