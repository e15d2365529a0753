"""Work orders on the customer page's contact history, and the change lines of a work order's
timeline."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.urls import reverse

from kefu.core.labels import field_label, value_label
from kefu.core.templatetags.kefu import show_value
from kefu.core.validation import display_phone
from kefu.customers.models import Customer
from kefu.customers.selectors import HistoryItem
from kefu.tickets.access import visible_tickets


def ticket_history(customer: Customer, user: Any) -> list[HistoryItem]:
    tickets = (
        visible_tickets(user)
        .filter(customer=customer)
        .select_related("ticket_type")
        .order_by("-created_at")[:50]
    )
    return [
        HistoryItem(
            at=t.created_at,
            kind="ticket",
            title=f"{t.number} · {t.ticket_type.label} · {t.title}",
            detail=f"{t.get_channel_display()} · {t.get_status_display()}",
            url=reverse("tickets:detail", args=[t.number]),
            data={"status": t.status, "open": t.is_open},
        )
        for t in tickets
    ]


# --- the work-order timeline's change lines -------------------------------------------------------


@dataclass(frozen=True)
class ChangeLine:
    """One field of a change event as the timeline shows it: ``label: before → after``, or
    ``label: value`` for what a new work order was opened with (``initial``)."""

    field: str
    label: str
    before: str
    after: str
    initial: bool


def _shown(field: str, value: Any, names: dict[int, str]) -> str:
    if value in (None, "", []):
        return ""
    if field == "customer" and isinstance(value, int):
        return names.get(value) or f"#{value}"
    if field == "contact_phone" and isinstance(value, str):
        return display_phone(value)
    text = show_value(value_label(field, value))
    return "" if text == "—" else text


def change_lines(event: Any, ticket: Any = None) -> list[ChangeLine]:
    """The readable lines of an event's ``changes``: values in words (a customer's name, a
    phone number as it is written, a status label), nothing for a field that stayed empty, and
    for a work order's creation only the fields it was opened with."""
    changes = event.changes or {}
    pairs = [  # by name: the same order on every database (PostgreSQL's jsonb reorders keys)
        (key, pair[0], pair[1])
        for key, pair in sorted(changes.items())
        if isinstance(pair, list | tuple) and len(pair) == 2
    ]
    created = event.action.endswith("_created")
    names: dict[int, str] = {}
    customers = {v for key, *values in pairs if key == "customer" for v in values}
    known = getattr(ticket, "customer", None) if ticket is not None else None
    if known is not None:
        names[known.pk] = known.name
    wanted = {v for v in customers if isinstance(v, int) and v not in names}
    if wanted:
        names.update(Customer.objects.filter(pk__in=wanted).values_list("pk", "name"))
    lines = []
    for key, old, new in pairs:
        before, after = _shown(key, old, names), _shown(key, new, names)
        if before == after or (created and (not after or new is False)):
            continue
        lines.append(
            ChangeLine(
                field=key,
                label=str(field_label(key)),
                before=before or "—",
                after=after or "—",
                initial=created and not before,
            )
        )
    return lines


# --- the caller card of the 受理 page -------------------------------------------------------------


def intake_card(customer: Customer, user: Any) -> dict[str, Any]:
    """What the agent needs about a caller while opening a work order: tier, tags, phones,
    account numbers (户号), open work orders, the last contacts, and the values that fill the
    form (phone as it is written, the supply or home address, the first account number)."""
    from kefu.customers.models import ContactPoint
    from kefu.customers.selectors import customer_history

    tags = [t.name for t in customer.tags.all()]
    phones = [
        display_phone(c.normalized)
        for c in customer.contacts.filter(kind=ContactPoint.Kind.PHONE).order_by(
            "-is_primary", "id"
        )
    ]
    accounts = list(customer.accounts.order_by("number"))
    visible = visible_tickets(user).filter(customer=customer, is_open=True)
    open_orders = list(visible.select_related("ticket_type").order_by("-created_at")[:5])
    address = next((a.address for a in accounts if a.address), "") or customer.address
    return {
        "customer": customer,
        "tags": tags,
        "phones": phones,
        "accounts": accounts,
        "open_orders": open_orders,
        "open_count": visible.count() if len(open_orders) == 5 else len(open_orders),
        "contacts": customer_history(customer, user, limit=5),
        "fill": {
            "name": customer.name,
            "phone": phones[0] if phones else "",
            "address": address,
            "account": accounts[0].number if accounts else "",
        },
    }
