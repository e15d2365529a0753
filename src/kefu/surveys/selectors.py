"""Report queries: counts straight from the database, figures from :mod:`metrics`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDay, TruncMonth, TruncWeek

from kefu.surveys.metrics import SATISFIED_FROM, Figures, Tally, figures
from kefu.surveys.models import Invitation, Response

GROUPS = {
    "agent": ("agent_id", "agent__display_name"),
    "team": ("team_id", "team__name"),
    "type": ("ticket_type_id", "ticket_type__name"),
    "channel": ("channel", None),
    "day": ("day", None),
    "week": ("week", None),
    "month": ("month", None),
}
TRUNC = {"day": TruncDay, "week": TruncWeek, "month": TruncMonth}


@dataclass(frozen=True)
class Filters:
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    agent_id: int | None = None
    team_id: int | None = None
    ticket_type_id: int | None = None
    channel: str = ""
    q: str = ""

    def apply(self, qs: QuerySet[Any], at: str) -> QuerySet[Any]:
        if self.start:
            qs = qs.filter(**{f"{at}__gte": self.start})
        if self.end:
            qs = qs.filter(**{f"{at}__lt": self.end})
        if self.agent_id:
            qs = qs.filter(agent_id=self.agent_id)
        if self.team_id:
            qs = qs.filter(team_id=self.team_id)
        if self.ticket_type_id:
            qs = qs.filter(ticket_type_id=self.ticket_type_id)
        if self.channel:
            qs = qs.filter(channel=self.channel)
        return qs


def _counts() -> dict[str, Any]:
    sat = Q(csat_scale="level4", csat_score__gte=SATISFIED_FROM["level4"]) | Q(
        csat_scale="stars", csat_score__gte=SATISFIED_FROM["stars"]
    )
    return {
        "answered": Count("id"),
        "csat_answers": Count("id", filter=Q(csat_score__isnull=False) & ~Q(csat_scale="")),
        "csat_satisfied": Count("id", filter=sat),
        "nps_answers": Count("id", filter=Q(nps_score__isnull=False)),
        "promoters": Count("id", filter=Q(nps_score__gte=9)),
        "detractors": Count("id", filter=Q(nps_score__lte=6)),
    }


def _grouped(qs: QuerySet[Any], by: str, at: str) -> QuerySet[Any]:
    grouped: QuerySet[Any]
    if by in TRUNC:
        grouped = qs.annotate(**{by: TRUNC[by](at)}).values(by)
    else:
        grouped = qs.values(GROUPS[by][0])
    return grouped


def report(filters: Filters, by: str = "") -> tuple[Figures, list[tuple[Any, Figures]]]:
    """The figures for everything the filters take, and per group when ``by`` names one."""
    responses = filters.apply(Response.objects.all(), "answered_at")
    invitations = filters.apply(Invitation.objects.all(), "sent_at")
    total = Tally(sent=invitations.count(), **responses.aggregate(**_counts()))
    for row in responses.values("csat_scale", "csat_score").annotate(n=Count("id")):
        if row["csat_scale"] and row["csat_score"] is not None:
            total.distribution.setdefault(row["csat_scale"], {})[row["csat_score"]] = row["n"]
    rows: list[tuple[Any, Figures]] = []
    if by in GROUPS:
        key = by if by in TRUNC else GROUPS[by][0]
        tallies: dict[Any, Tally] = {}
        for row in _grouped(responses, by, "answered_at").annotate(**_counts()).order_by(key):
            k = row.pop(key)
            tallies[k] = Tally(**row)
        for row in _grouped(invitations, by, "sent_at").annotate(n=Count("id")).order_by(key):
            tallies.setdefault(row[key], Tally()).sent = row["n"]
        scores = _grouped(responses.exclude(csat_scale=""), by, "answered_at")
        for row in scores.values(key, "csat_scale", "csat_score").annotate(n=Count("id")):
            bucket = tallies[row[key]].distribution.setdefault(row["csat_scale"], {})
            bucket[row["csat_score"]] = row["n"]
        rows = [(k, figures(t)) for k, t in sorted(tallies.items(), key=lambda kv: str(kv[0]))]
    return figures(total), rows


def group_labels(by: str, keys: list[Any]) -> dict[Any, str]:
    """Display names for the group keys of a report."""
    from kefu.accounts.models import Team, User
    from kefu.core.choices import Channel
    from kefu.tickets.models import TicketType

    if by == "agent":
        return {u.pk: u.display_label for u in User.objects.filter(pk__in=keys)}
    if by == "team":
        return dict(Team.objects.filter(pk__in=keys).values_list("pk", "name"))
    if by == "type":
        return dict(TicketType.objects.filter(pk__in=keys).values_list("pk", "name"))
    if by == "channel":
        return {k: str(Channel(k).label) if k in Channel.values else k for k in keys}
    return {k: k.strftime("%Y-%m-%d") if hasattr(k, "strftime") else str(k) for k in keys}


def comments(filters: Filters, limit: int = 50) -> list[Response]:
    """Answers with free text, newest first; ``filters.q`` searches the text."""
    qs = filters.apply(Response.objects.exclude(comment=""), "answered_at")
    if filters.q:
        qs = qs.filter(comment__icontains=filters.q)
    return list(
        qs.select_related("customer", "agent", "ticket").order_by("-answered_at", "-pk")[:limit]
    )
