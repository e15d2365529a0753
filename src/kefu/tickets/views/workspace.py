"""The agent workspace: views, filters, saved filters, sort, bulk actions."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.accounts.models import Team, User
from kefu.core.choices import Channel
from kefu.core.pagination import CursorError
from kefu.core.permissions import has_perm, require_perm
from kefu.core.validation import clean_text, parse_id
from kefu.tickets import selectors, services
from kefu.tickets.access import visible_tickets
from kefu.tickets.models import Priority, SavedFilter, TicketTag
from kefu.tickets.states import Status
from kefu.tickets.views.common import staff

FILTER_PARAMS = (
    "status", "type", "category", "channel", "priority", "severity", "subject", "team", "assignee",
    "customer", "tag", "sensitive", "line", "number", "q", "created_after", "created_before",
    "updated_after", "updated_before",
)  # fmt: skip


@login_required
def workspace(request: HttpRequest) -> HttpResponse:
    user = staff(request)
    require_perm(user, "tickets.view")
    params = request.GET
    view = params.get("view") or selectors.default_view(user)
    if view not in selectors.VIEW_KEYS:
        view = "recent"
    filters = selectors.TicketFilters.from_params(params)
    sort = params.get("sort") or selectors.VIEW_KEYS[view].sort
    if sort not in dict(selectors.SORTS):
        sort = selectors.VIEW_KEYS[view].sort
    try:
        page = selectors.ticket_page(
            user, view, filters, sort=sort, cursor=params.get("cursor"), limit=50
        )
    except CursorError:
        page = selectors.ticket_page(user, view, filters, sort=sort, cursor=None, limit=50)
    filter_query = urlencode([(k, v) for k in FILTER_PARAMS for v in params.getlist(k) if v])
    return render(
        request,
        "tickets/list.html",
        {
            "page": page,
            "view": view,
            "views": selectors.VIEWS,
            "params": params,
            "filters": filters,
            "filter_query": filter_query,
            "has_filters": bool(filter_query),
            "sort": sort,
            "sorts": selectors.SORTS,
            "statuses": Status.choices,
            "priorities": Priority.choices,
            "channels": Channel.choices,
            "types": selectors.type_options(),
            "categories": sorted(selectors.category_options(), key=lambda c: c.path),
            "teams": selectors.team_options(),
            "agents": selectors.agent_options(),
            "saved": SavedFilter.objects.filter(user=user),
            "can_bulk": has_perm(user, "tickets.bulk"),
            "nav": "tickets",
        },
    )


@login_required
def counts(request: HttpRequest) -> HttpResponse:
    """Badges for the view tabs, loaded after the page so the list itself stays fast."""
    user = staff(request)
    require_perm(user, "tickets.view")
    return render(request, "tickets/_counts.html", {"counts": selectors.view_counts(user)})


@login_required
@require_POST
def bulk(request: HttpRequest) -> HttpResponse:
    user = staff(request)
    require_perm(user, "tickets.bulk")
    ids = [pk for i in request.POST.getlist("ids") if (pk := parse_id(i)) is not None]
    action = request.POST.get("action", "")
    raw = request.POST.get("value", "")
    back = request.POST.get("next") or "/tickets/"
    if not back.startswith("/tickets/"):
        back = "/tickets/"
    if not ids:
        messages.warning(request, _("Select at least one work order."))
        return redirect(back)
    tickets = list(
        visible_tickets(user).filter(pk__in=ids).select_related("ticket_type", "team", "assignee")
    )
    value: object = raw
    if action == "assign":
        if raw == "me":
            value = user
        elif raw == "none":
            value = None
        elif parse_id(raw) is not None:
            value = get_object_or_404(User, pk=parse_id(raw))
        else:
            messages.error(request, _("Choose whom to assign to."))
            return redirect(back)
    elif action == "team":
        value = get_object_or_404(Team, pk=parse_id(raw)) if parse_id(raw) else None
    elif action == "priority":
        value = parse_id(raw) or raw
    try:
        result = services.bulk_apply(
            actor=user,
            tickets=tickets,
            action=action,
            value=value,
            reason=request.POST.get("reason", ""),
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(back)
    if result.done:
        messages.success(request, _("Done for %(n)d work orders.") % {"n": len(result.done)})
    for number, message in list(result.failed.items())[:10]:
        messages.error(request, f"{number}: {message}")
    return redirect(back)


@login_required
@require_POST
def save_filter(request: HttpRequest) -> HttpResponse:
    user = staff(request)
    try:
        name = clean_text(request.POST.get("name", ""), field="name", max_length=60, required=True)
    except ValidationError:
        messages.error(request, _("Give the filter a name."))
        return redirect(f"/tickets/?{request.POST.get('query', '')}")
    query = request.POST.get("query", "")[:1000]
    try:
        SavedFilter.objects.update_or_create(user=user, name=name, defaults={"query": query})
    except IntegrityError:
        messages.error(request, _("A filter with this name exists."))
    else:
        messages.success(request, _("Filter “%(n)s” saved.") % {"n": name})
    return redirect(f"/tickets/?{query}")


@login_required
@require_POST
def delete_filter(request: HttpRequest, filter_id: int) -> HttpResponse:
    user = staff(request)
    SavedFilter.objects.filter(user=user, pk=filter_id).delete()
    return redirect("tickets:list")


@login_required
def tag_suggestions(request: HttpRequest) -> HttpResponse:
    staff(request)
    q = request.GET.get("q", "")[:40]
    tags = (
        TicketTag.objects.filter(name__icontains=q).values_list("name", flat=True)[:20] if q else []
    )
    return render(request, "tickets/_tag_options.html", {"tags": tags})
