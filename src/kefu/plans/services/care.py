"""Proactive care (主动关怀): callbacks and notices before holidays and big events, or a number of
days after a tagged work order (an upgrade, a switch-over) is resolved.

A scheduled care plan's round is claimed by the scheduler; ``run_care`` then works through its
customers. Every customer is claimed by inserting the (plan, customer, key) row with
``ON CONFLICT DO NOTHING`` in its own transaction: the callback work order is opened in that
transaction and the notice is sent after it commits, so several workers, or a worker that stopped
half-way and a later run, reach each customer once per round. A notice is sent at most once: it is
claimed before sending, a lost job is queued again and a claim whose worker stopped is left for a
person to check (``sweep_notices``).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.core.mail import send_mail
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.core import events
from kefu.core.choices import Channel
from kefu.core.jobs import enqueue
from kefu.customers.models import ContactPoint, Customer
from kefu.plans.models import CareTarget, PlanKind, PlanRound, ServicePlan

log = logging.getLogger(__name__)
BATCH = 500


def audience(plan: ServicePlan) -> QuerySet[Customer]:
    """The active customers a scheduled care plan reaches (a VIP tier, a tag, or both)."""
    qs = Customer.objects.filter(is_active=True, merged_into__isnull=True)
    if plan.audience_tier_id is not None:
        qs = qs.filter(vip_tier_id=plan.audience_tier_id)
    if plan.audience_tag_id is not None:
        qs = qs.filter(tags=plan.audience_tag_id)
    return qs.order_by("pk")


def _claim(
    plan: ServicePlan, customer_id: int, key: str, made: PlanRound | None, source: int | None
) -> int | None:
    table = CareTarget._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (plan_id, round_id, customer_id, key, source_ticket_id, "  # noqa: S608 - table name is ours
            "notice_outcome, notice_ref, created_at) VALUES (%s, %s, %s, %s, %s, %s, '', %s) "
            "ON CONFLICT (plan_id, customer_id, key) DO NOTHING RETURNING id",
            [
                plan.pk,
                made.pk if made is not None else None,
                customer_id,
                key,
                source,
                CareTarget.Outcome.PLANNED,
                timezone.now(),
            ],
        )
        row = cursor.fetchone()
    return None if row is None else int(row[0])


def reach(
    plan: ServicePlan,
    customer: Customer,
    *,
    key: str,
    made: PlanRound | None = None,
    source: Any = None,
) -> CareTarget | None:
    """Claim one customer for one round and do the care (None: already reached)."""
    with transaction.atomic():
        target_id = _claim(plan, customer.pk, key, made, source.pk if source is not None else None)
        if target_id is None:
            return None
        target = CareTarget.objects.get(pk=target_id)
        if plan.care_action in (ServicePlan.CareAction.CALLBACK, ServicePlan.CareAction.BOTH):
            target.callback = _callback(plan, customer, source)
            target.save(update_fields=["callback"])
        if plan.care_action in (ServicePlan.CareAction.NOTICE, ServicePlan.CareAction.BOTH):
            from kefu.plans.tasks import send_care_notice_task

            enqueue(send_care_notice_task, target.pk)
        events.record(
            "care_planned",
            customer,
            actor=None,
            data={"plan": plan.name, "key": key, "action": plan.care_action},
        )
    return target


def _callback(plan: ServicePlan, customer: Customer, source: Any) -> Any:
    from kefu.tickets.services import create_ticket

    description = plan.description or _("A care call from the plan “%(plan)s”.") % {
        "plan": plan.name
    }
    if source is not None:
        description += "\n" + _("After work order %(n)s.") % {"n": source.number}
    return create_ticket(
        actor=None,
        title=(_("Care callback: %(plan)s") % {"plan": plan.name})[:200],
        ticket_type="care_callback",
        description=description,
        channel=Channel.API,
        customer=customer.pk,
        team=plan.team,
        assignee=plan.assignee if plan.assignee is not None and plan.assignee.is_active else None,
        parent=source if source is not None and source.parent_id is None else None,
    )


def run_care(limit: int = BATCH) -> int:
    """Work through unfinished care rounds and tag-triggered care; the number of customers
    reached in this run."""
    reached = 0
    rounds = (
        PlanRound.objects.filter(finished_at__isnull=True, plan__kind=PlanKind.CARE)
        .select_related("plan", "plan__assignee", "plan__team")
        .order_by("created_at")
    )
    for made in rounds[:20]:
        plan = made.plan
        key = made.period_start.isoformat()
        done = CareTarget.objects.filter(plan=plan, key=key).values("customer_id")
        room = limit - reached
        pending = list(audience(plan).exclude(pk__in=done)[:room])
        for customer in pending:
            if reach(plan, customer, key=key, made=made) is not None:
                reached += 1
        if len(pending) < room:
            total = CareTarget.objects.filter(round=made).count()
            PlanRound.objects.filter(pk=made.pk, finished_at__isnull=True).update(
                finished_at=timezone.now(), targets=total
            )
        if reached >= limit:
            return reached
    return reached + _after_tag(limit - reached)


def _after_tag(limit: int, now: dt.datetime | None = None) -> int:
    from kefu.tickets.models import Ticket

    now = now or timezone.now()
    reached = 0
    plans = ServicePlan.objects.filter(
        is_active=True, kind=PlanKind.CARE, care_trigger=ServicePlan.CareTrigger.AFTER_TAG
    ).select_related("assignee", "team")
    for plan in plans:
        if reached >= limit:
            break
        zone = timezone.get_current_timezone()
        since = dt.datetime.combine(plan.starts_on, dt.time(), tzinfo=zone)
        tickets = (
            Ticket.objects.filter(
                tags__name=plan.trigger_tag,
                customer__isnull=False,
                resolved_at__gte=since,
                resolved_at__lte=now - dt.timedelta(days=plan.delay_days),
            )
            .exclude(
                pk__in=CareTarget.objects.filter(plan=plan, source_ticket__isnull=False).values(
                    "source_ticket_id"
                )
            )
            .select_related("customer")
            .order_by("resolved_at")[: limit - reached]
        )
        for ticket in tickets:
            if ticket.customer is None:
                continue
            if reach(plan, ticket.customer, key=f"t{ticket.pk}", source=ticket) is not None:
                reached += 1
    return reached


def notice_address(customer: Customer, channel: str) -> str:
    kind = ContactPoint.Kind.PHONE if channel == "sms" else ContactPoint.Kind.EMAIL
    point = (
        ContactPoint.objects.filter(customer=customer, kind=kind)
        .order_by("-is_primary", "pk")
        .first()
    )
    if point is None:
        return ""
    return point.normalized or point.value


def notice_text(plan: ServicePlan, customer: Customer) -> str:
    """The plan's text with ``{name}`` replaced by the customer's name (nothing else is read)."""
    return plan.notice_text.replace("{name}", customer.name)


def send_notice(target_id: int) -> str:
    """Send one target's notice at most once.

    The target is claimed (SENDING, with the time) in a transaction that commits before anything
    is sent, so a second run, another worker or a retry finds it no longer planned; the outcome
    is written after the sending. A worker that stops between the two leaves the claim, which
    ``sweep_notices`` turns into UNKNOWN for a person to check: never a second message."""
    with transaction.atomic():
        target = (
            CareTarget.objects.select_for_update(of=("self",))
            .select_related("plan", "customer")
            .filter(pk=target_id)
            .first()
        )
        if target is None or target.notice_outcome != CareTarget.Outcome.PLANNED:
            return "skipped"
        plan, customer = target.plan, target.customer
        address = notice_address(customer, plan.notice_channel)
        if not address:
            target.notice_outcome = CareTarget.Outcome.NO_ADDRESS
            target.save(update_fields=["notice_outcome"])
            _notice_event(target, CareTarget.Outcome.NO_ADDRESS)
            return str(CareTarget.Outcome.NO_ADDRESS)
        target.notice_outcome = CareTarget.Outcome.SENDING
        target.notice_claimed_at = timezone.now()
        target.save(update_fields=["notice_outcome", "notice_claimed_at"])
    text = notice_text(plan, customer)
    ref: Any = ""
    try:
        if plan.notice_channel == ServicePlan.NoticeChannel.SMS:
            from kefu.surveys.sms import backend

            ref = backend().send(address, text)
        else:
            send_mail(plan.name, text, None, [address])
        outcome = CareTarget.Outcome.SENT
    except Exception:
        log.exception("care notice %s could not be sent", target_id)
        outcome = CareTarget.Outcome.FAILED
    with transaction.atomic():
        # also over an UNKNOWN the sweep wrote meanwhile: now it is known
        written = CareTarget.objects.filter(
            pk=target.pk,
            notice_outcome__in=(CareTarget.Outcome.SENDING, CareTarget.Outcome.UNKNOWN),
        ).update(notice_outcome=outcome, notice_ref=str(ref or "")[:100])
        if written:
            _notice_event(target, outcome)
    return str(outcome)


def _notice_event(target: CareTarget, outcome: str) -> None:
    plan = target.plan
    action = {
        CareTarget.Outcome.SENT: "care_notice_sent",
        CareTarget.Outcome.UNKNOWN: "care_notice_unknown",
    }.get(CareTarget.Outcome(outcome), "care_notice_failed")
    events.record(
        action,
        target.customer,
        actor=None,
        data={"plan": plan.name, "channel": plan.notice_channel, "outcome": outcome},
    )


# A planned notice not taken this long after it was planned lost its job (a full queue or a
# restart); a claim this old lost its worker.
NOTICE_STALE_AFTER = dt.timedelta(minutes=15)


def sweep_notices(now: dt.datetime | None = None, batch: int = BATCH) -> tuple[int, int]:
    """Queue again the notices still planned long after their target was made, and mark the
    claims left by a stopped worker UNKNOWN (it may or may not have sent: a person checks rather
    than the customer getting the notice twice). Returns (queued again, marked unknown)."""
    from kefu.plans.tasks import send_care_notice_task

    now = now or timezone.now()
    stale = now - NOTICE_STALE_AFTER
    waiting = list(
        CareTarget.objects.filter(
            notice_outcome=CareTarget.Outcome.PLANNED,
            created_at__lt=stale,
            plan__care_action__in=(ServicePlan.CareAction.NOTICE, ServicePlan.CareAction.BOTH),
        )
        .order_by("created_at")
        .values_list("pk", flat=True)[:batch]
    )
    for target_id in waiting:
        enqueue(send_care_notice_task, target_id)
    lost = 0
    claims = CareTarget.objects.filter(
        notice_outcome=CareTarget.Outcome.SENDING, notice_claimed_at__lt=stale
    ).values_list("pk", flat=True)[:batch]
    for target_id in list(claims):
        with transaction.atomic():
            target = (
                CareTarget.objects.select_for_update(of=("self",))
                .select_related("plan", "customer")
                .filter(
                    pk=target_id,
                    notice_outcome=CareTarget.Outcome.SENDING,
                    notice_claimed_at__lt=stale,
                )
                .first()
            )
            if target is None:
                continue
            target.notice_outcome = CareTarget.Outcome.UNKNOWN
            target.save(update_fields=["notice_outcome"])
            _notice_event(target, CareTarget.Outcome.UNKNOWN)
            lost += 1
    return len(waiting), lost
