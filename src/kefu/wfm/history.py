"""Where contact history comes from: work orders now, calls and chats as their apps land.

A source is a function ``(since, until, channel) -> list of aware arrival datetimes``; apps add
theirs with :func:`register_source` (the calls app registers its call log). "all" asks every
channel.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from zoneinfo import ZoneInfo

import numpy as np
from django.conf import settings

Source = Callable[[dt.datetime, dt.datetime, str], list[dt.datetime]]
SOURCES: dict[str, Source] = {}


def register_source(name: str, source: Source) -> None:
    SOURCES[name] = source


def tickets_source(since: dt.datetime, until: dt.datetime, channel: str) -> list[dt.datetime]:
    """Work orders by the time they were created (受理)."""
    from kefu.tickets.models import Ticket

    rows = Ticket.objects.filter(created_at__gte=since, created_at__lt=until)
    if channel != "all":
        rows = rows.filter(channel=channel)
    return list(rows.values_list("created_at", flat=True))


register_source("tickets", tickets_source)


def zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def local_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=zone())


def counts(first_day: dt.date, days: int, interval_minutes: int, channel: str) -> np.ndarray:
    """Arrivals per interval over whole local days, from every registered source."""
    since = local_midnight(first_day)
    until = local_midnight(first_day + dt.timedelta(days=days))
    spd = 1440 // interval_minutes
    out = np.zeros(days * spd)
    for source in SOURCES.values():
        for at in source(since, until, channel):
            local = at.astimezone(zone())
            d = (local.date() - first_day).days
            if 0 <= d < days:
                out[d * spd + (local.hour * 60 + local.minute) // interval_minutes] += 1
    return out
