"""Demo major incidents: a transformer fault earlier today, over and answered, and a line fault
being handled now (its text shows on the portal, in chat, e-mail and the IVR)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from kefu.accounts.models import User
from kefu.core.demo import DemoContext, seeder
from kefu.core.permissions import Role
from kefu.customers.models import Customer
from kefu.incidents import services
from kefu.incidents.models import Incident
from kefu.tickets.services import create_ticket

PAST_CALLS = ["家里突然停电了", "电压很低，灯一直闪", "停电什么时候恢复", "整个小区都没电"]
NOW_CALLS = ["家里突然停电了", "整栋楼都没电", "停电了，冰箱里的东西要坏了", "电梯困人，楼里停电"]


@seeder(94)
def seed_incidents(ctx: DemoContext) -> None:
    if Incident.objects.exists():
        return
    lead = User.objects.filter(role=Role.SUPERVISOR, is_active=True).order_by("pk").first()
    agent = User.objects.filter(role=Role.AGENT_L1, is_active=True).order_by("pk").first()
    if lead is None or agent is None:
        return
    customers = list(Customer.objects.order_by("pk")[:40])
    if len(customers) < 12:
        return
    rng = ctx.rng
    with transaction.atomic():
        for i in range(6):
            create_ticket(
                actor=agent,
                title=PAST_CALLS[i % len(PAST_CALLS)],
                ticket_type="fault",
                channel=rng.choice(["phone", "phone", "portal", "email"]),
                customer=customers[i].pk,
                place=f"西山区青年路{i + 3}号院",
                created_at=ctx.now - dt.timedelta(hours=3, minutes=i * 7),
            )
        burst = services.declare_incident(
            actor=lead,
            title="西山区青年路台区变压器故障停电",
            public_text="青年路一带因台区变压器故障停电，抢修人员已到场，预计今晚20:00恢复供电。",
            ivr_text="青年路一带停电，预计晚上八点恢复供电",
            severity="major",
            areas=["青年路"],
            keywords=["停电", "没电", "电压"],
            started_at=ctx.now - dt.timedelta(hours=4),
        )
        services.publish_update(
            actor=lead,
            incident=burst,
            text="故障变压器已更换，正在逐户恢复供电。",
        )
        services.resolve_incident(
            actor=lead,
            incident=burst,
            text="青年路一带已全部恢复供电。",
            closing_reply="您好，青年路一带的供电已于今晚19:40全部恢复。给您带来不便，"
            "我们深表歉意。如仍有问题，请回复本工单或致电热线。",
        )
    services.run_closing(burst.pk)  # the job runs after commit; the demo does not wait for it
    with transaction.atomic():
        services.close_incident(actor=lead, incident=Incident.objects.get(pk=burst.pk))
        cut = services.declare_incident(
            actor=lead,
            title="东湖区湖滨花园小区停电",
            public_text="湖滨花园小区因10千伏线路故障停电，抢修人员已到场，预计今天18:00前恢复。",
            ivr_text="湖滨花园小区停电，预计下午六点前恢复",
            severity="critical",
            areas=["湖滨花园"],
            keywords=["停电", "没电"],
        )
        for i in range(8):
            create_ticket(
                actor=agent,
                title=NOW_CALLS[i % len(NOW_CALLS)],
                ticket_type="fault",
                channel=rng.choice(["phone", "phone", "phone", "portal", "email"]),
                customer=customers[12 + i].pk,
                place=f"东湖区湖滨花园{i + 1}栋",
            )
        services.publish_update(
            actor=lead,
            incident=cut,
            text="故障点已找到，正在更换受损电缆，预计17:30恢复供电。",
            ivr_text="故障点已找到，预计下午五点半恢复供电",
        )
