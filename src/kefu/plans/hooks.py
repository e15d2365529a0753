"""What service plans do inside other apps' changes: a rectification's work order is finished by
the inspector's sign-off, not by resolving it by hand (cancelling it stops its escalation); a
customer merge moves care records without reaching anyone twice."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext as _

from kefu.accounts.models import User
from kefu.core.models import Event
from kefu.customers.models import Customer
from kefu.plans.models import Rectification
from kefu.tickets.models import Ticket
from kefu.tickets.states import DONE_STATES, Status


def on_ticket_change(ticket: Ticket, event: Event) -> None:
    if event.action != "ticket_status_changed" or ticket.ticket_type.code != "rectification":
        return
    rect = Rectification.objects.filter(ticket=ticket).first()
    if rect is None:
        return
    if ticket.status in DONE_STATES and rect.state != Rectification.State.SIGNED_OFF:
        raise ValidationError(
            {"status": [_("A rectification's work order is finished by the inspector's sign-off.")]}
        )
    if ticket.status == Status.CANCELLED and rect.next_escalation_at is not None:
        Rectification.objects.filter(pk=rect.pk).update(next_escalation_at=None)


def merge_care_targets(source: Customer, target: Customer, actor: User) -> int:
    """Move a merged customer's care records to the customer kept. A round that reached both
    keeps the source's row where it was: the kept customer was already reached once in it."""
    from kefu.plans.models import CareTarget

    clash = CareTarget.objects.filter(
        customer=target, plan_id=OuterRef("plan_id"), key=OuterRef("key")
    )
    # one statement whatever the number of records (an OR per record outgrows SQLite's limit)
    rows = CareTarget.objects.filter(customer=source).exclude(Exists(clash))
    return rows.update(customer=target)
