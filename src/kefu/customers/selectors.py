"""Read queries for customers: filtered, sorted, paginated lists and the customer page."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import phonenumbers
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from kefu.core.events import history
from kefu.core.models import Event
from kefu.core.pagination import Page, SortKey, paginate
from kefu.customers.access import visible_customers
from kefu.customers.models import AccountNumber, ContactPoint, Customer, CustomerNote

SORT_KEYS = {
    "id": SortKey("id", "int"),
    "name": SortKey("name"),
    "created_at": SortKey("created_at", "datetime"),
    "updated_at": SortKey("updated_at", "datetime"),
}


@dataclass
class CustomerFilters:
    q: str = ""
    kind: str | None = None
    vip_tier: str | None = None  # tier code, or "any" / "none"
    tag: str | None = None
    organization: int | None = None
    active: bool | None = True
    created_after: dt.datetime | None = None
    created_before: dt.datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)


_DIGITS = re.compile(r"^\+?[\d\s\-.()]{3,}$")


def phone_query(q: str) -> tuple[str, str]:
    """What a typed phone number is looked up by: its E.164 form when it is a whole number in
    any of the ways people write it (``07168251639``, ``0716-825 1639``, ``+86 716 8251639``,
    ``(0716)8251639``, full-width digits), else the digits to find inside stored numbers, with
    a trunk ``0`` before an area code or the country code ``86`` taken off (stored numbers are E.164: ``+867168251639``).
    Returns ``(e164, digits)``; ``e164`` is empty for a part of a number."""
    text = unicodedata.normalize("NFKC", q).strip()
    digits = re.sub(r"\D", "", text)
    try:
        number = phonenumbers.parse(re.sub(r"[^\d+]", "", text), "CN")
    except phonenumbers.NumberParseException:
        number = None
    if number is not None and phonenumbers.is_valid_number(number):
        e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        return e164, str(number.national_number)
    if text.startswith("+86") or digits.startswith("0086"):
        return "", digits.removeprefix("00").removeprefix("86")
    return "", digits[1:] if re.match(r"0[1-9]", digits) else digits


def _text_match(q: str) -> Q:
    """Name, phone (a whole number in any format, or any part of its digits), e-mail, IM id
    or account number."""
    q = unicodedata.normalize("NFKC", q).strip()
    contacts = ContactPoint.objects.filter(customer=OuterRef("pk"))
    accounts = AccountNumber.objects.filter(customer=OuterRef("pk"))
    if _DIGITS.match(q):
        e164, part = phone_query(q)
        digits = re.sub(r"\D", "", q)
        if not digits:
            return Q(pk__in=[])
        phone = (
            contacts.filter(kind=ContactPoint.Kind.PHONE, normalized=e164)
            if e164
            else contacts.filter(Q(normalized__contains=part) | Q(normalized__contains=digits))
        )
        return Q(Exists(phone)) | Q(Exists(accounts.filter(number__contains=digits)))
    if "@" in q:
        return Q(
            Exists(contacts.filter(kind=ContactPoint.Kind.EMAIL, normalized__contains=q.lower()))
        )
    return (
        Q(name__icontains=q)
        | Q(Exists(contacts.filter(normalized__contains=q.lower())))
        | Q(Exists(accounts.filter(number__iexact=q)))
    )


def filter_customers(qs: QuerySet[Customer], filters: CustomerFilters) -> QuerySet[Customer]:
    if filters.q.strip():
        qs = qs.filter(_text_match(filters.q))
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.vip_tier == "any":
        qs = qs.filter(vip_tier__isnull=False)
    elif filters.vip_tier == "none":
        qs = qs.filter(vip_tier__isnull=True)
    elif filters.vip_tier:
        qs = qs.filter(vip_tier__code=filters.vip_tier)
    if filters.tag:
        qs = qs.filter(tags__name=filters.tag)
    if filters.organization:
        qs = qs.filter(organization_id=filters.organization)
    if filters.active is not None:
        qs = qs.filter(is_active=filters.active)
    if filters.created_after:
        qs = qs.filter(created_at__gte=filters.created_after)
    if filters.created_before:
        qs = qs.filter(created_at__lt=filters.created_before)
    return qs


def with_details(qs: QuerySet[Customer]) -> QuerySet[Customer]:
    """Everything a list row or API item shows, in a fixed number of queries."""
    return qs.select_related("vip_tier", "organization").prefetch_related(
        Prefetch("contacts", queryset=ContactPoint.objects.order_by("-is_primary", "kind", "id")),
        "accounts",
        "tags",
    )


def list_customers(
    user: Any,
    filters: CustomerFilters,
    *,
    sort: str = "-updated_at",
    cursor: str | None = None,
    limit: int = 50,
) -> Page[Customer]:
    qs = filter_customers(visible_customers(user), filters)
    page = paginate(qs, sort=sort, keys=SORT_KEYS, cursor=cursor, limit=limit)
    # Prefetch for the page's rows only (paginate already fetched them).
    ids = [c.pk for c in page.items]
    detailed = {c.pk: c for c in with_details(Customer.objects.filter(pk__in=ids))}
    page.items = [detailed[pk] for pk in ids]
    return page


def customer_dicts(ids: list[int], base: QuerySet[Customer] | None = None) -> list[dict[str, Any]]:
    """API representations of customers ``ids`` (in that order), read with plain value queries:
    four queries whatever the page size, and no model instances to build. With ``base`` (a
    visibility-filtered queryset) ids outside it are left out."""
    from kefu.core.validation import display_phone

    if not ids:
        return []
    rows = {
        r["id"]: r
        for r in (base if base is not None else Customer.objects)
        .filter(pk__in=ids)
        .values(
            "id",
            "kind",
            "name",
            "organization_id",
            "organization__name",
            "credit_code",
            "industry",
            "vip_tier_id",
            "vip_tier__code",
            "vip_tier__name",
            "vip_tier__rank",
            "vip_tier__priority_weight",
            "address",
            "language",
            "is_active",
            "merged_into_id",
            "created_at",
            "updated_at",
            "version",
        )
    }
    if not rows:
        return []
    ids = [pk for pk in ids if pk in rows]
    contacts: dict[int, list[dict[str, Any]]] = {pk: [] for pk in rows}
    for row in (
        ContactPoint.objects.filter(customer_id__in=ids)
        .order_by("-is_primary", "kind", "id")
        .values("id", "customer_id", "kind", "value", "normalized", "label", "is_primary")
    ):
        c: dict[str, Any] = dict(row)
        owner = c.pop("customer_id")
        if c["kind"] == ContactPoint.Kind.PHONE:
            c["value"] = display_phone(c["normalized"])
        contacts[owner].append(c)
    accounts: dict[int, list[dict[str, Any]]] = {pk: [] for pk in rows}
    for arow in (
        AccountNumber.objects.filter(customer_id__in=ids)
        .order_by("number")
        .values("id", "customer_id", "number", "label", "address")
    ):
        a: dict[str, Any] = dict(arow)
        accounts[a.pop("customer_id")].append(a)
    tags: dict[int, list[str]] = {pk: [] for pk in rows}
    for customer_id, tag in (
        Customer.tags.through.objects.filter(customer_id__in=ids)
        .order_by("tag__name")
        .values_list("customer_id", "tag__name")
    ):
        tags[customer_id].append(tag)
    result = []
    for pk in ids:
        r = rows.get(pk)
        if r is None:
            continue
        result.append(
            {
                "id": pk,
                "kind": r["kind"],
                "name": r["name"],
                "organization": {"id": r["organization_id"], "name": r["organization__name"]}
                if r["organization_id"]
                else None,
                "credit_code": r["credit_code"],
                "industry": r["industry"],
                "vip_tier": {
                    "id": r["vip_tier_id"],
                    "code": r["vip_tier__code"],
                    "name": r["vip_tier__name"],
                    "rank": r["vip_tier__rank"],
                    "priority_weight": r["vip_tier__priority_weight"],
                }
                if r["vip_tier_id"]
                else None,
                "address": r["address"],
                "language": r["language"],
                "tags": tags[pk],
                "contacts": contacts[pk],
                "accounts": accounts[pk],
                "is_active": r["is_active"],
                "merged_into": r["merged_into_id"],
                "created_at": r["created_at"],
                "updated_at": r["updated_at"],
                "version": r["version"],
            }
        )
    return result


def page_ids(
    user: Any, filters: CustomerFilters, *, sort: str, cursor: str | None, limit: int
) -> tuple[list[int], str | None]:
    """The ids on one page of the filtered list, and the cursor of the next page."""
    qs = filter_customers(visible_customers(user), filters)
    name = sort.lstrip("-")
    fields = ["id"] + ([SORT_KEYS[name].field] if name in SORT_KEYS and name != "id" else [])
    page = paginate(qs.only(*fields), sort=sort, keys=SORT_KEYS, cursor=cursor, limit=limit)
    return [c.pk for c in page.items], page.next_cursor


def find_by_contact(kind: str, normalized: str) -> list[Customer]:
    """Customers reachable on a phone number or address (caller identification)."""
    return list(
        Customer.objects.filter(
            is_active=True, contacts__kind=kind, contacts__normalized=normalized
        )
        .select_related("vip_tier")
        .distinct()[:10]
    )


# --- the customer page's contact history ----------------------------------------------------------


@dataclass
class HistoryItem:
    at: dt.datetime
    kind: str  # "event", "ticket", "call", "chat", ...
    title: str
    detail: str = ""
    url: str = ""
    data: dict[str, Any] = field(default_factory=dict)


HistoryProvider = Callable[[Customer, Any], list[HistoryItem]]
HISTORY_PROVIDERS: list[HistoryProvider] = []
"""Channel apps append a function that lists a customer's contacts through that channel."""


def register_history_provider(provider: HistoryProvider) -> None:
    if provider not in HISTORY_PROVIDERS:
        HISTORY_PROVIDERS.append(provider)


def customer_history(customer: Customer, user: Any, limit: int = 100) -> list[HistoryItem]:
    items: list[HistoryItem] = []
    for provider in HISTORY_PROVIDERS:
        items.extend(provider(customer, user))
    items.sort(key=lambda item: item.at, reverse=True)
    return items[:limit]


def customer_events(customer: Customer, limit: int = 100) -> list[Event]:
    return history("customer", customer.pk, limit)


def customer_notes(customer: Customer) -> QuerySet[CustomerNote]:
    return customer.notes.select_related("author")
