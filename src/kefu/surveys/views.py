"""Survey screens: the customer's answer page (public, by signed link), follow-up calls for
agents, the satisfaction report with its export, and dissatisfaction cases."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from kefu.core.exports import SafeCsvWriter
from kefu.core.permissions import has_perm, require_perm
from kefu.core.validation import parse_id
from kefu.surveys import access, followups, selectors, services
from kefu.surveys import questions as q
from kefu.surveys.metrics import LEVEL4, STARS
from kefu.surveys.models import FollowUpTask, LoopCase, Response


def _errors(exc: ValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return dict(exc.message_dict)
    return {"": list(exc.messages)}


def _form_questions(version: Any, language: str, values: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for item in version.questions:
        kind = item["kind"]
        if kind == LEVEL4:
            options = [(str(v), str(q.LEVEL4_LABELS[v])) for v in (4, 3, 2, 1)]
        elif kind in q.RANGES:
            low, high = q.RANGES[kind]
            options = [(str(v), str(v)) for v in range(low, high + 1)]
        elif kind == "choice":
            options = [(c["value"], q.choice_label(c, language)) for c in item["choices"]]
        else:
            options = []
        cond = item.get("show_if")
        rows.append(
            {
                "key": item["key"],
                "kind": kind,
                "text": q.wording(item, language),
                "options": options,
                "value": str(values.get(item["key"], "")),
                "show_key": cond["key"] if cond else "",
                "show_values": json.dumps([str(v) for v in cond["values"]]) if cond else "",
            }
        )
    return rows


# --- the customer's page ----------------------------------------------------------------------


def answer(request: HttpRequest, token: str) -> HttpResponse:
    """Open to anyone holding the link; the link is the key, and it works once."""
    try:
        invitation = services.invitation_for_token(token)
    except services.LinkRefused as exc:
        return render(request, "surveys/refused.html", {"reason": str(exc)}, status=404)
    language = "en" if str(invitation.customer.language).startswith("en") else "zh-hans"
    with translation.override(language):
        reason = services.refusal(invitation)
        if reason:
            return render(request, "surveys/refused.html", {"reason": reason}, status=410)
        errors: dict[str, list[str]] = {}
        values: dict[str, Any] = {}
        if request.method == "POST":
            values = {k: v for k, v in request.POST.items() if k != "csrfmiddlewaretoken"}
            try:
                services.submit_answer(invitation=invitation, raw=values, via=invitation.delivery)
            except ValidationError as exc:
                errors = _errors(exc)
                if "survey" in errors:
                    return render(
                        request, "surveys/refused.html", {"reason": errors["survey"][0]}, status=410
                    )
            else:
                return render(request, "surveys/thanks.html", {})
        version = invitation.version
        return render(
            request,
            "surveys/answer.html",
            {
                "invitation": invitation,
                "intro": version.intro_en
                if language == "en" and version.intro_en
                else version.intro,
                "questions": _form_questions(version, language, values),
                "errors": errors,
            },
            status=422 if errors else 200,
        )


# --- the ticket page ----------------------------------------------------------------------------


def ticket_panel(request: HttpRequest, ticket: Any) -> str:
    if not (has_perm(request.user, "surveys.followup") or has_perm(request.user, "surveys.report")):
        return ""
    if ticket.resolved_at is None and not ticket.reopen_count:
        return ""  # never resolved: no survey or follow-up call yet, and no query spent
    responses = list(Response.objects.filter(ticket=ticket).order_by("-answered_at")[:5])
    tasks = list(FollowUpTask.objects.filter(ticket=ticket).order_by("-created_at")[:3])
    if not responses and not tasks:
        return ""
    return render_to_string(
        "surveys/_ticket_panel.html", {"responses": responses, "tasks": tasks}, request=request
    )


# --- follow-up calls ---------------------------------------------------------------------------


@login_required
def task_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", FollowUpTask.Status.OPEN)
    if status not in FollowUpTask.Status.values:
        status = FollowUpTask.Status.OPEN
    tasks = (
        access.visible_tasks(request.user)
        .filter(status=status)
        .select_related("ticket", "ticket__customer", "plan", "assignee")
        .order_by("next_attempt_at", "pk")[:200]
    )
    return render(
        request,
        "surveys/tasks.html",
        {"tasks": tasks, "status": status, "statuses": FollowUpTask.Status.choices},
    )


@login_required
def task_detail(request: HttpRequest, task_id: int) -> HttpResponse:
    task = access.access_task(request.user, task_id)
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    if request.method == "POST":
        action = request.POST.get("action", "")
        values = {
            k: v
            for k, v in request.POST.items()
            if k not in ("csrfmiddlewaretoken", "action", "note")
        }
        note = request.POST.get("note", "")
        actor: Any = request.user
        try:
            if action == "take":
                followups.take_task(actor=actor, task=task)
            elif action == "unreachable":
                followups.record_unreachable(actor=actor, task=task, note=note)
            elif action == "done":
                followups.complete_task(actor=actor, task=task, answers=values, note=note)
            else:
                raise ValidationError({"action": [_("Unknown action.")]})
        except ValidationError as exc:
            errors = _errors(exc)
        except PermissionDenied as exc:
            errors = {"": [str(exc)]}
        else:
            messages.success(request, _("Saved."))
            return redirect("surveys:task", task_id=task.pk)
    language = "en" if request.LANGUAGE_CODE.startswith("en") else "zh-hans"
    return render(
        request,
        "surveys/task.html",
        {
            "task": task,
            "questions": _form_questions(task.invitation.version, language, values),
            "errors": errors,
            "can_act": task.status == FollowUpTask.Status.OPEN
            and task.assignee_id in (None, request.user.pk),
        },
        status=422 if errors else 200,
    )


# --- reports -----------------------------------------------------------------------------------


def _filters(request: HttpRequest) -> selectors.Filters:
    zone = ZoneInfo(settings.TIME_ZONE)

    def day(name: str) -> dt.datetime | None:
        try:
            d = dt.date.fromisoformat(request.GET.get(name, ""))
        except ValueError:
            return None
        return dt.datetime.combine(d, dt.time(), tzinfo=zone)

    end = day("end")
    channel = request.GET.get("channel", "")
    return selectors.Filters(
        start=day("start"),
        end=end + dt.timedelta(days=1) if end else None,
        agent_id=parse_id(request.GET.get("agent")),
        team_id=parse_id(request.GET.get("team")),
        ticket_type_id=parse_id(request.GET.get("type")),
        channel=channel if channel.isidentifier() else "",
        q=request.GET.get("q", "").strip()[:100],
    )


def _by(request: HttpRequest) -> str:
    by = request.GET.get("by", "week")
    return by if by in selectors.GROUPS else "week"


@login_required
def report(request: HttpRequest) -> HttpResponse:
    require_perm(request.user, "surveys.report")
    filters, by = _filters(request), _by(request)
    total, rows = selectors.report(filters, by)
    labels = selectors.group_labels(by, [k for k, _f in rows])
    table = [(labels.get(k, "—") if k is not None else "—", f) for k, f in rows]
    trend = None
    if by in selectors.TRUNC:
        trend = {
            "labels": [name for name, _f in table],
            "csat": [f.csat for _n, f in table],
            "nps": [f.nps for _n, f in table],
            "csat_name": _("CSAT %"),
            "nps_name": _("NPS"),
        }
    level4 = total.distribution.get(LEVEL4, {})
    return render(
        request,
        "surveys/report.html",
        {
            "total": total,
            "rows": table,
            "by": by,
            "groups": [
                ("agent", _("Agent")),
                ("team", _("Team")),
                ("type", _("Work-order type")),
                ("channel", _("Channel")),
                ("day", _("Day")),
                ("week", _("Week")),
                ("month", _("Month")),
            ],
            "level4": [(str(q.LEVEL4_LABELS[v]), level4.get(v, 0)) for v in (4, 3, 2, 1)],
            "stars": sorted(total.distribution.get(STARS, {}).items(), reverse=True),
            "trend": trend,
            "comments": selectors.comments(filters),
            "query": request.GET.urlencode(),
            "params": request.GET,
        },
    )


@login_required
def report_export(request: HttpRequest) -> HttpResponse:
    require_perm(request.user, "surveys.report")
    filters, by = _filters(request), _by(request)
    total, rows = selectors.report(filters, by)
    labels = selectors.group_labels(by, [k for k, _f in rows])
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="satisfaction.csv"'
    response.write("\ufeff")
    writer = SafeCsvWriter(response)
    writer.writerow(
        [_("Group"), _("Sent"), _("Answered"), _("Response rate %"), _("CSAT %"), _("NPS")]
    )
    for name, f in [*((labels.get(k, "—"), f) for k, f in rows), (_("Total"), total)]:
        writer.writerow([name, f.sent, f.answered, f.response_rate, f.csat, f.nps])
    return response


@login_required
def loops(request: HttpRequest) -> HttpResponse:
    require_perm(request.user, "surveys.report")
    cases = LoopCase.objects.select_related("response__customer", "ticket", "tracked").order_by(
        "status", "-created_at"
    )[:200]
    return render(request, "surveys/loops.html", {"cases": cases})
