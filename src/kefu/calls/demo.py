"""A hotline day for the demo centre (江城供电 95598): yesterday's calls and today's so far,
written as Asterisk queue_log lines and imported the way a real PBX's log is, with wrap-up codes,
the PBX extensions of the demo agents and a CTI integration."""

from __future__ import annotations

import datetime as dt
import math

from django.utils import timezone

from kefu.calls import services
from kefu.calls.models import AgentLink, Call, Integration, WrapUpCode
from kefu.core.demo import DemoContext, seeder

CODES = [
    ("outage", "停电报修"),
    ("billing", "电费查询"),
    ("meter", "电表故障"),
    ("new-connection", "业扩报装"),
    ("solar", "光伏并网咨询"),
    ("complaint", "投诉"),
    ("other", "其他咨询"),
]
QUEUES = ("hotline", "hotline", "hotline", "vip")
# calls per hour of the day (a utility's day: peaks 9–11 and 19–21)
PROFILE = [2, 1, 1, 1, 1, 2, 6, 20, 45, 70, 72, 55, 35, 40, 48, 46, 40, 35, 38, 58, 62, 44, 20, 8]


def _lines(ctx: DemoContext, day: dt.datetime, until: dt.datetime, numbers: list[str],
           agents: list[str], serial: int) -> tuple[list[str], int]:  # fmt: skip
    rng = ctx.rng
    out: list[str] = []
    for agent in agents:
        login = int((day + dt.timedelta(hours=7, minutes=rng.randrange(0, 40))).timestamp())
        out.append(f"{login}|NONE|NONE|{agent}|AGENTLOGIN|{agent}-0001")
        pause = login + 3 * 3600
        out.append(f"{pause}|NONE|NONE|{agent}|PAUSEALL|meal")
        out.append(f"{pause + 1800}|NONE|NONE|{agent}|UNPAUSEALL|")
        out.append(f"{login + 9 * 3600}|NONE|NONE|{agent}|AGENTLOGOFF|{agent}-0001|{9 * 3600}")
    for hour, per_hour in enumerate(PROFILE):
        count = max(0, int(per_hour * ctx.scale + rng.random()))
        for _ in range(count):
            t = int((day + dt.timedelta(hours=hour, seconds=rng.randrange(0, 3600))).timestamp())
            serial += 1
            callid = f"{t}.{serial}"
            queue = rng.choice(QUEUES)
            caller = rng.choice(numbers) if numbers and rng.random() < 0.6 else (
                f"1{rng.choice('3578')}{rng.randrange(10**8, 10**9)}"
            )  # fmt: skip
            busy = 1 + math.sin(math.pi * hour / 12) ** 2  # longer waits at the peaks
            wait = int(rng.expovariate(1 / (12 * busy)))
            out.append(f"{t}|{callid}|{queue}|NONE|ENTERQUEUE||{caller}|1")
            agent = rng.choice(agents)
            if rng.random() < 0.15:
                out.append(f"{t + 2}|{callid}|{queue}|{rng.choice(agents)}|RINGNOANSWER|15000")
            if rng.random() < 0.08 + 0.04 * busy:
                out.append(f"{t + wait}|{callid}|{queue}|NONE|ABANDON|1|1|{wait}")
                continue
            talk = 30 + int(rng.expovariate(1 / 150))
            ring = rng.randrange(2, 14)
            out.append(f"{t + wait}|{callid}|{queue}|{agent}|CONNECT|{wait}|{callid}1|{ring}")
            end = t + wait + talk
            if rng.random() < 0.05:
                out.append(f"{end}|{callid}|{queue}|{agent}|BLINDTRANSFER|8200|from-internal|{wait}|{talk}|1")  # fmt: skip
            else:
                who = "COMPLETECALLER" if rng.random() < 0.6 else "COMPLETEAGENT"
                out.append(f"{end}|{callid}|{queue}|{agent}|{who}|{wait}|{talk}|1")
    cutoff = int(until.timestamp())
    return [line for line in out if int(line.split("|", 1)[0]) < cutoff], serial


@seeder(80)
def seed_calls(ctx: DemoContext) -> None:
    if Call.objects.exists():
        return
    for code, label in CODES:
        WrapUpCode.objects.get_or_create(code=code, defaults={"label": label})
    Integration.objects.get_or_create(slug="pbx", defaults={"name": "江城供电 Asterisk"})
    agents = ctx.data.get("agents") or []
    extensions = []
    for n, user in enumerate(agents):
        extension = f"SIP/80{n + 1:02d}"
        AgentLink.objects.get_or_create(pbx_agent=extension, defaults={"user": user})
        extensions.append(extension)
    if not extensions:
        extensions = [f"SIP/80{n:02d}" for n in range(1, 9)]
    numbers = []
    for customer in (ctx.data.get("customers") or [])[:300]:
        phone = customer.contacts.filter(kind="phone").values_list("normalized", flat=True).first()
        if phone:
            numbers.append(phone.removeprefix("+86"))
    today = timezone.localtime(ctx.now).replace(hour=0, minute=0, second=0, microsecond=0)
    serial = 0
    lines: list[str] = []
    for day in (today - dt.timedelta(days=1), today):
        more, serial = _lines(ctx, day, ctx.now, numbers, extensions, serial)
        lines.extend(more)
    lines.sort(key=lambda line: int(line.split("|", 1)[0]))
    services.import_queue_log(lines, name="demo queue_log", actor=None)
    # a few wrap-ups, as agents would have left them
    codes = list(WrapUpCode.objects.all())
    for call in Call.objects.filter(outcome="answered", user__isnull=False).order_by("?")[:40]:
        user = call.user
        if user is None:
            continue
        services.wrap_up(
            actor=user,
            call=call,
            code=ctx.rng.choice(codes).code,
            note="",
            acw_s=ctx.rng.randrange(10, 90),
        )
