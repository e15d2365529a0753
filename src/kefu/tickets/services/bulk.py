"""Bulk actions: the same services, one work order at a time, each in its own savepoint."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from kefu.accounts.models import Team, User
from kefu.core.permissions import require_perm
from kefu.core.validation import Conflict
from kefu.tickets.models import Ticket
from kefu.tickets.services.fields import update_ticket
from kefu.tickets.services.lifecycle import assign_ticket, transition_ticket

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
