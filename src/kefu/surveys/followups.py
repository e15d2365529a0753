"""Follow-up calls (回访): sampling plans, tasks for agents, attempts and their results.

A resolved work order that a plan samples gets a :class:`FollowUpTask` with an invitation the
agent fills in during the call. The work order moves to 已回访 (followed up) only when the task
is finished: answered, or unreachable after the plan's attempts."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.models import User
from kefu.core import events
from kefu.core.permissions import require_perm
from kefu.core.validation import clean_text
from kefu.surveys import services
from kefu.surveys.models import Delivery, FollowUpPlan, FollowUpTask, OnDissatisfied, Trigger


def sampled(key: str, percent: int) -> bool:
    """Whether ``key`` (a work-order number) falls in a ``percent`` % sample. Deterministic, so
    the same work order is always in or out, and evenly spread over numbers."""
    if percent >= 100:
        return True
    if percent <= 0:
        return False
    bucket = int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "big") % 100
    return bucket < percent


def active_plans() -> list[FollowUpPlan]:
    return list(FollowUpPlan.objects.filter(is_active=True).select_related("template"))


def plan_for(ticket: Any, plans: list[FollowUpPlan] | None = None) -> FollowUpPlan | None:
    """The first active plan whose type, VIP rule and sample take this work order; ``plans``
    are the active plans when the caller has read them already."""
    is_vip = bool(ticket.customer_id and ticket.customer and ticket.customer.vip_tier_id)
    for plan in active_plans() if plans is None else plans:
        if plan.ticket_type_id and plan.ticket_type_id != ticket.ticket_type_id:
            continue
        if plan.vip_only and not is_vip:
            continue
        if plan.template.is_active and sampled(ticket.number, plan.sample_percent):
            return plan
    return None


def create_task(ticket: Any, plan: FollowUpPlan, *, actor: User | None = None) -> FollowUpTask:
    invitation = services.invite(
        template=plan.template,
        trigger=Trigger.FOLLOW_UP,
        delivery=Delivery.CALL,
        customer=ticket.customer,
        ticket=ticket,
        channel=ticket.channel,
        agent=ticket.assignee,
        team=ticket.team,
        expires_days=30,
        actor=actor,
    )
    task = FollowUpTask.objects.create(
        ticket=ticket, plan=plan, invitation=invitation, team=ticket.team
    )
    events.record(
        "followup_task_created",
        task,
        actor=actor,
        object_repr=ticket.number,
        data=task_data(plan),
    )
    return task


def task_data(plan: FollowUpPlan) -> dict[str, Any]:
    """The ``followup_task_created`` event's data."""
    return {"plan": plan.name}


def _lock(task: FollowUpTask) -> FollowUpTask:
    return (
        FollowUpTask.objects.select_for_update(of=("self",))
        .select_related("ticket", "plan", "invitation")
        .get(pk=task.pk)
    )


def _check_open(task: FollowUpTask, actor: User) -> None:
    require_perm(actor, "surveys.followup")
    if task.status != FollowUpTask.Status.OPEN:
        raise ValidationError({"status": [_("This follow-up call is already finished.")]})
    if task.assignee_id not in (None, actor.pk):
        raise PermissionDenied(_("Another agent has taken this follow-up call."))


@transaction.atomic
def take_task(*, actor: User, task: FollowUpTask) -> FollowUpTask:
    task = _lock(task)
    _check_open(task, actor)
    before = task.assignee_id
    task.assignee = actor
    task.save(update_fields=["assignee"])
    events.record(
        "followup_task_taken",
        task,
        actor=actor,
        object_repr=task.ticket.number,
        changes={"assignee": [before, actor.pk]},
    )
    return task


@transaction.atomic
def record_unreachable(
    *, actor: User, task: FollowUpTask, note: str = "", now: dt.datetime | None = None
) -> FollowUpTask:
    """A call attempt nobody answered: retry later, or finish as unreachable after the plan's
    last attempt (the work order is then followed up with the result "unreachable")."""
    from kefu.tickets.services import transition_ticket
    from kefu.tickets.states import Status

    task = _lock(task)
    _check_open(task, actor)
    note = clean_text(note, field="note", max_length=2000)
    now = now or timezone.now()
    task.attempts += 1
    task.assignee = actor
    if note:
        task.note = f"{task.note}\n{note}".strip()
    finished = task.attempts >= task.plan.max_attempts
    if finished:
        transition_ticket(
            actor=actor,
            ticket=task.ticket,
            to=Status.FOLLOWED_UP,
            followup_result="unreachable",
            reason=_("No answer after %(n)s calls.") % {"n": task.attempts},
        )
        task.status = FollowUpTask.Status.UNREACHABLE
        task.done_at = now
    else:
        task.next_attempt_at = now + dt.timedelta(hours=task.plan.retry_hours)
    task.save(
        update_fields=["attempts", "assignee", "note", "status", "done_at", "next_attempt_at"]
    )
    events.record(
        "followup_unreachable",
        task,
        actor=actor,
        object_repr=task.ticket.number,
        data={"attempt": task.attempts, "finished": finished},
    )
    return task


@transaction.atomic
def complete_task(
    *, actor: User, task: FollowUpTask, answers: Mapping[str, Any], note: str = ""
) -> FollowUpTask:
    """The customer answered the follow-up call: save their answers and move the work order to
    已回访. A dissatisfied answer reopens it (the work-order rule) and opens a tracked case."""
    from kefu.tickets.services import transition_ticket
    from kefu.tickets.states import Status

    task = _lock(task)
    _check_open(task, actor)
    note = clean_text(note, field="note", max_length=2000)
    if task.ticket.status != Status.RESOLVED:
        raise ValidationError(
            {"status": [_("The work order is no longer resolved; it cannot be followed up now.")]}
        )
    response = services.submit_answer(
        invitation=task.invitation, raw=answers, via=Delivery.CALL, actor=actor, close_loop=False
    )
    result = "dissatisfied" if response.dissatisfied else "satisfied"
    transition_ticket(
        actor=actor, ticket=task.ticket, to=Status.FOLLOWED_UP, followup_result=result
    )
    task.status = FollowUpTask.Status.DONE
    task.assignee = actor
    task.attempts += 1
    task.done_at = timezone.now()
    if note:
        task.note = f"{task.note}\n{note}".strip()
    task.save(update_fields=["status", "assignee", "attempts", "done_at", "note"])
    events.record(
        "followup_done",
        task,
        actor=actor,
        object_repr=task.ticket.number,
        data={"result": result, "response": response.pk},
    )
    if response.dissatisfied:
        # the work-order rule has already reopened it; a complaint plan also opens a complaint
        services.open_loop(
            response,
            action=task.plan.on_dissatisfied,
            actor=actor,
            reopened=task.plan.on_dissatisfied == OnDissatisfied.REOPEN,
        )
    return task
