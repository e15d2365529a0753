"""What happens when an SLA clock reaches a warning level or its deadline.

Every alert is written on the work order's timeline (``sla_warning`` / ``sla_breached``, which
webhooks can subscribe to as ``sla.warning`` / ``sla.breached``). Then the escalations the
policy's target defines for that level run, as Kefu itself (no user): tell the assignee, the
team lead or the supervisors, raise the priority, hand the work order to another team, mark it
sensitive, or call a chosen webhook with an ``sla.escalated`` event.
"""

from __future__ import annotations

import logging
from typing import Any

from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from kefu.accounts.models import Membership, Team, User
from kefu.core.notifications import notify
from kefu.core.permissions import Role
from kefu.sla.models import Escalation, Metric, SlaClock
from kefu.sla.policies import by_id
from kefu.sla.services import BREACH
from kefu.tickets.models import Ticket, Webhook
from kefu.tickets.services.common import record

log = logging.getLogger(__name__)
A = Escalation.Action


def _when(value: Any) -> str:
    return formats.date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT") if value else ""


def _text(ticket: Ticket, c: SlaClock, level: int) -> tuple[str, str]:
    metric = Metric(c.metric).label
    if level >= BREACH:
        title = _("SLA breached: %(n)s %(m)s") % {"n": ticket.number, "m": metric}
        body = _("%(t)s — the deadline was %(d)s.") % {"t": ticket.title, "d": _when(c.due_at)}
    else:
        title = _("SLA %(l)d%%: %(n)s %(m)s") % {"l": level, "n": ticket.number, "m": metric}
        body = _("%(t)s — due %(d)s.") % {"t": ticket.title, "d": _when(c.due_at)}
    return title, body


def leads(team_id: int | None) -> list[User]:
    if team_id is None:
        return []
    return [
        m.user
        for m in Membership.objects.filter(team_id=team_id, is_lead=True, user__is_active=True)
        .select_related("user")
        .order_by("user_id")
    ]


def supervisors() -> list[User]:
    return list(User.objects.filter(role=Role.SUPERVISOR, is_active=True).order_by("pk"))


def alert(ticket: Ticket, c: SlaClock, level: int) -> None:
    """Write the alert on the timeline and run the escalations configured for this level."""
    policy = by_id(c.policy_id)
    action = "sla_breached" if level >= BREACH else "sla_warning"
    event = record(
        action,
        ticket,
        actor=None,
        data={
            "metric": c.metric,
            "level": level,
            "due_at": c.due_at.isoformat() if c.due_at else None,
            "policy": policy.name if policy else "",
            "clock": c.pk,
        },
    )
    target = policy.targets.get(c.metric) if policy else None
    steps = [
        (act, team) for lvl, act, team in (target.escalations if target else ()) if lvl == level
    ]
    if not steps and level >= BREACH:
        steps = [(A.NOTIFY_ASSIGNEE, None)]  # a breach is never silent
    title, body = _text(ticket, c, level)
    url = reverse("tickets:detail", args=[ticket.number])
    kind = "sla_breached" if level >= BREACH else "sla_warning"
    for act, team_id in steps:
        if act == A.NOTIFY_ASSIGNEE:
            people = [ticket.assignee] if ticket.assignee else leads(ticket.team_id)
            notify(people, kind=kind, title=title, body=body, url=url)
        elif act == A.NOTIFY_LEAD:
            notify(leads(ticket.team_id), kind=kind, title=title, body=body, url=url)
        elif act == A.NOTIFY_SUPERVISORS:
            notify(supervisors(), kind=kind, title=title, body=body, url=url, email=True)
        elif act == A.RAISE_PRIORITY:
            if ticket.priority > 1 and ticket.is_open:
                from kefu.tickets.services import update_ticket

                update_ticket(actor=None, ticket=ticket, changes={"priority": ticket.priority - 1})
        elif act == A.MARK_SENSITIVE:
            if not ticket.sensitive:
                from kefu.tickets.services import update_ticket

                update_ticket(actor=None, ticket=ticket, changes={"sensitive": True})
        elif act == A.REASSIGN:
            team = Team.objects.filter(pk=team_id, is_active=True).first() if team_id else None
            if team is not None and ticket.is_open and ticket.team_id != team.pk:
                from kefu.tickets.services import assign_ticket

                assign_ticket(
                    actor=None,
                    ticket=ticket,
                    assignee=None,
                    team=team,
                    reason=title,
                    line=2 if team.kind == Team.Kind.SECOND_LINE else None,
                )
        elif act == A.WEBHOOK:
            _call_webhooks(ticket, c, level, event.pk, policy.name if policy else "")


def _call_webhooks(ticket: Ticket, c: SlaClock, level: int, event_id: int, policy: str) -> None:
    from kefu.tickets.services.webhooks import queue_deliveries, ticket_summary

    ids = Escalation.objects.filter(
        target__policy_id=c.policy_id,
        target__metric=c.metric,
        level=level,
        action=A.WEBHOOK,
        webhook__isnull=False,
    ).values_list("webhook_id", flat=True)
    hooks = list(Webhook.objects.filter(pk__in=list(ids), is_active=True))
    if not hooks:
        return
    payload = {
        "id": event_id,
        "type": "sla.escalated",
        "occurred_at": timezone.now().isoformat(),
        "ticket": ticket_summary(ticket),
        "data": {
            "metric": c.metric,
            "level": level,
            "due_at": c.due_at.isoformat() if c.due_at else None,
            "policy": policy,
        },
    }
    queue_deliveries(hooks, "sla.escalated", event_id, payload)
