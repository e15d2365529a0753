"""Background work: solving a roster takes seconds to a minute, so it runs after the request."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="kefu.wfm.solve_roster")
def solve_roster_task(roster_id: int) -> None:
    from kefu.wfm.models import Roster
    from kefu.wfm.services import solve_roster

    if Roster.objects.filter(pk=roster_id, status=Roster.Status.DRAFT).exists():
        solve_roster(roster_id)
