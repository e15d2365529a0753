"""The work-order lifecycle: every status and every allowed move between them, in one table.

    新建 new → 已派单 assigned → 处理中 in progress → 待客户反馈 waiting for the customer /
    待第三方 waiting for a third party → 已解决 resolved → 已回访 followed up → 已关闭 closed;
    reopen from resolved, followed up or closed; cancel; merge into another work order.

:func:`kefu.tickets.services.transition_ticket` is the only code that changes a status, and it
asks :func:`check` first. Nothing here touches the database.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Status(models.TextChoices):
    NEW = "new", _("New")
    ASSIGNED = "assigned", _("Assigned")
    IN_PROGRESS = "in_progress", _("In progress")
    WAITING_CUSTOMER = "waiting_customer", _("Waiting for customer")
    WAITING_THIRD_PARTY = "waiting_third_party", _("Waiting for third party")
    RESOLVED = "resolved", _("Resolved")
    FOLLOWED_UP = "followed_up", _("Followed up")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")
    MERGED = "merged", _("Merged")


OPEN_STATES = frozenset(
    {
        Status.NEW,
        Status.ASSIGNED,
        Status.IN_PROGRESS,
        Status.WAITING_CUSTOMER,
        Status.WAITING_THIRD_PARTY,
    }
)
DONE_STATES = frozenset({Status.RESOLVED, Status.FOLLOWED_UP, Status.CLOSED})
FINAL_STATES = frozenset({Status.CANCELLED, Status.MERGED})
WAITING_STATES = frozenset({Status.WAITING_CUSTOMER, Status.WAITING_THIRD_PARTY})

# (from, to) -> the name of the move, as shown on buttons and in the timeline
TRANSITIONS: dict[tuple[str, str], str] = {
    (Status.NEW, Status.ASSIGNED): "assign",
    (Status.NEW, Status.IN_PROGRESS): "start",
    (Status.NEW, Status.RESOLVED): "resolve",
    (Status.NEW, Status.CANCELLED): "cancel",
    (Status.NEW, Status.MERGED): "merge",
    (Status.ASSIGNED, Status.NEW): "unassign",
    (Status.ASSIGNED, Status.IN_PROGRESS): "start",
    (Status.ASSIGNED, Status.RESOLVED): "resolve",
    (Status.ASSIGNED, Status.CANCELLED): "cancel",
    (Status.ASSIGNED, Status.MERGED): "merge",
    (Status.IN_PROGRESS, Status.ASSIGNED): "reassign",
    (Status.IN_PROGRESS, Status.NEW): "unassign",
    (Status.IN_PROGRESS, Status.WAITING_CUSTOMER): "wait_customer",
    (Status.IN_PROGRESS, Status.WAITING_THIRD_PARTY): "wait_third_party",
    (Status.IN_PROGRESS, Status.RESOLVED): "resolve",
    (Status.IN_PROGRESS, Status.CANCELLED): "cancel",
    (Status.IN_PROGRESS, Status.MERGED): "merge",
    (Status.WAITING_CUSTOMER, Status.IN_PROGRESS): "resume",
    (Status.WAITING_CUSTOMER, Status.ASSIGNED): "reassign",
    (Status.WAITING_CUSTOMER, Status.NEW): "unassign",
    (Status.WAITING_CUSTOMER, Status.WAITING_THIRD_PARTY): "wait_third_party",
    (Status.WAITING_CUSTOMER, Status.RESOLVED): "resolve",
    (Status.WAITING_CUSTOMER, Status.CANCELLED): "cancel",
    (Status.WAITING_CUSTOMER, Status.MERGED): "merge",
    (Status.WAITING_THIRD_PARTY, Status.IN_PROGRESS): "resume",
    (Status.WAITING_THIRD_PARTY, Status.ASSIGNED): "reassign",
    (Status.WAITING_THIRD_PARTY, Status.NEW): "unassign",
    (Status.WAITING_THIRD_PARTY, Status.WAITING_CUSTOMER): "wait_customer",
    (Status.WAITING_THIRD_PARTY, Status.RESOLVED): "resolve",
    (Status.WAITING_THIRD_PARTY, Status.CANCELLED): "cancel",
    (Status.WAITING_THIRD_PARTY, Status.MERGED): "merge",
    (Status.RESOLVED, Status.FOLLOWED_UP): "follow_up",
    (Status.RESOLVED, Status.CLOSED): "close",
    (Status.RESOLVED, Status.IN_PROGRESS): "reopen",
    (Status.FOLLOWED_UP, Status.CLOSED): "close",
    (Status.FOLLOWED_UP, Status.IN_PROGRESS): "reopen",
    (Status.CLOSED, Status.IN_PROGRESS): "reopen",
}

MOVE_LABELS = {
    "assign": _("Assign"),
    "unassign": _("Unassign"),
    "reassign": _("Reassign"),
    "start": _("Start handling"),
    "wait_customer": _("Wait for customer"),
    "wait_third_party": _("Wait for third party"),
    "resume": _("Resume"),
    "resolve": _("Resolve"),
    "follow_up": _("Record follow-up"),
    "close": _("Close"),
    "reopen": _("Reopen"),
    "cancel": _("Cancel"),
    "merge": _("Merge"),
}

# Moves a customer may make on their own work order from the portal.
CUSTOMER_MOVES = frozenset({"close", "reopen"})
# Moves that have their own service (they need more than a status change).
SPECIAL_MOVES = frozenset({"assign", "unassign", "reassign", "merge"})


class TransitionError(Exception):
    """The move is not allowed from the current status."""


def move(current: str, target: str) -> str:
    """The name of the move from ``current`` to ``target``, or :class:`TransitionError`."""
    if target not in Status.values:
        raise TransitionError(_("“%(target)s” is not a work-order status.") % {"target": target})
    name = TRANSITIONS.get((current, target))
    if name is None:
        raise TransitionError(
            _("A work order that is “%(current)s” cannot become “%(target)s”.")
            % {"current": Status(current).label, "target": Status(target).label}
        )
    return name


def targets(current: str) -> list[str]:
    """Statuses reachable from ``current``, in table order."""
    return [to for (frm, to) in TRANSITIONS if frm == current]


def is_open(status: str) -> bool:
    return status in OPEN_STATES
