"""Customers in search: name, organisation, address, notes' absence (notes stay private to the
customer page), and every phone, e-mail and account number, matched by any part."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import Q
from django.db.models.signals import post_delete, post_save
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from kefu.core.permissions import has_perm
from kefu.customers.models import AccountNumber, ContactPoint, Customer
from kefu.search import text
from kefu.search.backends import DocRow
from kefu.search.registry import Source, register_source
from kefu.search.services import mark_changed


def build(ids: Sequence[int]) -> list[DocRow]:
    customers = (
        Customer.objects.filter(pk__in=ids)
        .select_related("organization", "vip_tier")
        .prefetch_related("contacts", "accounts", "tags")
    )
    rows = []
    for c in customers:
        contacts = [p.value for p in c.contacts.all()]
        accounts = [a.number for a in c.accounts.all()]
        addresses = [a.address for a in c.accounts.all() if a.address]
        parts = [
            c.organization.name if c.organization else "",
            c.industry,
            c.address,
            *addresses,
            " ".join(t.name for t in c.tags.all()),
            " ".join(contacts),
            " ".join(accounts),
        ]
        body = "\n".join(p for p in parts if p)
        digits = [p.normalized for p in c.contacts.all() if p.kind == "phone"]
        rows.append(
            DocRow(
                kind="customer",
                object_id=c.pk,
                title=c.name,
                body=body,
                analyzed=text.analyze(c.name, body, [*accounts, *digits, c.credit_code]),
                created_at=c.created_at,
                updated_at=c.updated_at,
                status="active" if c.is_active else "archived",
                type_code=c.vip_tier.code if c.vip_tier else "",
                customer_id=c.pk,
                created_by_id=c.created_by_id,
            )
        )
    return rows


def visible(user: Any) -> Q | None:
    """Staff with ``customers.view`` find any customer; nobody else finds customers."""
    return None if has_perm(user, "customers.view") else Q(pk__in=[])


def url(user: Any, doc: Any) -> str:
    return reverse("customers:detail", args=[doc.object_id])


def _customer_saved(sender: Any, instance: Customer, **kwargs: Any) -> None:
    mark_changed("customer", instance.pk)


def _part_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    mark_changed("customer", instance.customer_id)


def register() -> None:
    register_source(
        Source(
            kind="customer",
            label=_("Customer"),
            model=Customer,
            build=build,
            visible=visible,
            url=url,
        )
    )
    post_save.connect(_customer_saved, sender=Customer, dispatch_uid="search_customer")
    for model in (ContactPoint, AccountNumber):
        post_save.connect(_part_changed, sender=model, dispatch_uid=f"search_{model.__name__}")
        post_delete.connect(_part_changed, sender=model, dispatch_uid=f"search_d_{model.__name__}")
