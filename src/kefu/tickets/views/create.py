"""Opening a work order at the desk (phone, walk-in, letter, …)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from kefu.core.permissions import require_perm
from kefu.core.validation import display_phone, normalize_phone, parse_id
from kefu.customers.access import visible_customers
from kefu.customers.models import ContactPoint
from kefu.tickets import services
from kefu.tickets.forms import NewTicketForm, TicketForm, custom_values
from kefu.tickets.history import intake_card
from kefu.tickets.services.fields import resolve_type
from kefu.tickets.views.common import staff, uploaded


def _type_from(value: str | None):  # type: ignore[no-untyped-def]
    if not value:
        return None
    try:
        return resolve_type(value)
    except ValidationError:
        return None


@login_required
def create(request: HttpRequest) -> HttpResponse:
    user = staff(request)
    require_perm(user, "tickets.create")
    data = request.POST if request.method == "POST" else None
    initial: dict[str, Any] = {
        "channel": request.GET.get("channel", "phone"),
        "assign_to_me": True,
    }
    customer = None
    if (customer_id := parse_id(request.GET.get("customer"))) is not None:
        customer = visible_customers(user).filter(pk=customer_id).first()
    if request.GET.get("caller"):
        # Caller identification: the hotline (or an accepted queued call) passes ?caller=<number>.
        try:
            number = normalize_phone(request.GET["caller"], allow_service_numbers=True)
        except ValidationError:
            number = ""
        if customer is None and number:
            customer = (
                visible_customers(user)
                .filter(contacts__kind=ContactPoint.Kind.PHONE, contacts__normalized=number)
                .first()
            )
        initial["contact_phone"] = display_phone(number) if number else request.GET["caller"]
    card = intake_card(customer, user) if customer is not None else None
    if card is not None:
        initial["customer"] = card["customer"].pk
        initial["contact_name"] = card["fill"]["name"]
        initial.setdefault("contact_phone", card["fill"]["phone"])
        initial["place"] = card["fill"]["address"]
    ticket_type = _type_from((data or request.GET).get("ticket_type"))
    form = NewTicketForm(data, request.FILES or None, initial=initial, ticket_type=ticket_type)
    if card is not None and "cf_account" in form.fields:  # the type asks for the 户号
        form.initial["cf_account"] = card["fill"]["account"]
    if data is not None and form.is_valid():
        cleaned = form.cleaned_data
        try:
            ticket = services.create_ticket(
                actor=user,
                title=cleaned["title"],
                description=cleaned["description"],
                ticket_type=cleaned["ticket_type"],
                category=cleaned["category"] or None,
                subject=cleaned["subject"],
                channel=cleaned["channel"],
                priority=cleaned["priority"],
                severity=cleaned["severity"],
                customer=cleaned["customer"],
                contact_name=cleaned["contact_name"],
                contact_phone=cleaned["contact_phone"],
                contact_email=cleaned["contact_email"],
                place=cleaned["place"],
                area=cleaned["area"],
                staff_concerned=cleaned["staff_concerned"],
                sensitive=cleaned["sensitive"],
                tags=form.tag_list(),
                custom_fields=custom_values(form, form.custom_names),
                assignee=user if cleaned["assign_to_me"] else None,
                attachments=uploaded(request),
            )
        except (ValidationError, PermissionDenied) as exc:
            if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
                for key in list(exc.error_dict):
                    if key.startswith("custom_fields."):
                        exc.error_dict[f"cf_{key.split('.', 1)[1]}"] = exc.error_dict.pop(key)
                    elif key == "attachments":
                        exc.error_dict["attachments"] = exc.error_dict.pop(key)
                form.add_service_errors(exc)
            else:
                form.add_error(None, str(exc))
        else:
            messages.success(request, _("Work order %(n)s opened.") % {"n": ticket.number})
            return redirect("tickets:detail", number=ticket.number)
    if data is not None:  # shown again with errors: the card of the customer in the form
        picked = (
            visible_customers(user).filter(pk=picked_id).first()
            if (picked_id := parse_id(form["customer"].value())) is not None
            else None
        )
        card = intake_card(picked, user) if picked is not None else None
    return render(request, "tickets/new.html", {"form": form, "card": card, "nav": "tickets"})


@login_required
def intake_customer(request: HttpRequest, customer_id: int) -> HttpResponse:
    """The caller card of the 受理 page, for the customer the agent just picked."""
    user = staff(request)
    require_perm(user, "tickets.create")
    customer = get_object_or_404(visible_customers(user).select_related("vip_tier"), pk=customer_id)
    return render(request, "tickets/_intake_customer.html", {"card": intake_card(customer, user)})


@login_required
def custom_fields(request: HttpRequest) -> HttpResponse:
    """The chosen type's extra fields (swapped into the form when the type changes)."""
    staff(request)
    form = TicketForm(
        ticket_type=_type_from(request.GET.get("ticket_type")),
        prefix=request.GET.get("prefix") or None,
    )
    return render(request, "tickets/_custom_fields.html", {"form": form})
