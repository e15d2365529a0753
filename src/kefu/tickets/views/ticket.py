"""The ticket page and every action on it; each action calls one service and comes back."""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Max
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.accounts.models import Team, User
from kefu.core.interactions import TICKET_PANELS, ticket_panels
from kefu.core.permissions import has_perm
from kefu.core.validation import Conflict, parse_id
from kefu.tickets import selectors, services
from kefu.tickets.access import access_ticket, access_transfer, visible_tickets
from kefu.tickets.forms import MoveForm, ReplyForm, TicketForm, custom_values
from kefu.tickets.models import Message, Ticket
from kefu.tickets.services.fields import resolve_type
from kefu.tickets.states import MOVE_LABELS, Status
from kefu.tickets.views.common import back_to, error_text, flash_error, staff, uploaded


def _fields_form(ticket: Ticket, data: Any = None) -> TicketForm:
    initial = {
        "title": ticket.title,
        "description": ticket.description,
        "ticket_type": str(ticket.ticket_type_id),
        "category": str(ticket.category_id or ""),
        "subject": ticket.subject,
        "channel": ticket.channel,
        "priority": ticket.priority,
        "severity": ticket.severity,
        "customer": ticket.customer_id,
        "contact_name": ticket.contact_name,
        "contact_phone": ticket.contact_phone,
        "contact_email": ticket.contact_email,
        "place": ticket.place,
        "area": ticket.area,
        "staff_concerned": ticket.staff_concerned,
        "sensitive": ticket.sensitive,
        "tags": ", ".join(t.name for t in ticket.tags.all()),
    }
    ticket_type = ticket.ticket_type
    if data is not None and data.get("ticket_type"):
        with contextlib.suppress(ValidationError):
            ticket_type = resolve_type(data["ticket_type"])
    return TicketForm(
        data,
        initial=initial,
        ticket_type=ticket_type,
        custom_initial=ticket.custom_fields,
        prefix="f",
    )


PANELS = TICKET_PANELS
"""The ticket page's side panels; apps add theirs with ``core.interactions.register_ticket_panel``
(or a channel's ``ticket_panel``)."""


def render_detail(
    request: HttpRequest, ticket: Ticket, *, status: int = 200, **overrides: Any
) -> HttpResponse:
    user = staff(request)
    last_message = Message.objects.filter(ticket=ticket).aggregate(m=Max("id"))["m"] or 0
    moves = services.allowed_moves(user, ticket)
    context: dict[str, Any] = {
        "ticket": ticket,
        "timeline": selectors.timeline(ticket, internal=True),
        "files": selectors.ticket_files(ticket, internal=True),
        "related": selectors.related(ticket, user),
        "card": selectors.customer_card(ticket, user),
        "transfers": list(
            ticket.transfers.select_related("department", "requested_by", "replied_by")
        ),
        "moves": [(to, name, MOVE_LABELS.get(name, name)) for to, name in moves],
        "fields_form": _fields_form(ticket),
        "reply_form": ReplyForm(initial={"seen": last_message}),
        "canned": services.canned_for(user, ticket),
        "agents": selectors.agent_options(),
        "teams": selectors.team_options(),
        "departments": selectors.department_options(),
        "needs_reply": services.needs_reply(ticket),
        "can": {
            "edit": has_perm(user, "tickets.edit") and ticket.is_open,
            "reply": has_perm(user, "tickets.reply"),
            "note": has_perm(user, "tickets.note"),
            "assign": has_perm(user, "tickets.assign"),
            "escalate": has_perm(user, "tickets.escalate") and ticket.is_open and ticket.line < 2,
            "transfer": has_perm(user, "tickets.transfer") and ticket.is_open,
            "merge": has_perm(user, "tickets.merge")
            and ticket.status not in (Status.MERGED, Status.CANCELLED),
            "link": has_perm(user, "tickets.link"),
        },
        "nav": "tickets",
        "now": timezone.now(),
        "panels": ticket_panels(request, ticket),
    }
    context.update(overrides)
    return render(request, "tickets/detail.html", context, status=status)


@login_required
def detail(request: HttpRequest, number: str) -> HttpResponse:
    user = staff(request)
    ticket = access_ticket(user, number)
    if ticket.number != number:
        return redirect("tickets:detail", number=ticket.number)
    return render_detail(request, ticket)


@login_required
def timeline_partial(request: HttpRequest, number: str) -> HttpResponse:
    """The timeline alone, for live refresh when someone else changes the work order."""
    user = staff(request)
    ticket = access_ticket(user, number)
    return render(
        request,
        "tickets/_timeline.html",
        {"ticket": ticket, "timeline": selectors.timeline(ticket, internal=True)},
    )


@login_required
@require_POST
def reply(request: HttpRequest, number: str) -> HttpResponse:
    user = staff(request)
    ticket = access_ticket(user, number)
    form = ReplyForm(request.POST, request.FILES)
    if not form.is_valid():
        return render_detail(request, ticket, reply_form=form, status=400)
    data = form.cleaned_data
    kind = data["kind"]
    seen = data.get("seen") or 0
    newer = (
        Message.objects.filter(ticket=ticket, pk__gt=seen)
        .exclude(author=user)
        .select_related("author")
        .order_by("-id")
    )
    if newer.exists() and not data.get("confirm"):
        latest = newer.first()
        assert latest is not None
        confirmed = request.POST.copy()
        confirmed["confirm"] = "1"
        form = ReplyForm(confirmed)
        form.is_valid()
        warning = _(
            "%(who)s added to this work order at %(when)s while you were writing. Read it below, then send again."
        ) % {
            "who": latest.author_name or _("The customer"),
            "when": timezone.localtime(latest.created_at).strftime("%H:%M"),
        }
        return render_detail(request, ticket, reply_form=form, collision=warning, status=409)
    files = uploaded(request)
    try:
        if kind == "note":
            services.add_note(actor=user, ticket=ticket, body=data["body"], attachments=files)
        else:
            services.add_reply(actor=user, ticket=ticket, body=data["body"], attachments=files)
            if data.get("then"):
                ticket.refresh_from_db()
                services.transition_ticket(
                    actor=user,
                    ticket=ticket,
                    to=Status.WAITING_CUSTOMER
                    if data["then"] == "wait_customer"
                    else Status.RESOLVED,
                )
    except (ValidationError, PermissionDenied, Conflict) as exc:
        form.add_error(None, error_text(exc))
        ticket.refresh_from_db()
        return render_detail(request, ticket, reply_form=form, status=400)
    messages.success(request, _("Internal note added.") if kind == "note" else _("Reply sent."))
    return back_to(ticket.number, "timeline-end")


@login_required
@require_POST
def update_fields(request: HttpRequest, number: str) -> HttpResponse:
    user = staff(request)
    ticket = access_ticket(user, number, perm="tickets.edit")
    form = _fields_form(ticket, request.POST)
    if not form.is_valid():
        return render_detail(request, ticket, fields_form=form, status=400)
    data = form.cleaned_data
    changes: dict[str, Any] = {
        "title": data["title"],
        "description": data["description"],
        "ticket_type": data["ticket_type"],
        "category": data["category"] or None,
        "subject": data["subject"],
        "channel": data["channel"],
        "priority": data["priority"],
        "severity": data["severity"],
        "contact_name": data["contact_name"],
        "contact_phone": data["contact_phone"],
        "contact_email": data["contact_email"],
        "place": data["place"],
        "area": data["area"],
        "staff_concerned": data["staff_concerned"],
        "sensitive": data["sensitive"],
        "tags": form.tag_list(),
        "custom_fields": custom_values(form, form.custom_names),
    }
    if data.get("customer") or data.get("customer") is None and ticket.customer_id:
        changes["customer"] = data.get("customer")
    version = request.POST.get("version", "")
    try:
        services.update_ticket(
            actor=user,
            ticket=ticket,
            changes=changes,
            expected_version=parse_id(version),
        )
    except Conflict as exc:
        form.add_error(None, exc.message)
        ticket.refresh_from_db()
        return render_detail(request, ticket, fields_form=form, conflict=True, status=409)
    except ValidationError as exc:
        _map_field_errors(exc)
        form.add_service_errors(exc)
        return render_detail(request, ticket, fields_form=form, status=400)
    messages.success(request, _("Saved."))
    return back_to(ticket.number)


def _map_field_errors(exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for key in list(exc.error_dict):
            if key.startswith("custom_fields."):
                exc.error_dict[f"cf_{key.split('.', 1)[1]}"] = exc.error_dict.pop(key)


def _user_choice(value: str, user: User) -> User | None:
    if value == "me":
        return user
    if (pk := parse_id(value)) is not None:
        return get_object_or_404(User, pk=pk)
    return None


@login_required
@require_POST
def assign(request: HttpRequest, number: str) -> HttpResponse:
    user = staff(request)
    ticket = access_ticket(user, number, perm="tickets.assign")
    team_id = request.POST.get("team", "")
    team = get_object_or_404(Team, pk=parse_id(team_id)) if parse_id(team_id) else None
    try:
        services.assign_ticket(
            actor=user,
            ticket=ticket,
            assignee=_user_choice(request.POST.get("assignee", ""), user),
            team=team,
        )
    except (ValidationError, PermissionDenied, Conflict) as exc:
        flash_error(request, exc)
    return back_to(ticket.number)


@login_required
@require_POST
def move(request: HttpRequest, number: str) -> HttpResponse:
    user = staff(request)
    ticket = access_ticket(user, number, perm="tickets.transition")
    form = MoveForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The request was incomplete."))
        return back_to(ticket.number)
    data = form.cleaned_data
    try:
        services.transition_ticket(
            actor=user,
            ticket=ticket,
            to=data["to"],
            reason=data["reason"],
            reply=data["reply"] or None,
            followup_result=data["followup_result"],
            close_children=data["close_children"],
            expected_version=data.get("version"),
        )
    except (ValidationError, PermissionDenied, Conflict) as exc:
        flash_error(request, exc)
    else:
        messages.success(request, _("Status: %(s)s") % {"s": Status(data["to"]).label})
    return back_to(ticket.number)


@login_required
@require_POST
def escalate(request: HttpRequest, number: str) -> HttpResponse:
    user = staff(request)
    ticket = access_ticket(user, number, perm="tickets.escalate")
    team_id = request.POST.get("team", "")
    team = get_object_or_404(Team, pk=parse_id(team_id)) if parse_id(team_id) else None
    try:
        services.escalate_ticket(
            actor=user,
            ticket=ticket,
            reason=request.POST.get("reason", ""),
            team=team,
            assignee=_user_choice(request.POST.get("assignee", ""), user),
        )
    except (ValidationError, PermissionDenied) as exc:
        flash_error(request, exc)
    else:
        messages.success(request, _("Escalated to the second line."))
    return back_to(ticket.number)


@login_required
@require_POST
def transfer(request: HttpRequest, number: str) -> HttpResponse:
    user = staff(request)
    ticket = access_ticket(user, number, perm="tickets.transfer")
    department_id = request.POST.get("department", "")
    department = (
        get_object_or_404(Team, pk=parse_id(department_id)) if parse_id(department_id) else None
    )
    due_raw = request.POST.get("due_at", "")
    due = None
    if due_raw:
        try:
            due = timezone.make_aware(dt.datetime.fromisoformat(due_raw))
        except ValueError:
            messages.error(request, _("The reply deadline is not a valid date and time."))
            return back_to(ticket.number)
    if department is None:
        messages.error(request, _("Choose a department."))
        return back_to(ticket.number)
    try:
        services.transfer_ticket(
            actor=user,
            ticket=ticket,
            department=department,
            instructions=request.POST.get("instructions", ""),
            due_at=due,
        )
    except (ValidationError, PermissionDenied) as exc:
        flash_error(request, exc)
    else:
        messages.success(request, _("Transferred to %(d)s.") % {"d": department.name})
    return back_to(ticket.number, "transfers")


@login_required
@require_POST
def review(request: HttpRequest, transfer_id: int) -> HttpResponse:
    user = staff(request)
    item = access_transfer(user, transfer_id)
    ticket = access_ticket(user, item.ticket_id, perm="tickets.transfer")
    action = request.POST.get("action")
    try:
        if action == "withdraw":
            services.withdraw_transfer(
                actor=user, transfer=item, reason=request.POST.get("note", "")
            )
        else:
            services.review_transfer(
                actor=user,
                transfer=item,
                accept=action == "accept",
                note=request.POST.get("note", ""),
            )
    except (ValidationError, PermissionDenied) as exc:
        flash_error(request, exc)
    else:
        if action == "accept":
            messages.success(
                request,
                _(
                    "Reply accepted. Tell the customer below — the department's answer is in the reply box."
                ),
            )
            request.session[f"draft-{ticket.pk}"] = item.reply
    return back_to(ticket.number, "reply")


def _other(user: User, number: str) -> Ticket:
    number = number.strip().upper()
    if not number:
        raise ValidationError(_("Enter a work-order number."))
    other = visible_tickets(user).filter(number=number).first()
    if other is None:
        raise ValidationError(_("No work order %(n)s that you can see.") % {"n": number})
    return other


@login_required
@require_POST
def merge(request: HttpRequest, number: str) -> HttpResponse:
    user = staff(request)
    ticket = access_ticket(user, number, perm="tickets.merge")
    try:
        target = _other(user, request.POST.get("target", ""))
        services.merge_tickets(
            actor=user, source=ticket, target=target, reason=request.POST.get("reason", "")
        )
    except (ValidationError, PermissionDenied) as exc:
        flash_error(request, exc)
        return back_to(ticket.number)
    messages.success(
        request, _("%(a)s was merged into %(b)s.") % {"a": ticket.number, "b": target.number}
    )
    return back_to(target.number)


@login_required
@require_POST
def link(request: HttpRequest, number: str) -> HttpResponse:
    user = staff(request)
    ticket = access_ticket(user, number, perm="tickets.link")
    kind = request.POST.get("kind", "related")
    try:
        if kind == "parent":
            raw = request.POST.get("other", "").strip()
            services.set_parent(
                actor=user, ticket=ticket, parent=_other(user, raw) if raw else None
            )
        elif kind == "unlink":
            services.unlink_tickets(
                actor=user, ticket=ticket, other=_other(user, request.POST.get("other", ""))
            )
        else:
            services.link_tickets(
                actor=user, ticket=ticket, other=_other(user, request.POST.get("other", ""))
            )
    except (ValidationError, PermissionDenied) as exc:
        flash_error(request, exc)
    return back_to(ticket.number, "related")


@login_required
def canned(request: HttpRequest, number: str, canned_id: int) -> JsonResponse:
    """A standard reply with this work order's values filled in."""
    user = staff(request)
    ticket = access_ticket(user, number)
    item = next((c for c in services.canned_for(user, ticket) if c.pk == canned_id), None)
    if item is None:
        raise Http404
    return JsonResponse({"text": services.render_canned(item, ticket, user)})


@login_required
def draft(request: HttpRequest, number: str) -> JsonResponse:
    """A draft left by an accepted transfer reply, handed to the reply box once."""
    user = staff(request)
    ticket = access_ticket(user, number)
    return JsonResponse({"text": request.session.pop(f"draft-{ticket.pk}", "")})
