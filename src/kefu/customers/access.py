"""Who may see which customer. Every path that loads customer data goes through here."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from kefu.core.permissions import Role, has_perm, require_perm
from kefu.core.validation import MAX_ID, parse_id
from kefu.customers.models import Customer


def visible_customers(user: Any) -> QuerySet[Customer]:
    """Customers ``user`` may see: all of them for staff with ``customers.view``, their own
    record for a portal customer, none otherwise."""
    if has_perm(user, "customers.view"):
        return Customer.objects.all()
    if (
        user is not None
        and getattr(user, "is_authenticated", False)
        and user.is_active
        and user.role == Role.CUSTOMER
        and user.customer_id
    ):
        return Customer.objects.filter(pk=user.customer_id)
    return Customer.objects.none()


def access_customer(user: Any, pk: Any, *, perm: str = "customers.view") -> Customer:
    """Load one customer for ``user`` or raise: 404 if they may not see it (so ids of other
    people's records are not confirmed), 403 if they may see it but not do ``perm``."""
    number = pk if isinstance(pk, int) and not isinstance(pk, bool) else parse_id(pk)
    if number is None or not 1 <= number <= MAX_ID:
        raise Http404
    pk = number
    customer = (
        visible_customers(user)
        .select_related("vip_tier", "organization", "merged_into")
        .filter(pk=pk)
        .first()
    )
    if customer is None:
        raise Http404
    if perm != "customers.view" or user.role != Role.CUSTOMER:
        require_perm(user, perm)
    return customer


def customer_check(user: Any) -> Callable[[int | None], bool]:
    """Whether ``user`` may see the customer with a given id, for screens of other apps that name
    a customer (an incident's links, a requirement's askers): ``customers.view`` narrowed by a
    token's scopes; without it a person sees at most their own record (no query per id)."""
    if has_perm(user, "customers.view"):
        return lambda pk: pk is not None
    allowed = frozenset(visible_customers(user).values_list("pk", flat=True))
    return lambda pk: pk is not None and pk in allowed
