"""Background jobs of monitoring and reports (ids in, safe to run twice)."""

from __future__ import annotations

from celery import shared_task

from kefu.core.jobs import periodic


@shared_task(name="kefu.reports.produce_run")
def produce_run_task(run_id: int) -> None:
    """Make, archive and mail one report run."""
    from kefu.reports.services import produce_run

    produce_run(run_id)


@periodic(15 * 60)
@shared_task(name="kefu.reports.generate_due")
def generate_due_task() -> int:
    """Generate the periodic reports whose period has just ended (once per period)."""
    from kefu.reports.services import generate_due

    return len(generate_due())
