"""Screens: customer list, customer page, create/edit, contact points, notes, merge, portal invite."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.accounts.models import User
from kefu.core.pagination import CursorError
from kefu.core.permissions import has_perm, require_perm
from kefu.core.validation import Conflict, parse_id
from kefu.customers import forms, selectors, services
from kefu.customers.access import access_customer, visible_customers
from kefu.customers.models import ContactPoint, Customer, Tag, VipTier

SORTS = [
    ("-updated_at", _("Recently changed")),
    ("name", _("Name")),
    ("-created_at", _("Newest")),
    ("created_at", _("Oldest")),
]


def _actor(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


@login_required
def customer_list(request: HttpRequest) -> HttpResponse:
    require_perm(request.user, "customers.view")
    params = request.GET
    active_param = params.get("active", "1")
    filters = selectors.CustomerFilters(
        q=params.get("q", "")[:100],
        kind=params.get("kind") if params.get("kind") in Customer.Kind.values else None,
        vip_tier=params.get("vip") or None,
        tag=params.get("tag") or None,
        active=None if active_param == "all" else active_param != "0",
    )
    sort = params.get("sort", "-updated_at")
    if sort not in dict(SORTS):
        sort = "-updated_at"
    try:
        page = selectors.list_customers(
            request.user, filters, sort=sort, cursor=params.get("cursor"), limit=50
        )
    except CursorError:
        page = selectors.list_customers(request.user, filters, sort=sort, cursor=None, limit=50)
    return render(
        request,
        "customers/list.html",
        {
            "page": page,
            "params": params,
            "sorts": SORTS,
            "tiers": VipTier.objects.filter(is_active=True),
            "tags": Tag.objects.all()[:200],
            "nav": "customers",
        },
    )


@login_required
def customer_create(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    require_perm(actor, "customers.edit")
    form = forms.NewCustomerForm(
        request.POST or None, initial={"language": "zh-hans", "kind": "person"}
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        contacts = []
        if data["phone"]:
            contacts.append(
                services.ContactInput(ContactPoint.Kind.PHONE, data["phone"], is_primary=True)
            )
        if data["email"]:
            contacts.append(
                services.ContactInput(ContactPoint.Kind.EMAIL, data["email"], is_primary=True)
            )
        accounts = [services.AccountInput(data["account_number"])] if data["account_number"] else []
        try:
            customer = services.create_customer(
                actor=actor,
                kind=data["kind"],
                name=data["name"],
                organization=data["organization"],
                credit_code=data["credit_code"],
                industry=data["industry"],
                vip_tier=data["vip_tier"].pk if data["vip_tier"] else None,
                address=data["address"],
                language=data["language"],
                contacts=contacts,
                accounts=accounts,
                tags=form.tag_list(),
                note=data["note"],
            )
        except ValidationError as exc:
            _map_contact_errors(exc)
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Customer %(name)s was created.") % {"name": customer.name})
            return redirect("customers:detail", customer_id=customer.pk)
    return render(
        request, "customers/form.html", {"form": form, "nav": "customers", "org": _org_of(form)}
    )


def _map_contact_errors(exc: ValidationError) -> None:
    if hasattr(exc, "error_dict") and "contacts" in exc.error_dict:
        exc.error_dict.setdefault("phone", []).extend(exc.error_dict.pop("contacts"))
    if hasattr(exc, "error_dict") and "accounts" in exc.error_dict:
        exc.error_dict.setdefault("account_number", []).extend(exc.error_dict.pop("accounts"))


def _org_of(form: forms.CustomerForm) -> Customer | None:
    value = form.data.get("organization") if form.is_bound else form.initial.get("organization")
    pk = parse_id(value)
    if pk is not None:
        return Customer.objects.filter(pk=pk, kind=Customer.Kind.ORGANIZATION).first()
    return None


@login_required
def customer_edit(request: HttpRequest, customer_id: int) -> HttpResponse:
    actor = _actor(request)
    customer = access_customer(actor, customer_id, perm="customers.edit")
    if customer.merged_into_id:
        return redirect("customers:detail", customer_id=customer.merged_into_id)
    initial = {
        "kind": customer.kind,
        "name": customer.name,
        "organization": customer.organization_id,
        "credit_code": customer.credit_code,
        "industry": customer.industry,
        "vip_tier": customer.vip_tier_id,
        "address": customer.address,
        "language": customer.language,
        "tags": ", ".join(customer.tags.values_list("name", flat=True)),
        "version": customer.version,
    }
    form = forms.CustomerForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        changes: dict[str, Any] = {
            "kind": data["kind"],
            "name": data["name"],
            "organization": data["organization"],
            "credit_code": data["credit_code"],
            "industry": data["industry"],
            "vip_tier": data["vip_tier"].pk if data["vip_tier"] else None,
            "address": data["address"],
            "language": data["language"],
            "tags": form.tag_list(),
        }
        try:
            services.update_customer(
                actor=actor, customer=customer, changes=changes, expected_version=data["version"]
            )
        except Conflict as exc:
            form.add_error(None, exc.message)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("customers:detail", customer_id=customer.pk)
    return render(
        request,
        "customers/form.html",
        {"form": form, "customer": customer, "nav": "customers", "org": _org_of(form)},
    )


@login_required
def customer_detail(request: HttpRequest, customer_id: int) -> HttpResponse:
    actor = _actor(request)
    customer = access_customer(actor, customer_id)
    if actor.is_customer:
        return redirect("portal:profile")
    customer = selectors.with_details(Customer.objects.filter(pk=customer.pk)).get()
    can_edit = has_perm(actor, "customers.edit") and customer.merged_into_id is None
    context = {
        "customer": customer,
        "can_edit": can_edit,
        "can_merge": has_perm(actor, "customers.merge") and customer.is_active,
        "can_archive": has_perm(actor, "customers.delete"),
        "history": selectors.customer_history(customer, actor),
        "events": selectors.customer_events(customer, 50),
        "notes": selectors.customer_notes(customer),
        "people": customer.people.filter(is_active=True).order_by("name")[:50]
        if customer.is_organization
        else [],
        "portal_users": customer.portal_users.all(),
        "contact_form": forms.ContactForm(prefix="contact"),
        "account_form": forms.AccountForm(prefix="account"),
        "note_form": forms.NoteForm(prefix="note"),
        "invite_form": forms.InviteForm(
            prefix="invite", initial={"email": _primary_email(customer)}
        ),
        "merged_from": customer.merged_from.all(),
        "nav": "customers",
        "tab": request.GET.get("tab", "history"),
    }
    return render(request, "customers/detail.html", context)


def _primary_email(customer: Customer) -> str:
    for point in customer.contacts.all():
        if point.kind == ContactPoint.Kind.EMAIL:
            return point.value
    return ""


def _back(customer_id: int, tab: str = "") -> HttpResponse:
    response = redirect("customers:detail", customer_id=customer_id)
    if tab:
        response["Location"] += f"?tab={tab}"
    return response


@login_required
@require_POST
def contact_add(request: HttpRequest, customer_id: int) -> HttpResponse:
    actor = _actor(request)
    customer = access_customer(actor, customer_id, perm="customers.edit")
    form = forms.ContactForm(request.POST, prefix="contact")
    if form.is_valid():
        try:
            services.add_contact(
                actor=actor, customer=customer, contact=services.ContactInput(**form.cleaned_data)
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    else:
        messages.error(request, _("Enter the contact's kind and value."))
    return _back(customer.pk)


@login_required
@require_POST
def contact_remove(request: HttpRequest, customer_id: int, contact_id: int) -> HttpResponse:
    actor = _actor(request)
    customer = access_customer(actor, customer_id, perm="customers.edit")
    try:
        services.remove_contact(actor=actor, customer=customer, contact_id=contact_id)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return _back(customer.pk)


@login_required
@require_POST
def account_add(request: HttpRequest, customer_id: int) -> HttpResponse:
    actor = _actor(request)
    customer = access_customer(actor, customer_id, perm="customers.edit")
    form = forms.AccountForm(request.POST, prefix="account")
    if form.is_valid():
        try:
            services.add_account_number(
                actor=actor, customer=customer, account=services.AccountInput(**form.cleaned_data)
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    else:
        messages.error(request, _("Enter an account number."))
    return _back(customer.pk)


@login_required
@require_POST
def account_remove(request: HttpRequest, customer_id: int, account_id: int) -> HttpResponse:
    actor = _actor(request)
    customer = access_customer(actor, customer_id, perm="customers.edit")
    try:
        services.remove_account_number(actor=actor, customer=customer, account_id=account_id)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return _back(customer.pk)


@login_required
@require_POST
def note_add(request: HttpRequest, customer_id: int) -> HttpResponse:
    actor = _actor(request)
    customer = access_customer(actor, customer_id, perm="customers.edit")
    form = forms.NoteForm(request.POST, prefix="note")
    if form.is_valid():
        services.add_note(
            actor=actor,
            customer=customer,
            body=form.cleaned_data["body"],
            pinned=form.cleaned_data["pinned"],
        )
    else:
        messages.error(request, _("A note cannot be empty or longer than 4,000 characters."))
    return _back(customer.pk, "notes")


@login_required
@require_POST
def archive(request: HttpRequest, customer_id: int) -> HttpResponse:
    actor = _actor(request)
    customer = access_customer(actor, customer_id, perm="customers.delete")
    services.update_customer(
        actor=actor, customer=customer, changes={"is_active": not customer.is_active}
    )
    messages.success(
        request, _("Customer archived.") if customer.is_active else _("Customer restored.")
    )
    return _back(customer.pk)


@login_required
@require_POST
def invite(request: HttpRequest, customer_id: int) -> HttpResponse:
    actor = _actor(request)
    customer = access_customer(actor, customer_id, perm="customers.edit")
    form = forms.InviteForm(request.POST, prefix="invite")
    if form.is_valid():
        try:
            user = services.invite_to_portal(
                actor=actor, customer=customer, email=form.cleaned_data["email"]
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request, _("A portal sign-in link was sent to %(email)s.") % {"email": user.email}
            )
    return _back(customer.pk)


@login_required
def merge(request: HttpRequest, customer_id: int) -> HttpResponse:
    """Pick a duplicate, compare the two records side by side, and confirm."""
    actor = _actor(request)
    target = access_customer(actor, customer_id, perm="customers.merge")
    source = None
    source_id = request.POST.get("source") or request.GET.get("source")
    if source_id:
        source = access_customer(actor, source_id, perm="customers.merge")
    if request.method == "POST" and source is not None:
        try:
            services.merge_customers(actor=actor, source=source, target=target)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request,
                _("%(source)s was merged into %(target)s.")
                % {"source": source.name, "target": target.name},
            )
            return redirect("customers:detail", customer_id=target.pk)
    records = selectors.with_details(
        Customer.objects.filter(pk__in=[target.pk] + ([source.pk] if source else []))
    )
    by_id = {c.pk: c for c in records}
    return render(
        request,
        "customers/merge.html",
        {
            "target": by_id[target.pk],
            "source": by_id.get(source.pk) if source else None,
            "suggestions": _duplicates(by_id[target.pk]),
            "nav": "customers",
        },
    )


def _duplicates(customer: Customer) -> list[Customer]:
    """Likely duplicates: same contact point, or same name."""
    values = [(p.kind, p.normalized) for p in customer.contacts.all()]
    match = Q(name=customer.name)
    for kind, normalized in values:
        match |= Q(contacts__kind=kind, contacts__normalized=normalized)
    return list(
        Customer.objects.filter(match, is_active=True, kind=customer.kind)
        .exclude(pk=customer.pk)
        .select_related("vip_tier")
        .distinct()[:10]
    )


@login_required
def lookup(request: HttpRequest) -> HttpResponse:
    """Small search used by pickers (organisation field, merge): an HTML list of matches."""
    require_perm(request.user, "customers.view")
    q = request.GET.get("q", "").strip()[:100]
    kind = request.GET.get("kind")
    exclude = request.GET.get("exclude", "")
    results: list[Customer] = []
    if len(q) >= 1:
        qs = selectors.filter_customers(
            visible_customers(request.user),
            selectors.CustomerFilters(q=q, kind=kind if kind in Customer.Kind.values else None),
        )
        if (excluded := parse_id(exclude)) is not None:
            qs = qs.exclude(pk=excluded)
        results = list(qs.select_related("vip_tier").order_by("name")[:12])
    return render(
        request,
        "customers/_lookup.html",
        {"results": results, "q": q, "target": request.GET.get("target", "")},
    )
