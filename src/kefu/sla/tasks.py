"""SLA background jobs: the minute sweep, and moving deadlines after a calendar changes."""

from __future__ import annotations

from celery import shared_task

from kefu.core.jobs import periodic


@periodic(60)
@shared_task(name="kefu.sla.sweep")
def sweep_task() -> int:
    """Fire due SLA warnings and breaches (safe to run in several workers at once)."""
    from kefu.sla.sweep import sweep

    return len(sweep())


@shared_task(name="kefu.sla.recompute_calendar")
def recompute_calendar_task(calendar_id: int) -> int:
    from kefu.sla.services import recompute_calendar

    return recompute_calendar(calendar_id)
