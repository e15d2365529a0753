"""Screens: the wall board and its thresholds, the report with drill-down and exports, and the
periodic reports (templates, generate now, the archive)."""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.core.files import protected_file_response
from kefu.core.permissions import has_perm, require_perm
from kefu.core.validation import parse_id
from kefu.reports import documents, selectors, services
from kefu.reports.metrics import METRICS
from kefu.reports.models import AlertThreshold, Period, ReportRun, ReportTemplate
from kefu.reports.report import TABLE_TITLES, build, metric_label
from kefu.reports.wallboard import DEFAULT_THRESHOLDS, current_snapshot
from kefu.tickets.views.common import staff

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# --- wall board -----------------------------------------------------------------------------------


@login_required
def wallboard(request: HttpRequest) -> HttpResponse:
    user = staff(request)
    require_perm(user, "reports.wallboard")
    return render(
        request,
        "reports/wallboard.html",
        {
            "snapshot": current_snapshot(),
            "can_manage": has_perm(user, "reports.wallboard_manage"),
            "nav": "wallboard",
        },
    )


@login_required
def wallboard_data(request: HttpRequest) -> JsonResponse:
    user = staff(request)
    require_perm(user, "reports.wallboard")
    snapshot = {k: v for k, v in current_snapshot().items() if k != "computed"}
    return JsonResponse(snapshot)


@login_required
def thresholds(request: HttpRequest) -> HttpResponse:
    from kefu.routing.models import RoutingQueue

    user = staff(request)
    require_perm(user, "reports.wallboard")
    can_manage = has_perm(user, "reports.wallboard_manage")
    errors: dict[str, Any] = {}
    if request.method == "POST":
        require_perm(user, "reports.wallboard_manage")
        if request.POST.get("clear"):
            row = get_object_or_404(AlertThreshold, pk=parse_id(request.POST.get("clear")) or 0)
            services.clear_threshold(actor=user, threshold=row)
            messages.success(request, _("Threshold removed; the default applies again."))
            return redirect("reports:thresholds")
        queue = None
        if request.POST.get("queue"):
            queue = RoutingQueue.objects.filter(pk=parse_id(request.POST.get("queue")) or 0).first()
            if queue is None:
                errors["queue"] = [_("Choose a queue from the list.")]
        try:
            warn = float(request.POST.get("warn", "")[:20])
            alarm = float(request.POST.get("alarm", "")[:20])
            if not (math.isfinite(warn) and math.isfinite(alarm)):
                raise ValueError
        except ValueError:
            errors["warn"] = [_("Enter numbers for amber and red.")]
        if not errors:
            try:
                services.set_threshold(
                    actor=user,
                    metric=request.POST.get("metric", ""),
                    queue=queue,
                    warn=warn,
                    alarm=alarm,
                )
            except ValidationError as e:
                errors = e.message_dict
            else:
                messages.success(request, _("Threshold saved."))
                return redirect("reports:thresholds")
    metric_choices = [(m, metric_label(m), METRICS[m].unit) for m in DEFAULT_THRESHOLDS]
    stored = AlertThreshold.objects.select_related("queue").order_by("metric", "queue__name")
    return render(
        request,
        "reports/thresholds.html",
        {
            "rows": [
                (t, metric_label(t.metric) if t.metric in METRICS else t.metric) for t in stored
            ],
            "defaults": [(metric_label(m), w, a) for m, (w, a) in DEFAULT_THRESHOLDS.items()],
            "metric_choices": metric_choices,
            "queues": RoutingQueue.objects.filter(active=True),
            "errors": errors,
            "can_manage": can_manage,
            "nav": "wallboard",
        },
        status=422 if errors else 200,
    )


# --- the report -----------------------------------------------------------------------------------


def _scope(request: HttpRequest) -> Any:
    scope, problems = selectors.scope_from(request.GET)
    for problem in problems:
        messages.warning(request, problem)
    return scope


@login_required
def report(request: HttpRequest) -> HttpResponse:
    user = staff(request)
    require_perm(user, "reports.view")
    scope = _scope(request)
    result = build(scope)
    summary = [
        (m, metric_label(m), result.formatted(m), METRICS[m].help, METRICS[m].source)
        for m in selectors.SUMMARY
    ]
    return render(
        request,
        "reports/report.html",
        {
            "scope": scope,
            "report": result,
            "summary": summary,
            "tables": [result.tables[k] for k in TABLE_TITLES if k in result.tables],
            "filters": selectors.filter_choices(),
            "query": selectors.scope_query(scope),
            "charts": result.charts,
            "nav": "reports",
        },
    )


@login_required
def export(request: HttpRequest, fmt: str) -> HttpResponse:
    user = staff(request)
    require_perm(user, "reports.view")
    scope = _scope(request)
    result = build(scope)
    now = timezone.localtime()
    blocks = documents.resolve(result, documents.default_sections(), now)
    title = _("Service centre report")
    subtitle = (
        f"{scope.start:%Y-%m-%d} – {scope.end:%Y-%m-%d} · {_('generated')} {now:%Y-%m-%d %H:%M}"
    )
    name = f"kefu-report-{scope.start:%Y%m%d}-{scope.end:%Y%m%d}"
    if fmt == "pdf":
        body, mime, filename = (
            documents.to_pdf(title, subtitle, blocks),
            "application/pdf",
            f"{name}.pdf",
        )
    elif fmt == "xlsx":
        body, mime, filename = documents.to_xlsx(title, subtitle, blocks), XLSX, f"{name}.xlsx"
    else:
        raise Http404
    response = HttpResponse(body, content_type=mime)
    response["Content-Disposition"] = content_disposition_header(True, filename) or "attachment"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
def records(request: HttpRequest) -> HttpResponse:
    """Drill-down: the work orders behind a figure, as the user may see them."""
    user = staff(request)
    require_perm(user, "reports.view")
    scope = _scope(request)
    basis = request.GET.get("basis", "created")
    if basis not in selectors.BASES:
        basis = "created"
    page = selectors.records(user, scope, basis, request.GET.get("after"))
    return render(
        request,
        "reports/records.html",
        {
            "scope": scope,
            "basis": basis,
            "bases": selectors.BASES,
            "page": page,
            "query": selectors.scope_query(scope),
            "filters": selectors.describe(scope),
            "nav": "reports",
        },
    )


# --- periodic reports -----------------------------------------------------------------------------


@login_required
def templates(request: HttpRequest) -> HttpResponse:
    user = staff(request)
    require_perm(user, "reports.view")
    rows = list(ReportTemplate.objects.all())
    runs = list(ReportRun.objects.select_related("template", "requested_by")[:100])
    today = timezone.localdate()
    return render(
        request,
        "reports/templates.html",
        {
            "rows": [(t, services.last_complete_period(t.period, today)) for t in rows],
            "runs": runs,
            "can_manage": has_perm(user, "reports.manage"),
            "can_generate": has_perm(user, "reports.generate"),
            "nav": "periodic_reports",
        },
    )


@login_required
def template_edit(request: HttpRequest, template_id: int | None = None) -> HttpResponse:
    user = staff(request)
    require_perm(user, "reports.manage")
    template = get_object_or_404(ReportTemplate, pk=template_id) if template_id else None
    errors: dict[str, Any] = {}
    data: dict[str, Any] = {
        "name": template.name if template else "",
        "period": template.period if template else Period.MONTHLY,
        "sections": template.sections if template else documents.default_sections(),
        "recipients": template.recipients if template else "",
        "active": template.active if template else True,
    }
    if request.method == "POST":
        try:
            sections = json.loads(request.POST.get("sections", ""))
        except ValueError:
            sections = None
        data = {
            "name": request.POST.get("name", "")[:100],
            "period": request.POST.get("period", ""),
            "sections": sections if isinstance(sections, list) else data["sections"],
            "recipients": request.POST.get("recipients", "")[:5000],
            "active": request.POST.get("active") == "on",
        }
        try:
            template = services.save_template(
                actor=user,
                template=template,
                name=data["name"],
                period=data["period"],
                sections=sections,
                recipients=data["recipients"],
                active=data["active"],
            )
        except ValidationError as e:
            errors = e.message_dict
        else:
            messages.success(request, _("Report template saved."))
            return redirect("reports:templates")
    return render(
        request,
        "reports/template_edit.html",
        {
            "template": template,
            "data": data,
            "errors": errors,
            "periods": Period.choices,
            "editor": {
                "sections": data["sections"],
                "metrics": [
                    {"id": m, "label": metric_label(m)}
                    for m, d in METRICS.items()
                    if d.source != "live"
                ],
                "tables": [{"id": k, "label": _(v)} for k, v in TABLE_TITLES.items()],
                "charts": [{"id": k, "label": _(v)} for k, v in documents.CHARTS.items()],
                "kinds": [
                    {"id": "text", "label": _("Text")},
                    {"id": "figures", "label": _("Figures")},
                    {"id": "table", "label": _("Table")},
                    {"id": "chart", "label": _("Chart")},
                ],
            },
            "placeholders": [(k, _(v)) for k, v in documents.PLACEHOLDERS.items()],
            "nav": "periodic_reports",
        },
        status=422 if errors else 200,
    )


@login_required
@require_POST
def generate(request: HttpRequest, template_id: int) -> HttpResponse:
    user = staff(request)
    require_perm(user, "reports.generate")
    template = get_object_or_404(ReportTemplate, pk=template_id)
    today = timezone.localdate()
    default_start, default_end = services.last_complete_period(template.period, today)
    try:
        start = _date(request.POST.get("from"), default_start)
        end = _date(request.POST.get("to"), default_end)
        services.generate_now(actor=user, template=template, start=start, end=end)
    except ValidationError as e:
        for text in e.messages:
            messages.error(request, text)
    else:
        messages.success(
            request, _("The report is being generated; it appears in the archive below.")
        )
    return redirect("reports:templates")


def _date(raw: Any, default: dt.date) -> dt.date:
    if not raw:
        return default
    try:
        value = dt.date.fromisoformat(str(raw))
        if not selectors.MIN_YEAR <= value.year <= selectors.MAX_YEAR:
            raise ValueError(raw)
        return value
    except ValueError:
        raise ValidationError(
            _("“%(v)s” is not a date (use YYYY-MM-DD).") % {"v": str(raw)[:20]}
        ) from None


@login_required
def run_file(request: HttpRequest, run_id: int, fmt: str) -> HttpResponseBase:
    user = staff(request)
    require_perm(user, "reports.view")
    run = get_object_or_404(ReportRun.objects.select_related("template"), pk=run_id)
    stored = run.pdf if fmt == "pdf" else run.xlsx if fmt == "xlsx" else None
    if not stored:
        raise Http404
    name = f"{run.template.name}-{run.period_start:%Y%m%d}-{run.period_end:%Y%m%d}.{fmt}"
    return protected_file_response(
        stored,
        name=name,
        content_type="application/pdf" if fmt == "pdf" else XLSX,
        size=stored.size,
        inline=False,
    )
