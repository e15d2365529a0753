"""Work orders on the customer page's contact history."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

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
