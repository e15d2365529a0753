"""Demo satisfaction data: the standard survey and plans, answers over the last weeks (with a
few dissatisfied comments), and follow-up calls waiting for agents."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from kefu.core.demo import DemoContext, seeder
from kefu.surveys import defaults, followups, services
from kefu.surveys.models import Delivery, Response, Trigger
from kefu.tickets.models import Ticket
from kefu.tickets.states import DONE_STATES, Status

COMMENTS = ["等待时间太长，电话一直占线", "维修师傅迟到了两个小时", "问题没有彻底解决"]


@seeder(90)
def seed_surveys(ctx: DemoContext) -> None:
    if Response.objects.exists():
        return
    template = defaults.install()
    rng = ctx.rng
    done = list(
        Ticket.objects.filter(status__in=DONE_STATES, customer__isnull=False)
        .select_related("customer", "assignee", "team")
        .order_by("pk")[:300]
    )
    with transaction.atomic():
        for i, ticket in enumerate(done):
            invitation = services.invite(
                template=template,
                trigger=Trigger.TICKET_RESOLVED,
                delivery=rng.choice([Delivery.EMAIL, Delivery.SMS, Delivery.PORTAL]),
                customer=ticket.customer,
                ticket=ticket,
                channel=ticket.channel,
                agent=ticket.assignee,
                team=ticket.team,
            )
            at = ctx.now - dt.timedelta(days=rng.randint(1, 56), hours=rng.randint(0, 10))
            invitation.sent_at = at - dt.timedelta(hours=2)
            invitation.save(update_fields=["sent_at"])
            if rng.random() < 0.3:
                continue  # not answered
            csat = rng.choices([4, 3, 2, 1], weights=[50, 32, 12, 6])[0]
            raw: dict[str, object] = {
                "csat": csat,
                "nps": rng.choice(range(11)) if csat < 3 else rng.choice([7, 8, 9, 9, 10, 10]),
            }
            if csat <= 2:
                raw["why"] = COMMENTS[i % len(COMMENTS)]
            services.submit_answer(
                invitation=invitation,
                raw=raw,
                via=invitation.delivery,
                answered_at=at,
                close_loop=False,
            )
    with transaction.atomic():
        resolved = Ticket.objects.filter(status=Status.RESOLVED, customer__isnull=False).order_by(
            "pk"
        )
        for ticket in resolved.exclude(followup_tasks__isnull=False)[:8]:
            plan = followups.plan_for(ticket)
            if plan is None:
                from kefu.surveys.models import FollowUpPlan

                plan = FollowUpPlan.objects.order_by("sort").first()
            if plan is not None:
                followups.create_task(ticket, plan)
