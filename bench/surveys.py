"""kefu bench surveys — answers recorded per second, and the satisfaction report over
1,000,000 answers on PostgreSQL.

1. Answers: 2,000 customers answer their survey through ``submit_answer`` (lock, check, store,
   event), one transaction each, single-threaded; one in ten dissatisfied opens a case and
   notifies the team lead. Prints answers per second.
2. Report: 1,250,000 invitations and 1,000,000 answers (4-level and star scales, NPS, comments)
   over 40 agents, 4 teams, 5 channels and 26 weeks are loaded with COPY. The report — totals,
   distribution and one group (none, by agent, by week) — is timed (median of three each), and
   its totals are checked against a count of every stored answer in Python.

Full scale by default; --scale 0.01 for a quick run. Ends with a JSON line.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench._harness import emit, kefu, pg_drop, pg_recreate, production_env, say, setup_django

DATABASE = "kefu_bench_surveys"
CHANNELS = ("phone", "email", "portal", "chat", "walk_in")
START = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)


def _centre(rng: random.Random) -> dict[str, Any]:
    from django.db import transaction

    from kefu.accounts.models import Membership, Team, User
    from kefu.core.permissions import Role
    from kefu.customers.models import Customer
    from kefu.surveys.defaults import install
    from kefu.tickets.defaults import install as install_types

    with transaction.atomic():
        install_types()
        template = install()
        teams = [Team.objects.create(name=f"一线{i}", code=f"bench{i}") for i in range(4)]
        agents = []
        for i in range(40):
            user = User.objects.create_user(
                username=f"bench{i}", password=None, role=Role.AGENT_L1, display_name=f"座席{i}"
            )
            Membership.objects.create(team=teams[i % 4], user=user, is_lead=i < 4)
            agents.append(user)
        customers = Customer.objects.bulk_create(Customer(name=f"客户{i}") for i in range(2000))
    return {"template": template, "teams": teams, "agents": agents, "customers": customers}


def bench_answers(c: dict[str, Any], n: int, rng: random.Random) -> float:
    from django.db import transaction

    from kefu.surveys import services
    from kefu.surveys.models import Delivery, SurveyPolicy, Trigger

    policy = SurveyPolicy.objects.filter(trigger=Trigger.TICKET_RESOLVED).first()
    invitations = []
    with transaction.atomic():
        for i in range(n):
            agent = c["agents"][i % len(c["agents"])]
            invitations.append(
                services.invite(
                    template=c["template"],
                    policy=policy,
                    trigger=Trigger.TICKET_RESOLVED,
                    delivery=Delivery.PORTAL,
                    customer=c["customers"][i % len(c["customers"])],
                    agent=agent,
                    team=c["teams"][i % 4],
                    channel=CHANNELS[i % 5],
                )
            )
    started = time.perf_counter()
    for i, invitation in enumerate(invitations):
        bad = i % 10 == 0
        raw = {"csat": 1 if bad else rng.choice([3, 4]), "nps": rng.randint(0, 10)}
        if bad:
            raw["why"] = "等待时间太长"
        services.submit_answer(invitation=invitation, raw=raw, via=Delivery.PORTAL)
    return n / (time.perf_counter() - started)


def load_answers(c: dict[str, Any], n: int, rng: random.Random) -> None:
    from django.db import connection

    version = c["template"].current()
    agents = [(a.pk, c["teams"][i % 4].pk) for i, a in enumerate(c["agents"])]
    customers = [x.pk for x in c["customers"]]
    sent = n * 5 // 4
    base_id = 10_000_000
    span = 26 * 7 * 86400
    with connection.cursor() as cur:
        raw = cur.cursor
        inv_cols = (
            "id, version_id, trigger, delivery, channel, customer_id, agent_id, team_id, nonce, "
            "address, status, sent_at, expires_at, answered_at, chat_ref"
        )
        resp_cols = (
            "invitation_id, version_id, answered_at, via, channel, customer_id, agent_id, team_id, "
            "answers, csat_scale, csat_score, nps_score, dissatisfied, comment"
        )
        with (
            raw.copy(f"COPY surveys_invitation ({inv_cols}) FROM STDIN") as inv_copy,
        ):
            rows = []
            for i in range(sent):
                agent, team = agents[i % len(agents)]
                at = START + dt.timedelta(seconds=rng.randrange(span))
                answered = i < n
                rows.append((at, agent, team, answered))
                inv_copy.write_row(
                    (
                        base_id + i,
                        version.pk,
                        "ticket_resolved",
                        "email",
                        CHANNELS[i % 5],
                        customers[i % len(customers)],
                        agent,
                        team,
                        f"n{i}",
                        "",
                        "answered" if answered else "sent",
                        at,
                        at + dt.timedelta(days=14),
                        at + dt.timedelta(hours=1) if answered else None,
                        "",
                    )
                )
        with raw.copy(f"COPY surveys_response ({resp_cols}) FROM STDIN") as resp_copy:
            for i in range(n):
                at, agent, team, _answered = rows[i]
                stars = i % 3 == 0
                score = (
                    rng.randint(1, 5) if stars else rng.choices([4, 3, 2, 1], [50, 30, 13, 7])[0]
                )
                nps = rng.randint(0, 10) if i % 2 == 0 else None
                bad = score <= (2 if stars else 1)
                comment = f"第{i}位客户：等待时间太长" if bad and i % 4 == 0 else ""
                resp_copy.write_row(
                    (
                        base_id + i,
                        version.pk,
                        at + dt.timedelta(hours=1),
                        "email",
                        CHANNELS[i % 5],
                        customers[i % len(customers)],
                        agent,
                        team,
                        "{}",
                        "stars" if stars else "level4",
                        score,
                        nps,
                        bad,
                        comment,
                    )
                )
        cur.execute("ANALYZE surveys_invitation")
        cur.execute("ANALYZE surveys_response")


def timed(func: Any, runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        func()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main(scale: float, argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="kefu bench surveys")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    args = parser.parse_args(argv)
    n_answers = max(50, int(2000 * min(scale, 1.0)))
    n_report = max(1000, int(1_000_000 * scale))
    rng = random.Random(14)
    url = pg_recreate(DATABASE)
    data_dir = Path(tempfile.mkdtemp(prefix="kefu-bench-surveys-"))
    env = production_env(url, data_dir, KEFU_JOBS_BACKEND="inprocess")
    try:
        kefu("migrate", env=env)
        setup_django(env)
        from kefu.surveys import selectors
        from kefu.surveys.metrics import figures, tally_answers
        from kefu.surveys.models import Response

        c = _centre(rng)
        from django.urls import reverse

        reverse("surveys:loops")  # load the URL configuration before the clock starts
        answers_per_s = bench_answers(c, n_answers, rng)
        say(f"answers recorded: {n_answers} through submit_answer, {answers_per_s:,.0f} per second")
        Response.objects.all().delete()
        from kefu.surveys.models import Invitation, LoopCase

        LoopCase.objects.all().delete()
        Invitation.objects.all().delete()
        started = time.perf_counter()
        load_answers(c, n_report, rng)
        say(
            f"loaded {n_report:,} answers and {n_report * 5 // 4:,} invitations in "
            f"{time.perf_counter() - started:.1f} s"
        )
        f = selectors.Filters()
        report_s = timed(lambda: selectors.report(f, ""))
        by_agent_s = timed(lambda: selectors.report(f, "agent"))
        by_week_s = timed(lambda: selectors.report(f, "week"))
        total, _rows = selectors.report(f, "")
        direct = figures(
            tally_answers(
                Response.objects.values_list("csat_scale", "csat_score", "nps_score").iterator(
                    chunk_size=50_000
                ),
                sent=Invitation.objects.count(),
            )
        )
        matches = direct == total
        say(
            f"report over {total.answered:,} answers: {report_s:.3f} s; by agent {by_agent_s:.3f} s;"
            f" by week {by_week_s:.3f} s (median of 3)"
        )
        say(
            f"CSAT {total.csat} %, NPS {total.nps}, response rate {total.response_rate} %;"
            f" equal to a direct count: {matches}"
        )
        emit(
            {
                "bench": "surveys",
                "scale": scale,
                "answers": n_answers,
                "answers_per_s": round(answers_per_s, 1),
                "report_answers": total.answered,
                "report_s": round(report_s, 3),
                "report_by_agent_s": round(by_agent_s, 3),
                "report_by_week_s": round(by_week_s, 3),
                "csat": total.csat,
                "nps": total.nps,
                "matches_direct_count": matches,
            }
        )
        return 0 if matches else 1
    finally:
        if not args.keep:
            from django.db import connections

            connections.close_all()
            pg_drop(DATABASE)
