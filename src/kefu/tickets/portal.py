"""The customer's side of work orders: submit one, follow it, reply, confirm or reopen."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.accounts.models import User
from kefu.core.choices import Channel
from kefu.core.pagination import CursorError
from kefu.portal.access import portal_login_required
from kefu.portal.home import Section
from kefu.tickets import selectors, services
from kefu.tickets.access import access_ticket, visible_tickets
from kefu.tickets.forms import PortalReplyForm, PortalTicketForm
from kefu.tickets.states import Status
from kefu.tickets.views.common import error_text

# What the customer sees of each status (plain words, no internal steps).
PUBLIC_STATUS = {
    Status.NEW: _("Received"),
    Status.ASSIGNED: _("Received"),
    Status.IN_PROGRESS: _("Being handled"),
    Status.WAITING_CUSTOMER: _("Waiting for your reply"),
    Status.WAITING_THIRD_PARTY: _("Being handled"),
    Status.RESOLVED: _("Resolved — please confirm"),
    Status.FOLLOWED_UP: _("Resolved"),
    Status.CLOSED: _("Closed"),
    Status.CANCELLED: _("Cancelled"),
    Status.MERGED: _("Merged with another request"),
}


def _customer(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def open_requests_section(request: HttpRequest) -> Section | None:
    user = request.user
    if not getattr(user, "customer_id", None):
        return None
    tickets = list(visible_tickets(user).select_related("ticket_type").order_by("-updated_at")[:5])
    return Section(
        order=10,
        template="tickets/portal/_section.html",
        context={"tickets": tickets, "labels": PUBLIC_STATUS},
    )


@portal_login_required
def ticket_list(request: HttpRequest) -> HttpResponse:
    user = _customer(request)
    qs = visible_tickets(user).select_related("ticket_type", "category")
    state = request.GET.get("state", "")
    if state == "open":
        qs = qs.filter(is_open=True)
    elif state == "done":
        qs = qs.filter(is_open=False)
    from kefu.core.pagination import paginate

    try:
        page = paginate(
            qs,
            sort="-updated_at",
            keys=selectors.SORT_KEYS,
            cursor=request.GET.get("cursor"),
            limit=20,
        )
    except CursorError:
        page = paginate(qs, sort="-updated_at", keys=selectors.SORT_KEYS, cursor=None, limit=20)
    return render(
        request,
        "tickets/portal/list.html",
        {"page": page, "labels": PUBLIC_STATUS, "state": state, "nav": "tickets"},
    )


@portal_login_required
def ticket_new(request: HttpRequest) -> HttpResponse:
    user = _customer(request)
    form = PortalTicketForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            ticket = services.create_ticket(
                actor=user,
                title=data["title"],
                description=data["description"],
                ticket_type=data["ticket_type"],
                category=data["category"] or None,
                channel=Channel.PORTAL,
                place=data["place"],
                contact_phone=data["contact_phone"],
                contact_email=user.email,
                contact_name=user.display_name,
                attachments=request.FILES.getlist("attachments"),
            )
        except (ValidationError, PermissionDenied) as exc:
            if isinstance(exc, ValidationError):
                form.add_service_errors(exc)
            else:
                form.add_error(None, str(exc))
        else:
            messages.success(
                request, _("Thank you. Your request number is %(n)s.") % {"n": ticket.number}
            )
            return redirect("portal:ticket", number=ticket.number)
    return render(request, "tickets/portal/new.html", {"form": form, "nav": "new_ticket"})


@portal_login_required
def ticket_detail(request: HttpRequest, number: str) -> HttpResponse:
    user = _customer(request)
    ticket = access_ticket(user, number)
    return render(
        request,
        "tickets/portal/detail.html",
        {
            "ticket": ticket,
            "timeline": selectors.timeline(ticket, internal=False),
            "files": selectors.ticket_files(ticket, internal=False),
            "status_label": PUBLIC_STATUS.get(Status(ticket.status), ticket.status),
            "moves": services.allowed_moves(user, ticket),
            "form": PortalReplyForm(),
            "nav": "tickets",
        },
    )


@portal_login_required
@require_POST
def ticket_reply(request: HttpRequest, number: str) -> HttpResponse:
    user = _customer(request)
    ticket = access_ticket(user, number, perm="tickets.reply")
    form = PortalReplyForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.add_customer_message(
                actor=user,
                ticket=ticket,
                body=form.cleaned_data["body"],
                attachments=request.FILES.getlist("attachments"),
            )
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, error_text(exc))
        else:
            messages.success(request, _("Message sent."))
    else:
        messages.error(request, " ".join(str(e) for es in form.errors.values() for e in es))
    return redirect("portal:ticket", number=ticket.number)


@portal_login_required
@require_POST
def ticket_confirm(request: HttpRequest, number: str) -> HttpResponse:
    """Confirm the resolution (close) or say it is not resolved (reopen)."""
    user = _customer(request)
    ticket = access_ticket(user, number)
    to = Status.CLOSED if request.POST.get("action") == "close" else Status.IN_PROGRESS
    try:
        services.transition_ticket(
            actor=user, ticket=ticket, to=to, reason=request.POST.get("reason", "")
        )
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(
            request,
            _("Thank you for confirming.")
            if to == Status.CLOSED
            else _("We have reopened your request."),
        )
    return redirect("portal:ticket", number=ticket.number)
