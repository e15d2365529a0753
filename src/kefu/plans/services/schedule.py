"""The one scheduler for plans and proactive care.

``generate_due`` runs from a periodic job (every worker may run it at the same moment). Each
round a plan owes is *claimed* by inserting its (plan, period_start) row with
``ON CONFLICT DO NOTHING``: the worker whose insert went in makes the round in the same
transaction, every other worker's insert waits for it and is skipped. Care plans reach many
customers: their round is claimed first and its customers are then worked through one by one,
each claimed by its own unique (plan, customer, key) row, so a worker that stops half-way leaves
the rest to the next run and nobody is called or told twice.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.core import events
from kefu.core.choices import Channel
from kefu.plans import recurrence
from kefu.plans.models import (
    WORK_ORDER_KINDS,
    Attendance,
    PlanKind,
    PlanRound,
    ServicePlan,
    TrainingSession,
)
from kefu.plans.services.setup import rule_of

log = logging.getLogger(__name__)


def is_working_for(plan: ServicePlan) -> Callable[[dt.date], bool]:
    """Whether a local date is a working day on the plan's business calendar (every day when it
    has none)."""
    if plan.calendar_id is None:
        return lambda _day: True
    from kefu.sla.calendars import calendar

    cal = calendar(plan.calendar_id)
    if cal.always_open:
        return lambda _day: True
    return lambda day: bool(cal.periods_on(day))


def due_rounds(plan: ServicePlan, today: dt.date) -> list[recurrence.Occurrence]:
    return recurrence.occurrences(
        rule_of(plan),
        today=today,
        lead_days=plan.lead_days,
        is_working=is_working_for(plan),
        how=plan.shift,
        after=plan.last_period,
    )


def refresh_next_due(plan: ServicePlan, today: dt.date | None = None) -> dt.date | None:
    """Store the next due date (shown on lists); None when the plan has no more rounds."""
    today = today or timezone.localdate()
    nxt = recurrence.next_occurrence(
        rule_of(plan),
        today=today,
        is_working=is_working_for(plan),
        how=plan.shift,
        after=plan.last_period,
    )
    due = nxt.due_on if nxt else None
    if due != plan.next_due_on:
        ServicePlan.objects.filter(pk=plan.pk).update(next_due_on=due)
        plan.next_due_on = due
    return due


def _claim(plan: ServicePlan, occ: recurrence.Occurrence) -> int | None:
    """Insert the round's row or skip it: the new row's id, or None when it existed."""
    table = PlanRound._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (plan_id, period_start, due_on, targets, created_at) "  # noqa: S608 - table name is ours
            "VALUES (%s, %s, %s, 0, %s) ON CONFLICT (plan_id, period_start) DO NOTHING RETURNING id",
            [plan.pk, occ.period_start, occ.due_on, timezone.now()],
        )
        row = cursor.fetchone()
    return None if row is None else int(row[0])


def generate_due(today: dt.date | None = None) -> list[PlanRound]:
    """Make every round that is due today for every active plan (safe to run at once by several
    workers). Care rounds are then worked through by :func:`kefu.plans.services.care.run_care`."""
    today = today or timezone.localdate()
    made: list[PlanRound] = []
    plans = ServicePlan.objects.filter(is_active=True).exclude(
        kind=PlanKind.CARE, care_trigger=ServicePlan.CareTrigger.AFTER_TAG
    )
    plans = plans.filter(Q(ends_on__isnull=True) | Q(ends_on__gte=today - dt.timedelta(days=31)))
    for plan in plans.select_related("checklist", "customer", "asset"):
        try:
            occs = due_rounds(plan, today)
        except recurrence.RuleError:
            log.warning("plan %s has a rule that names no date", plan.pk)
            continue
        try:
            for occ in occs:
                made_round = make_round(plan, occ)
                if made_round is not None:
                    made.append(made_round)
            refresh_next_due(plan, today)
        except Exception:
            # One plan that cannot make its round (its assignee left, its checklist is empty)
            # must not stop the others; it is tried again on the next run.
            log.exception("plan %s could not make its round", plan.pk)
    return made


def make_round(plan: ServicePlan, occ: recurrence.Occurrence) -> PlanRound | None:
    """Claim and make one round; None when another worker (or an earlier run) made it."""
    with transaction.atomic():
        round_id = _claim(plan, occ)
        if round_id is None:
            return None
        made = PlanRound.objects.select_related("plan").get(pk=round_id)
        if plan.kind in WORK_ORDER_KINDS:
            made.ticket = _work_order(plan, made)
            made.finished_at = timezone.now()
            made.save(update_fields=["ticket", "finished_at"])
        elif plan.kind == PlanKind.TRAINING:
            _training_session(plan, made)
            made.finished_at = timezone.now()
            made.save(update_fields=["finished_at"])
        ServicePlan.objects.filter(pk=plan.pk).filter(
            Q(last_period__isnull=True) | Q(last_period__lt=occ.period_start)
        ).update(last_period=occ.period_start)
        plan.last_period = max(plan.last_period or occ.period_start, occ.period_start)
        events.record(
            "plan_round_made",
            plan,
            actor=None,
            data={
                "period": occ.period_start.isoformat(),
                "due": occ.due_on.isoformat(),
                **({"ticket": made.ticket.number} if made.ticket else {}),
            },
        )
    return made


def work_order_title(plan: ServicePlan, due_on: dt.date) -> str:
    return f"{plan.name} · {due_on:%Y-%m-%d}"


def _work_order(plan: ServicePlan, made: PlanRound) -> Any:
    from kefu.plans.services.checklists import start_checklist
    from kefu.tickets.services import create_ticket

    site = plan.site or (_("The service centre") if plan.for_centre else "")
    description = _(
        "Planned work from the plan “%(plan)s”, due %(due)s. Tick every item of the checklist "
        "on this page; a failed item raises a rectification."
    ) % {"plan": plan.name, "due": made.due_on.isoformat()}
    if plan.asset_id is not None and plan.asset is not None:
        asset = plan.asset
        description += "\n" + _("Asset: %(product)s %(model)s, serial number %(serial)s") % {
            "product": asset.product,
            "model": asset.model,
            "serial": asset.serial,
        }
    if plan.description:
        description = f"{description}\n\n{plan.description}"
    ticket = create_ticket(
        actor=None,
        title=work_order_title(plan, made.due_on),
        ticket_type=plan.kind,
        description=description,
        channel=Channel.API,
        customer=plan.customer_id,
        place=site[:200],
        team=plan.team,
        assignee=_working(plan.assignee),
    )
    if plan.checklist is not None:
        start_checklist(ticket=ticket, template=plan.checklist, plan=plan)
    return ticket


def _working(user: Any) -> Any:
    """The plan's assignee if they can still take work (else the round goes to the team)."""
    from kefu.plans.services.setup import WORKING_ROLES

    if user is not None and user.is_active and user.role in WORKING_ROLES:
        return user
    return None


def _training_session(plan: ServicePlan, made: PlanRound) -> TrainingSession:
    zone = timezone.get_current_timezone()
    starts = dt.datetime.combine(made.due_on, plan.session_time, tzinfo=zone)
    session = TrainingSession.objects.create(
        plan=plan,
        round=made,
        title=work_order_title(plan, made.due_on),
        starts_at=starts,
        duration_minutes=plan.session_minutes,
        place=plan.site,
    )
    Attendance.objects.bulk_create(
        Attendance(session=session, trainee=trainee) for trainee in plan.trainees.all()
    )
    return session
