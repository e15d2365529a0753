"""Who may load which e-mail records. Mailboxes, templates and quarantine are for those who
manage e-mail; a message on a work order is visible to whoever may see that work order."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from kefu.core.permissions import has_perm, require_perm, require_staff
from kefu.core.validation import parse_id
from kefu.email.models import InboundEmail, Mailbox, OutboundEmail
from kefu.tickets.access import visible_tickets


def visible_mailboxes(user: Any) -> QuerySet[Mailbox]:
    require_perm(user, "email.manage")
    return Mailbox.objects.all()


def access_mailbox(user: Any, ref: Any) -> Mailbox:
    require_perm(user, "email.manage")
    pk = parse_id(ref)
    mailbox = (
        Mailbox.objects.filter(pk=pk).select_related("team", "ticket_type").first() if pk else None
    )
    if mailbox is None:
        raise Http404
    return mailbox


def access_inbound(user: Any, ref: Any) -> InboundEmail:
    """One incoming message: with its work order's visibility, or for e-mail managers."""
    require_staff(user)
    pk = parse_id(ref)
    inbound = (
        InboundEmail.objects.filter(pk=pk).select_related("mailbox", "ticket").defer("raw").first()
        if pk
        else None
    )
    if inbound is None:
        raise Http404
    if has_perm(user, "email.manage"):
        return inbound
    if inbound.ticket_id and visible_tickets(user).filter(pk=inbound.ticket_id).exists():
        return inbound
    raise Http404


def access_outbound(user: Any, ref: Any) -> OutboundEmail:
    require_staff(user)
    pk = parse_id(ref)
    outbound = (
        OutboundEmail.objects.filter(pk=pk).select_related("mailbox", "ticket").first()
        if pk
        else None
    )
    if outbound is None:
        raise Http404
    if has_perm(user, "email.manage"):
        return outbound
    if outbound.ticket_id and visible_tickets(user).filter(pk=outbound.ticket_id).exists():
        return outbound
    raise Http404
