"""Major-incident screens: the list, declaring, one incident's page (updates, linking,
answering every linked work order with its progress, the report and the timeline), the export,
the ticket-page panel and the start-page card."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.core.dashboard import Card
from kefu.core.exports import SafeCsvWriter
from kefu.core.permissions import has_perm, require_perm
from kefu.core.validation import Conflict, parse_id
from kefu.customers.access import customer_check
from kefu.incidents import access, selectors, services
from kefu.incidents.models import ACTIVE_STATES, Incident, Severity, Status

LINKS_SHOWN = 100


def _errors(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return " ".join(m for ms in exc.message_dict.values() for m in ms)
    return " ".join(exc.messages)


def _when(raw: str | None, field: str) -> dt.datetime | None:
    """A datetime-local value, in the centre's zone; None when empty."""
    text = (raw or "").strip()
    if not text:
        return None
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValidationError({field: [_("Give the time as YYYY-MM-DD HH:MM.")]}) from None
    problem = selectors.year_problem(value)
    if problem:
        raise ValidationError({field: [problem]})
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(settings.TIME_ZONE))
    return value


def _version(request: HttpRequest) -> int | None:
    return parse_id(request.POST.get("version"))


@login_required
def incident_list(request: HttpRequest) -> HttpResponse:
    incidents = access.visible_incidents(request.user)
    return render(
        request,
        "incidents/list.html",
        {
            "active": list(incidents.filter(status__in=ACTIVE_STATES)),
            "recent": list(incidents.exclude(status__in=ACTIVE_STATES)[:50]),
            "can_manage": has_perm(request.user, "incidents.manage"),
            "nav": "incidents",
        },
    )


@login_required
def declare(request: HttpRequest) -> HttpResponse:
    require_perm(request.user, "incidents.manage")
    values: dict[str, Any] = {"severity": Severity.MAJOR, "auto_link": True}
    status = 200
    if request.method == "POST":
        values = {k: request.POST.get(k, "") for k in request.POST}
        values["auto_link"] = request.POST.get("auto_link") == "on"
        try:
            incident = services.declare_incident(
                actor=request.user,  # type: ignore[arg-type]
                title=values.get("title", ""),
                public_text=values.get("public_text", ""),
                ivr_text=values.get("ivr_text", ""),
                description=values.get("description", ""),
                severity=values.get("severity", ""),
                areas=values.get("areas", ""),
                keywords=values.get("keywords", ""),
                started_at=_when(values.get("started_at"), "started_at"),
                expected_end_at=_when(values.get("expected_end_at"), "expected_end_at"),
                auto_link=values["auto_link"],
            )
        except ValidationError as exc:
            messages.error(request, _errors(exc))
            status = 422
        else:
            messages.success(
                request,
                _("Incident %(ref)s declared; its text now shows on every channel.")
                % {"ref": incident.reference},
            )
            return redirect("incidents:detail", incident.pk)
    return render(
        request,
        "incidents/declare.html",
        {"values": values, "severities": Severity.choices, "nav": "incidents"},
        status=status,
    )


def _detail_context(request: HttpRequest, incident: Incident) -> dict[str, Any]:
    user = request.user
    links = (
        access.visible_links(user, incident)
        .select_related("ticket", "customer")
        .order_by("-linked_at", "-id")[:LINKS_SHOWN]
    )
    report = selectors.report(incident)
    peak = max((n for _h, n in report.by_hour), default=0)
    return {
        "incident": incident,
        "updates": list(incident.updates.select_related("author").order_by("-published_at")),
        "links": access.with_customers(user, links),
        "report": report,
        "duration": selectors.duration_label(report.duration_s),
        "hours": [(h, n, round(100 * n / peak) if peak else 0) for h, n in report.by_hour],
        "timeline": selectors.timeline(incident),
        "can_manage": has_perm(user, "incidents.manage"),
        "can_link": has_perm(user, "incidents.link"),
        "severities": Severity.choices,
        "Status": Status,
        "nav": "incidents",
    }


@login_required
def detail(request: HttpRequest, incident_id: int) -> HttpResponse:
    incident = access.access_incident(request.user, incident_id)
    return render(request, "incidents/detail.html", _detail_context(request, incident))


@login_required
def progress(request: HttpRequest, incident_id: int) -> HttpResponse:
    """The answering job's progress (the page polls it while the job runs)."""
    incident = access.access_incident(request.user, incident_id)
    report = selectors.report(incident)
    return render(request, "incidents/_progress.html", {"incident": incident, "report": report})


def _act(request: HttpRequest, incident_id: int, perm: str, action: Any, done: str) -> HttpResponse:
    incident = access.access_incident(request.user, incident_id, perm=perm)
    try:
        action(incident)
    except ValidationError as exc:
        messages.error(request, _errors(exc))
    except Conflict as exc:
        messages.error(request, exc.message)
    else:
        if done:
            messages.success(request, done)
    return redirect("incidents:detail", incident.pk)


@login_required
@require_POST
def publish(request: HttpRequest, incident_id: int) -> HttpResponse:
    return _act(
        request,
        incident_id,
        "incidents.manage",
        lambda i: services.publish_update(
            actor=request.user,  # type: ignore[arg-type]
            incident=i,
            text=request.POST.get("text", ""),
            ivr_text=request.POST.get("ivr_text", ""),
            expected_end_at=_when(request.POST.get("expected_end_at"), "expected_end_at"),
            expected_version=_version(request),
        ),
        _("Update published on every channel."),
    )


@login_required
@require_POST
def resolve(request: HttpRequest, incident_id: int) -> HttpResponse:
    return _act(
        request,
        incident_id,
        "incidents.manage",
        lambda i: services.resolve_incident(
            actor=request.user,  # type: ignore[arg-type]
            incident=i,
            text=request.POST.get("text", ""),
            closing_reply=request.POST.get("closing_reply", ""),
            expected_version=_version(request),
        ),
        _("Incident resolved."),
    )


@login_required
@require_POST
def answer(request: HttpRequest, incident_id: int) -> HttpResponse:
    return _act(
        request,
        incident_id,
        "incidents.manage",
        lambda i: services.start_closing(
            actor=request.user,  # type: ignore[arg-type]
            incident=i,
            reply=request.POST.get("closing_reply", ""),
            expected_version=_version(request),
        ),
        _("Answering the linked work orders; progress shows below."),
    )


@login_required
@require_POST
def close(request: HttpRequest, incident_id: int) -> HttpResponse:
    return _act(
        request,
        incident_id,
        "incidents.manage",
        lambda i: services.close_incident(
            actor=request.user,  # type: ignore[arg-type]
            incident=i,
            expected_version=_version(request),
        ),
        _("Incident closed."),
    )


@login_required
@require_POST
def scope(request: HttpRequest, incident_id: int) -> HttpResponse:
    return _act(
        request,
        incident_id,
        "incidents.manage",
        lambda i: services.change_scope(
            actor=request.user,  # type: ignore[arg-type]
            incident=i,
            areas=request.POST.get("areas", ""),
            keywords=request.POST.get("keywords", ""),
            auto_link=request.POST.get("auto_link") == "on",
            severity=request.POST.get("severity") or None,
            expected_version=_version(request),
        ),
        _("Scope saved."),
    )


@login_required
@require_POST
def link_matching(request: HttpRequest, incident_id: int) -> HttpResponse:
    incident = access.access_incident(request.user, incident_id, perm="incidents.link")
    try:
        n = services.link_matching(actor=request.user, incident=incident)  # type: ignore[arg-type]
    except ValidationError as exc:
        messages.error(request, _errors(exc))
    else:
        messages.success(request, _("%(n)d matching work orders linked.") % {"n": n})
    return redirect("incidents:detail", incident.pk)


@login_required
@require_POST
def link_ticket(request: HttpRequest, incident_id: int) -> HttpResponse:
    """Link work orders by number (several, separated by spaces or commas), or from the ticket
    page's panel (then back to the work order)."""
    from kefu.tickets.access import visible_tickets

    incident = access.access_incident(request.user, incident_id, perm="incidents.link")
    numbers = [n.strip().upper() for n in request.POST.get("numbers", "").replace(",", " ").split()]
    back = request.POST.get("back") == "ticket"
    if not numbers or len(numbers) > 100:
        messages.error(request, _("Give between 1 and 100 work-order numbers."))
        return redirect("incidents:detail", incident.pk)
    tickets = {t.number: t for t in visible_tickets(request.user).filter(number__in=numbers)}
    linked, problems = 0, []
    for number in numbers:
        ticket = tickets.get(number)
        if ticket is None:
            problems.append(_("%(n)s: no such work order.") % {"n": number})
            continue
        try:
            services.link_ticket(actor=request.user, incident=incident, ticket=ticket)  # type: ignore[arg-type]
        except ValidationError as exc:
            problems.append(_errors(exc))
        else:
            linked += 1
    if linked:
        messages.success(request, _("%(n)d work orders linked.") % {"n": linked})
    for problem in problems[:10]:
        messages.error(request, problem)
    if back and len(numbers) == 1 and numbers[0] in tickets:
        return redirect("tickets:detail", numbers[0])
    return redirect("incidents:detail", incident.pk)


@login_required
@require_POST
def unlink(request: HttpRequest, incident_id: int, link_id: int) -> HttpResponse:
    incident = access.access_incident(request.user, incident_id, perm="incidents.link")
    link = access.visible_links(request.user, incident).filter(pk=link_id).first()
    if link is None:
        messages.error(request, _("That contact is not linked to this incident."))
        return redirect("incidents:detail", incident.pk)
    return _act(
        request,
        incident_id,
        "incidents.link",
        lambda _i: services.unlink(actor=request.user, link=link),  # type: ignore[arg-type]
        _("Contact unlinked."),
    )


@login_required
def export(request: HttpRequest, incident_id: int) -> HttpResponse:
    """The linked contacts the user may see, as CSV."""
    incident = access.access_incident(request.user, incident_id)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="incident-{incident.reference}.csv"'
    response.write("\ufeff")
    writer = SafeCsvWriter(response)
    writer.writerow([_("Linked"), _("Channel"), _("Contact"), _("Customer"), _("How")])
    zone = ZoneInfo(settings.TIME_ZONE)
    may_see = customer_check(request.user)
    for link in (
        access.visible_links(request.user, incident)
        .select_related("customer")
        .order_by("linked_at", "id")
        .iterator(chunk_size=2000)
    ):
        writer.writerow(
            [
                link.linked_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
                link.get_channel_display(),
                link.label,
                link.customer.name if link.customer and may_see(link.customer_id) else "",
                link.get_how_display(),
            ]
        )
    return response


# --- panels elsewhere ---------------------------------------------------------------------------


def ticket_panel(request: HttpRequest, ticket: Any) -> str:
    """On the ticket page while incidents are being handled: those this work order belongs to,
    and linking it to the others by hand."""
    user = request.user
    if not has_perm(user, "incidents.view"):
        return ""
    active = services.active_incidents()
    if not active:
        return ""  # nothing being handled: no query spent (the incident pages list past links)
    linked = selectors.incidents_for_ticket(ticket)
    linked_ids = {i.pk for i in linked}
    return render_to_string(
        "incidents/_ticket_panel.html",
        {
            "ticket": ticket,
            "linked": linked,
            "choices": [i for i in active if i.pk not in linked_ids],
            "can_link": has_perm(user, "incidents.link") and ticket.is_open,
        },
        request=request,
    )


def dashboard_card(request: HttpRequest) -> Card | None:
    if not has_perm(request.user, "incidents.view"):
        return None
    active = services.active_incidents()
    if not active:
        return None
    return Card(
        order=1,
        template="incidents/_card.html",
        context={"active": active, "url": reverse("incidents:list")},
        width=12,
    )
