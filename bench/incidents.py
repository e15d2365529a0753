"""kefu bench incidents — a major incident with 10,000 work orders, on PostgreSQL.

1. 10,000 open work orders (with their SLA clocks) about a power cut in one district (plus one in ten elsewhere or
   about something else, which must stay unlinked) from as many customers are loaded, with a
   third of them by e-mail so that replies go out through the e-mail channel's reply hook.
2. ``declare_incident`` declares it and links every matching open work order: timed (link_s).
3. ``resolve_incident`` with one closing reply starts the background job, in parts, on a
   ``kefu worker`` (Celery, --workers processes, default 4) as in production; it replies to and
   resolves every linked work order through ``reply_and_resolve_many`` (a batch of a few
   hundred per transaction) — events, SLA clocks (started for each work order when loaded),
   routing, surveys, webhooks and the e-mail reply hook all run for each, through their batch
   versions. Timed from the request until the job marks the incident finished (close_s); the
   e-mail replies go out through the sending job, one SMTP connection per job, to a loopback
   server that counts them (email_all_sent_s, from the same request).
4. The job is run a second time, as a retry would, and every linked work order is checked to
   hold exactly one reply.
5. A sample of new matching work orders opened through ``create_ticket`` while the incident is
   active is linked by the ticket hook: opened per second with the hook.

Full scale by default; --scale 0.05 for a quick run. Ends with a JSON line.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench._harness import (
    REDIS_URL,
    ROOT,
    emit,
    kefu,
    pg_drop,
    pg_recreate,
    production_env,
    say,
    setup_django,
)

DATABASE = "kefu_bench_incidents"


class SmtpSink:
    """A loopback SMTP server that accepts and counts every message (the e-mail replies go out
    through the real sending job and are dropped here)."""

    def __init__(self) -> None:
        import asyncio
        import threading

        self.host = "127.0.0.1"
        self.received = 0
        self._loop = asyncio.new_event_loop()
        ready = threading.Event()

        async def handle(reader: Any, writer: Any) -> None:
            writer.write(b"220 sink ESMTP\r\n")
            in_data = False
            while line := await reader.readline():
                if in_data:
                    if line in (b".\r\n", b".\n"):
                        in_data = False
                        self.received += 1
                        writer.write(b"250 OK\r\n")
                    continue
                verb = line[:4].upper()
                if verb == b"EHLO":
                    writer.write(b"250-sink\r\n250 8BITMIME\r\n")
                elif verb == b"DATA":
                    in_data = True
                    writer.write(b"354 go on\r\n")
                elif verb == b"QUIT":
                    writer.write(b"221 bye\r\n")
                    await writer.drain()
                    break
                else:
                    writer.write(b"250 OK\r\n")
                await writer.drain()
            writer.close()

        async def start() -> None:
            self._server = await asyncio.start_server(handle, self.host, 0)
            self.port = self._server.sockets[0].getsockname()[1]
            ready.set()

        def run() -> None:
            asyncio.set_event_loop(self._loop)
            self._loop.run_until_complete(start())
            self._loop.run_forever()

        threading.Thread(target=run, daemon=True).start()
        ready.wait(10)

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)


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
            use_idle=False,
            poll_seconds=86400,
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
    # Each work order's SLA clocks, started as create_ticket starts them, so that answering
    # stops real clocks.
    from kefu.core.models import Event
    from kefu.sla.services import apply_event, refresh_ticket

    with transaction.atomic():
        for ticket in Ticket.objects.filter(pk__in=[t.pk for t in rows]).select_related(
            "ticket_type", "category", "customer"
        ):
            created = Event(action="ticket_created", at=ticket.created_at, changes={}, data={})
            refresh_ticket(ticket, apply_event(ticket, created, []))
    return {"lead": lead, "agent": agent, "team": team, "noise": noise}


def main(scale: float, argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="kefu bench incidents")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    parser.add_argument(
        "--workers", type=int, default=4, help="Celery worker processes (default 4)"
    )
    args = parser.parse_args(argv)
    n = max(100, int(10_000 * scale))
    rng = random.Random(17)
    url = pg_recreate(DATABASE)
    data_dir = Path(tempfile.mkdtemp(prefix="kefu-bench-incidents-"))
    # A broker database of its own: another benchmark's worker must not take these jobs.
    broker = os.environ.get("KEFU_BENCH_INCIDENTS_REDIS_URL", REDIS_URL)
    env = production_env(url, data_dir, KEFU_REDIS_URL=broker)
    try:
        kefu("migrate", env=env)
        setup_django(env)
        from django.db import connection
        from django.urls import reverse

        importlib.import_module("kefu.config.celery")  # jobs sent from here go to its broker
        from kefu.incidents import services
        from kefu.incidents.models import Incident, Link
        from kefu.tickets.models import Message
        from kefu.tickets.services import create_ticket

        reverse("incidents:list")  # load the URL configuration before the clock starts
        started = time.perf_counter()
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

        worker = subprocess.Popen(
            [sys.executable, "-m", "kefu", "worker", "--concurrency", str(args.workers),
             "--loglevel", "WARNING"],
            env={**os.environ, **env},
            cwd=ROOT,
        )  # fmt: skip
        time.sleep(8)  # let the worker connect to the broker before the clock starts
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
        waited = time.perf_counter()
        while smtp.received < mails and time.perf_counter() - waited < 300:
            time.sleep(0.5)
        mail_s = time.perf_counter() - started
        say(
            f"e-mails received by the SMTP server: {smtp.received:,} ({mail_s:.1f} s after the request)"
        )
        worker.terminate()
        try:
            worker.wait(60)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(10)
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
                "email_received": smtp.received,
                "email_all_sent_s": round(mail_s, 1),
                "create_with_hook_per_s": round(create_per_s, 1),
                "total_s": round(link_s + close_s, 1),
                "workers": args.workers,
            }
        )
        return 0 if exactly_once and smtp.received == mails else 1
    finally:
        if not args.keep:
            from django.db import connections

            connections.close_all()
            pg_drop(DATABASE)
