"""Search jobs: catching up with bulk changes, and refreshing ranking statistics."""

from __future__ import annotations

from celery import shared_task

from kefu.core.jobs import periodic


@periodic(60)
@shared_task(name="kefu.search.catch_up")
def catch_up_task() -> int:
    """Index records changed by updates that bypassed the save signals."""
    from kefu.search.services import catch_up

    return catch_up()


@periodic(6 * 3600)
@shared_task(name="kefu.search.refresh_stats")
def refresh_stats_task() -> int:
    """Recount how many documents hold each word (ranking weights)."""
    from kefu.search.backends import get_backend

    return get_backend().refresh_stats()


@shared_task(name="kefu.search.reindex_words")
def reindex_words_task(words: list[str]) -> int:
    """Re-index the records holding newly learnt synonym words."""
    from kefu.search.services import reindex_containing

    return reindex_containing(words)
