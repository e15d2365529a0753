"""Shared by the work-order services: locking, version checks, the event-and-hooks step."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.models import User
from kefu.core import events
from kefu.core.models import Event
from kefu.core.realtime import broadcast, ticket_group
from kefu.core.validation import Conflict
from kefu.tickets.models import Ticket

TicketHook = Callable[[Ticket, Event], None]
TICKET_HOOKS: list[TicketHook] = []
"""Functions run inside the transaction after every recorded change to a work order: the SLA
clock recomputes deadlines, routing updates the queue, webhooks queue their deliveries."""


def register_ticket_hook(hook: TicketHook) -> None:
    if hook not in TICKET_HOOKS:
        TICKET_HOOKS.append(hook)


def lock(ticket: Ticket) -> Ticket:
    """Re-read the work order with a row lock, so concurrent changes queue behind each other."""
    return (
        Ticket.objects.select_for_update(of=("self",))
        .select_related("ticket_type", "category", "customer", "assignee", "team")
        .get(pk=ticket.pk)
    )


def check_version(ticket: Ticket, expected: int | None) -> None:
    if expected is not None and ticket.version != expected:
        raise Conflict(
            _(
                "This work order was changed by someone else since you opened it (your version "
                "%(mine)s, now %(now)s). Reload to see the change, then try again."
            )
            % {"mine": expected, "now": ticket.version},
            current_version=ticket.version,
        )


def touch(ticket: Ticket, fields: list[str] | None = None) -> None:
    """Bump version and updated_at and save the given fields with them."""
    ticket.version += 1
    ticket.updated_at = timezone.now()
    names = {"version", "updated_at", *(fields or [])}
    ticket.save(update_fields=names)


def record(
    action: str,
    ticket: Ticket,
    *,
    actor: User | None,
    changes: Mapping[str, Any] | None = None,
    data: Mapping[str, Any] | None = None,
) -> Event:
    """Write the event for a change and run every ticket hook, in the caller's transaction."""
    event = events.record(
        action, ticket, actor=actor, changes=changes, data=data, object_repr=ticket.number
    )
    for hook in TICKET_HOOKS:
        hook(ticket, event)
    if action == "ticket_created":
        return event  # no page shows a work order that did not exist yet
    broadcast(
        ticket_group(ticket.pk),
        {
            "type": "ticket.changed",
            "ticket": ticket.pk,
            "version": ticket.version,
            "action": action,
            "actor": actor.pk if actor else None,
            "actor_name": event.actor_label,
        },
    )
    return event


def snapshot(
    ticket: Ticket, fields: tuple[str, ...], *, tags: Iterable[str] | None = None
) -> dict[str, Any]:
    """Field values for an event's diff; ``tags`` spares the query when the caller knows them."""
    snap = events.snapshot(ticket, tuple(f for f in fields if f != "tags"))
    if "tags" in fields:
        if tags is not None:
            snap["tags"] = sorted(tags)
        else:
            snap["tags"] = sorted(ticket.tags.values_list("name", flat=True)) if ticket.pk else []
    return snap
