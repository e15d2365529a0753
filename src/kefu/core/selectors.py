"""Read queries for the audit log."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import QuerySet

from kefu.core.models import Event
from kefu.core.pagination import SortKey

EVENT_SORT = {"id": SortKey("id", "int")}


@dataclass
class EventFilters:
    actor: int | None = None
    action: str | None = None
    object_type: str | None = None
    object_id: int | None = None
    source: str | None = None
    after: dt.datetime | None = None
    before: dt.datetime | None = None


def filter_events(filters: EventFilters) -> QuerySet[Event]:
    qs = Event.objects.all()
    if filters.actor:
        qs = qs.filter(actor_id=filters.actor)
    if filters.action:
        qs = qs.filter(action=filters.action)
    if filters.object_type:
        qs = qs.filter(object_type=filters.object_type)
    if filters.object_id is not None:
        qs = qs.filter(object_id=filters.object_id)
    if filters.source:
        qs = qs.filter(source=filters.source)
    if filters.after:
        qs = qs.filter(at__gte=filters.after)
    if filters.before:
        qs = qs.filter(at__lt=filters.before)
    return qs


def event_actions() -> list[str]:
    return list(Event.objects.order_by().values_list("action", flat=True).distinct()[:500])


def event_object_types() -> list[str]:
    return list(Event.objects.order_by().values_list("object_type", flat=True).distinct()[:100])
