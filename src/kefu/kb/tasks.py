"""Knowledge-base jobs: the daily review-by reminders."""

from __future__ import annotations

from celery import shared_task

from kefu.core.jobs import periodic


@periodic(3600)
@shared_task(name="kefu.kb.remind_reviews")
def remind_reviews_task() -> int:
    """Remind owners of articles whose review-by date has come (each reminder once)."""
    from kefu.kb.services import remind_reviews

    return remind_reviews()
