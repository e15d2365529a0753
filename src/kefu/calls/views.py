"""Hotline screens: the call list, a call's page with the agent's actions, the screen pop, the
KPI page and the import page; plus the ticket-page panel and customer-history rows the phone
channel registers, and the CTI webhook."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from kefu.calls import kpi, selectors, services
from kefu.calls.access import access_call, visible_calls
from kefu.calls.help import KPI_HELP, KPI_LABELS
from kefu.calls.models import Call, ImportRun, Outcome, WrapUpCode
from kefu.core.interactions import last_contacts
from kefu.core.permissions import has_perm, require_perm


def _errors(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return " ".join(m for ms in exc.message_dict.values() for m in ms)
    return " ".join(exc.messages)


def _tz() -> dt.tzinfo:
    return ZoneInfo(settings.TIME_ZONE)


# --- the phone channel's parts on shared screens ----------------------------------------------


def ticket_panel(request: HttpRequest, ticket: Any) -> str:
    """The calls logged on a work order."""
    if not has_perm(request.user, "calls.view"):
        return ""
    calls = list(visible_calls(request.user).filter(ticket=ticket).order_by("-started_at")[:10])
    if not calls:
        return ""
    return render_to_string("calls/_ticket_panel.html", {"calls": calls}, request=request)


def customer_history(customer: Any, user: Any) -> list[Any]:
    from kefu.customers.selectors import HistoryItem

    calls = visible_calls(user).filter(customer=customer).order_by("-started_at")[:50]
    return [
        HistoryItem(
            at=c.started_at,
            kind="call",
            title=_("Call from %(caller)s") % {"caller": c.caller or "—"},
            detail=f"{c.get_outcome_display()} · {c.queue or '—'}",
            url=reverse("calls:detail", args=[c.pk]),
            data={"outcome": c.outcome},
        )
        for c in calls
    ]


# --- list and detail ----------------------------------------------------------------------------


@login_required
def call_list(request: HttpRequest) -> HttpResponse:
    require_perm(request.user, "calls.view")
    params = request.GET
    day = None
    if params.get("day"):
        try:
            day = dt.date.fromisoformat(params["day"])
        except ValueError:
            messages.error(request, _("The date must look like 2026-03-01."))
    outcome = params.get("outcome", "")
    filters = selectors.CallFilters(
        queue=params.get("queue", "")[:64],
        agent=params.get("agent", "")[:80],
        outcome=outcome if outcome in Outcome.values else "",
        day=day,
        caller=params.get("caller", "")[:40].strip(),
    )
    page = Paginator(selectors.list_calls(request.user, filters, _tz()), 50).get_page(
        params.get("page")
    )
    return render(
        request,
        "calls/list.html",
        {
            "page": page,
            "filters": filters,
            "queues": selectors.queue_names(),
            "outcomes": Outcome.choices,
            "nav": "calls",
        },
    )


def _detail_context(request: HttpRequest, call: Call) -> dict[str, Any]:
    from kefu.tickets.selectors import type_options

    return {
        "call": call,
        "timeline": selectors.call_timeline(call),
        "codes": WrapUpCode.objects.filter(active=True),
        "types": type_options(),
        "can_handle": has_perm(request.user, "calls.handle"),
        "nav": "calls",
    }


@login_required
def call_detail(request: HttpRequest, call_id: int) -> HttpResponse:
    call = access_call(request.user, call_id)
    return render(request, "calls/detail.html", _detail_context(request, call))


@login_required
@require_POST
def call_action(request: HttpRequest, call_id: int, action: str) -> HttpResponse:
    call = access_call(request.user, call_id, perm="calls.handle")
    data = request.POST
    try:
        if action == "wrapup":
            acw = data.get("acw_s", "").strip()
            if acw and not acw.isdecimal():
                raise ValidationError(
                    {"acw_s": [_("After-call work is a whole number of seconds.")]}
                )
            services.wrap_up(
                actor=request.user,
                call=call,
                code=data.get("code", ""),
                note=data.get("note", ""),
                acw_s=int(acw) if acw else None,
            )
            messages.success(request, _("Wrap-up saved."))
        elif action == "customer":
            from kefu.customers.access import access_customer

            customer = access_customer(request.user, data.get("customer", ""))
            services.link_customer(actor=request.user, call=call, customer=customer)
            messages.success(request, _("Call linked to %(name)s.") % {"name": customer.name})
        elif action == "new-customer":
            services.create_customer_for_call(
                actor=request.user, call=call, name=data.get("name", "").strip()
            )
            messages.success(request, _("Customer created and linked."))
        elif action == "ticket":
            ticket = services.create_ticket_from_call(
                actor=request.user,
                call=call,
                title=data.get("title", "").strip(),
                ticket_type=data.get("ticket_type", ""),
                description=data.get("description", ""),
            )
            return redirect("tickets:detail", number=ticket.number)
        elif action == "log":
            from kefu.tickets.access import access_ticket

            ticket = access_ticket(request.user, data.get("number", "").strip())
            services.log_call_on_ticket(actor=request.user, call=call, ticket=ticket)
            messages.success(request, _("Call logged on %(n)s.") % {"n": ticket.number})
        else:
            raise Http404
    except ValidationError as exc:
        messages.error(request, _errors(exc))
        context = _detail_context(request, access_call(request.user, call_id))
        return render(request, "calls/detail.html", context, status=422)
    except Http404:
        messages.error(request, _("Not found: check the customer id or work-order number."))
        return render(request, "calls/detail.html", _detail_context(request, call), status=404)
    return redirect("calls:detail", call_id=call.pk)


@login_required
def screen_pop(request: HttpRequest, call_id: int) -> HttpResponse:
    """The ringing caller's card: customer, open work orders, last contacts, a new-work-order
    button. Loaded by the agent's browser when the call rings."""
    call = access_call(request.user, call_id)
    customer = call.customer
    open_tickets: list[Any] = []
    contacts: list[Any] = []
    if customer is not None and has_perm(request.user, "customers.view"):
        from kefu.tickets.access import visible_tickets
        from kefu.tickets.states import OPEN_STATES

        open_tickets = list(
            visible_tickets(request.user)
            .filter(customer=customer)
            .filter(status__in=OPEN_STATES)
            .order_by("-created_at")[:5]
        )
        contacts = last_contacts(customer, request.user, limit=5)
    return render(
        request,
        "calls/_pop.html",
        {
            "call": call,
            "customer": customer,
            "open_tickets": open_tickets,
            "contacts": contacts,
            "can_handle": has_perm(request.user, "calls.handle"),
        },
    )


# --- KPIs ---------------------------------------------------------------------------------------


def _int(params: Any, key: str, default: int, low: int, high: int) -> int:
    value = params.get(key, "")
    if not value:
        return default
    if not value.isdecimal() or not low <= int(value) <= high:
        raise ValidationError(
            {
                key: [
                    _("%(k)s must be a whole number from %(a)s to %(b)s.")
                    % {"k": key, "a": low, "b": high}
                ]
            }
        )
    return int(value)


def kpi_query(params: Any) -> selectors.KpiQuery:
    """The KPI page's and API's parameters; every problem named."""
    today = timezone.localdate()
    errors: dict[str, list[str]] = {}
    dates: dict[str, dt.date] = {}
    for key in ("from", "to"):
        try:
            dates[key] = dt.date.fromisoformat(params[key]) if params.get(key) else today
        except ValueError:
            errors[key] = [_("The date must look like 2026-03-01.")]
    numbers: dict[str, int] = {}
    for key, fallback, low, high in (
        ("interval", 30, 15, 60),
        ("short_abandon", kpi.DEFAULT_SHORT_ABANDON_S, 0, 600),
        ("sl", kpi.DEFAULT_SERVICE_LEVEL_S, 1, 3600),
        ("ring", kpi.DEFAULT_TIMELY_RING_S, 1, 600),
    ):
        try:
            numbers[key] = _int(params, key, fallback, low, high)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if numbers.get("interval", 30) not in kpi.INTERVALS_MIN:
        errors["interval"] = [_("The interval is 15, 30 or 60 minutes.")]
    if not errors and dates["to"] < dates["from"]:
        errors["to"] = [_("The end date is before the start date.")]
    if not errors and (dates["to"] - dates["from"]).days > 92:
        errors["to"] = [_("Ask for at most 93 days at a time.")]
    if errors:
        raise ValidationError(errors)
    return selectors.KpiQuery(
        start=dates["from"],
        end=dates["to"],
        tz=_tz(),
        interval_min=numbers["interval"],
        queue=str(params.get("queue", ""))[:64],
        agent=str(params.get("agent", ""))[:80],
        short_abandon_s=numbers["short_abandon"],
        service_level_s=numbers["sl"],
        timely_ring_s=numbers["ring"],
    )


def _chart(report: selectors.KpiReport) -> dict[str, Any]:
    def pct(v: float | None) -> float | None:
        return None if v is None else round(v * 100, 1)

    rows = report.by_interval
    return {
        "labels": [f"{k:%m-%d %H:%M}" for k, _v in rows],
        "offered": [v.offered for _k, v in rows],
        "answered": [v.answered for _k, v in rows],
        "abandoned": [v.abandoned for _k, v in rows],
        "sl": [pct(v.sl_offered) for _k, v in rows],
    }


@login_required
def kpi_page(request: HttpRequest) -> HttpResponse:
    require_perm(request.user, "calls.view")
    status = 200
    try:
        query = kpi_query(request.GET)
    except ValidationError as exc:
        messages.error(request, _errors(exc))
        query = kpi_query({})
        status = 400
    report = selectors.kpi_report(query)
    return render(
        request,
        "calls/kpi.html",
        {
            "q": query,
            "report": report,
            "chart": _chart(report),
            "columns": [(k, KPI_LABELS[k], KPI_HELP[k], k in kpi.RATES) for k in kpi.KPI_KEYS],
            "queues": selectors.queue_names(),
            "intervals": kpi.INTERVALS_MIN,
            "nav": "calls_kpi",
        },
        status=status,
    )


# --- import -------------------------------------------------------------------------------------


@login_required
def import_page(request: HttpRequest) -> HttpResponse:
    require_perm(request.user, "calls.import")
    run = None
    status = 200
    if request.method == "POST":
        fmt = request.POST.get("format", "")
        upload = request.FILES.get("file")
        tz_name = request.POST.get("tz", "").strip() or settings.TIME_ZONE
        try:
            if fmt not in ImportRun.Format.values:
                raise ValidationError({"format": [_("Choose the file's format.")]})
            if upload is None:
                raise ValidationError({"file": [_("Choose a file to import.")]})
            try:
                tz = ZoneInfo(tz_name)
            except (ValueError, KeyError) as exc:
                raise ValidationError(
                    {"tz": [_("Unknown time zone “%(z)s”.") % {"z": tz_name}]}
                ) from exc
            run = services.import_file(
                fmt, upload, name=upload.name or "upload", actor=request.user, tz=tz
            )
        except ValidationError as exc:
            messages.error(request, _errors(exc))
            status = 400
    return render(
        request,
        "calls/import.html",
        {
            "run": run,
            "formats": ImportRun.Format.choices,
            "runs": ImportRun.objects.order_by("-started_at")[:20],
            "tz": settings.TIME_ZONE,
            "nav": "calls_import",
        },
        status=status,
    )


# --- the CTI webhook ----------------------------------------------------------------------------


@csrf_exempt
@require_POST
def cti_webhook(request: HttpRequest, slug: str) -> JsonResponse:
    """Events from a PBX or CTI server, signed: header ``X-Kefu-Signature: sha256=<hex>`` is
    the HMAC-SHA256 of the body with the integration's secret."""
    integration = services.authenticate(
        slug, request.body, request.headers.get("X-Kefu-Signature", "")
    )
    if integration is None:
        return JsonResponse({"detail": _("Bad or missing signature.")}, status=401)
    try:
        payload = json.loads(request.body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return JsonResponse({"detail": _("The body is not JSON.")}, status=400)
    try:
        call = services.handle_cti(integration, payload)
    except ValidationError as exc:
        return JsonResponse({"detail": _errors(exc), "fields": exc.message_dict}, status=422)
    except PermissionDenied as exc:
        return JsonResponse({"detail": str(exc)}, status=403)
    return JsonResponse({"call": call.pk, "state": call.state, "outcome": call.outcome})
