"""Field-service background jobs: the minute sweep of contract deadlines."""

from __future__ import annotations

from celery import shared_task

from kefu.core.jobs import periodic


@periodic(60)
@shared_task(name="kefu.field.sweep_deadlines")
def sweep_deadlines_task() -> int:
    """Mark missed contract deadlines and escalate them (safe to run in several workers)."""
    from kefu.field.deadlines import sweep

    return sweep()
