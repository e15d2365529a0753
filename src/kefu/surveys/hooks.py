"""What surveys do when a work order changes (registered with ``register_ticket_hook``), and
the same for many work orders at once (registered with ``register_bulk_ticket_hook``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.core import events as event_log
from kefu.core import jobs
from kefu.core.models import Event
from kefu.surveys import followups, services
from kefu.surveys.models import (
    Delivery,
    FollowUpPlan,
    FollowUpTask,
    Invitation,
    LoopCase,
    SurveyTemplate,
    SurveyVersion,
    Trigger,
)


def on_ticket_change(ticket: Any, event: Any) -> None:
    """Runs inside the work order's transaction after every recorded change."""
    if event.action != "ticket_status_changed":
        return
    move = (event.data or {}).get("move")
    if move in ("resolve", "close"):
        services.close_loops_for(ticket, event.actor)
    if move != "resolve" or not ticket.customer_id:
        return
    plan = followups.plan_for(ticket)
    if plan is not None:
        followups.create_task(ticket, plan)
        return  # the follow-up call carries the survey: no second one by link
    services.survey_after(
        Trigger.TICKET_RESOLVED,
        customer=ticket.customer,
        channel=ticket.channel,
        ticket=ticket,
        agent=ticket.assignee,
        team=ticket.team,
    )


def on_ticket_events(tickets: list[Any], events: list[Event]) -> None:
    """Batch version of :func:`on_ticket_change` (one reply to many work orders): the same
    cases closed, follow-up tasks and survey invitations (one per customer within the
    throttle, counting those sent earlier in the batch), and the same events, with a few
    statements for the whole batch."""
    by_pk = {t.pk: t for t in tickets}
    moves = [
        (by_pk[e.object_id], e)
        for e in events
        if e.action == "ticket_status_changed"
        and e.object_id in by_pk
        and (e.data or {}).get("move") in ("resolve", "close")
    ]
    if not moves:
        return
    now = timezone.now()
    builders: dict[int | None, Callable[..., Event]] = {}

    def build(actor: Any) -> Callable[..., Event]:
        key = actor.pk if actor is not None else None
        if key not in builders:
            builders[key] = event_log._builder(actor)
        return builders[key]

    written = _close_loops(moves, build, now)
    resolved = [(t, e) for t, e in moves if e.data["move"] == "resolve" and t.customer_id]
    if resolved:
        written += _invite(resolved, build, now)
    if written:
        Event.objects.bulk_create(written)


def _close_loops(
    moves: list[tuple[Any, Event]], build: Callable[[Any], Callable[..., Event]], now: dt.datetime
) -> list[Event]:
    """:func:`services.close_loops_for` for every finished work order of the batch."""
    cases: dict[int, list[LoopCase]] = {}
    for case in LoopCase.objects.select_for_update().filter(
        tracked_id__in=[t.pk for t, _e in moves], status=LoopCase.Status.OPEN
    ):
        cases.setdefault(case.tracked_id or 0, []).append(case)
    if not cases:
        return []
    written: list[Event] = []
    closed: list[int] = []
    for ticket, event in moves:
        status = (event.changes or {}).get("status") or [None, ticket.status]
        for case in cases.pop(ticket.pk, []):
            closed.append(case.pk)
            written.append(
                build(event.actor)(
                    "survey_loop_closed",
                    object_type=LoopCase._meta.model_name or "",
                    object_id=case.pk,
                    object_repr=ticket.number,
                    changes=None,
                    data={"ticket_status": status[1]},
                    at=now,
                )
            )
    LoopCase.objects.filter(pk__in=closed).update(status=LoopCase.Status.CLOSED, closed_at=now)
    return written


def _invite(
    resolved: list[tuple[Any, Event]],
    build: Callable[[Any], Callable[..., Event]],
    now: dt.datetime,
) -> list[Event]:
    """A follow-up task for each resolved work order a plan samples, else the survey the
    first matching policy asks for unless the customer is throttled."""
    plans = followups.active_plans()
    policies = services.active_policies(Trigger.TICKET_RESOLVED)
    versions: dict[int, SurveyVersion | None] = {}

    def version_of(template: SurveyTemplate) -> SurveyVersion:
        if template.pk not in versions:
            versions[template.pk] = template.current()
        version = versions[template.pk]
        if version is None:
            raise ValidationError({"template": [_("This survey has no questions yet.")]})
        return version

    longest = max((p.throttle_days for p in policies), default=0)
    last_sent: dict[int, Any] = {}
    if longest > 0:
        last_sent = dict(
            Invitation.objects.filter(
                customer_id__in={t.customer_id for t, _e in resolved},
                sent_at__gt=now - dt.timedelta(days=longest),
            )
            .order_by()
            .values_list("customer_id")
            .annotate(last=Max("sent_at"))
            .values_list("customer_id", "last")
        )
    rows: list[tuple[Any, Invitation, FollowUpPlan | None]] = []
    for ticket, _event in resolved:
        plan = followups.plan_for(ticket, plans)
        if plan is not None:
            invitation = services.invitation_row(
                version=version_of(plan.template),
                trigger=Trigger.FOLLOW_UP,
                delivery=Delivery.CALL,
                customer=ticket.customer,
                now=now,
                ticket=ticket,
                channel=ticket.channel,
                agent=ticket.assignee,
                team=ticket.team,
                expires_days=30,
            )
        else:
            policy = services.matching_policy(
                Trigger.TICKET_RESOLVED, ticket.channel, ticket.ticket_type_id, policies
            )
            if policy is None:
                continue
            last = last_sent.get(ticket.customer_id)
            days = policy.throttle_days
            if days > 0 and last is not None and last > now - dt.timedelta(days=days):
                continue
            invitation = services.invitation_row(
                version=version_of(policy.template),
                policy=policy,
                trigger=Trigger.TICKET_RESOLVED,
                delivery=policy.delivery,
                customer=ticket.customer,
                now=now,
                ticket=ticket,
                channel=ticket.channel,
                agent=ticket.assignee,
                team=ticket.team,
                expires_days=policy.expires_days,
            )
        last_sent[ticket.customer_id] = now  # throttles the customer's later work orders
        rows.append((ticket, invitation, plan))
    if not rows:
        return []
    Invitation.objects.bulk_create([invitation for _t, invitation, _p in rows])
    system = build(None)
    written = [
        system(
            "survey_sent",
            object_type=Invitation._meta.model_name or "",
            object_id=invitation.pk,
            object_repr=ticket.number or f"#{invitation.pk}",
            changes=None,
            data=services.sent_data(invitation),
            at=now,
        )
        for ticket, invitation, _plan in rows
    ]
    tasks = FollowUpTask.objects.bulk_create(
        FollowUpTask(ticket=ticket, plan=plan, invitation=invitation, team=ticket.team)
        for ticket, invitation, plan in rows
        if plan is not None
    )
    written += [
        system(
            "followup_task_created",
            object_type=FollowUpTask._meta.model_name or "",
            object_id=task.pk,
            object_repr=task.ticket.number,
            changes=None,
            data=followups.task_data(task.plan),
            at=now,
        )
        for task in tasks
    ]
    delivered = [i.pk for _t, i, _p in rows if i.delivery in (Delivery.EMAIL, Delivery.SMS)]
    if delivered:
        from kefu.surveys.tasks import deliver_invitations_task

        jobs.enqueue(deliver_invitations_task, delivered)  # one job, one mail connection
    return written
