"""Service-plan jobs: the scheduler, the care runs, care notices and the rectification sweep
(ids in, safe to run twice and in several workers at once)."""

from __future__ import annotations

from celery import shared_task

from kefu.core.jobs import periodic


@periodic(300)
@shared_task(name="kefu.plans.generate")
def generate_task() -> int:
    """Make the rounds every plan owes today, then reach the customers of care rounds."""
    from kefu.plans.services.care import run_care
    from kefu.plans.services.schedule import generate_due

    made = len(generate_due())
    return made + run_care()


@periodic(600)
@shared_task(name="kefu.plans.escalate_rectifications")
def escalate_rectifications_task() -> int:
    """Raise the escalation level of rectifications past their deadline."""
    from kefu.plans.services.rectifications import escalate_overdue

    return len(escalate_overdue())


@shared_task(name="kefu.plans.send_care_notice")
def send_care_notice_task(target_id: int) -> str:
    from kefu.plans.services.care import send_notice

    return send_notice(target_id)


@periodic(300)
@shared_task(name="kefu.plans.sweep_care_notices")
def sweep_care_notices_task() -> int:
    """Queue again care notices whose job was lost; mark those a stopped worker held as unknown."""
    from kefu.plans.services.care import sweep_notices

    queued, lost = sweep_notices()
    return queued + lost
