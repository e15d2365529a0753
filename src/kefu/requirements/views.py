"""Customer-requirement screens: the ranked list, one requirement (askers and sources, scores,
lifecycle, merge, timeline), the export and the ticket-page panel ("raise as requirement")."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.core.exports import SafeCsvWriter
from kefu.core.permissions import has_perm, require_perm
from kefu.core.validation import Conflict, parse_id
from kefu.requirements import access, selectors, services, states
from kefu.requirements.models import Kind, Requirement, ShipNotice
from kefu.requirements.states import Status

SCALE = [1, 2, 3, 4, 5]


def _errors(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return " ".join(m for ms in exc.message_dict.values() for m in ms)
    return " ".join(exc.messages)


def _filters(request: HttpRequest) -> selectors.Filters:
    status = request.GET.get("status", "")
    kind = request.GET.get("kind", "")
    return selectors.Filters(
        status=status if status in Status.values else "",
        kind=kind if kind in Kind.values else "",
        q=request.GET.get("q", "").strip()[:100],
        open_only=request.GET.get("all") != "1",
    )


@login_required
def requirement_list(request: HttpRequest) -> HttpResponse:
    visible = access.visible_requirements(request.user)
    f = _filters(request)
    rows = list(selectors.ranked(visible, f)[:200])
    return render(
        request,
        "requirements/list.html",
        {
            "rows": rows,
            "f": f,
            "statuses": Status.choices,
            "kinds": Kind.choices,
            "counts": selectors.counts_by_status(visible),
            "can_raise": has_perm(request.user, "requirements.raise"),
            "nav": "requirements",
        },
    )


@login_required
def create(request: HttpRequest) -> HttpResponse:
    """A requirement heard outside a work order (a meeting, a survey comment): optionally for a
    customer by id."""
    require_perm(request.user, "requirements.raise")
    values = {k: request.POST.get(k, "") for k in ("title", "kind", "description", "customer")}
    if request.method == "POST":
        customer_id = parse_id(values["customer"]) if values["customer"] else None
        try:
            if values["customer"] and customer_id is None:
                raise ValidationError({"customer": [_("Give the customer's id number.")]})
            customer = None
            if customer_id is not None:
                from kefu.customers.access import access_customer

                customer = access_customer(request.user, customer_id)
            requirement = services.create_requirement(
                actor=request.user,  # type: ignore[arg-type]
                title=values["title"],
                kind=values["kind"],
                description=values["description"],
                customer=customer,
            )
        except ValidationError as exc:
            messages.error(request, _errors(exc))
        else:
            return redirect("requirements:detail", requirement.pk)
    return render(
        request,
        "requirements/create.html",
        {"values": values, "kinds": Kind.choices, "nav": "requirements"},
        status=422 if request.method == "POST" else 200,
    )


@login_required
def detail(request: HttpRequest, requirement_id: int) -> HttpResponse:
    user = request.user
    requirement = access.access_requirement(user, requirement_id)
    sources = access.with_customers(
        user, selectors.sources_of(access.visible_sources(user, requirement))
    )
    notices = dict(
        ShipNotice.objects.filter(requirement=requirement).values_list("customer_id", "via")
    )
    return render(
        request,
        "requirements/detail.html",
        {
            "r": requirement,
            "sources": sources,
            "askers": len(services.asking_customers(requirement)),
            "notices": notices,
            "via_labels": dict(ShipNotice.Via.choices),
            "moves": [
                (to, name, states.MOVE_LABELS[name])
                for to, name in states.targets(requirement.status)
            ],
            "timeline": access.readable_timeline(user, selectors.timeline(requirement)),
            "can_manage": has_perm(user, "requirements.manage"),
            "kinds": Kind.choices,
            "scale": SCALE,
            "merge_choices": [r for r in selectors.open_choices() if r.pk != requirement.pk],
            "final": requirement.status in states.FINAL,
            "nav": "requirements",
        },
    )


def _act(request: HttpRequest, requirement_id: int, action: Any, done: str) -> HttpResponse:
    requirement = access.access_requirement(
        request.user, requirement_id, perm="requirements.manage"
    )
    try:
        result = action(requirement)
    except ValidationError as exc:
        messages.error(request, _errors(exc))
    except Conflict as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
        if isinstance(result, Requirement) and result.pk != requirement.pk:
            return redirect("requirements:detail", result.pk)
    return redirect("requirements:detail", requirement.pk)


def _score(raw: str | None) -> int | None:
    text = (raw or "").strip()
    if not text:
        return None
    if not (text.isascii() and text.isdigit()):
        raise ValidationError(_("Scores are whole numbers from 1 to 5."))
    return int(text)


@login_required
@require_POST
def score(request: HttpRequest, requirement_id: int) -> HttpResponse:
    return _act(
        request,
        requirement_id,
        lambda r: services.score_requirement(
            actor=request.user,  # type: ignore[arg-type]
            requirement=r,
            importance=_score(request.POST.get("importance")),
            feasibility=_score(request.POST.get("feasibility")),
            benefit=_score(request.POST.get("benefit")),
            expected_version=parse_id(request.POST.get("version")),
        ),
        _("Scores saved."),
    )


@login_required
@require_POST
def move(request: HttpRequest, requirement_id: int) -> HttpResponse:
    return _act(
        request,
        requirement_id,
        lambda r: services.move_requirement(
            actor=request.user,  # type: ignore[arg-type]
            requirement=r,
            to=request.POST.get("to", ""),
            note=request.POST.get("note", ""),
            expected_version=parse_id(request.POST.get("version")),
        ),
        _("Requirement moved."),
    )


@login_required
@require_POST
def edit(request: HttpRequest, requirement_id: int) -> HttpResponse:
    return _act(
        request,
        requirement_id,
        lambda r: services.update_requirement(
            actor=request.user,  # type: ignore[arg-type]
            requirement=r,
            changes={k: request.POST.get(k, "") for k in ("title", "description", "kind")},
            expected_version=parse_id(request.POST.get("version")),
        ),
        _("Requirement saved."),
    )


@login_required
@require_POST
def merge(request: HttpRequest, requirement_id: int) -> HttpResponse:
    target = access.access_requirement(
        request.user, parse_id(request.POST.get("target")), perm="requirements.manage"
    )
    return _act(
        request,
        requirement_id,
        lambda r: services.merge_requirements(
            actor=request.user,  # type: ignore[arg-type]
            source=r,
            target=target,
            note=request.POST.get("note", ""),
        ),
        _("Merged: every customer who asked is now on %(ref)s.") % {"ref": target.reference},
    )


@login_required
@require_POST
def raise_from_ticket(request: HttpRequest, number: str) -> HttpResponse:
    """The ticket panel's form: a new requirement from this work order, or join an existing one."""
    from kefu.tickets.access import access_ticket

    require_perm(request.user, "requirements.raise")
    ticket = access_ticket(request.user, number)
    existing_id = parse_id(request.POST.get("requirement"))
    try:
        existing = access.access_requirement(request.user, existing_id) if existing_id else None
        requirement = services.raise_from_ticket(
            actor=request.user,  # type: ignore[arg-type]
            ticket=ticket,
            requirement=existing,
            title=request.POST.get("title", ""),
            kind=request.POST.get("kind", ""),
            description=request.POST.get("description", ""),
            note=request.POST.get("note", ""),
        )
    except ValidationError as exc:
        messages.error(request, _errors(exc))
    else:
        messages.success(
            request,
            _("%(n)s is linked to requirement %(ref)s.")
            % {"n": ticket.number, "ref": requirement.reference},
        )
    return redirect("tickets:detail", ticket.number)


@login_required
def export(request: HttpRequest) -> HttpResponse:
    visible = access.visible_requirements(request.user)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="requirements.csv"'
    response.write("\ufeff")
    writer = SafeCsvWriter(response)
    writer.writerow(
        [
            _("Reference"),
            _("Title"),
            _("Kind"),
            _("Status"),
            _("Importance"),
            _("Feasibility"),
            _("Benefit"),
            _("Priority score"),
            _("Customers asking"),
        ]
    )
    for r in selectors.ranked(visible, _filters(request)).iterator(chunk_size=1000):
        writer.writerow(
            [
                r.reference,
                r.title,
                r.get_kind_display(),
                r.get_status_display(),
                r.importance or "",
                r.feasibility or "",
                r.benefit or "",
                r.score if r.score is not None else "",
                r.askers,  # type: ignore[attr-defined]
            ]
        )
    return response


def ticket_panel(request: HttpRequest, ticket: Any) -> str:
    user = request.user
    if not has_perm(user, "requirements.view"):
        return ""
    can_raise = has_perm(user, "requirements.raise")
    linked, choices = selectors.panel_rows(ticket)
    if not linked and not can_raise:
        return ""
    return render_to_string(
        "requirements/_ticket_panel.html",
        {
            "ticket": ticket,
            "linked": linked,
            "can_raise": can_raise,
            "kinds": Kind.choices,
            "choices": choices if can_raise else [],
        },
        request=request,
    )
