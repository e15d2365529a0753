"""The closed loop: status moves, assignment, escalation, merge, parent/child and links.

``_set_status`` is the only code that writes ``Ticket.status``; it asks the state table first.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.models import Team, User
from kefu.core.permissions import (
    AGENT_ROLES,
    Role,
    has_perm,
    require_perm,
    require_perm_unless_system,
)
from kefu.core.validation import clean_text
from kefu.tickets import states
from kefu.tickets.models import Ticket, TicketLink
from kefu.tickets.services.common import check_version, lock, record, touch
from kefu.tickets.states import Status

FOLLOWUP_RESULTS = ("satisfied", "dissatisfied", "unreachable")
WORKING_ROLES = (Role.AGENT_L1, Role.AGENT_L2, Role.SUPERVISOR, Role.ADMIN)


def _set_status(ticket: Ticket, to: str) -> str:
    """Move ``ticket`` to ``to`` if the table allows it; returns the move's name."""
    try:
        name = states.move(ticket.status, to)
    except states.TransitionError as exc:
        raise ValidationError({"status": [str(exc)]}) from None
    now = timezone.now()
    if to == Status.RESOLVED:
        ticket.resolved_at = now
    elif to == Status.FOLLOWED_UP:
        ticket.followed_up_at = now
    elif to == Status.CLOSED:
        ticket.closed_at = now
    if name == "reopen":
        ticket.reopen_count += 1
        ticket.last_reopened_at = now
        ticket.resolved_at = ticket.followed_up_at = ticket.closed_at = None
        ticket.followup_result = ""
    ticket.status = to
    return name


def needs_reply(ticket: Ticket) -> bool:
    """Nothing is resolved without a reply to the customer since it was (re)opened."""
    if ticket.last_public_reply_at is None:
        return True
    return (
        ticket.last_reopened_at is not None
        and ticket.last_public_reply_at < ticket.last_reopened_at
    )


@transaction.atomic
def transition_ticket(
    *,
    actor: User,
    ticket: Ticket,
    to: str,
    reason: str = "",
    reply: str | None = None,
    followup_result: str = "",
    close_children: bool = False,
    expected_version: int | None = None,
) -> Ticket:
    """Move a work order through its lifecycle (every path — screens, bulk, API, portal,
    e-mail, automations — comes through here)."""
    ticket = lock(ticket)
    check_version(ticket, expected_version)
    try:
        name = states.move(ticket.status, to)
    except states.TransitionError as exc:
        raise ValidationError({"status": [str(exc)]}) from None
    if name in states.SPECIAL_MOVES:
        raise ValidationError({"status": [_("Use assignment or merge for this change.")]})
    if actor.role == Role.CUSTOMER:
        if name not in states.CUSTOMER_MOVES or ticket.customer_id != actor.customer_id:
            raise PermissionDenied(_("You cannot do this to this work order."))
    else:
        require_perm(actor, "tickets.transition")
    reason = clean_text(reason, field="reason", max_length=2000)
    if name == "cancel" and not reason:
        raise ValidationError({"reason": [_("Say why the work order is cancelled.")]})
    if name == "follow_up" and followup_result not in FOLLOWUP_RESULTS:
        raise ValidationError(
            {
                "followup_result": [
                    _("Record the follow-up result: satisfied, dissatisfied or unreachable.")
                ]
            }
        )
    if reply:
        from kefu.tickets.services.conversation import add_reply

        add_reply(actor=actor, ticket=ticket, body=reply, locked=True)
        ticket.refresh_from_db()
    if name == "resolve" and needs_reply(ticket):
        raise ValidationError(
            {
                "reply": [
                    _("Reply to the customer before resolving: nothing is closed without a reply.")
                ]
            }
        )
    before = ticket.status
    _set_status(ticket, to)
    fields = [
        "status",
        "resolved_at",
        "followed_up_at",
        "closed_at",
        "reopen_count",
        "last_reopened_at",
        "followup_result",
    ]
    if name == "follow_up":
        ticket.followup_result = followup_result
    touch(ticket, fields)
    record(
        "ticket_status_changed",
        ticket,
        actor=actor,
        changes={"status": [before, to]},
        data={
            "move": name,
            "reason": reason,
            **({"followup_result": followup_result} if followup_result else {}),
        },
    )
    if name == "follow_up" and followup_result == "dissatisfied":
        # A dissatisfied customer is not done with: the work order goes back to its handler.
        before = ticket.status
        _set_status(ticket, Status.IN_PROGRESS)
        touch(ticket, fields)
        record(
            "ticket_status_changed",
            ticket,
            actor=actor,
            changes={"status": [before, ticket.status]},
            data={
                "move": "reopen",
                "reason": _("The customer was not satisfied at the follow-up call."),
            },
        )
    if close_children and name in ("resolve", "close"):
        _finish_children(actor, ticket, to, reply or "")
    return ticket


def _finish_children(actor: User, parent: Ticket, to: str, reply: str) -> None:
    """Closing the parent (one outage, many reports) closes its open children with one reply."""
    from kefu.tickets.services.conversation import add_reply

    for child in Ticket.objects.filter(parent=parent).exclude(
        status__in=[*states.FINAL_STATES, Status.CLOSED]
    ):
        child = lock(child)
        if reply and child.is_open:
            add_reply(actor=actor, ticket=child, body=reply, locked=True)
            child.refresh_from_db()
        target = Status.RESOLVED if child.is_open else to
        if (child.status, target) not in states.TRANSITIONS or (
            target == Status.RESOLVED and needs_reply(child)
        ):
            continue
        before = child.status
        _set_status(child, target)
        touch(child, ["status", "resolved_at", "closed_at"])
        record(
            "ticket_status_changed",
            child,
            actor=actor,
            changes={"status": [before, target]},
            data={
                "move": states.move(before, target),
                "reason": _("Finished with its parent %(n)s.") % {"n": parent.number},
            },
        )


def _check_assignable(actor: User | None, assignee: User | None, team: Team | None) -> None:
    if team is not None and (not team.is_active or team.kind == Team.Kind.DEPARTMENT):
        raise ValidationError(
            {
                "team": [
                    _(
                        "Work orders are owned by active service teams; departments receive transfers."
                    )
                ]
            }
        )
    if assignee is None:
        return
    if not assignee.is_active or assignee.role not in WORKING_ROLES:
        raise ValidationError(
            {"assignee": [_("Work orders can only be assigned to active agents.")]}
        )
    if actor is not None and actor.role in AGENT_ROLES and assignee.pk != actor.pk:
        shared = set(actor.memberships.values_list("team_id", flat=True)) & set(
            assignee.memberships.values_list("team_id", flat=True)
        )
        if not shared:
            raise PermissionDenied(
                _("Agents can assign work orders to themselves or to members of their own teams.")
            )


@transaction.atomic
def assign_ticket(
    *,
    actor: User | None,
    ticket: Ticket,
    assignee: User | None,
    team: Team | None = None,
    expected_version: int | None = None,
    reason: str = "",
    action: str = "ticket_assigned",
    line: int | None = None,
) -> Ticket:
    """Give a work order to a person (and team), or back to a team's unassigned pool.
    ``actor`` None is Kefu itself (routing, SLA escalations)."""
    require_perm_unless_system(actor, "tickets.assign")
    ticket = lock(ticket)
    check_version(ticket, expected_version)
    if ticket.status in states.FINAL_STATES:
        raise ValidationError(
            {"status": [_("A cancelled or merged work order cannot be assigned.")]}
        )
    if assignee is not None and team is None:
        member_of = set(assignee.memberships.values_list("team_id", flat=True))
        if ticket.team_id not in member_of:
            from kefu.tickets.services.create import assignee_team

            team = assignee_team(assignee) or ticket.team
    _check_assignable(actor, assignee, team)
    before = {
        "assignee": ticket.assignee_id,
        "team": ticket.team_id,
        "status": ticket.status,
        "line": ticket.line,
    }
    if ticket.is_open:
        if (
            assignee is not None
            and ticket.status in (Status.NEW,)
            or assignee is not None
            and ticket.status == Status.IN_PROGRESS
            and assignee.pk != ticket.assignee_id
        ):
            _set_status(ticket, Status.ASSIGNED)
        elif assignee is None and ticket.status != Status.NEW:
            _set_status(ticket, Status.NEW)
    ticket.assignee = assignee
    if team is not None:
        ticket.team = team
    if line is not None:
        ticket.line = line
    touch(ticket, ["assignee", "team", "status", "line"])
    after = {
        "assignee": ticket.assignee_id,
        "team": ticket.team_id,
        "status": ticket.status,
        "line": ticket.line,
    }
    changes = {k: [before[k], after[k]] for k in before if before[k] != after[k]}
    if not changes:
        return ticket
    record(
        action,
        ticket,
        actor=actor,
        changes=changes,
        data={
            "reason": clean_text(reason, field="reason", max_length=2000),
            "assignee_name": assignee.display_label if assignee else "",
        },
    )
    if assignee is not None and (actor is None or assignee.pk != actor.pk):
        from kefu.tickets.services.notify import tell_assignee

        tell_assignee(ticket, actor)
    return ticket


@transaction.atomic
def escalate_ticket(
    *,
    actor: User,
    ticket: Ticket,
    reason: str,
    team: Team | None = None,
    assignee: User | None = None,
) -> Ticket:
    """L1 → L2: hand the work order to the second line (a team, optionally an engineer)."""
    require_perm(actor, "tickets.escalate")
    reason = clean_text(reason, field="reason", max_length=2000, required=True)
    if not ticket.is_open:
        raise ValidationError(_("Only open work orders can be escalated."))
    if ticket.line >= 2:
        raise ValidationError(_("This work order is already with the second line."))
    team = (
        team
        or Team.objects.filter(kind=Team.Kind.SECOND_LINE, is_active=True).order_by("id").first()
    )
    if team is None:
        raise ValidationError({"team": [_("There is no second-line team to escalate to.")]})
    if assignee is not None and not assignee.memberships.filter(team=team).exists():
        raise ValidationError(
            {"assignee": [_("The engineer must belong to the second-line team.")]}
        )
    escalated = assign_ticket(
        actor=actor,
        ticket=ticket,
        assignee=assignee,
        team=team,
        reason=reason,
        action="ticket_escalated",
        line=2,
    )
    from kefu.tickets.services.notify import tell_team

    tell_team(
        escalated,
        team,
        actor,
        _("Escalated to you: %(n)s %(t)s") % {"n": escalated.number, "t": escalated.title},
    )
    return escalated


@transaction.atomic
def merge_tickets(*, actor: User, source: Ticket, target: Ticket, reason: str = "") -> Ticket:
    """Fold a duplicate into another work order. Both timelines are kept: the duplicate stays,
    merged, and the target's page shows its conversation."""
    require_perm(actor, "tickets.merge")
    if source.pk == target.pk:
        raise ValidationError(_("Choose two different work orders to merge."))
    first, second = sorted([source.pk, target.pk])
    locked = {t.pk: t for t in Ticket.objects.select_for_update().filter(pk__in=[first, second])}
    source, target = locked[source.pk], locked[target.pk]
    if target.status in states.FINAL_STATES:
        raise ValidationError(_("The target work order was cancelled or merged itself."))
    before = source.status
    try:
        _set_status(source, Status.MERGED)
    except ValidationError:
        raise ValidationError(_("This work order can no longer be merged.")) from None
    source.merged_into = target
    touch(source, ["status", "merged_into"])
    reason = clean_text(reason, field="reason", max_length=2000)
    record(
        "ticket_merged_into",
        source,
        actor=actor,
        changes={"status": [before, Status.MERGED], "merged_into": [None, target.pk]},
        data={"target": target.number, "reason": reason},
    )
    touch(target)
    record(
        "ticket_merged",
        target,
        actor=actor,
        data={"source": source.number, "source_id": source.pk, "reason": reason},
    )
    return target


@transaction.atomic
def set_parent(*, actor: User, ticket: Ticket, parent: Ticket | None) -> Ticket:
    """Make ``ticket`` one of the reports under ``parent`` (one outage, many calls)."""
    require_perm(actor, "tickets.link")
    ticket = lock(ticket)
    if parent is not None:
        if parent.pk == ticket.pk:
            raise ValidationError({"parent": [_("A work order cannot be its own parent.")]})
        if parent.parent_id is not None:
            raise ValidationError(
                {
                    "parent": [
                        _("%(n)s is itself a child; choose its parent.") % {"n": parent.number}
                    ]
                }
            )
        if ticket.children.exists():
            raise ValidationError({"parent": [_("This work order has children of its own.")]})
    before = ticket.parent_id
    if before == (parent.pk if parent else None):
        return ticket
    ticket.parent = parent
    touch(ticket, ["parent"])
    record(
        "ticket_parent_set",
        ticket,
        actor=actor,
        changes={"parent": [before, parent.pk if parent else None]},
        data={"parent": parent.number if parent else ""},
    )
    if parent is not None:
        parent = lock(parent)
        touch(parent)
        record(
            "ticket_child_added",
            parent,
            actor=actor,
            data={"child": ticket.number, "child_id": ticket.pk},
        )
    return ticket


@transaction.atomic
def link_tickets(*, actor: User, ticket: Ticket, other: Ticket) -> TicketLink:
    require_perm(actor, "tickets.link")
    if ticket.pk == other.pk:
        raise ValidationError(_("A work order cannot be linked to itself."))
    if (
        TicketLink.objects.filter(source=ticket, target=other).exists()
        or TicketLink.objects.filter(source=other, target=ticket).exists()
    ):
        raise ValidationError(_("These work orders are already linked."))
    try:
        with transaction.atomic():
            link = TicketLink.objects.create(source=ticket, target=other, created_by=actor)
    except IntegrityError:
        raise ValidationError(_("These work orders are already linked.")) from None
    for a, b in ((ticket, other), (other, ticket)):
        a = lock(a)
        touch(a)
        record("ticket_linked", a, actor=actor, data={"other": b.number, "other_id": b.pk})
    return link


@transaction.atomic
def unlink_tickets(*, actor: User, ticket: Ticket, other: Ticket) -> None:
    require_perm(actor, "tickets.link")
    deleted, _detail = TicketLink.objects.filter(
        source__in=[ticket, other], target__in=[ticket, other]
    ).delete()
    if not deleted:
        raise ValidationError(_("These work orders are not linked."))
    for a, b in ((ticket, other), (other, ticket)):
        a = lock(a)
        touch(a)
        record("ticket_unlinked", a, actor=actor, data={"other": b.number, "other_id": b.pk})


def allowed_moves(user: Any, ticket: Ticket) -> list[tuple[str, str]]:
    """(target status, move name) the user may make now, for buttons."""
    if user.role == Role.CUSTOMER:
        if ticket.customer_id != user.customer_id:
            return []
        return [
            (to, n)
            for to in states.targets(ticket.status)
            if (n := states.move(ticket.status, to)) in states.CUSTOMER_MOVES
        ]
    if not has_perm(user, "tickets.transition"):
        return []
    return [
        (to, n)
        for to in states.targets(ticket.status)
        if (n := states.move(ticket.status, to)) not in states.SPECIAL_MOVES
    ]
