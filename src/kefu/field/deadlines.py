"""Contract deadlines of a work order: arrive on site, give a workaround, resolve — within the
working time the asset's service level promises, counted on its business calendar by the SLA
clock from the moment the customer reported the fault (the work order's creation).

Deadlines are computed once, stored in an indexed column and swept each minute; a missed one
is written on the work order's timeline and escalated like an SLA breach (the engineer, the
handler or the team leads, and the supervisors hear about it; a missed arrival also raises the
work order's priority by one).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from kefu.core.notifications import notify
from kefu.field.models import Asset, Deadline, ServiceLevel, Visit
from kefu.sla import calendars, clock
from kefu.tickets.models import Ticket
from kefu.tickets.services.common import record

K = Deadline.Kind


def level_calendar(level: ServiceLevel) -> clock.Calendar:
    if level.calendar_id is None:
        return clock.Calendar.always(str(timezone.get_default_timezone()))
    return calendars.calendar(level.calendar_id)


def targets(level: ServiceLevel) -> dict[str, int]:
    """Seconds of working time per deadline kind."""
    found: dict[str, int] = {
        K.ARRIVAL: level.arrival_minutes * 60,
        K.RESOLUTION: level.resolution_minutes * 60,
    }
    if level.workaround_minutes:
        found[K.WORKAROUND] = level.workaround_minutes * 60
    return found


def due_times(level: ServiceLevel, start: dt.datetime) -> dict[str, dt.datetime]:
    cal = level_calendar(level)
    result = {}
    for kind, seconds in targets(level).items():
        due = clock.add_working_time(cal, start, seconds)
        if due is not None:
            result[kind] = due
    return result


def start_deadlines(*, actor: Any, ticket: Ticket, asset: Asset | None) -> list[Deadline]:
    """Start the contract deadlines of a work order for a covered asset (once per work order;
    must run inside the caller's transaction)."""
    if asset is None:
        return []
    start = ticket.created_at
    level = asset.level_on(timezone.localdate(start))
    if level is None:
        return []
    have = set(Deadline.objects.filter(ticket=ticket).values_list("kind", flat=True))
    rows = [
        Deadline(
            ticket=ticket, kind=kind, service_level=level, asset=asset, started_at=start, due_at=due
        )
        for kind, due in due_times(level, start).items()
        if kind not in have
    ]
    if not rows:
        return []
    Deadline.objects.bulk_create(rows)
    record(
        "field_deadlines_started",
        ticket,
        actor=actor,
        data={
            "service_level": level.name,
            "asset": asset.pk,
            "due": {row.kind: row.due_at.isoformat() for row in rows},
        },
    )
    return rows


def meet(ticket: Ticket, kinds: tuple[str, ...], at: dt.datetime) -> int:
    """Stop the running deadlines of these kinds (met at ``at``, late or not)."""
    return Deadline.objects.filter(ticket=ticket, kind__in=kinds, met_at__isnull=True).update(
        met_at=at
    )


def on_ticket_event(ticket: Ticket, event: Any) -> None:
    """A resolved work order meets its workaround and resolution deadlines."""
    if event.action != "ticket_status_changed":
        return
    status = (event.changes or {}).get("status")
    if status and status[1] in ("resolved", "closed"):
        meet(ticket, (K.WORKAROUND, K.RESOLUTION), event.at)


def _when(value: dt.datetime) -> str:
    return formats.date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT")


def _people(ticket: Ticket) -> list[Any]:
    from kefu.sla.escalations import leads

    people: list[Any] = []
    active = (
        Visit.objects.filter(ticket=ticket)
        .exclude(state__in=[Visit.State.CANCELLED])
        .select_related("engineer")
        .order_by("-pk")
        .first()
    )
    if active is not None:
        people.append(active.engineer)
    if ticket.assignee_id:
        people.append(ticket.assignee)
    else:
        people.extend(leads(ticket.team_id))
    return people


def sweep(now: dt.datetime | None = None, batch: int = 200) -> int:
    """Mark the deadlines that passed as missed, record and escalate each once. Safe to run in
    several workers at once (rows are locked and skipped when another worker holds them)."""
    from kefu.sla.escalations import supervisors

    now = now or timezone.now()
    fired = 0
    while True:
        with transaction.atomic():
            due = list(
                Deadline.objects.select_for_update(skip_locked=True)
                .filter(met_at__isnull=True, breached_at__isnull=True, due_at__lte=now)
                .order_by("due_at", "pk")[:batch]
            )
            for deadline in due:
                _fire(deadline, now, supervisors())
            fired += len(due)
        if len(due) < batch:
            return fired


def _fire(deadline: Deadline, now: dt.datetime, bosses: list[Any]) -> None:
    ticket = Ticket.objects.select_related("assignee").get(pk=deadline.ticket_id)
    deadline.breached_at = now
    deadline.save(update_fields=["breached_at"])
    record(
        "field_deadline_missed",
        ticket,
        actor=None,
        data={
            "kind": deadline.kind,
            "due_at": deadline.due_at.isoformat(),
            "service_level": deadline.service_level_id,
        },
    )
    kind = Deadline.Kind(deadline.kind).label
    title = _("Contract deadline missed: %(n)s %(k)s") % {"n": ticket.number, "k": kind}
    body = _("%(t)s — due %(d)s.") % {"t": ticket.title, "d": _when(deadline.due_at)}
    url = reverse("tickets:detail", args=[ticket.number])
    notify(_people(ticket), kind="field_deadline_missed", title=title, body=body, url=url)
    notify(bosses, kind="field_deadline_missed", title=title, body=body, url=url, email=True)
    if deadline.kind == K.ARRIVAL and ticket.is_open and ticket.priority > 1:
        # nobody on site in time: the work order moves up the queue, as an SLA escalation does
        from kefu.tickets.services import update_ticket

        update_ticket(actor=None, ticket=ticket, changes={"priority": ticket.priority - 1})
