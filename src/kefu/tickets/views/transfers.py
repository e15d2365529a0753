"""A department's inbox (责任部门): transfers waiting for a reply, and answering them."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.core.permissions import require_perm
from kefu.tickets import selectors, services
from kefu.tickets.access import access_transfer, department_transfers
from kefu.tickets.models import Transfer
from kefu.tickets.views.common import flash_error, staff


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    user = staff(request)
    require_perm(user, "transfers.reply")
    state = request.GET.get("state", "open")
    qs = department_transfers(user).select_related(
        "ticket", "ticket__ticket_type", "department", "requested_by"
    )
    if state == "open":
        qs = qs.filter(state=Transfer.State.OPEN).order_by("due_at")
    elif state == "answered":
        qs = qs.exclude(state=Transfer.State.OPEN).order_by("-replied_at", "-created_at")
    else:
        qs = qs.order_by("-created_at")
    return render(
        request,
        "tickets/transfers.html",
        {"transfers": qs[:200], "state": state, "now": timezone.now(), "nav": "transfers"},
    )


@login_required
def transfer_detail(request: HttpRequest, transfer_id: int) -> HttpResponse:
    user = staff(request)
    item = access_transfer(user, transfer_id)
    ticket = item.ticket
    in_department = item.department_id in set(user.memberships.values_list("team_id", flat=True))
    timeline = [
        t
        for t in selectors.timeline(ticket, internal=True)
        if t.event.action in ("ticket_created", "customer_replied", "ticket_replied")
    ]
    history = ticket.transfers.select_related("department", "replied_by").order_by("created_at")
    return render(
        request,
        "tickets/transfer.html",
        {
            "transfer": item,
            "ticket": ticket,
            "timeline": timeline,
            "history": history,
            "in_department": in_department,
            "now": timezone.now(),
            "nav": "transfers",
        },
    )


@login_required
@require_POST
def answer(request: HttpRequest, transfer_id: int) -> HttpResponse:
    user = staff(request)
    item = access_transfer(user, transfer_id)
    try:
        if request.POST.get("action") == "return":
            services.return_transfer(actor=user, transfer=item, reason=request.POST.get("text", ""))
            messages.success(request, _("Sent back to the service centre."))
        else:
            services.reply_to_transfer(
                actor=user, transfer=item, reply=request.POST.get("text", "")
            )
            messages.success(
                request, _("Reply sent; the agent reviews it before the customer is told.")
            )
    except (ValidationError, PermissionDenied) as exc:
        flash_error(request, exc)
        return redirect("tickets:transfer", transfer_id=item.pk)
    return redirect("tickets:transfers")
