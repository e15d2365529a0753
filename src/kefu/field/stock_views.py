"""Screens for customer assets and spare parts: lists, an asset's card and form, a part's
stock per location with its ledger and movements, and the low-stock list."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.core.exports import SafeCsvWriter
from kefu.core.permissions import has_perm, require_perm
from kefu.customers.access import access_customer
from kefu.field import access, selectors, services, stock
from kefu.field.forms import form_id, local_date, messages_of, optional_id
from kefu.field.models import Location, Movement, Part, ServiceLevel, Stock
from kefu.tickets.views.common import error_text, staff

# --- assets ---------------------------------------------------------------------------------------


@login_required
def asset_list(request: HttpRequest) -> HttpResponse:
    user = staff(request)
    require_perm(user, "field.view")
    q = request.GET.get("q", "").strip()[:80]
    assets = access.visible_assets(user).select_related("customer", "service_level")
    if q:
        assets = assets.filter(
            Q(serial__icontains=q)
            | Q(product__icontains=q)
            | Q(model__icontains=q)
            | Q(customer__name__icontains=q)
            | Q(contract_number__icontains=q)
        )
    customer = None
    if request.GET.get("customer"):
        customer = access_customer(user, request.GET.get("customer"))
        assets = assets.filter(customer=customer)
    rows = list(assets.order_by("customer__name", "product", "serial")[:200])
    return render(
        request,
        "field/assets.html",
        {
            "assets": rows,
            "q": q,
            "customer": customer,
            "can_add": customer is not None and has_perm(user, "field.assets"),
            "today": timezone.localdate(),
            "nav": "field_assets",
        },
    )


def _asset_values(post: Any) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in ("product", "model", "serial", "address", "contract_number", "notes"):
        values[name] = post.get(name, "")
    for name in ("installed_on", "warranty_until", "contract_until"):
        values[name] = local_date(post.get(name), name)
    level_id = optional_id(post.get("service_level"), "service_level")
    level = ServiceLevel.objects.filter(pk=level_id).first() if level_id else None
    if level_id and level is None:
        raise ValidationError({"service_level": [_("Choose one from the list.")]})
    values["service_level"] = level
    values["is_active"] = post.get("is_active", "on") == "on"
    return values


@login_required
def asset_form(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    user = staff(request)
    asset = access.access_asset(user, pk, perm="field.assets") if pk else None
    customer = asset.customer if asset else None
    if customer is None:
        customer = access_customer(
            user, request.GET.get("customer") or request.POST.get("customer")
        )
        require_perm(user, "field.assets")
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            values = _asset_values(request.POST)
            if asset is None:
                asset = services.create_asset(actor=user, customer=customer, values=values)
            else:
                asset = services.update_asset(actor=user, asset=asset, values=values)
        except ValidationError as exc:
            errors = messages_of(exc)
        else:
            messages.success(request, _("The asset is saved."))
            return redirect("field:asset", pk=asset.pk)
    return render(
        request,
        "field/asset_form.html",
        {
            "asset": asset,
            "customer": customer,
            "levels": ServiceLevel.objects.order_by("name"),
            "errors": errors,
            "values": request.POST if request.method == "POST" else None,
            "nav": "field_assets",
        },
        status=400 if errors else 200,
    )


@login_required
def asset_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = staff(request)
    asset = access.access_asset(user, pk)
    visits = list(
        access.visible_visits(user)
        .filter(asset=asset)
        .select_related("ticket", "engineer")
        .order_by("-window_start")[:50]
    )
    today = timezone.localdate()
    return render(
        request,
        "field/asset.html",
        {
            "asset": asset,
            "visits": visits,
            "level": asset.level_on(today),
            "today": today,
            "can_edit": has_perm(user, "field.assets"),
            "nav": "field_assets",
        },
    )


# --- spare parts ----------------------------------------------------------------------------------


@login_required
def part_list(request: HttpRequest) -> HttpResponse:
    user = staff(request)
    require_perm(user, "field.view")
    q = request.GET.get("q", "").strip()[:80]
    parts = Part.objects.filter(is_active=True)
    if q:
        parts = parts.filter(Q(code__icontains=q) | Q(name__icontains=q))
    rows = list(parts.order_by("code")[:300])
    totals: dict[int, dict[str, int]] = {}
    for s in Stock.objects.filter(part__in=rows).values(
        "part_id", "on_hand", "reserved", "min_qty"
    ):
        t = totals.setdefault(s["part_id"], {"on_hand": 0, "reserved": 0, "low": 0})
        t["on_hand"] += s["on_hand"]
        t["reserved"] += s["reserved"]
        t["low"] += int(s["on_hand"] - s["reserved"] < s["min_qty"])
        t["available"] = t["on_hand"] - t["reserved"]
    return render(
        request,
        "field/parts.html",
        {
            "rows": [
                (p, totals.get(p.pk, {"on_hand": 0, "reserved": 0, "low": 0, "available": 0}))
                for p in rows
            ],
            "q": q,
            "low_count": selectors.low_stock_count(),
            "nav": "field_parts",
        },
    )


@login_required
def part_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = staff(request)
    part = access.access_part(user, pk)
    today = timezone.localdate()
    used = selectors.used_in_period(today)
    rows = list(Stock.objects.filter(part=part).select_related("part", "location"))
    stock_rows = [(s, selectors.suggestion_for(s, used, today)) for s in rows]
    ledger = list(
        Movement.objects.filter(part=part)
        .select_related("location", "ticket", "actor", "other_location")
        .order_by("-at", "-pk")[:100]
    )
    return render(
        request,
        "field/part.html",
        {
            "part": part,
            "stock_rows": stock_rows,
            "ledger": ledger,
            "locations": Location.objects.filter(is_active=True).order_by("kind", "name"),
            "can_stock": has_perm(user, "field.stock"),
            "nav": "field_parts",
        },
    )


@login_required
@require_POST
def part_move(request: HttpRequest, pk: int) -> HttpResponse:
    user = staff(request)
    part = access.access_part(user, pk, perm="field.stock")
    kind = request.POST.get("kind", "")
    try:
        location = Location.objects.filter(
            pk=form_id(request.POST.get("location"), "location")
        ).first()
        if location is None:
            raise ValidationError({"location": [_("Choose one from the list.")]})
        qty = request.POST.get("qty")
        if kind == "receive":
            stock.receive(
                actor=user, part=part, location=location, qty=qty, note=request.POST.get("note", "")
            )
        elif kind == "transfer":
            target = Location.objects.filter(
                pk=form_id(request.POST.get("target"), "target")
            ).first()
            if target is None:
                raise ValidationError({"target": [_("Choose one from the list.")]})
            stock.transfer(
                actor=user,
                part=part,
                source=location,
                target=target,
                qty=qty,
                note=request.POST.get("note", ""),
            )
        elif kind == "minimum":
            stock.set_minimum(
                actor=user, part=part, location=location, min_qty=request.POST.get("min_qty")
            )
        else:
            raise ValidationError(_("Unknown stock movement."))
        messages.success(request, _("The stock is updated."))
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    return redirect("field:part", pk=part.pk)


@login_required
def low_stock(request: HttpRequest) -> HttpResponse:
    user = staff(request)
    require_perm(user, "field.view")
    rows = selectors.low_stock()
    if request.GET.get("format") == "csv":
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="low-stock.csv"'
        response.write("\ufeff")  # Excel and WPS read UTF-8 with the mark
        writer = SafeCsvWriter(response)
        writer.writerow(
            [
                _("Part number"),
                _("Part"),
                _("Location"),
                _("Available"),
                _("Minimum"),
                _("Daily use"),
                _("Lead time (days)"),
                _("Suggested order"),
                _("Arrives if ordered today"),
            ]
        )
        for r in rows:
            s, g = r.stock, r.suggestion
            writer.writerow(
                [
                    s.part.code,
                    s.part.name,
                    s.location.name,
                    s.available,
                    s.min_qty,
                    g.daily_use,
                    s.part.lead_time_days,
                    g.order_qty,
                    g.arrives_on.isoformat() if g.arrives_on else "",
                ]
            )
        return response
    return render(request, "field/low_stock.html", {"rows": rows, "nav": "field_parts"})
