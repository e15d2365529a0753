"""Background jobs of major incidents."""

from __future__ import annotations

from celery import shared_task

from kefu.incidents import services


@shared_task(name="kefu.incidents.close_linked")
def close_linked_task(incident_id: int, part: int = 0, parts: int = 1) -> dict[str, int]:
    """Reply once to every linked open work order of one part and resolve it (safe to run
    twice; the part that finds nothing left marks the incident finished)."""
    result = services.run_closing(incident_id, part, parts)
    return {"sent": result.sent, "skipped": result.skipped, "failed": result.failed}
