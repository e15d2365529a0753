"""Bulk actions: the same services, one work order at a time, each in its own savepoint; and
one reply to many work orders at once (a major incident's closing), a batch per statement."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.models import Team, User
from kefu.core import events
from kefu.core.models import Event
from kefu.core.permissions import require_perm
from kefu.core.realtime import broadcast, ticket_group
from kefu.core.validation import Conflict, clean_text
from kefu.tickets import states
from kefu.tickets.models import Message, Ticket
from kefu.tickets.services.common import TICKET_HOOKS, TicketHook
from kefu.tickets.services.conversation import _body
from kefu.tickets.services.fields import update_ticket
from kefu.tickets.services.lifecycle import _set_status, assign_ticket, transition_ticket
from kefu.tickets.states import Status

BULK_LIMIT = 500
ACTIONS = ("assign", "team", "transition", "add_tag", "remove_tag", "priority")


@dataclass
class BulkResult:
    done: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


def _message(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    if isinstance(exc, Conflict):
        return exc.message
    return str(exc) or _("Not allowed.")


def bulk_apply(
    *, actor: User, tickets: Iterable[Ticket], action: str, value: Any, reason: str = ""
) -> BulkResult:
    """Apply one action to many work orders. The caller passes only work orders the actor may
    see; each one still goes through its service and its permission and state checks."""
    require_perm(actor, "tickets.bulk")
    if action not in ACTIONS:
        raise ValidationError({"action": [_("Unknown bulk action “%(a)s”.") % {"a": action}]})
    items = list(tickets)
    if len(items) > BULK_LIMIT:
        raise ValidationError(_("At most %(n)d work orders at once.") % {"n": BULK_LIMIT})
    result = BulkResult()
    for ticket in items:
        try:
            with transaction.atomic():
                _apply(actor, ticket, action, value, reason)
        except (ValidationError, PermissionDenied, Conflict) as exc:
            result.failed[ticket.number] = _message(exc)
        else:
            result.done.append(ticket.number)
    return result


def _apply(actor: User, ticket: Ticket, action: str, value: Any, reason: str) -> None:
    if action == "assign":
        assignee = value if isinstance(value, User) or value is None else None
        assign_ticket(actor=actor, ticket=ticket, assignee=assignee)
    elif action == "team":
        if not isinstance(value, Team):
            raise ValidationError(_("Choose a team."))
        assign_ticket(actor=actor, ticket=ticket, assignee=None, team=value)
    elif action == "transition":
        transition_ticket(actor=actor, ticket=ticket, to=str(value), reason=reason)
    elif action in ("add_tag", "remove_tag"):
        names = set(ticket.tags.values_list("name", flat=True))
        names = names | {str(value)} if action == "add_tag" else names - {str(value)}
        update_ticket(actor=actor, ticket=ticket, changes={"tags": sorted(names)})
    elif action == "priority":
        update_ticket(actor=actor, ticket=ticket, changes={"priority": value})


# --- one reply to many work orders, resolving each ----------------------------------------------

BulkTicketHook = Callable[[list[Ticket], list[Event]], None]
BULK_TICKET_HOOKS: list[tuple[BulkTicketHook, TicketHook | None]] = []
"""Batch versions of ticket hooks: ``fn(tickets, events)`` runs once per batch of
:func:`reply_and_resolve_many`, inside its transaction, with the work orders in their final
state and every event of the batch in order. A batch hook that ``replaces`` a per-work-order
hook stands in for it there; every other per-work-order hook is still called for each event."""

REPLY_BATCH = 250


def register_bulk_ticket_hook(hook: BulkTicketHook, *, replaces: TicketHook | None = None) -> None:
    if all(existing is not hook for existing, _replaced in BULK_TICKET_HOOKS):
        BULK_TICKET_HOOKS.append((hook, replaces))


@dataclass
class BulkReplyResult:
    done: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    """Finished, cancelled or merged already: left alone."""
    failed: dict[int, str] = field(default_factory=dict)
    """Refused by the state machine or by another app's rule, with the reason."""


def reply_and_resolve_many(
    tickets: Iterable[Ticket | int],
    *,
    actor: User,
    body: str,
    reason: str = "",
    batch: int = REPLY_BATCH,
    claim: Callable[[list[int]], set[int]] | None = None,
    skip_locked: bool = False,
) -> BulkReplyResult:
    """Reply once to each open work order and resolve it, a batch at a time: the same rows,
    events and hooks as :func:`transition_ticket` with ``reply`` for each, written with a few
    statements per batch. Each batch commits on its own (when no outer transaction is open).

    ``claim`` is called inside each batch's transaction with the ids locked, and returns the
    ids the caller lets this run answer (an idempotency row per work order); the others are
    left untouched. ``skip_locked`` passes over work orders another transaction holds."""
    require_perm(actor, "tickets.reply")
    require_perm(actor, "tickets.transition")
    text = _body(body)
    reason = clean_text(reason, field="reason", max_length=2000)
    ids = sorted({t.pk if isinstance(t, Ticket) else int(t) for t in tickets})
    result = BulkReplyResult()
    for start in range(0, len(ids), max(1, batch)):
        with transaction.atomic():
            _reply_batch(
                actor, ids[start : start + batch], text, reason, claim, skip_locked, result
            )
    return result


def _reply_batch(
    actor: User,
    ids: list[int],
    text: str,
    reason: str,
    claim: Callable[[list[int]], set[int]] | None,
    skip_locked: bool,
    result: BulkReplyResult,
) -> None:
    rows = list(
        Ticket.objects.select_for_update(of=("self",), skip_locked=skip_locked)
        .select_related("ticket_type", "category", "customer", "assignee", "team")
        .filter(pk__in=ids)
        .order_by("pk")
    )
    if claim is not None:
        allowed = claim([t.pk for t in rows])
        rows = [t for t in rows if t.pk in allowed]
    go: list[Ticket] = []
    for ticket in rows:
        if ticket.status not in states.OPEN_STATES:
            result.skipped.append(ticket.pk)
            continue
        after_reply = (
            Status.IN_PROGRESS if ticket.status in (Status.NEW, Status.ASSIGNED) else ticket.status
        )
        try:
            if states.move(after_reply, Status.RESOLVED) != "resolve":
                raise states.TransitionError(_("This work order cannot be resolved now."))
        except states.TransitionError as exc:
            result.failed[ticket.pk] = str(exc)
            continue
        go.append(ticket)
    if not go:
        return
    try:
        with transaction.atomic():
            _write_batch(actor, go, text, reason)
    except (ValidationError, PermissionDenied, Conflict):
        # Another app's rule refused one of them: answer this batch one by one instead, so
        # that only the refused work orders stay open.
        for ticket in go:
            try:
                transition_ticket(
                    actor=actor, ticket=ticket, to=Status.RESOLVED, reply=text, reason=reason
                )
            except (ValidationError, PermissionDenied, Conflict) as exc:
                result.failed[ticket.pk] = _message(exc)
            else:
                result.done.append(ticket.pk)
        return
    result.done.extend(t.pk for t in go)


def _write_batch(actor: User, tickets: list[Ticket], text: str, reason: str) -> None:
    now = timezone.now()
    messages = Message.objects.bulk_create(
        Message(
            ticket=t,
            kind=Message.Kind.REPLY,
            author=actor,
            author_name=actor.display_label,
            body=text,
            channel=t.channel,
        )
        for t in tickets
    )
    Ticket.objects.filter(pk__in=[t.pk for t in tickets]).update(
        status=Status.RESOLVED,
        is_open=False,
        resolved_at=now,
        last_public_reply_at=now,
        first_response_at=Coalesce("first_response_at", Value(now)),
        version=F("version") + 2,
        updated_at=now,
    )
    build = events._builder(actor)
    pending: list[Event] = []
    # (ticket, status after the reply, events) — the reply event's hooks see that status
    steps: list[tuple[Ticket, str, Event, Event]] = []
    for ticket, message in zip(tickets, messages, strict=True):
        before = ticket.status
        if ticket.first_response_at is None:
            ticket.first_response_at = now
        ticket.last_public_reply_at = now
        if before in (Status.NEW, Status.ASSIGNED):
            _set_status(ticket, Status.IN_PROGRESS)
        middle = ticket.status
        replied = build(
            "ticket_replied",
            object_type="ticket",
            object_id=ticket.pk,
            object_repr=ticket.number,
            changes={"status": [before, middle]} if before != middle else {},
            data={"message": message.pk, "excerpt": text[:200], "attachments": 0},
            at=now,
        )
        resolved = build(
            "ticket_status_changed",
            object_type="ticket",
            object_id=ticket.pk,
            object_repr=ticket.number,
            changes={"status": [middle, Status.RESOLVED]},
            data={"move": "resolve", "reason": reason},
            at=now,
        )
        pending += [replied, resolved]
        steps.append((ticket, middle, replied, resolved))
    written = Event.objects.bulk_create(pending)
    replaced = {id(r) for _hook, r in BULK_TICKET_HOOKS if r is not None}
    single = [h for h in TICKET_HOOKS if id(h) not in replaced]
    for ticket, middle, replied, resolved in steps:
        ticket.status, ticket.is_open, ticket.updated_at = middle, True, now
        ticket.version += 1
        for hook in single:
            hook(ticket, replied)
        _set_status(ticket, Status.RESOLVED)
        ticket.is_open = False
        ticket.version += 1
        for hook in single:
            hook(ticket, resolved)
    for bulk_hook, _replaced in BULK_TICKET_HOOKS:
        bulk_hook(tickets, written)
    for ticket in tickets:
        broadcast(
            ticket_group(ticket.pk),
            {
                "type": "ticket.changed",
                "ticket": ticket.pk,
                "version": ticket.version,
                "action": "ticket_status_changed",
                "actor": actor.pk,
                "actor_name": written[0].actor_label,
            },
        )


_SUMMARY_FIELDS = {"status": "status", "priority": "priority", "assignee": "assignee_id",
                   "team": "team_id"}  # fmt: skip
"""Event change keys that :func:`webhooks.ticket_summary` shows, and its key for each."""


def queue_webhooks_many(tickets: list[Ticket], events_: list[Event]) -> None:
    """Batch version of :func:`webhooks.queue_webhooks`: the same delivery rows, each payload
    describing the work order as it was right after its event (worked out backwards from its
    final state through the events' changes), written with one statement for the batch."""
    from kefu.core import jobs
    from kefu.tickets.models import WebhookDelivery
    from kefu.tickets.services import webhooks
    from kefu.tickets.tasks import deliver_webhook_task

    hooks = webhooks.active_webhooks()
    if not hooks:
        return
    by_pk = {t.pk: t for t in tickets}
    state = {pk: webhooks.ticket_summary(t) for pk, t in by_pk.items()}
    summaries: dict[int, dict[str, Any]] = {}
    for event in reversed(events_):
        summary = state.get(event.object_id)
        if summary is None:
            continue
        summaries[id(event)] = dict(summary)
        before = dict(summary)
        for key, shown in _SUMMARY_FIELDS.items():
            if key in (event.changes or {}):
                before[shown] = event.changes[key][0]
        state[event.object_id] = before
    now = timezone.now()
    rows: list[WebhookDelivery] = []
    for event in events_:
        event_type = webhooks.EVENT_TYPES.get(event.action)
        if event_type is None or id(event) not in summaries:
            continue
        wanted = [w for w in hooks if w.wants(event_type)]
        payload = {
            "id": event.pk,
            "type": event_type,
            "occurred_at": event.at.isoformat(),
            "actor": {"id": event.actor_id, "name": event.actor_label} if event.actor_id else None,
            "ticket": summaries[id(event)],
            "changes": event.changes,
            "data": event.data,
        }
        rows += [
            WebhookDelivery(
                webhook=w,
                event_type=event_type,
                event_id=event.pk,
                payload=payload,
                next_attempt_at=now,
            )
            for w in wanted
        ]
    for row in WebhookDelivery.objects.bulk_create(rows):
        jobs.enqueue(deliver_webhook_task, row.pk)
