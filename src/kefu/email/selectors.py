"""Read queries of the e-mail screens, each a fixed number of queries."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet

from kefu.email.models import InboundEmail, Mailbox, OutboundEmail

LIST_FIELDS = (
    "id",
    "mailbox__name",
    "state",
    "kind",
    "kind_reason",
    "quarantine_reason",
    "subject",
    "from_address",
    "from_name",
    "size",
    "received_at",
    "ticket_id",
)


def list_mailboxes(queryset: QuerySet[Mailbox]) -> list[Mailbox]:
    return list(
        queryset.select_related("team", "ticket_type")
        .annotate(
            quarantined=Count("inbound", filter=Q(inbound__state=InboundEmail.State.QUARANTINED))
        )
        .order_by("name", "id")
    )


def quarantine_count() -> int:
    return InboundEmail.objects.filter(state=InboundEmail.State.QUARANTINED).count()


def list_inbound(*, state: str, limit: int = 200) -> list[InboundEmail]:
    return list(
        InboundEmail.objects.filter(state=state)
        .select_related("mailbox", "ticket")
        .defer("raw", "text", "visible_text", "folded_text", "html_safe")
        .order_by("-received_at", "-id")[:limit]
    )


def ticket_mail(ticket: Any) -> tuple[list[InboundEmail], list[OutboundEmail]]:
    inbound = list(
        InboundEmail.objects.filter(ticket=ticket)
        .only("id", "subject", "from_address", "kind", "state", "received_at", "ticket_id")
        .order_by("received_at", "id")[:50]
    )
    outbound = list(
        OutboundEmail.objects.filter(ticket=ticket)
        .only("id", "subject", "to_address", "kind", "state", "attempts", "created_at", "ticket_id")
        .order_by("created_at", "id")[:50]
    )
    return inbound, outbound


def customer_mail(customer: Any, tickets: QuerySet[Any]) -> list[InboundEmail]:
    return list(
        InboundEmail.objects.filter(ticket__customer=customer, ticket__in=tickets)
        .only("id", "subject", "from_address", "received_at")
        .order_by("-received_at")[:50]
    )
