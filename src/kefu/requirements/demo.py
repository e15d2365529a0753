"""Demo customer requirements, raised from suggestion and requirement work orders: some asked by
several customers, scored and at every step, one shipped (its customers were told)."""

from __future__ import annotations

from django.db import transaction

from kefu.accounts.models import User
from kefu.core.demo import DemoContext, seeder
from kefu.core.permissions import Role
from kefu.customers.models import Customer
from kefu.requirements import services
from kefu.requirements.models import Requirement
from kefu.requirements.states import Status
from kefu.tickets.services import create_ticket

# (title, kind, askers, path, scores, note)
ITEMS = [
    ("网上营业厅支持开具电子发票", "functional", 4, [Status.ORGANISE, Status.ANALYSE, Status.SCREEN,
     Status.IMPLEMENT, Status.TRACK], (5, 4, 4), "网上营业厅“我的账单”页已可开具和下载电子发票。"),
    ("夜间也能在线联系人工客服", "service", 3, [Status.ORGANISE, Status.ANALYSE, Status.SCREEN],
     (4, 3, 4), ""),
    ("停电通知提前一天短信告知", "service", 5, [Status.ORGANISE, Status.ANALYSE, Status.SCREEN,
     Status.IMPLEMENT], (5, 5, 4), ""),
    ("缴费页面加载太慢", "performance", 2, [Status.ORGANISE, Status.ANALYSE], (3, 4, 3), ""),
    ("维修师傅上门前先电话联系", "emotional", 2, [Status.ORGANISE], None, ""),
    ("希望取消纸质账单", "functional", 1, [], None, ""),
    ("营业厅周末延长营业时间", "service", 1, [Status.REJECTED], None, "人员排班无法支持，改为开通线上预约办理。"),
]  # fmt: skip


@seeder(96)
def seed_requirements(ctx: DemoContext) -> None:
    if Requirement.objects.exists():
        return
    lead = User.objects.filter(role=Role.SUPERVISOR, is_active=True).order_by("pk").first()
    agent = User.objects.filter(role=Role.AGENT_L1, is_active=True).order_by("pk").first()
    customers = list(Customer.objects.order_by("-pk")[:40])
    if lead is None or agent is None or len(customers) < 20:
        return
    k = 0
    with transaction.atomic():
        for title, kind, askers, path, scores, note in ITEMS:
            requirement = None
            for _i in range(askers):
                customer = customers[k % len(customers)]
                k += 1
                ticket = create_ticket(
                    actor=agent,
                    title=title,
                    ticket_type="requirement",
                    channel=ctx.rng.choice(["phone", "portal", "email", "chat"]),
                    customer=customer.pk,
                )
                requirement = services.raise_from_ticket(
                    actor=agent, ticket=ticket, requirement=requirement, kind=kind
                )
            assert requirement is not None
            for to in path:
                if to == Status.IMPLEMENT and scores:
                    services.score_requirement(
                        actor=lead,
                        requirement=requirement,
                        importance=scores[0],
                        feasibility=scores[1],
                        benefit=scores[2],
                    )
                requirement = services.move_requirement(
                    actor=lead,
                    requirement=requirement,
                    to=to,
                    note=note if to in (Status.TRACK, Status.REJECTED) else "",
                )
            if (
                scores
                and requirement.score is None
                and requirement.status not in (Status.REJECTED,)
            ):
                services.score_requirement(
                    actor=lead,
                    requirement=requirement,
                    importance=scores[0],
                    feasibility=scores[1],
                    benefit=scores[2],
                )
