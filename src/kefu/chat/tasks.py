"""Chat background jobs."""

from __future__ import annotations

from celery import shared_task

from kefu.core.jobs import periodic


@periodic(2)
@shared_task(name="kefu.chat.sync_assignments")
def sync_assignments_task() -> int:
    """Chats an agent took from the tray become theirs and the customer is told (safe to run
    twice: a chat already taken is left alone)."""
    from kefu.chat.services import sync_assignments

    return sync_assignments()
