"""Where contact history comes from: work orders, and calls from the hotline's call log.

A source is a function ``(since, until, channels) -> list of aware arrival datetimes`` for the
channels it covers. A dedicated source (the call log covers "phone") takes precedence over work
orders for its channels once it holds any contact in the window, so a call that also became a
work order is counted once. Other apps add theirs with :func:`register_source`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np
from django.apps import apps
from django.conf import settings

Fetch = Callable[[dt.datetime, dt.datetime, frozenset[str] | None], list[dt.datetime]]


@dataclass(frozen=True)
class Source:
    fetch: Fetch
    channels: frozenset[str] | None  # None: every channel (the fallback)


SOURCES: dict[str, Source] = {}


def register_source(name: str, fetch: Fetch, channels: frozenset[str] | None = None) -> None:
    SOURCES[name] = Source(fetch, channels)


def _tickets(
    since: dt.datetime, until: dt.datetime, channels: frozenset[str] | None
) -> list[dt.datetime]:
    """Work orders by the time they were created (受理)."""
    from kefu.tickets.models import Ticket

    rows = Ticket.objects.filter(created_at__gte=since, created_at__lt=until)
    if channels is not None:
        rows = rows.filter(channel__in=channels)
    return list(rows.values_list("created_at", flat=True))


def _calls(
    since: dt.datetime, until: dt.datetime, channels: frozenset[str] | None
) -> list[dt.datetime]:
    """Calls that reached the queue, by the time they entered it."""
    if not apps.is_installed("kefu.calls"):
        return []
    from kefu.calls.models import Call

    rows = Call.objects.filter(offered_at__gte=since, offered_at__lt=until)
    return [at for at in rows.values_list("offered_at", flat=True) if at is not None]


register_source("tickets", _tickets)
register_source("calls", _calls, frozenset({"phone"}))


def zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def local_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=zone())


def arrivals(since: dt.datetime, until: dt.datetime, channel: str) -> list[dt.datetime]:
    """Every arrival of ``channel`` ("all" for every channel) in [since, until)."""
    from kefu.core.choices import Channel

    wanted = frozenset(Channel.values) if channel == "all" else frozenset({channel})
    out: list[dt.datetime] = []
    covered: set[str] = set()
    for source in SOURCES.values():
        if source.channels is None or not (source.channels & wanted):
            continue
        found = source.fetch(since, until, source.channels & wanted)
        if found:
            out.extend(found)
            covered |= source.channels & wanted
    rest = wanted - covered
    for source in SOURCES.values():
        if source.channels is None and rest:
            out.extend(source.fetch(since, until, None if channel == "all" and not covered
                                    else frozenset(rest)))  # fmt: skip
    return out


def counts(first_day: dt.date, days: int, interval_minutes: int, channel: str) -> np.ndarray:
    """Arrivals per interval over whole local days."""
    since = local_midnight(first_day)
    until = local_midnight(first_day + dt.timedelta(days=days))
    spd = 1440 // interval_minutes
    out = np.zeros(days * spd)
    for at in arrivals(since, until, channel):
        local = at.astimezone(zone())
        d = (local.date() - first_day).days
        if 0 <= d < days:
            out[d * spd + (local.hour * 60 + local.minute) // interval_minutes] += 1
    return out


@dataclass(frozen=True)
class CallStats:
    handle_times: list[float]  # talk + hold + after-call work of answered calls, seconds
    mean_patience: float | None  # exponential MLE: total queue wait / abandoned calls


def call_stats(since: dt.datetime, until: dt.datetime, limit: int = 20_000) -> CallStats | None:
    """Handle times and patience from the call log, or None without calls."""
    if not apps.is_installed("kefu.calls"):
        return None
    from django.db.models import Count, Q, Sum

    from kefu.calls.models import Call, Outcome

    window = Call.objects.filter(offered_at__gte=since, offered_at__lt=until)
    handles = [
        float(t + h + a)
        for t, h, a in window.filter(outcome=Outcome.ANSWERED, talk_s__gt=0)
        .order_by("-offered_at")
        .values_list("talk_s", "hold_s", "acw_s")[:limit]
    ]
    if not handles:
        return None
    totals = window.aggregate(
        waited=Sum("wait_s"), abandoned=Count("pk", filter=Q(outcome=Outcome.ABANDONED))
    )
    patience = None
    if totals["abandoned"]:
        patience = float(totals["waited"] or 0) / totals["abandoned"]
    return CallStats(handles, patience)
