"""Read queries of field service: an engineer's day, a work order's field records, stock and
the low-stock list with reorder suggestions."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet, Sum
from django.utils import timezone

from kefu.field import reorder
from kefu.field.access import visible_visits
from kefu.field.models import (
    Asset,
    Deadline,
    Movement,
    RemoteSession,
    Reservation,
    Stock,
    Visit,
)

USE_PERIOD_DAYS = 90


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    zone = timezone.get_current_timezone()
    start = dt.datetime.combine(day, dt.time.min, tzinfo=zone)
    return start, start + dt.timedelta(days=1)


def my_visits(user: Any, day: dt.date) -> list[Visit]:
    """The engineer's visits of the day, plus any still open from earlier days (an engineer
    who did not check out yesterday sees that first)."""
    start, end = day_bounds(day)
    active = [Visit.State.SCHEDULED, Visit.State.EN_ROUTE, Visit.State.ON_SITE]
    return list(
        Visit.objects.filter(engineer=user)
        .filter(
            Q(window_start__lt=end, window_end__gte=start)
            | Q(state__in=active, window_start__lt=start)
            | Q(state=Visit.State.DONE, departed_at__gte=start)
        )
        .select_related("ticket", "asset")
        .order_by("window_start", "pk")
    )


def visit_list(user: Any, *, state: str = "", day: dt.date | None = None) -> QuerySet[Visit]:
    qs = visible_visits(user).select_related("ticket", "engineer", "asset")
    if state:
        qs = qs.filter(state=state)
    if day is not None:
        start, end = day_bounds(day)
        qs = qs.filter(window_start__lt=end, window_end__gte=start)
    return qs.order_by("-window_start", "-pk")


@dataclass
class TicketField:
    visits: list[Visit]
    sessions: list[RemoteSession]
    reservations: list[Reservation]
    deadlines: list[Deadline]
    assets: list[Asset]
    used: list[Movement]


def ticket_field(ticket: Any) -> TicketField:
    return TicketField(
        visits=list(
            Visit.objects.filter(ticket=ticket).select_related("engineer").order_by("-pk")[:20]
        ),
        sessions=list(
            RemoteSession.objects.filter(ticket=ticket)
            .select_related("engineer")
            .order_by("-pk")[:20]
        ),
        reservations=list(
            Reservation.objects.filter(ticket=ticket)
            .select_related("part", "location")
            .order_by("-pk")[:50]
        ),
        deadlines=list(
            Deadline.objects.filter(ticket=ticket)
            .select_related("service_level")
            .order_by("due_at")
        ),
        assets=list(
            Asset.objects.filter(customer_id=ticket.customer_id, is_active=True)
            .select_related("service_level")
            .order_by("product", "serial")[:30]
        )
        if ticket.customer_id
        else [],
        used=list(
            Movement.objects.filter(
                ticket=ticket, kind=Movement.Kind.CONSUME, reservation__isnull=True
            )
            .select_related("part", "location")
            .order_by("-pk")[:50]
        ),
    )


@dataclass
class LowStock:
    stock: Stock
    suggestion: reorder.Suggestion


def used_in_period(today: dt.date, days: int = USE_PERIOD_DAYS) -> dict[tuple[int, int], int]:
    start, _end = day_bounds(today - dt.timedelta(days=days))
    rows = (
        Movement.objects.filter(kind=Movement.Kind.CONSUME, at__gte=start)
        .values("part_id", "location_id")
        .annotate(total=Sum("qty"))
    )
    return {(r["part_id"], r["location_id"]): r["total"] or 0 for r in rows}


def suggestion_for(stock: Stock, used: dict[tuple[int, int], int], today: dt.date) -> Any:
    return reorder.suggest(
        available=stock.available,
        min_qty=stock.min_qty,
        lead_time_days=stock.part.lead_time_days,
        used=used.get((stock.part_id, stock.location_id), 0),
        period_days=USE_PERIOD_DAYS,
        today=today,
    )


def low_stock(today: dt.date | None = None) -> list[LowStock]:
    """Stock rows whose available quantity is under their minimum, most short first."""
    from django.db.models import F

    today = today or timezone.localdate()
    rows = list(
        Stock.objects.filter(on_hand__lt=F("min_qty") + F("reserved"), part__is_active=True)
        .select_related("part", "location")
        .order_by("part__code", "location__name")
    )
    used = used_in_period(today)
    found = [LowStock(s, suggestion_for(s, used, today)) for s in rows]
    return sorted(found, key=lambda x: (x.stock.available - x.stock.min_qty, x.stock.part.code))


def low_stock_count() -> int:
    from django.db.models import F

    return Stock.objects.filter(
        on_hand__lt=F("min_qty") + F("reserved"), part__is_active=True
    ).count()
