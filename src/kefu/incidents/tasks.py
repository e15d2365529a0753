"""Background jobs of major incidents."""

from __future__ import annotations

from celery import shared_task

from kefu.incidents import services


@shared_task(name="kefu.incidents.close_linked")
def close_linked_task(incident_id: int) -> dict[str, int]:
    """Reply once to every linked open work order and resolve it (safe to run twice)."""
    result = services.run_closing(incident_id)
    return {"sent": result.sent, "skipped": result.skipped, "failed": result.failed}
