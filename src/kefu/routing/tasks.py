"""Routing background jobs: dispatch after a change, and the periodic tick."""

from __future__ import annotations

from celery import shared_task

from kefu.core.jobs import periodic


@shared_task(name="kefu.routing.dispatch")
def dispatch_task(queue_id: int | None = None) -> int:
    from kefu.routing.services import dispatch

    return len(dispatch(queue_id))


@periodic(5)
@shared_task(name="kefu.routing.tick")
def tick_task() -> int:
    """Expire unanswered offers, end after-call work, overflow long waits, dispatch."""
    from kefu.routing.services import tick

    return len(tick())
