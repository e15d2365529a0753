"""Read queries of major incidents: lists, the timeline and the report."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count
from django.db.models.functions import TruncHour
from django.utils import timezone

from kefu.core.choices import Channel
from kefu.core.models import Event
from kefu.incidents.models import ClosingReply, Incident, Link

# Times given for an incident (start, expected end) fall in these years: outside them a date
# is a typing slip, and year 1 or 9999 cannot even be moved between time zones.
MIN_YEAR, MAX_YEAR = 2000, 2100


def year_problem(value: dt.datetime) -> str | None:
    """Why ``value`` is no time for an incident, or None when it is fine."""
    from django.utils.translation import gettext as _

    if MIN_YEAR <= value.year <= MAX_YEAR:
        return None
    return _("Give a time in the years %(a)d to %(b)d.") % {"a": MIN_YEAR, "b": MAX_YEAR}


@dataclass
class Report:
    linked: int
    customers: int
    by_channel: list[tuple[str, str, int]]  # (code, label, count)
    by_how: list[tuple[str, str, int]]
    by_hour: list[tuple[dt.datetime, int]]
    duration_s: int | None
    replies: dict[str, int] = field(default_factory=dict)
    open_linked: int = 0
    updates: int = 0


def report(incident: Incident) -> Report:
    """Counts over every linked contact (whoever asks sees the same totals)."""
    from kefu.incidents.services import open_linked_tickets

    links = Link.objects.filter(incident=incident)
    by_channel_raw = dict(
        links.order_by().values_list("channel").annotate(n=Count("id")).values_list("channel", "n")
    )
    labels = dict(Channel.choices)
    by_channel = sorted(
        ((code, str(labels.get(code, code)), n) for code, n in by_channel_raw.items()),
        key=lambda row: -row[2],
    )
    how_labels = dict(Link.How.choices)
    by_how = [
        (code, str(how_labels.get(code, code)), n)
        for code, n in links.order_by().values_list("how").annotate(n=Count("id"))
    ]
    zone = ZoneInfo(settings.TIME_ZONE)
    by_hour = [
        (hour, n)
        for hour, n in links.order_by()
        .annotate(hour=TruncHour("linked_at", tzinfo=zone))
        .values_list("hour")
        .annotate(n=Count("id"))
        .order_by("hour")
    ]
    end = incident.resolved_at or (None if incident.is_active else incident.closed_at)
    duration = int(((end or timezone.now()) - incident.started_at).total_seconds())
    replies = dict(
        ClosingReply.objects.filter(incident=incident)
        .order_by()
        .values_list("state")
        .annotate(n=Count("id"))
        .values_list("state", "n")
    )
    return Report(
        linked=sum(by_channel_raw.values()),
        customers=links.exclude(customer__isnull=True).values("customer_id").distinct().count(),
        by_channel=by_channel,
        by_how=by_how,
        by_hour=by_hour,
        duration_s=max(duration, 0),
        replies=replies,
        open_linked=open_linked_tickets(incident).count(),
        updates=incident.updates.count(),
    )


def timeline(incident: Incident, limit: int = 200) -> list[Event]:
    """The incident's events, newest first (declaration, updates, links, answers, closing)."""
    return list(
        Event.objects.for_object("incident", incident.pk)
        .select_related("actor")
        .order_by("-id")[:limit]
    )


def incidents_for_ticket(ticket: Any) -> list[Incident]:
    return list(
        Incident.objects.filter(links__ticket=ticket).order_by("-declared_at").distinct()[:5]
    )


def active_for_linking() -> list[Incident]:
    from kefu.incidents.models import ACTIVE_STATES, Status

    return list(
        Incident.objects.filter(status__in=[*ACTIVE_STATES, Status.RESOLVED]).order_by(
            "-declared_at"
        )[:20]
    )


def duration_label(seconds: int | None) -> str:
    if seconds is None:
        return "—"
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}"
