"""Service-plan screens: the plans and their rounds, rectifications, training attendance, and the
checklist / rectification panel on the ticket page."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.core.permissions import has_perm, require_perm
from kefu.core.validation import Conflict, parse_id
from kefu.customers.access import access_customer
from kefu.plans import access
from kefu.plans.defaults import TYPES
from kefu.plans.forms import ChecklistForm, PlanForm
from kefu.plans.models import (
    WORK_ORDER_KINDS,
    ChecklistTemplate,
    PlanKind,
    Rectification,
    Result,
)
from kefu.plans.services import checklists, rectifications, setup, training
from kefu.tickets.access import access_ticket
from kefu.tickets.views.common import staff

PANEL_TYPES = frozenset(code for code, *_rest in TYPES)


def _errors(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return " ".join(m for msgs in exc.message_dict.values() for m in msgs)
    return " ".join(exc.messages)


# --- the ticket page ---------------------------------------------------------------------------


def ticket_panel(request: HttpRequest, ticket: Any) -> str:
    """The checklist a planned work order carries and, on a rectification's work order, its
    state and actions. Other work orders cost no query."""
    if ticket.ticket_type.code not in PANEL_TYPES or not has_perm(request.user, "plans.view"):
        return ""
    run = checklists.run_for_ticket(ticket)
    results = list(run.results.select_related("item", "photo", "checked_by")) if run else []
    rect = (
        Rectification.objects.filter(ticket=ticket).select_related("owner", "inspector").first()
        if ticket.ticket_type.code == "rectification"
        else None
    )
    templates: list[ChecklistTemplate] = []
    if (
        run is None
        and rect is None
        and ticket.ticket_type.code in WORK_ORDER_KINDS
        and has_perm(request.user, "plans.check")
    ):
        templates = list(ChecklistTemplate.objects.filter(is_active=True).order_by("name"))
    if run is None and rect is None and not templates:
        return ""
    findings = {
        r.finding_id: r
        for r in Rectification.objects.filter(finding__in=[x.pk for x in results]).only(
            "pk", "finding_id", "ticket_id", "state"
        ).select_related("ticket")
    } if any(x.result == Result.FAIL for x in results) else {}  # fmt: skip
    rows = [{"result": x, "finding": findings.get(x.pk)} for x in results]
    done = sum(1 for x in results if x.result != Result.PENDING)
    return render_to_string(
        "plans/_ticket_panel.html",
        {
            "ticket": ticket,
            "run": run,
            "rows": rows,
            "done": done,
            "total": len(results),
            "rect": rect,
            "moves": _moves(request.user, rect) if rect else [],
            "templates": templates,
            "can_check": has_perm(request.user, "plans.check") and ticket.is_open,
            "choices": [(Result.PASS, Result.PASS.label), (Result.FAIL, Result.FAIL.label),
                        (Result.NA, Result.NA.label)],
            "now": timezone.now(),
        },
        request=request,
    )  # fmt: skip


def _moves(user: Any, rect: Rectification) -> list[tuple[str, str]]:
    labels = {
        "start": _("Start rectifying"),
        "submit": _("Submit for sign-off"),
        "sign_off": _("Sign off"),
        "return": _("Return"),
    }
    return [
        (to, str(labels[name]))
        for to, name in rectifications.moves_from(rect.state)
        if rectifications._may(user, rect, name)
    ]


@login_required
@require_POST
def check(request: HttpRequest, number: str, result_id: int) -> HttpResponse:
    user = staff(request)
    ticket = access_ticket(user, number, perm="tickets.edit")
    result = checklists.access_result(user, ticket, result_id)
    try:
        checklists.check_item(
            actor=user,
            result=result,
            value=request.POST.get("result", ""),
            note=request.POST.get("note", ""),
            photo=request.FILES.get("photo"),
        )
    except ValidationError as exc:
        messages.error(request, _errors(exc))
    return redirect("tickets:detail", number=ticket.number)


@login_required
@require_POST
def attach(request: HttpRequest, number: str) -> HttpResponse:
    user = staff(request)
    ticket = access_ticket(user, number, perm="tickets.edit")
    template = access.access_checklist(user, parse_id(request.POST.get("checklist")))
    try:
        checklists.attach_checklist(actor=user, ticket=ticket, template=template)
    except ValidationError as exc:
        messages.error(request, _errors(exc))
    return redirect("tickets:detail", number=ticket.number)


@login_required
@require_POST
def move_rectification(request: HttpRequest, rect_id: int) -> HttpResponse:
    user = staff(request)
    rect = access.access_rectification(user, rect_id)
    access_ticket(user, rect.ticket.number)
    try:
        rectifications.transition_rectification(
            actor=user,
            rect=rect,
            to=request.POST.get("to", ""),
            note=request.POST.get("note", ""),
            evidence=request.FILES.get("evidence"),
            expected_version=parse_id(request.POST.get("version")),
        )
    except ValidationError as exc:
        messages.error(request, _errors(exc))
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    except Conflict as exc:
        messages.error(request, exc.message)
    return redirect("tickets:detail", number=rect.ticket.number)


# --- plans -------------------------------------------------------------------------------------


@login_required
def plan_list(request: HttpRequest) -> HttpResponse:
    require_perm(request.user, "plans.view")
    kind = request.GET.get("kind", "")
    plans = access.visible_plans(request.user).select_related("customer", "assignee", "team")
    if kind in PlanKind.values:
        plans = plans.filter(kind=kind)
    plans = plans.annotate(round_count=Count("rounds")).order_by(
        "-is_active", "next_due_on", "name"
    )
    return render(
        request,
        "plans/list.html",
        {
            "plans": plans[:300],
            "kind": kind,
            "kinds": PlanKind.choices,
            "can_manage": has_perm(request.user, "plans.manage"),
        },
    )


@login_required
def plan_detail(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = access.access_plan(request.user, plan_id)
    rounds = list(
        plan.rounds.select_related("ticket", "ticket__assignee").order_by("-period_start")[:24]
    )
    sessions = []
    if plan.kind == PlanKind.TRAINING:
        sessions = list(
            plan.sessions.prefetch_related("attendance__trainee").order_by("-starts_at")[:12]
        )
    targets = []
    if plan.kind == PlanKind.CARE:
        targets = list(
            plan.care_targets.select_related("customer", "callback").order_by("-created_at")[:50]
        )
    return render(
        request,
        "plans/detail.html",
        {
            "plan": plan,
            "rounds": rounds,
            "sessions": sessions,
            "trainees": list(plan.trainees.all()) if plan.kind == PlanKind.TRAINING else [],
            "targets": targets,
            "can_mark": has_perm(request.user, "plans.training"),
            "can_manage": has_perm(request.user, "plans.manage"),
            "now": timezone.now(),
        },
    )


@login_required
@require_POST
def mark(request: HttpRequest, session_id: int, attendance_id: int) -> HttpResponse:
    user = staff(request)
    session = access.access_session(user, session_id)
    row = access.access_attendance(user, session, attendance_id)
    try:
        training.mark_attendance(actor=user, attendance=row, status=request.POST.get("status", ""))
    except ValidationError as exc:
        messages.error(request, _errors(exc))
    return redirect("plans:detail", plan_id=session.plan_id)


# --- rectifications ----------------------------------------------------------------------------


@login_required
def rectification_list(request: HttpRequest) -> HttpResponse:
    show = request.GET.get("show", "open")
    rows = access.visible_rectifications(request.user).select_related(
        "ticket", "owner", "inspector", "plan"
    )
    now = timezone.now()
    if show == "overdue":
        rows = rows.filter(rectifications.overdue_q(now))
    elif show == "escalated":
        rows = rows.filter(escalation_level__gt=0).exclude(state=Rectification.State.SIGNED_OFF)
    elif show == "done":
        rows = rows.filter(state=Rectification.State.SIGNED_OFF)
    else:
        show = "open"
        rows = rows.exclude(state=Rectification.State.SIGNED_OFF)
    counts = access.visible_rectifications(request.user).aggregate(
        overdue=Count("pk", filter=rectifications.overdue_q(now)),
        submitted=Count("pk", filter=Q(state=Rectification.State.SUBMITTED)),
    )
    return render(
        request,
        "plans/rectifications.html",
        {
            "rows": rows.order_by("-escalation_level", "deadline")[:300],
            "show": show,
            "counts": counts,
            "now": now,
            "tabs": [
                ("open", _("Open")),
                ("overdue", _("Overdue")),
                ("escalated", _("Escalated")),
                ("done", _("Signed off")),
            ],
        },
    )


# --- setting plans and checklists up ------------------------------------------------------------


def _plan_fields(user: Any, form: PlanForm) -> dict[str, Any]:
    data = dict(form.cleaned_data)
    customer_id = data.pop("customer")
    data["customer"] = access_customer(user, customer_id) if customer_id is not None else None
    data["asset"] = _asset(user, data.pop("asset"))
    for name in ("care_action", "notice_channel"):
        data[name] = data[name] or ""
    data["weekdays"] = list(data["weekdays"] or [])
    return data


def _asset(user: Any, asset_id: int | None) -> Any:
    """An asset, loaded through its customer's access check (404 when not visible)."""
    if asset_id is None:
        return None
    from kefu.field.models import Asset

    asset = Asset.objects.filter(pk=asset_id).first()
    if asset is None:
        raise Http404
    access_customer(user, asset.customer_id)
    return asset


@login_required
def plan_edit(request: HttpRequest, plan_id: int | None = None) -> HttpResponse:
    user = staff(request)
    require_perm(user, "plans.manage")
    plan = access.access_plan(user, plan_id, perm="plans.manage") if plan_id else None
    if request.method == "POST":
        form = PlanForm(request.POST)
        if form.is_valid():
            try:
                fields = _plan_fields(user, form)
                if plan is None:
                    plan = setup.create_plan(actor=user, **fields)
                else:
                    plan = setup.update_plan(actor=user, plan=plan, **fields)
            except ValidationError as exc:
                form.add_service_errors(exc)
            except Http404:
                form.add_error(None, _("No such customer or asset."))
            else:
                messages.success(request, _("Plan saved."))
                return redirect("plans:detail", plan_id=plan.pk)
        status = 400
    else:
        initial = PlanForm.initial_for(plan) if plan else {"starts_on": timezone.localdate()}
        form = PlanForm(initial=initial)
        status = 200
    return render(request, "plans/form.html", {"form": form, "plan": plan}, status=status)


@login_required
def checklist_list(request: HttpRequest) -> HttpResponse:
    user = staff(request)
    require_perm(user, "plans.view")
    templates = ChecklistTemplate.objects.annotate(
        version_count=Count("versions", distinct=True), plan_count=Count("plans", distinct=True)
    ).order_by("-is_active", "name")
    return render(
        request,
        "plans/checklists.html",
        {"templates": templates, "can_manage": has_perm(user, "plans.manage")},
    )


@login_required
def checklist_edit(request: HttpRequest, template_id: int | None = None) -> HttpResponse:
    user = staff(request)
    require_perm(user, "plans.manage")
    template = (
        access.access_checklist(user, template_id, perm="plans.manage") if template_id else None
    )
    if request.method == "POST":
        form = ChecklistForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                if template is None:
                    setup.create_checklist(
                        actor=user, name=data["name"], kind=data["kind"], items=data["items"]
                    )
                else:
                    setup.revise_checklist(
                        actor=user, template=template, items=data["items"], note=data["note"]
                    )
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, _("Checklist saved."))
                return redirect("plans:checklists")
        status = 400
    else:
        initial = (
            {"name": template.name, "kind": template.kind,
             "items": ChecklistForm.lines_for(template)}
            if template else {}
        )  # fmt: skip
        form = ChecklistForm(initial=initial)
        status = 200
    if template is not None:
        form.fields["name"].disabled = True
        form.fields["kind"].disabled = True
    return render(
        request, "plans/checklist_form.html", {"form": form, "template": template}, status=status
    )
