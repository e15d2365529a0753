"""SLA clocks of work orders: started, stopped, paused, resumed and recomputed as the work order
moves, each change of deadline kept with its reason.

Every work-order event reaches :func:`on_ticket_event` (a ticket hook, in the same
transaction), so deadlines are always current and copied to indexed columns on the work order.
The arithmetic is the pure clock in :mod:`kefu.sla.clock`; the sweep that fires warnings and
breaches is in :mod:`kefu.sla.sweep`.

Rules (``docs/sla.md`` explains them with examples):

* At creation the first matching policy's first-response, resolution, remote-support and
  on-site clocks start, from the work order's creation time.
* A public reply stops the first-response clock and any next-response clock; a customer
  message after the first response starts a next-response clock.
* Remote support started / engineer on site stop those clocks.
* Resolving stops first response, next response and resolution (met or breached); remote and
  on-site clocks that never stopped are cancelled. Cancelling or merging cancels every clock.
* Entering one of the policy's pause statuses pauses resolution and next-response clocks;
  leaving it resumes them. Reopening resumes the resolution clock, not counting the time the
  work order spent resolved.
* A change of type, category, priority, severity, channel, area or customer re-matches the
  policy; running clocks take the new targets from their original start.
* A transfer starts the department's reply clock; the reply (or the send-back) stops it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.core.models import Event
from kefu.sla import calendars, clock
from kefu.sla.models import DeadlineChange, Metric, SlaClock
from kefu.sla.policies import CompiledPolicy, Target, by_id, match
from kefu.tickets.models import Ticket, Transfer
from kefu.tickets.states import Status

BREACH = 100
PAUSABLE = frozenset({Metric.RESOLUTION, Metric.NEXT_RESPONSE})
STARTED_AT_CREATION = (
    Metric.FIRST_RESPONSE,
    Metric.RESOLUTION,
    Metric.REMOTE_RESPONSE,
    Metric.ONSITE_ARRIVAL,
)
POLICY_FIELDS = frozenset(
    {"ticket_type", "priority", "severity", "category", "channel", "customer", "area"}
)
MILESTONES = {
    "ticket_remote_started": Metric.REMOTE_RESPONSE,
    "ticket_onsite_arrived": Metric.ONSITE_ARRIVAL,
}
RELEVANT = frozenset(
    {
        "ticket_created",
        "ticket_changed",
        "ticket_status_changed",
        "ticket_assigned",
        "ticket_escalated",
        "ticket_replied",
        "customer_replied",
        "ticket_transferred",
        "transfer_replied",
        "transfer_returned",
        "transfer_withdrawn",
        "transfer_rejected",
        "ticket_merged_into",
        *MILESTONES,
    }
)
LIVE = (SlaClock.State.RUNNING, SlaClock.State.PAUSED)


# --- arithmetic on one clock ---------------------------------------------------------------------


def pauses_of(c: SlaClock) -> list[tuple[dt.datetime, dt.datetime | None]]:
    return [
        (dt.datetime.fromisoformat(a), dt.datetime.fromisoformat(b) if b else None)
        for a, b in c.pauses
    ]


def compute_due(c: SlaClock) -> dt.datetime | None:
    return clock.add_working_time(
        calendars.calendar(c.calendar_id), c.started_at, c.target_seconds, pauses_of(c)
    )


def level_time(c: SlaClock, level: int) -> dt.datetime | None:
    """When the clock reaches ``level`` % of its target."""
    if level >= BREACH:
        return c.due_at
    return clock.add_working_time(
        calendars.calendar(c.calendar_id),
        c.started_at,
        c.target_seconds * level // 100,
        pauses_of(c),
    )


def used(c: SlaClock, at: dt.datetime) -> int:
    """Working seconds the clock has counted up to ``at``."""
    if c.state not in LIVE and c.elapsed_seconds is not None:
        return int(c.elapsed_seconds)
    return clock.working_seconds(calendars.calendar(c.calendar_id), c.started_at, at, pauses_of(c))


def next_alert(c: SlaClock) -> dt.datetime | None:
    """When the sweep must next look at this clock: its next unfired warning, else its
    deadline until the breach has fired."""
    if c.state != SlaClock.State.RUNNING or c.due_at is None:
        return None
    for level in sorted(int(x) for x in c.warn_at):
        if level not in c.fired and 0 < level < BREACH:
            return level_time(c, level)
    return c.due_at if BREACH not in c.fired else None


def _history(
    c: SlaClock, old: dt.datetime | None, reason: str, actor: int | None, at: dt.datetime
) -> DeadlineChange:
    return DeadlineChange(
        clock=c, at=at, old_due_at=old, new_due_at=c.due_at, reason=reason[:200], actor_id=actor
    )


def _reschedule(c: SlaClock) -> None:
    c.due_at = compute_due(c) if c.state == SlaClock.State.RUNNING else None
    if c.due_at is not None and BREACH in c.fired and c.due_at > timezone.now():
        # The deadline moved past now (a longer target, a pause): it can breach again.
        c.fired = [level for level in c.fired if level != BREACH]
        c.breached_at = None
    c.next_alert_at = next_alert(c)


# --- starting and stopping -------------------------------------------------------------------------


def new_clock(
    ticket: Ticket,
    policy: CompiledPolicy,
    target: Target,
    at: dt.datetime,
    transfer: Transfer | None = None,
    seconds: int | None = None,
) -> SlaClock:
    c = SlaClock(
        ticket=ticket,
        transfer=transfer,
        metric=target.metric,
        policy_id=policy.policy_id,
        target_seconds=seconds if seconds is not None else target.seconds,
        calendar_id=target.calendar_id,
        warn_at=list(target.warn_at),
        started_at=at,
    )
    c.due_at = compute_due(c)
    c.next_alert_at = next_alert(c)
    return c


def _start(
    ticket: Ticket,
    policy: CompiledPolicy,
    metrics: Iterable[str],
    at: dt.datetime,
    actor: int | None,
    transfer: Transfer | None = None,
    due: dt.datetime | None = None,
) -> list[SlaClock]:
    started = []
    for metric in metrics:
        target = policy.targets.get(metric)
        if target is None:
            continue
        seconds = None
        if due is not None:
            # A deadline the agent chose: the target is the working time until it.
            seconds = max(
                60, clock.working_seconds(calendars.calendar(target.calendar_id), at, due)
            )
        started.append(new_clock(ticket, policy, target, at, transfer, seconds))
    if started:
        SlaClock.objects.bulk_create(started)
        reason = _("Started under “%(p)s”") % {"p": policy.name}
        DeadlineChange.objects.bulk_create([_history(c, None, reason, actor, at) for c in started])
    return started


@dataclass
class _Batch:
    """Changes held back while a batch of work orders is applied, written at its end."""

    clocks: dict[int, SlaClock] = field(default_factory=dict)
    history: list[DeadlineChange] = field(default_factory=list)


_BATCH: ContextVar[_Batch | None] = ContextVar("sla_batch", default=None)


def _save(c: SlaClock) -> None:
    batch = _BATCH.get()
    if batch is None:
        c.save()
    else:
        batch.clocks[c.pk] = c


def _keep_history(history: list[DeadlineChange]) -> None:
    batch = _BATCH.get()
    if batch is None:
        DeadlineChange.objects.bulk_create(history)
    else:
        batch.history += history


def _stop(c: SlaClock, at: dt.datetime) -> None:
    if c.state == SlaClock.State.PAUSED:
        _close_pause(c, at)
    c.elapsed_seconds = clock.working_seconds(
        calendars.calendar(c.calendar_id), c.started_at, at, pauses_of(c)
    )
    late = c.elapsed_seconds > c.target_seconds
    c.state = SlaClock.State.BREACHED if late else SlaClock.State.MET
    if late and c.breached_at is None:
        c.breached_at = c.due_at or at
    c.stopped_at = at
    c.next_alert_at = None
    _save(c)


def _cancel(c: SlaClock, at: dt.datetime, reason: str, actor: int | None) -> DeadlineChange:
    old = c.due_at
    c.state = SlaClock.State.CANCELLED
    c.stopped_at = at
    c.next_alert_at = None
    c.due_at = None
    _save(c)
    return _history(c, old, reason, actor, at)


def _close_pause(c: SlaClock, at: dt.datetime) -> None:
    if c.pauses and c.pauses[-1][1] is None:
        c.pauses = [*c.pauses[:-1], [c.pauses[-1][0], at.isoformat()]]


def _pause(c: SlaClock, at: dt.datetime, reason: str, actor: int | None) -> DeadlineChange | None:
    if c.state != SlaClock.State.RUNNING:
        return None
    old = c.due_at
    c.pauses = [*c.pauses, [at.isoformat(), None]]
    c.state = SlaClock.State.PAUSED
    _reschedule(c)
    _save(c)
    return _history(c, old, reason, actor, at)


def _resume(c: SlaClock, at: dt.datetime, reason: str, actor: int | None) -> DeadlineChange | None:
    old = c.due_at
    if c.state == SlaClock.State.PAUSED:
        _close_pause(c, at)
    elif c.state in (SlaClock.State.MET, SlaClock.State.BREACHED) and c.stopped_at is not None:
        # Reopened: the time the work order spent finished does not count.
        c.pauses = [*c.pauses, [c.stopped_at.isoformat(), at.isoformat()]]
        c.stopped_at = None
        c.elapsed_seconds = None
    else:
        return None
    c.state = SlaClock.State.RUNNING
    _reschedule(c)
    _save(c)
    return _history(c, old, reason, actor, at)


# --- reacting to work-order events -------------------------------------------------------------


def on_ticket_event(ticket: Ticket, event: Event) -> None:
    """Ticket hook: keep the work order's clocks in step with what just happened."""
    if event.action not in RELEVANT:
        return
    clocks: list[SlaClock] = []
    if event.action != "ticket_created":
        clocks = list(
            SlaClock.objects.select_for_update()
            .filter(ticket=ticket)
            .exclude(state=SlaClock.State.CANCELLED)
            .order_by("id")
        )
    refresh_ticket(ticket, apply_event(ticket, event, clocks))


def on_ticket_events(tickets: list[Ticket], events: list[Event]) -> None:
    """Batch version of :func:`on_ticket_event` (one reply to many work orders): the clocks of
    the whole batch are locked with one query, each work order's events are applied in order as
    the hook would one by one, and the changed clocks, their history and the work orders'
    nearest deadlines are written with a few statements for the whole batch."""
    by_ticket: dict[int, list[Event]] = {}
    for event in events:
        if event.action in RELEVANT:
            by_ticket.setdefault(event.object_id, []).append(event)
    if not by_ticket:
        return
    clocks: dict[int, list[SlaClock]] = {}
    for c in (
        SlaClock.objects.select_for_update()
        .filter(ticket_id__in=list(by_ticket))
        .exclude(state=SlaClock.State.CANCELLED)
        .order_by("ticket_id", "id")
    ):
        clocks.setdefault(c.ticket_id, []).append(c)
    batch = _Batch()
    token = _BATCH.set(batch)
    try:
        finals: list[tuple[Ticket, list[SlaClock]]] = []
        for ticket in tickets:
            if ticket.pk not in by_ticket:
                continue
            mine = clocks.get(ticket.pk, [])
            for event in by_ticket[ticket.pk]:
                mine = apply_event(ticket, event, mine)
            finals.append((ticket, mine))
    finally:
        _BATCH.reset(token)
    if batch.clocks:
        _write_clocks(list(batch.clocks.values()))
    DeadlineChange.objects.bulk_create(batch.history, batch_size=1000)
    groups: dict[tuple[Any, ...], list[int]] = {}
    for ticket, mine in finals:
        values = _deadline_values(mine)
        if all(getattr(ticket, k) == v for k, v in values.items()):
            continue
        for name, value in values.items():
            setattr(ticket, name, value)
        groups.setdefault(tuple(sorted(values.items())), []).append(ticket.pk)
    for same, ids in groups.items():
        Ticket.objects.filter(pk__in=ids).update(**dict(same))


# What stopping, cancelling, pausing and resuming a clock change (see _stop … _resume).
_MOVING = (
    ("state", "varchar"),
    ("elapsed_seconds", "integer"),
    ("breached_at", "timestamptz"),
    ("stopped_at", "timestamptz"),
    ("next_alert_at", "timestamptz"),
    ("due_at", "timestamptz"),
    ("pauses", "jsonb"),
    ("fired", "jsonb"),
)


def _write_clocks(clocks: list[SlaClock]) -> None:
    """Save the fields a batch changed on many clocks: one statement per 500 on PostgreSQL
    (``bulk_update`` builds a CASE per row and field, slower than the rows it saves)."""
    if connection.vendor != "postgresql":
        for c in clocks:
            SlaClock.objects.filter(pk=c.pk).update(**{n: getattr(c, n) for n, _t in _MOVING})
        return
    table = connection.ops.quote_name(SlaClock._meta.db_table)
    sets = ", ".join(f"{n} = v.{n}" for n, _t in _MOVING)
    columns = ", ".join(["id", *(n for n, _t in _MOVING)])
    row = "(" + ", ".join(["%s::bigint", *(f"%s::{t}" for _n, t in _MOVING)]) + ")"
    for start in range(0, len(clocks), 500):
        chunk = clocks[start : start + 500]
        params: list[Any] = []
        for c in chunk:
            params.append(c.pk)
            for name, kind in _MOVING:
                value = getattr(c, name)
                params.append(json.dumps(value) if kind == "jsonb" else value)
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} AS c SET {sets} FROM (VALUES {', '.join([row] * len(chunk))}) "  # noqa: S608 - names from the model, values bound
                f"AS v({columns}) WHERE c.id = v.id",
                params,
            )


def apply_event(ticket: Ticket, event: Event, clocks: list[SlaClock]) -> list[SlaClock]:
    """Apply one event to the work order's clocks (all but the cancelled ones, locked by the
    caller); returns them with any that started. Changes are saved as they happen."""
    action = event.action
    if action not in RELEVANT:
        return clocks
    at, actor = event.at, event.actor_id
    history: list[DeadlineChange | None] = []
    clocks = list(clocks)
    if action == "ticket_created":
        policy = match(ticket)
        if policy is not None:
            clocks += _start(ticket, policy, STARTED_AT_CREATION, ticket.created_at, actor)
        return clocks
    live = [c for c in clocks if c.state in LIVE]
    if action == "ticket_replied":
        for c in live:
            if c.metric in (Metric.FIRST_RESPONSE, Metric.NEXT_RESPONSE):
                _stop(c, at)
    elif action == "customer_replied" and ticket.first_response_at is not None:
        policy = match(ticket)
        if policy is not None and not any(c.metric == Metric.NEXT_RESPONSE for c in live):
            clocks += _start(ticket, policy, [Metric.NEXT_RESPONSE], at, actor)
    elif action in MILESTONES:
        for c in live:
            if c.metric == MILESTONES[action]:
                _stop(c, at)
    elif action == "ticket_transferred":
        policy = match(ticket)
        transfer = Transfer.objects.filter(pk=event.data.get("transfer")).first()
        if policy is not None and transfer is not None:
            given = transfer.due_at if event.data.get("due_given") else None
            clocks += _start(
                ticket, policy, [Metric.TRANSFER_REPLY], at, actor, transfer=transfer, due=given
            )
    elif action in ("transfer_replied", "transfer_returned", "transfer_withdrawn"):
        for c in live:
            if c.metric == Metric.TRANSFER_REPLY and c.transfer_id == event.data.get("transfer"):
                if action == "transfer_withdrawn":
                    history.append(_cancel(c, at, _("Transfer withdrawn"), actor))
                else:
                    _stop(c, at)
    elif action == "transfer_rejected":
        policy = match(ticket)
        transfer = Transfer.objects.filter(pk=event.data.get("transfer")).first()
        if policy is not None and transfer is not None:
            clocks += _start(ticket, policy, [Metric.TRANSFER_REPLY], at, actor, transfer=transfer)
    elif POLICY_FIELDS & set(event.changes):
        history += _recompute(ticket, event, live, actor)
        clocks += _start_missing(ticket, clocks, actor)
    if event.changes.get("status"):
        history += _on_status(ticket, event, clocks, at, actor)
    _keep_history([h for h in history if h is not None])
    return [c for c in clocks if c.state != SlaClock.State.CANCELLED]


def _on_status(
    ticket: Ticket, event: Event, clocks: list[SlaClock], at: dt.datetime, actor: int | None
) -> list[DeadlineChange | None]:
    before, after = event.changes["status"][:2]
    live = [c for c in clocks if c.state in LIVE]
    if after in (Status.CANCELLED, Status.MERGED):
        reason = _("Work order %(s)s") % {"s": Status(after).label}
        return [_cancel(c, at, reason, actor) for c in live]
    if after == Status.RESOLVED:
        changes: list[DeadlineChange | None] = []
        for c in live:
            if c.metric in (Metric.RESOLUTION, Metric.NEXT_RESPONSE, Metric.FIRST_RESPONSE):
                _stop(c, at)
            elif c.metric in (Metric.REMOTE_RESPONSE, Metric.ONSITE_ARRIVAL):
                changes.append(_cancel(c, at, _("Resolved without it"), actor))
        return changes
    if after == Status.CLOSED:
        reason = _("Work order %(s)s") % {"s": Status(after).label}
        return [_cancel(c, at, reason, actor) for c in live]
    finished = (Status.RESOLVED, Status.FOLLOWED_UP, Status.CLOSED)
    if before in finished and after not in finished:
        return [
            _resume(c, at, _("Reopened"), actor)
            for c in clocks
            if c.metric == Metric.RESOLUTION and c.state not in LIVE
        ]
    policy = by_id(next((c.policy_id for c in live), None)) or match(ticket)
    pausing = policy.pause_statuses if policy is not None else frozenset()
    if after in pausing and before not in pausing:
        reason = _("Paused: %(s)s") % {"s": Status(after).label}
        return [_pause(c, at, reason, actor) for c in live if c.metric in PAUSABLE]
    if before in pausing and after not in pausing:
        reason = _("Resumed: %(s)s") % {"s": Status(after).label}
        return [_resume(c, at, reason, actor) for c in live if c.metric in PAUSABLE]
    return []


def _describe(changes: dict[str, Any]) -> str:
    from kefu.core.labels import field_label, value_label

    parts = []
    for name, (old, new) in sorted((k, v) for k, v in changes.items() if k in POLICY_FIELDS):
        parts.append(
            f"{field_label(name)} {value_label(name, old) or '—'} → {value_label(name, new) or '—'}"
        )
    return "; ".join(parts)


def _recompute(
    ticket: Ticket, event: Event, live: list[SlaClock], actor: int | None
) -> list[DeadlineChange | None]:
    """Type, priority, severity … changed: the (new) policy's targets apply from each clock's
    original start; every deadline that moves is kept with the reason."""
    policy = match(ticket)
    changed = _describe(event.changes)
    history: list[DeadlineChange | None] = []
    for c in live:
        if c.metric == Metric.TRANSFER_REPLY:
            continue  # the department's deadline was promised when it was sent
        target = policy.targets.get(c.metric) if policy is not None else None
        if target is None:
            history.append(
                _cancel(c, event.at, _("No target any more: %(c)s") % {"c": changed}, actor)
            )
            continue
        new = (policy.policy_id, target.seconds, target.calendar_id)  # type: ignore[union-attr]
        if (c.policy_id, c.target_seconds, c.calendar_id) == new:
            continue
        old_due, old_policy = c.due_at, c.policy_id
        c.policy_id, c.target_seconds, c.calendar_id = new
        c.warn_at = [level for level in target.warn_at]
        c.fired = [level for level in c.fired if level == BREACH]
        _reschedule(c)
        c.save()
        reason = changed
        if old_policy != c.policy_id:
            reason = _("%(c)s; now under “%(p)s”") % {"c": changed, "p": policy.name}  # type: ignore[union-attr]
        history.append(_history(c, old_due, reason, actor, event.at))
    return history


def _start_missing(ticket: Ticket, clocks: list[SlaClock], actor: int | None) -> list[SlaClock]:
    """Targets the new policy has that no clock measured yet start from the creation."""
    policy = match(ticket)
    if policy is None or not ticket.is_open:
        return []
    have = {c.metric for c in clocks} | set(
        SlaClock.objects.filter(ticket=ticket).values_list("metric", flat=True)
    )
    wanted = [m for m in STARTED_AT_CREATION if m not in have]
    if Metric.FIRST_RESPONSE in wanted and ticket.first_response_at is not None:
        wanted.remove(Metric.FIRST_RESPONSE)
    return _start(ticket, policy, wanted, ticket.created_at, actor)


def refresh_ticket(ticket: Ticket, clocks: Iterable[SlaClock]) -> None:
    """Copy the nearest running deadline onto the work order, for lists, views and sorting."""
    values = _deadline_values(clocks)
    if all(getattr(ticket, k) == v for k, v in values.items()):
        return
    for key, value in values.items():
        setattr(ticket, key, value)
    Ticket.objects.filter(pk=ticket.pk).update(**values)


def _deadline_values(clocks: Iterable[SlaClock]) -> dict[str, Any]:
    clocks = list(clocks)
    now = timezone.now()
    running = sorted(
        (c for c in clocks if c.state == SlaClock.State.RUNNING and c.due_at is not None),
        key=lambda c: c.due_at,  # type: ignore[arg-type,return-value]
    )
    paused = [c for c in clocks if c.state == SlaClock.State.PAUSED]
    nearest = running[0] if running else None
    paused_left = None
    if nearest is None and paused:
        first = paused[0]
        paused_left = max(0, first.target_seconds - used(first, now))
    return {
        "sla_due_at": nearest.due_at if nearest else None,
        "sla_metric": nearest.metric if nearest else (paused[0].metric if paused else ""),
        "sla_calendar_id": (
            nearest.calendar_id if nearest else (paused[0].calendar_id if paused else None)
        ),
        "sla_paused_left": paused_left,
        "sla_breached": any(
            c.state == SlaClock.State.BREACHED
            or (c.state == SlaClock.State.RUNNING and BREACH in c.fired)
            for c in clocks
        ),
    }


# --- after-sales milestones ----------------------------------------------------------------------


@transaction.atomic
def record_milestone(*, actor: Any, ticket: Ticket, milestone: str) -> Ticket:
    """Remote support started, or the engineer arrived on site: stops that clock."""
    from django.core.exceptions import ValidationError

    from kefu.core.permissions import require_perm
    from kefu.tickets.services.common import lock, record, touch

    require_perm(actor, "tickets.transition")
    if milestone not in ("remote", "onsite"):
        raise ValidationError({"milestone": [_("Choose remote or onsite.")]})
    ticket = lock(ticket)
    if not ticket.is_open:
        raise ValidationError(_("Only open work orders reach milestones."))
    action = "ticket_remote_started" if milestone == "remote" else "ticket_onsite_arrived"
    if Event.objects.filter(object_type="ticket", object_id=ticket.pk, action=action).exists():
        raise ValidationError(_("This milestone was already recorded."))
    touch(ticket)
    record(action, ticket, actor=actor)
    return ticket


@transaction.atomic
def explain_breach(*, actor: Any, clock: SlaClock, reason: str) -> SlaClock:
    """Record why a deadline was missed (shown in the SLA report's breach list)."""
    from django.core.exceptions import ValidationError

    from kefu.core.permissions import require_perm
    from kefu.core.validation import clean_text
    from kefu.tickets.services.common import record

    require_perm(actor, "tickets.edit")
    reason = clean_text(reason, field="reason", max_length=300, required=True)
    clock = SlaClock.objects.select_for_update().select_related("ticket").get(pk=clock.pk)
    if clock.breached_at is None:
        raise ValidationError(_("This deadline was not missed."))
    old = clock.breach_reason
    clock.breach_reason = reason
    clock.breach_reason_by = actor
    clock.save(update_fields=["breach_reason", "breach_reason_by"])
    record(
        "sla_breach_explained",
        clock.ticket,
        actor=actor,
        changes={"breach_reason": [old, reason]},
        data={"metric": clock.metric, "clock": clock.pk},
    )
    return clock


# --- recomputing after a calendar or policy change -----------------------------------------------


def recompute_calendar(calendar_id: int, batch: int = 1000) -> int:
    """A calendar changed (a typhoon closure, a late 调休 notice): move the deadlines of the
    running clocks on it, a batch at a time. Returns how many deadlines moved."""
    calendars.calendar(calendar_id, fresh=True)
    moved = 0
    last_id = 0
    while True:
        with transaction.atomic():
            rows = list(
                SlaClock.objects.select_for_update()
                .filter(calendar_id=calendar_id, state=SlaClock.State.RUNNING, pk__gt=last_id)
                .order_by("pk")[:batch]
            )
            if not rows:
                return moved
            last_id = rows[-1].pk
            changed, history = [], []
            now = timezone.now()
            for c in rows:
                old = c.due_at
                _reschedule(c)
                if c.due_at != old:
                    changed.append(c)
                    history.append(_history(c, old, _("Calendar changed"), None, now))
            if changed:
                SlaClock.objects.bulk_update(
                    changed, ["due_at", "next_alert_at", "fired", "breached_at"]
                )
                DeadlineChange.objects.bulk_create(history)
                for ticket in Ticket.objects.filter(pk__in={c.ticket_id for c in changed}):
                    refresh_ticket(
                        ticket,
                        SlaClock.objects.filter(ticket=ticket).exclude(
                            state=SlaClock.State.CANCELLED
                        ),
                    )
                moved += len(changed)
