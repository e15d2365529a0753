"""Report queries: counts straight from the database, figures from :mod:`metrics`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, QuerySet
from django.db.models.functions import TruncDay, TruncMonth, TruncWeek

from kefu.surveys.metrics import Figures, Tally, count_answer, figures
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


SCORES = ("csat_scale", "csat_score", "nps_score")


def _grouped(qs: QuerySet[Any], by: str, at: str) -> tuple[QuerySet[Any], str]:
    """``qs`` with the group key of ``by`` as a value column, and that column's name."""
    if by in TRUNC:
        return qs.annotate(**{by: TRUNC[by](at)}), by
    return qs, GROUPS[by][0]


def report(filters: Filters, by: str = "") -> tuple[Figures, list[tuple[Any, Figures]]]:
    """The figures for everything the filters take, and per group when ``by`` names one.

    One pass over the answers counts each (group, scale, score, NPS) combination — a few
    hundred rows per group — and :func:`metrics.count_answer` folds them into tallies."""
    responses = filters.apply(Response.objects.all(), "answered_at")
    invitations = filters.apply(Invitation.objects.all(), "sent_at")
    total = Tally()
    tallies: dict[Any, Tally] = {}
    if by in GROUPS:
        answers, key = _grouped(responses, by, "answered_at")
        for row in answers.values(key, *SCORES).annotate(n=Count("pk")).order_by():
            group = tallies.setdefault(row[key], Tally())
            args = (row["csat_scale"], row["csat_score"], row["nps_score"], row["n"])
            count_answer(group, *args)
            count_answer(total, *args)
        sent, key = _grouped(invitations, by, "sent_at")
        for row in sent.values(key).annotate(n=Count("pk")).order_by():
            tallies.setdefault(row[key], Tally()).sent = row["n"]
            total.sent += row["n"]
    else:
        for row in responses.values(*SCORES).annotate(n=Count("pk")).order_by():
            count_answer(total, row["csat_scale"], row["csat_score"], row["nps_score"], row["n"])
        total.sent = invitations.count()
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
