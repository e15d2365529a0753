"""转办: sending a work order to a responsible department, its reply, and the agent's review.

The department's liaison replies (or sends it back as not theirs); the agent reviews the reply
before the customer hears anything, and either accepts it (and writes to the customer) or
rejects it with a note, which puts the transfer back in the department's inbox.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.models import Team, User
from kefu.core.permissions import require_perm
from kefu.core.validation import clean_text
from kefu.tickets.models import Ticket, Transfer
from kefu.tickets.services.common import lock, record, touch
from kefu.tickets.services.lifecycle import _set_status
from kefu.tickets.states import Status

DEFAULT_REPLY_HOURS = 72

TransferDeadline = Callable[[Ticket, Team, dt.datetime], dt.datetime | None]
DEADLINE_PROVIDERS: list[TransferDeadline] = []
"""The SLA module provides the department's reply deadline (on its business calendar)."""


def transfer_deadline(ticket: Ticket, department: Team, now: dt.datetime) -> dt.datetime:
    for provider in DEADLINE_PROVIDERS:
        due = provider(ticket, department, now)
        if due is not None:
            return due
    return now + dt.timedelta(hours=DEFAULT_REPLY_HOURS)


@transaction.atomic
def transfer_ticket(
    *,
    actor: User,
    ticket: Ticket,
    department: Team,
    instructions: str,
    due_at: dt.datetime | None = None,
) -> Transfer:
    require_perm(actor, "tickets.transfer")
    instructions = clean_text(instructions, field="instructions", max_length=4000, required=True)
    if department.kind != Team.Kind.DEPARTMENT or not department.is_active:
        raise ValidationError({"department": [_("Choose an active responsible department.")]})
    ticket = lock(ticket)
    if not ticket.is_open:
        raise ValidationError(_("Only open work orders can be transferred."))
    if ticket.transfers.filter(
        department=department, state__in=[Transfer.State.OPEN, Transfer.State.REPLIED]
    ).exists():
        raise ValidationError(
            {"department": [_("This department already has an open transfer of this work order.")]}
        )
    now = timezone.now()
    if due_at is not None and due_at <= now:
        raise ValidationError({"due_at": [_("The reply deadline must be in the future.")]})
    transfer = Transfer.objects.create(
        ticket=ticket,
        department=department,
        instructions=instructions,
        due_at=due_at or transfer_deadline(ticket, department, now),
        requested_by=actor,
    )
    fields: list[str] = ["status"]
    if ticket.status in (Status.NEW, Status.ASSIGNED):
        _set_status(ticket, Status.IN_PROGRESS)
    touch(ticket, fields)
    record(
        "ticket_transferred",
        ticket,
        actor=actor,
        data={
            "transfer": transfer.pk,
            "department": department.name,
            "department_id": department.pk,
            "due_at": transfer.due_at.isoformat(),
            "due_given": due_at is not None,
            "instructions": instructions[:300],
        },
    )
    from kefu.tickets.services.notify import tell_team

    tell_team(
        ticket,
        department,
        actor,
        _("Transferred to your department: %(n)s %(t)s") % {"n": ticket.number, "t": ticket.title},
        url_name="tickets:transfer",
        url_args=[transfer.pk],
    )
    return transfer


def _lock_transfer(transfer: Transfer) -> Transfer:
    return (
        Transfer.objects.select_for_update()
        .select_related("ticket", "department")
        .get(pk=transfer.pk)
    )


def _in_department(actor: User, transfer: Transfer) -> None:
    require_perm(actor, "transfers.reply")
    if not actor.memberships.filter(team_id=transfer.department_id).exists():
        raise PermissionDenied(_("Only the department it was sent to can answer this transfer."))


@transaction.atomic
def reply_to_transfer(*, actor: User, transfer: Transfer, reply: str) -> Transfer:
    """The department answers; the agent reviews before the customer hears."""
    _in_department(actor, transfer)
    transfer = _lock_transfer(transfer)
    if transfer.state != Transfer.State.OPEN:
        raise ValidationError(_("This transfer is not waiting for a reply."))
    transfer.reply = clean_text(reply, field="reply", max_length=10000, required=True)
    transfer.replied_by = actor
    transfer.replied_at = timezone.now()
    transfer.state = Transfer.State.REPLIED
    transfer.save()
    ticket = lock(transfer.ticket)
    touch(ticket)
    record(
        "transfer_replied",
        ticket,
        actor=actor,
        data={
            "transfer": transfer.pk,
            "department": transfer.department.name,
            "excerpt": transfer.reply[:300],
            "late": transfer.replied_at > transfer.due_at,
        },
    )
    from kefu.tickets.services.notify import tell_requester

    tell_requester(
        transfer, _("%(d)s replied on %(n)s") % {"d": transfer.department.name, "n": ticket.number}
    )
    return transfer


@transaction.atomic
def return_transfer(*, actor: User, transfer: Transfer, reason: str) -> Transfer:
    """The department sends it back: not theirs, or not enough to act on."""
    _in_department(actor, transfer)
    transfer = _lock_transfer(transfer)
    if transfer.state != Transfer.State.OPEN:
        raise ValidationError(_("This transfer is not waiting for a reply."))
    transfer.reply = clean_text(reason, field="reason", max_length=4000, required=True)
    transfer.replied_by = actor
    transfer.replied_at = timezone.now()
    transfer.state = Transfer.State.RETURNED
    transfer.save()
    ticket = lock(transfer.ticket)
    touch(ticket)
    record(
        "transfer_returned",
        ticket,
        actor=actor,
        data={
            "transfer": transfer.pk,
            "department": transfer.department.name,
            "reason": transfer.reply[:300],
        },
    )
    from kefu.tickets.services.notify import tell_requester

    tell_requester(
        transfer, _("%(d)s sent %(n)s back") % {"d": transfer.department.name, "n": ticket.number}
    )
    return transfer


@transaction.atomic
def review_transfer(*, actor: User, transfer: Transfer, accept: bool, note: str = "") -> Transfer:
    """The agent accepts the department's reply (then tells the customer) or rejects it, which
    sends the transfer back to the department with the note."""
    require_perm(actor, "tickets.transfer")
    transfer = _lock_transfer(transfer)
    if transfer.state != Transfer.State.REPLIED:
        raise ValidationError(_("Only a replied transfer can be reviewed."))
    note = clean_text(note, field="note", max_length=4000, required=not accept)
    transfer.review_note = note
    transfer.reviewed_by = actor
    transfer.reviewed_at = timezone.now()
    transfer.state = Transfer.State.ACCEPTED if accept else Transfer.State.OPEN
    transfer.save()
    ticket = lock(transfer.ticket)
    touch(ticket)
    record(
        "transfer_accepted" if accept else "transfer_rejected",
        ticket,
        actor=actor,
        data={"transfer": transfer.pk, "department": transfer.department.name, "note": note[:300]},
    )
    if not accept:
        from kefu.tickets.services.notify import tell_team

        tell_team(
            ticket,
            transfer.department,
            actor,
            _("Reply to %(n)s was not accepted: %(note)s")
            % {"n": ticket.number, "note": note[:80]},
            url_name="tickets:transfer",
            url_args=[transfer.pk],
        )
    return transfer


@transaction.atomic
def withdraw_transfer(*, actor: User, transfer: Transfer, reason: str = "") -> Transfer:
    require_perm(actor, "tickets.transfer")
    transfer = _lock_transfer(transfer)
    if transfer.state not in (Transfer.State.OPEN, Transfer.State.REPLIED, Transfer.State.RETURNED):
        raise ValidationError(_("This transfer is already finished."))
    transfer.state = Transfer.State.WITHDRAWN
    transfer.review_note = clean_text(reason, field="reason", max_length=4000)
    transfer.reviewed_by = actor
    transfer.reviewed_at = timezone.now()
    transfer.save()
    ticket = lock(transfer.ticket)
    touch(ticket)
    record(
        "transfer_withdrawn",
        ticket,
        actor=actor,
        data={"transfer": transfer.pk, "department": transfer.department.name},
    )
    return transfer
