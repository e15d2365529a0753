"""kefu bench incidents — a major incident with 10,000 work orders, on PostgreSQL.

1. 10,000 open work orders about a power cut in one district (plus one in ten elsewhere or
   about something else, which must stay unlinked) from as many customers are loaded, with a
   third of them by e-mail so that replies go out through the e-mail channel's reply hook.
2. ``declare_incident`` declares it and links every matching open work order: timed (link_s).
3. ``resolve_incident`` with one closing reply starts the background job (the in-process
   runner, as embedded; Celery runs the same function), which replies to and resolves every
   linked work order through ``transition_ticket`` — events, SLA, routing, surveys, webhooks
   and the e-mail reply hook all run for each. Timed from the request until the job marks the
   incident finished (close_s).
4. The job is run a second time, as a retry would, and every linked work order is checked to
   hold exactly one reply.
5. A sample of new matching work orders opened through ``create_ticket`` while the incident is
   active is linked by the ticket hook: opened per second with the hook.

Full scale by default; --scale 0.05 for a quick run. Ends with a JSON line.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from bench._harness import emit, kefu, pg_drop, pg_recreate, production_env, say, setup_django

DATABASE = "kefu_bench_incidents"
REPLY = "您好，朝阳区停电已于17:40全部恢复供电，给您带来的不便深表歉意。如仍有问题请再次联系我们。"


def seed(n: int, rng: random.Random, smtp: Any) -> dict[str, Any]:
    from django.db import transaction
    from django.utils import timezone

    from kefu.accounts.models import Membership, Team, User
    from kefu.core.permissions import Role
    from kefu.customers.models import Customer
    from kefu.email.models import Mailbox
    from kefu.sla.defaults import install as install_sla
    from kefu.tickets.defaults import install as install_types
    from kefu.tickets.models import Ticket, TicketType

    now = timezone.now()
    with transaction.atomic():
        install_types()
        install_sla()
        team = Team.objects.create(name="一线", code="bench-front")
        lead = User.objects.create_user(
            username="lead", password=None, role=Role.SUPERVISOR, display_name="值班长"
        )
        Membership.objects.create(team=team, user=lead, is_lead=True)
        agent = User.objects.create_user(
            username="agent", password=None, role=Role.AGENT_L1, display_name="座席"
        )
        Membership.objects.create(team=team, user=agent)
        fault = TicketType.objects.get(code="fault")
        Mailbox.objects.create(
            name="客服中心",
            address="service@example.com",
            team=team,
            ticket_type=fault,
            in_host="127.0.0.1",
            in_username="service",
            out_host=smtp.host,
            out_port=smtp.port,
            out_security="none",
        )
        noise = n // 10
        customers = Customer.objects.bulk_create(
            Customer(name=f"客户{i}") for i in range(n + noise)
        )
        rows = []
        for i in range(n + noise):
            channel = ("phone", "email", "portal")[i % 3]
            matching = i < n
            place = "北京市朝阳区望京街道" if matching or i % 2 else "海淀区中关村"
            title = "家里停电了" if matching or not i % 2 else "电费账单有误"
            rows.append(
                Ticket(
                    number=f"GD20261203-{i + 1:06d}",
                    title=title,
                    description="从下午三点开始没电，整栋楼都停了。"
                    if matching
                    else "想咨询一下。",
                    ticket_type=fault,
                    channel=channel,
                    customer=customers[i],
                    contact_name=customers[i].name,
                    contact_email=f"c{i}@example.com" if channel == "email" else "",
                    place=place,
                    team=team,
                    created_at=now - dt.timedelta(minutes=rng.randint(1, 90)),
                    updated_at=now,
                )
            )
        Ticket.objects.bulk_create(rows, batch_size=2000)
    return {"lead": lead, "agent": agent, "team": team, "noise": noise}


def main(scale: float, argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="kefu bench incidents")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    args = parser.parse_args(argv)
    n = max(100, int(10_000 * scale))
    rng = random.Random(17)
    url = pg_recreate(DATABASE)
    data_dir = Path(tempfile.mkdtemp(prefix="kefu-bench-incidents-"))
    env = production_env(url, data_dir)
    try:
        kefu("migrate", env=env)
        setup_django(env)
        from django.conf import settings

        settings.JOBS_BACKEND = "inprocess"  # the job runs in this process's thread pool
        from django.db import connection
        from django.urls import reverse

        from kefu.core.jobs import stop_runner
        from kefu.incidents import services
        from kefu.incidents.models import Incident, Link
        from kefu.tickets.models import Message
        from kefu.tickets.services import create_ticket

        reverse("incidents:list")  # load the URL configuration before the clock starts
        started = time.perf_counter()
        from kefu.testing.fixtures import SmtpSink

        smtp = SmtpSink()
        c = seed(n, rng, smtp)
        say(
            f"loaded {n:,} matching open work orders and {c['noise']:,} others in "
            f"{time.perf_counter() - started:.1f} s"
        )

        started = time.perf_counter()
        incident = services.declare_incident(
            actor=c["lead"],
            title="朝阳区大面积停电",
            public_text="朝阳区望京部分区域停电，抢修人员已到场，预计18:00恢复。",
            ivr_text="朝阳区望京部分区域停电，预计18点恢复",
            areas=["朝阳区"],
            keywords=["停电", "没电"],
            started_at=None,
        )
        link_s = time.perf_counter() - started
        linked = Link.objects.filter(incident=incident).count()
        say(f"declared and linked {linked:,} work orders in {link_s:.2f} s")

        sample = max(20, n // 50)
        started = time.perf_counter()
        for i in range(sample):
            create_ticket(
                actor=c["agent"],
                title="还是没电",
                ticket_type="fault",
                channel="phone",
                place="朝阳区望京西园",
                description=f"第{i}位来电",
            )
        create_per_s = sample / (time.perf_counter() - started)
        auto = Link.objects.filter(incident=incident).count() - linked
        say(
            f"{sample} new work orders through create_ticket, {auto} linked by the hook: "
            f"{create_per_s:.0f} per second"
        )
        linked += auto

        started = time.perf_counter()
        services.resolve_incident(
            actor=c["lead"], incident=incident, text="朝阳区已全部恢复供电。", closing_reply=REPLY
        )
        while True:
            time.sleep(0.2)
            state = Incident.objects.values_list("closing_finished_at", flat=True).get(
                pk=incident.pk
            )
            if state is not None:
                break
        close_s = time.perf_counter() - started
        say(
            f"answered and resolved {linked:,} work orders in {close_s:.1f} s "
            f"({linked / close_s:,.0f} per second)"
        )

        again = services.run_closing(incident.pk, 0, 1)
        say(f"second run of the job: {again.sent} replied, {again.skipped} skipped")
        replies = Message.objects.filter(kind="reply", body=REPLY).count()
        per_ticket = dict(
            Message.objects.filter(kind="reply", body=REPLY)
            .values_list("ticket_id")
            .annotate(n=__import__("django.db.models", fromlist=["Count"]).Count("id"))
            .values_list("ticket_id", "n")
        )
        linked_ids = set(Link.objects.filter(incident=incident).values_list("ticket_id", flat=True))
        exactly_once = set(per_ticket) == linked_ids and set(per_ticket.values()) == {1}
        with connection.cursor() as cur:
            cur.execute("SELECT count(*) FROM email_outboundemail WHERE kind = 'reply'")
            mails = cur.fetchone()[0]
        say(
            f"replies: {replies:,} for {len(linked_ids):,} linked work orders, exactly one each: "
            f"{exactly_once}; e-mail replies queued: {mails:,}"
        )
        stop_runner()
        smtp.stop()
        emit(
            {
                "bench": "incidents",
                "scale": scale,
                "linked": linked,
                "link_s": round(link_s, 2),
                "close_s": round(close_s, 1),
                "replies": replies,
                "exactly_once": exactly_once,
                "email_replies": mails,
                "create_with_hook_per_s": round(create_per_s, 1),
                "total_s": round(link_s + close_s, 1),
            }
        )
        return 0 if exactly_once else 1
    finally:
        if not args.keep:
            from django.db import connections

            connections.close_all()
            pg_drop(DATABASE)
