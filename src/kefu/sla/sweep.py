"""The sweep: every minute, fire each warning and breach that has come due, exactly once.

Each running clock carries ``next_alert_at``, the moment it next needs attention (its next
warning level, else its deadline). The sweep reads only clocks whose moment has come, through
a partial index on ``next_alert_at`` over running clocks, so its cost depends on how many
alerts are due, not on how many work orders are open. Clocks are claimed with
``FOR UPDATE SKIP LOCKED``: several workers may sweep at the same time and each clock is seen
by one of them; the unique (clock, level) alert row makes firing twice impossible even so.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from kefu.sla.models import SlaAlert, SlaClock
from kefu.sla.services import BREACH, level_time, next_alert, refresh_ticket
from kefu.tickets.models import Ticket

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Fired:
    clock_id: int
    ticket_id: int
    level: int


def _record_alerts(
    pending: list[tuple[SlaClock, int]], now: dt.datetime
) -> list[tuple[SlaClock, int]]:
    """Store the alert rows, all at once; if one already exists (a sweep in another process
    got there first), fall back to one by one and keep only those this sweep stored."""
    if not pending:
        return []
    try:
        with transaction.atomic():
            SlaAlert.objects.bulk_create(
                [SlaAlert(clock=c, level=level, at=now) for c, level in pending]
            )
        return pending
    except IntegrityError:
        stored = []
        for c, level in pending:
            try:
                with transaction.atomic():
                    SlaAlert.objects.create(clock=c, level=level, at=now)
            except IntegrityError:
                log.info("SLA alert %s@%s already fired", c.pk, level)
                continue
            stored.append((c, level))
        return stored


def due_clocks_query(now: dt.datetime, batch: int) -> tuple[str, tuple[object, ...]]:
    """The sweep's claim as SQL and parameters (for EXPLAIN in tests and the benchmark)."""
    query = (
        SlaClock.objects.select_for_update(skip_locked=True)
        .filter(state=SlaClock.State.RUNNING, next_alert_at__lte=now)
        .order_by("next_alert_at")[:batch]
    )
    sql, params = query.query.sql_with_params()
    return sql, tuple(params)


def sweep(now: dt.datetime | None = None, batch: int = 500) -> list[Fired]:
    """Fire what is due (in batches until nothing is left); returns what this call fired."""
    fired: list[Fired] = []
    while True:
        claimed, done = _sweep_batch(now or timezone.now(), batch)
        fired += done
        if claimed < batch:
            return fired


def _sweep_batch(now: dt.datetime, batch: int) -> tuple[int, list[Fired]]:
    from kefu.sla.escalations import alert

    fired: list[Fired] = []
    with transaction.atomic():
        claimed = list(
            SlaClock.objects.select_for_update(skip_locked=True)
            .filter(state=SlaClock.State.RUNNING, next_alert_at__lte=now)
            .order_by("next_alert_at")[:batch]
        )
        if not claimed:
            return 0, []
        pending: list[tuple[SlaClock, int]] = []
        for c in claimed:
            reached = [
                level
                for level in sorted({*(int(x) for x in c.warn_at), BREACH})
                if 0 < level <= BREACH
                and level not in c.fired
                and (when := level_time(c, level)) is not None
                and when <= now
            ]
            pending += [(c, level) for level in reached]
        for c, level in _record_alerts(pending, now):
            c.fired = [*c.fired, level]
            if level == BREACH:
                c.breached_at = c.due_at
            fired.append(Fired(c.pk, c.ticket_id, level))
        for c in claimed:
            c.next_alert_at = next_alert(c)
            if c.next_alert_at is not None and c.next_alert_at <= now:
                # Nothing left to fire yet the moment has passed (e.g. warnings configured
                # after the fact): look again at the deadline, never loop on the same row.
                c.next_alert_at = c.due_at if BREACH not in c.fired else None
        SlaClock.objects.bulk_update(claimed, ["fired", "breached_at", "next_alert_at"])
        by_ticket: dict[int, list[Fired]] = {}
        for item in fired:
            by_ticket.setdefault(item.ticket_id, []).append(item)
        clocks = {c.pk: c for c in claimed}
        for ticket_id, items in by_ticket.items():
            ticket = Ticket.objects.select_related("ticket_type", "team", "assignee").get(
                pk=ticket_id
            )
            for item in items:
                try:
                    with transaction.atomic():
                        alert(ticket, clocks[item.clock_id], item.level)
                except Exception:  # an escalation that cannot run must not stop the others
                    log.exception(
                        "SLA escalation failed for work order %s at %s%%", ticket_id, item.level
                    )
            live = SlaClock.objects.filter(ticket_id=ticket_id).exclude(
                state=SlaClock.State.CANCELLED
            )
            refresh_ticket(ticket, live)
    if fired:
        log.info("SLA sweep fired %d alerts", len(fired))
    return len(claimed), fired
