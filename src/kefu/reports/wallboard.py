"""The wall board (大屏): one snapshot of the centre and its queues, shared by every viewer.

:func:`current_snapshot` computes the snapshot at most once a second (the cache holds it, and a
short lock keeps two viewers from computing it at once); the sockets of
:mod:`kefu.reports.consumers` poll it twice a second and push it when it changed, so a change
reaches the wall within two seconds. Figures come from :mod:`metrics` like everywhere else:
"today" is the scope from local midnight.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from typing import Any

from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.reports import facts as F
from kefu.reports.metrics import METRICS, Facts, format_value, level, values
from kefu.reports.models import AlertThreshold

CACHE_KEY = "reports:wallboard"
LOCK_KEY = "reports:wallboard:lock"
MAX_AGE_S = 1.0

TILES = [
    "waiting_now", "longest_wait_now_s", "agents_available", "agents_busy", "agents_after_call",
    "agents_break", "service_level", "calls_answered", "calls_abandoned", "abandon_rate",
    "asa_s", "tickets_created", "sla_due_soon", "sla_overdue", "sensitive_open", "csat",
    "chats_waiting_now", "chat_longest_wait_now_s", "chats_active_now", "chats_served",
    "chat_wait_avg_s",
]  # fmt: skip
QUEUE_FIGURES = ["waiting_now", "longest_wait_now_s"]

DEFAULT_THRESHOLDS: dict[str, tuple[float, float]] = {
    "waiting_now": (10, 20),
    "longest_wait_now_s": (60, 180),
    "agents_available": (2, 0),
    "agents_break": (5, 10),
    "service_level": (80, 70),
    "calls_abandoned": (50, 100),
    "abandon_rate": (5, 10),
    "asa_s": (20, 40),
    "sla_due_soon": (5, 15),
    "sla_overdue": (1, 5),
    "sensitive_open": (1, 3),
    "csat": (85, 75),
    "chats_waiting_now": (5, 10),
    "chat_longest_wait_now_s": (60, 180),
}


def thresholds() -> dict[tuple[str, int | None], tuple[float, float]]:
    """``(metric, queue id or None) -> (warn, alarm)``: the defaults, then the stored ones."""
    out: dict[tuple[str, int | None], tuple[float, float]] = {
        (m, None): t for m, t in DEFAULT_THRESHOLDS.items()
    }
    for row in AlertThreshold.objects.all():
        out[(row.metric, row.queue_id)] = (row.warn, row.alarm)
    return out


def _tile(metric_id: str, value: Any, limits: tuple[float, float] | None) -> dict[str, Any]:
    metric = METRICS[metric_id]
    state = level(value, *limits, metric.better) if limits and metric.better else "ok"
    return {
        "id": metric_id,
        "label": _(metric.label),
        "value": value,
        "text": format_value(value, metric.unit),
        "level": state,
    }


def compute_snapshot(now: dt.datetime | None = None) -> dict[str, Any]:
    with F.report_queries():
        return _compute_snapshot(now)


def _compute_snapshot(now: dt.datetime | None) -> dict[str, Any]:
    from kefu.routing.models import Presence, RoutingQueue
    from kefu.routing.selectors import agents_overview
    from kefu.routing.services import waiting_summary

    now = now or timezone.now()
    tz = timezone.get_current_timezone()
    today = timezone.localtime(now, tz).date()
    scope = F.Scope(today, today, tz)
    facts: Facts = F.gather(scope, sources=["tickets", "surveys", "live", "chat", "chat_now"])
    report = F.call_report(scope, per_agent=False)  # the board shows queues, not agents' calls
    if report is not None:
        facts.calls = report.total
    figures = values(facts, TILES)
    limits = thresholds()
    centre = [_tile(m, figures[m], limits.get((m, None))) for m in TILES]

    queues = list(RoutingQueue.objects.filter(active=True))
    waiting = waiting_summary(queues, now)
    queue_rows = []
    for queue in queues:
        w = waiting[queue.pk]
        queue_values = {"waiting_now": w["waiting"], "longest_wait_now_s": w["longest_wait"]}
        queue_rows.append(
            {
                "id": queue.pk,
                "name": queue.name,
                "offered": w["offered"],
                "tiles": [
                    _tile(m, queue_values[m], limits.get((m, queue.pk)) or limits.get((m, None)))
                    for m in QUEUE_FIGURES
                ],
            }
        )
    hotline = []
    for name, kpis in report.by_queue if report is not None else []:
        f = Facts(calls=kpis)
        row = values(
            f, ["calls_offered", "calls_answered", "calls_abandoned", "service_level", "asa_s"]
        )
        hotline.append(
            {
                "name": name,
                "tiles": [_tile(m, v, limits.get((m, None))) for m, v in row.items()],
            }
        )

    agents = []
    breaks: dict[str, int] = {}
    for row in agents_overview():
        if row["state"] == Presence.State.OFFLINE:
            continue
        if row["state"] == Presence.State.BREAK:
            label = str(row["reason_label"] or Presence.State.BREAK.label)
            breaks[label] = breaks.get(label, 0) + 1
        user = row["user"]
        since = row["since"]
        agents.append(
            {
                "id": user.pk,
                "name": user.display_label,
                "no": user.employee_no,
                "state": row["state"],
                "state_label": str(row["state_label"]),
                "reason": str(row["reason_label"]),
                "since": since.isoformat() if since else None,
                "seconds": int((now - since).total_seconds()) if since else None,
                "load": sum(active for active, _cap in row["loads"].values()),
            }
        )
    order = {"break": 0, "after_call": 1, "busy": 2, "available": 3}
    agents.sort(key=lambda a: (order.get(a["state"], 9), -(a["seconds"] or 0)))
    data = {
        "centre": centre,
        "queues": queue_rows,
        "hotline": hotline,
        "agents": agents,
        "breaks": sorted(breaks.items()),
    }
    text = json.dumps(data, sort_keys=True)  # fails loudly on anything a socket cannot send
    digest = hashlib.sha1(text.encode()).hexdigest()[:16]  # noqa: S324 - a change marker
    return {
        **data,
        "version": digest,
        "computed_at": now.isoformat(),
        "computed": time.time(),
        "day": today.isoformat(),
    }


def current_snapshot(max_age: float = MAX_AGE_S) -> dict[str, Any]:
    """The shared snapshot, computed at most once per ``max_age`` seconds."""
    snapshot: dict[str, Any] | None = cache.get(CACHE_KEY)
    if snapshot is not None and time.time() - snapshot["computed"] < max_age:
        return snapshot
    if cache.add(LOCK_KEY, 1, timeout=10):
        try:
            snapshot = compute_snapshot()
            cache.set(CACHE_KEY, snapshot, timeout=60)
        finally:
            cache.delete(LOCK_KEY)
        return snapshot
    if snapshot is not None:
        return snapshot  # another viewer is computing the next one
    return compute_snapshot()
