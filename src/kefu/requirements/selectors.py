"""Read queries of customer requirements: the ranked list, counts and timelines."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet

from kefu.core.models import Event
from kefu.requirements.models import Requirement, Source
from kefu.requirements.states import FINAL


@dataclass
class Filters:
    status: str = ""
    kind: str = ""
    q: str = ""
    open_only: bool = True


def ranked(qs: QuerySet[Requirement], f: Filters) -> QuerySet[Requirement]:
    """Highest priority first, then most customers asking, then newest."""
    if f.status:
        qs = qs.filter(status=f.status)
    elif f.open_only:
        qs = qs.exclude(status__in=FINAL)
    if f.kind:
        qs = qs.filter(kind=f.kind)
    if f.q:
        qs = qs.filter(Q(title__icontains=f.q) | Q(description__icontains=f.q))
    return qs.annotate(
        askers=Count("sources__customer", distinct=True), heard=Count("sources", distinct=True)
    ).order_by(F("score").desc(nulls_last=True), "-askers", "-created_at", "-id")


def counts_by_status(qs: QuerySet[Requirement]) -> dict[str, int]:
    return dict(
        qs.order_by().values_list("status").annotate(n=Count("id")).values_list("status", "n")
    )


def timeline(requirement: Requirement, limit: int = 200) -> list[Event]:
    return list(
        Event.objects.for_object("requirement", requirement.pk)
        .select_related("actor")
        .order_by("-id")[:limit]
    )


def for_ticket(ticket: Any) -> list[Requirement]:
    return list(
        Requirement.objects.filter(sources__ticket=ticket).order_by("-created_at").distinct()[:5]
    )


def panel_rows(ticket: Any, limit: int = 30) -> tuple[list[Requirement], list[Requirement]]:
    """For the ticket page, in one query: the requirements this work order is a source of, and
    those still being worked on that it could join."""
    linked_here = Exists(Source.objects.filter(requirement=OuterRef("pk"), ticket=ticket))
    rows: list[Requirement] = list(
        Requirement.objects.annotate(here=linked_here)
        .filter(Q(here=True) | ~Q(status__in=FINAL))
        .order_by("-here", "-updated_at")[: limit + 5]
    )
    here = {r.pk for r in rows if getattr(r, "here", False)}
    linked = [r for r in rows if r.pk in here][:5]
    return linked, [r for r in rows if r.pk not in here][:limit]


def open_choices(limit: int = 50) -> list[Requirement]:
    """Requirements a new asker may join (still being worked on, or shipped and tracked)."""
    return list(Requirement.objects.exclude(status__in=FINAL).order_by("-updated_at")[:limit])


def sources_of(qs: QuerySet[Source]) -> list[Source]:
    return list(qs.select_related("customer", "ticket", "added_by").order_by("added_at", "id"))
