"""What surveys do when a work order changes (registered with ``register_ticket_hook``)."""

from __future__ import annotations

from typing import Any

from kefu.surveys import followups, services
from kefu.surveys.models import Trigger


def on_ticket_change(ticket: Any, event: Any) -> None:
    """Runs inside the work order's transaction after every recorded change."""
    if event.action != "ticket_status_changed":
        return
    move = (event.data or {}).get("move")
    if move in ("resolve", "close"):
        services.close_loops_for(ticket, event.actor)
    if move != "resolve" or not ticket.customer_id:
        return
    plan = followups.plan_for(ticket)
    if plan is not None:
        followups.create_task(ticket, plan)
        return  # the follow-up call carries the survey: no second one by link
    services.survey_after(
        Trigger.TICKET_RESOLVED,
        customer=ticket.customer,
        channel=ticket.channel,
        ticket=ticket,
        agent=ticket.assignee,
        team=ticket.team,
    )
