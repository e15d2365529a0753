"""Demo SLA history: the clocks of the demo's work orders, replayed from their timelines, with
the warnings and breaches the sweep would have fired and some reasons for missed deadlines."""

from __future__ import annotations

from django.utils import timezone

from kefu.core.demo import DemoContext, seeder
from kefu.core.models import Event
from kefu.sla.models import SlaAlert, SlaClock
from kefu.sla.services import BREACH, apply_event, level_time, next_alert, refresh_ticket
from kefu.tickets.models import Ticket

REASONS = [
    "客户电话多次无法接通",
    "需责任部门现场核实，等待答复",
    "当日来电量激增，人手不足",
    "抢修车辆途中遇道路施工绕行",
    "系统故障导致工单未及时派发",
]


@seeder(40)
def seed_sla(ctx: DemoContext) -> None:
    rng = ctx.rng
    done = set(SlaClock.objects.values_list("ticket_id", flat=True))
    tickets = {t.pk: t for t in Ticket.objects.select_related("customer").exclude(pk__in=done)}
    events: dict[int, list[Event]] = {}
    for event in Event.objects.filter(object_type="ticket", object_id__in=list(tickets)).order_by(
        "at", "id"
    ):
        events.setdefault(event.object_id, []).append(event)
    for ticket_id, history in events.items():
        ticket = tickets[ticket_id]
        clocks: list[SlaClock] = []
        for event in history:
            clocks = apply_event(ticket, event, clocks)
        refresh_ticket(ticket, clocks)
    _fire_what_the_sweep_would_have(ctx)
    breached = list(SlaClock.objects.filter(breached_at__isnull=False, breach_reason=""))
    for clock in breached:
        if rng.random() < 0.6:
            clock.breach_reason = rng.choice(REASONS)
    SlaClock.objects.bulk_update(breached, ["breach_reason"])


def _fire_what_the_sweep_would_have(ctx: DemoContext) -> None:
    """Running clocks whose warnings or deadline have passed: mark them fired (without the
    notifications, which belong to the live sweep)."""
    now = timezone.now()
    alerts = []
    touched = set()
    for clock in SlaClock.objects.filter(state=SlaClock.State.RUNNING, next_alert_at__lte=now):
        for level in sorted({*(int(x) for x in clock.warn_at), BREACH}):
            when = level_time(clock, level)
            if level not in clock.fired and when is not None and when <= now:
                clock.fired = [*clock.fired, level]
                alerts.append(SlaAlert(clock=clock, level=level, at=when))
                if level == BREACH:
                    clock.breached_at = clock.due_at
        clock.next_alert_at = next_alert(clock)
        clock.save(update_fields=["fired", "breached_at", "next_alert_at"])
        touched.add(clock.ticket_id)
    SlaAlert.objects.bulk_create(alerts, ignore_conflicts=True)
    for ticket in Ticket.objects.filter(pk__in=touched):
        refresh_ticket(ticket, SlaClock.objects.filter(ticket=ticket).exclude(state="cancelled"))
