"""What service plans do inside each work-order change: a rectification's work order is finished
by the inspector's sign-off, not by resolving it by hand; cancelling it stops its escalation."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from kefu.core.models import Event
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
