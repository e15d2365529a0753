"""Field-service screens: the engineer's phone pages (my visits today, one visit with its
check-in and check-out), the dispatchers' list, the work order's field panel and its actions,
and the customer's confirmation link."""

from __future__ import annotations

import contextlib
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.accounts.models import User
from kefu.core.files import protected_file_response
from kefu.core.permissions import ROLE_PERMS, has_perm, require_perm
from kefu.core.validation import parse_id
from kefu.field import access, selectors, services, states, stock
from kefu.field.forms import form_id, local_date, local_datetime, messages_of, optional_id
from kefu.field.models import (
    Asset,
    Location,
    Part,
    RemoteSession,
    Reservation,
    Visit,
    VisitPhoto,
)
from kefu.tickets.views.common import error_text, staff

S = Visit.State


def engineers() -> list[User]:
    roles = [role for role, perms in ROLE_PERMS.items() if "field.work" in perms]
    return list(User.objects.filter(role__in=roles, is_active=True).order_by("display_name", "pk"))


# --- the engineer's phone pages -------------------------------------------------------------------


@login_required
def today(request: HttpRequest) -> HttpResponse:
    user = staff(request)
    require_perm(user, "field.work")
    day = timezone.localdate()
    with contextlib.suppress(ValidationError):
        day = local_date(request.GET.get("day"), "day") or day
    visits = selectors.my_visits(user, day)
    import datetime as dt

    return render(
        request,
        "field/today.html",
        {
            "visits": visits,
            "day": day,
            "prev_day": day - dt.timedelta(days=1),
            "next_day": day + dt.timedelta(days=1),
        },
    )


def _visit_context(visit: Visit, user: User) -> dict[str, Any]:
    reservations = list(
        Reservation.objects.filter(ticket_id=visit.ticket_id)
        .select_related("part", "location")
        .order_by("pk")
    )
    return {
        "visit": visit,
        "ticket": visit.ticket,
        "photos": list(visit.photos.all()),
        "reservations": [r for r in reservations if r.open_qty > 0],
        "outcomes": Visit.Outcome.choices,
        "mine": visit.engineer_id == user.pk,
        "can_dispatch": has_perm(user, "field.dispatch"),
        "next": states.next_states(visit.state),
        "confirm_url": (
            reverse("field:confirm", args=[services.confirm_token(visit)])
            if visit.state == S.DONE
            else ""
        ),
    }


@login_required
def visit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = staff(request)
    visit = access.access_visit(user, pk)
    return _with_location(render(request, "field/visit.html", _visit_context(visit, user)))


def _with_location(response: HttpResponse) -> HttpResponse:
    """The visit page may ask the phone for its position (the check-in); other pages may not."""
    response["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(self)"
    return response


@login_required
@require_POST
def visit_move(request: HttpRequest, pk: int) -> HttpResponse:
    user = staff(request)
    visit = access.access_visit(user, pk)
    to = request.POST.get("to", "")
    used = {}
    for key in request.POST:
        if key.startswith("used-") and (rid := parse_id(key[5:])) is not None:
            used[rid] = request.POST.get(key, "").strip()
    try:
        services.transition_visit(
            actor=user,
            visit=visit,
            to=to,
            lat=request.POST.get("lat"),
            lng=request.POST.get("lng"),
            accuracy=request.POST.get("accuracy"),
            report=request.POST.get("report", ""),
            outcome=request.POST.get("outcome", ""),
            used=used,
            photos=request.FILES.getlist("photos"),
            name=request.POST.get("name", ""),
            comment=request.POST.get("comment", ""),
            reason=request.POST.get("reason", ""),
        )
    except ValidationError as exc:
        context = _visit_context(visit, user)
        context.update(errors=messages_of(exc), values=request.POST)
        messages.error(request, error_text(exc))
        return _with_location(render(request, "field/visit.html", context, status=400))
    return redirect("field:visit", pk=visit.pk)


@login_required
@require_POST
def visit_photos(request: HttpRequest, pk: int) -> HttpResponse:
    user = staff(request)
    visit = access.access_visit(user, pk, perm="field.work")
    try:
        from django.db import transaction

        with transaction.atomic():
            services.add_photos(actor=user, visit=visit, uploads=request.FILES.getlist("photos"))
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    return redirect("field:visit", pk=visit.pk)


@login_required
def photo(request: HttpRequest, pk: int) -> HttpResponseBase:
    user = staff(request)
    row = VisitPhoto.objects.filter(pk=pk).only("visit_id").first()
    if row is None:
        raise Http404
    access.access_visit(user, row.visit_id)
    row = VisitPhoto.objects.get(pk=pk)
    return protected_file_response(
        row.file, name=row.filename, content_type=row.content_type, size=row.size, inline=True
    )


# --- dispatchers ----------------------------------------------------------------------------------


@login_required
def visit_list(request: HttpRequest) -> HttpResponse:
    user = staff(request)
    require_perm(user, "field.dispatch")
    state = request.GET.get("state", "")
    if state not in S.values:
        state = ""
    try:
        day = local_date(request.GET.get("day"), "day")
    except ValidationError:
        day = None
    visits = list(selectors.visit_list(user, state=state, day=day)[:200])
    return render(
        request,
        "field/visits.html",
        {"visits": visits, "state": state, "states": S.choices, "day": day, "nav": "field_visits"},
    )


@login_required
def dispatch(request: HttpRequest, number: str) -> HttpResponse:
    user = staff(request)
    ticket = access.field_ticket(user, number, perm="field.dispatch")
    assets = (
        list(Asset.objects.filter(customer_id=ticket.customer_id, is_active=True))
        if ticket.customer_id
        else []
    )
    errors: dict[str, list[str]] = {}
    values: Any = request.POST if request.method == "POST" else {}
    if request.method == "POST":
        try:
            asset_id = optional_id(request.POST.get("asset"), "asset")
            asset = next((a for a in assets if a.pk == asset_id), None)
            if asset_id is not None and asset is None:
                raise ValidationError({"asset": [_("Choose one from the list.")]})
            engineer_id = form_id(request.POST.get("engineer"), "engineer")
            services.dispatch_visit(
                actor=user,
                ticket=ticket,
                engineer=User.objects.filter(pk=engineer_id).first(),
                window_start=local_datetime(request.POST.get("window_start"), "window_start"),
                window_end=local_datetime(request.POST.get("window_end"), "window_end"),
                address=request.POST.get("address", ""),
                asset=asset,
                contact_name=request.POST.get("contact_name", ""),
                contact_phone=request.POST.get("contact_phone", ""),
                instructions=request.POST.get("instructions", ""),
            )
        except ValidationError as exc:
            errors = messages_of(exc)
        else:
            messages.success(request, _("The engineer has been sent."))
            return redirect("tickets:detail", number=ticket.number)
    return render(
        request,
        "field/dispatch.html",
        {
            "ticket": ticket,
            "assets": assets,
            "engineers": engineers(),
            "errors": errors,
            "values": values,
            "nav": "field_visits",
        },
        status=400 if errors else 200,
    )


# --- the ticket page's panel ----------------------------------------------------------------------


def ticket_panel(request: HttpRequest, ticket: Any) -> str:
    """A placeholder that loads the field panel after the page (no query on the page itself)."""
    if not has_perm(request.user, "field.view"):
        return ""
    return render_to_string("field/_panel_loader.html", {"ticket": ticket}, request=request)


@login_required
def panel(request: HttpRequest, number: str) -> HttpResponse:
    user = staff(request)
    ticket = access.field_ticket(user, number, perm="field.view")
    data = selectors.ticket_field(ticket)
    parts = list(Part.objects.filter(is_active=True).order_by("code")[:500])
    locations = list(Location.objects.filter(is_active=True).order_by("kind", "name"))
    return render(
        request,
        "field/_panel.html",
        {
            "ticket": ticket,
            "f": data,
            "parts": parts,
            "locations": locations,
            "tools": RemoteSession.Tool.choices,
            "remote_outcomes": RemoteSession.Outcome.choices,
            "now": timezone.localtime(),
        },
    )


def _back(ticket: Any) -> HttpResponse:
    response = redirect("tickets:detail", number=ticket.number)
    response["Location"] += "#field-panel"
    return response


@login_required
@require_POST
def reserve(request: HttpRequest, number: str) -> HttpResponse:
    user = staff(request)
    ticket = access.field_ticket(user, number, perm="field.parts")
    try:
        part = Part.objects.filter(pk=form_id(request.POST.get("part"), "part")).first()
        location = Location.objects.filter(
            pk=form_id(request.POST.get("location"), "location")
        ).first()
        if part is None or location is None:
            raise ValidationError({"part": [_("Choose one from the list.")]})
        if request.POST.get("use_now"):
            stock.consume_direct(
                actor=user, ticket=ticket, part=part, location=location, qty=request.POST.get("qty")
            )
            messages.success(request, _("The parts are recorded as used."))
        else:
            stock.reserve(
                actor=user, ticket=ticket, part=part, location=location, qty=request.POST.get("qty")
            )
            messages.success(request, _("The parts are reserved."))
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    return _back(ticket)


@login_required
@require_POST
def reservation_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    user = staff(request)
    reservation = access.access_reservation(user, pk)
    try:
        if action == "release":
            stock.release(actor=user, reservation=reservation, qty=request.POST.get("qty") or None)
        else:
            stock.consume(actor=user, reservation=reservation, qty=request.POST.get("qty"))
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    return _back(reservation.ticket)


@login_required
@require_POST
def remote(request: HttpRequest, number: str) -> HttpResponse:
    user = staff(request)
    ticket = access.field_ticket(user, number, perm="field.remote")
    try:
        services.log_remote_session(
            actor=user,
            ticket=ticket,
            tool=request.POST.get("tool", ""),
            tool_detail=request.POST.get("tool_detail", ""),
            started_at=local_datetime(request.POST.get("started_at"), "started_at", required=False),
            ended_at=local_datetime(request.POST.get("ended_at"), "ended_at", required=False),
            outcome=request.POST.get("outcome", ""),
            notes=request.POST.get("notes", ""),
        )
        messages.success(request, _("The remote-support session is logged."))
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    return _back(ticket)


@login_required
@require_POST
def remote_end(request: HttpRequest, pk: int) -> HttpResponse:
    user = staff(request)
    session = access.access_remote_session(user, pk)
    try:
        services.end_remote_session(
            actor=user,
            session=session,
            outcome=request.POST.get("outcome", ""),
            notes=request.POST.get("notes", ""),
        )
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, error_text(exc))
    return _back(session.ticket)


# --- the customer's confirmation ------------------------------------------------------------------


def confirm(request: HttpRequest, token: str) -> HttpResponse:
    """The customer opens the signed link (no sign-in), reads the report and confirms it, or
    says what is wrong."""
    visit = services.visit_from_token(token)
    if visit is None:
        return render(request, "field/confirm.html", {"invalid": True}, status=404)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            if request.POST.get("answer") == "dispute":
                services.dispute_visit(
                    visit=visit,
                    name=request.POST.get("name", ""),
                    comment=request.POST.get("comment", ""),
                )
            else:
                services.transition_visit(
                    actor=None,
                    visit=visit,
                    to=S.CONFIRMED,
                    name=request.POST.get("name", ""),
                    comment=request.POST.get("comment", ""),
                    via="link",
                )
        except ValidationError as exc:
            errors = messages_of(exc)
        else:
            return redirect("field:confirm", token=token)
        visit.refresh_from_db()
    return render(
        request,
        "field/confirm.html",
        {"visit": visit, "errors": errors, "values": request.POST, "photos": visit.photos.count()},
        status=400 if errors else 200,
    )
