"""What the SLA app adds when Kefu starts: the ticket hook, the transfer deadline, permissions,
navigation, timeline labels, webhook event types, and cache clearing on configuration change."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from kefu.core.permissions import SCOPES, Perm, Role
from kefu.core.permissions import register as register_perm

ACTION_LABELS = {
    "sla_warning": _("SLA warning"),
    "sla_breached": _("SLA deadline passed"),
    "ticket_remote_started": _("started remote support"),
    "ticket_onsite_arrived": _("arrived on site"),
}


def register() -> None:
    from kefu.core.interactions import register_ticket_panel
    from kefu.core.labels import register_event_summaries, register_labels
    from kefu.core.navigation import NavItem, register_nav
    from kefu.sla.badges import ticket_badge, ticket_panel
    from kefu.sla.services import on_ticket_event, on_ticket_events
    from kefu.tickets.selectors import DEADLINE_BADGES
    from kefu.tickets.services.bulk import register_bulk_ticket_hook
    from kefu.tickets.services.common import register_ticket_hook
    from kefu.tickets.services.transfers import DEADLINE_PROVIDERS
    from kefu.tickets.services.webhooks import register_event_type

    register_perm(
        Perm("sla.view", "reports:read", _("See SLA reports")),
        (Role.SUPERVISOR, Role.QA, Role.PLANNER),
    )
    SCOPES.setdefault("reports:read", _("Read reports"))
    register_labels(ACTION_LABELS)
    register_event_summaries({"sla_warning": _alert_summary, "sla_breached": _alert_summary})
    register_ticket_hook(on_ticket_event)
    register_bulk_ticket_hook(on_ticket_events, replaces=on_ticket_event)
    DEADLINE_PROVIDERS.append(transfer_deadline)
    DEADLINE_BADGES.append(ticket_badge)
    register_ticket_panel(ticket_panel)
    for action, event_type in (
        ("sla_warning", "sla.warning"),
        ("sla_breached", "sla.breached"),
        ("ticket_remote_started", "ticket.remote_started"),
        ("ticket_onsite_arrived", "ticket.onsite_arrived"),
    ):
        register_event_type(action, event_type)
    register_nav(
        NavItem(
            "sla_report", _("SLA report"), "sla:report", "stopwatch", "manage", order=40,
            perm="sla.view",
        ),
        NavItem(
            "sla_config", _("SLA setup"), "sla:config", "calendar-week", "admin", order=72,
            perm="config.manage",
        ),
    )  # fmt: skip
    _clear_caches_on_change()


def _alert_summary(event: Any) -> str:
    from kefu.sla.models import Metric

    data = event.data
    metric = Metric(data["metric"]).label
    due = dt.datetime.fromisoformat(data["due_at"]) if data.get("due_at") else None
    when = formats.date_format(timezone.localtime(due), "SHORT_DATETIME_FORMAT") if due else "—"
    if int(data["level"]) >= 100:
        return str(
            _("%(m)s: deadline %(d)s (%(p)s)") % {"m": metric, "d": when, "p": data["policy"]}
        )
    return str(
        _("%(m)s: %(l)s%% of the time used, deadline %(d)s (%(p)s)")
        % {"m": metric, "l": data["level"], "d": when, "p": data["policy"]}
    )


def transfer_deadline(ticket: Any, department: Any, now: dt.datetime) -> dt.datetime | None:
    """The department's reply deadline from the work order's policy (on its calendar)."""
    from kefu.sla import calendars, clock
    from kefu.sla.models import Metric
    from kefu.sla.policies import match

    policy = match(ticket)
    target = policy.targets.get(Metric.TRANSFER_REPLY) if policy else None
    if target is None:
        return None
    return clock.add_working_time(calendars.calendar(target.calendar_id), now, target.seconds)


def _clear_caches_on_change() -> None:
    from django.db import transaction
    from django.db.models.signals import m2m_changed, post_delete, post_save

    from kefu.core import jobs
    from kefu.sla import calendars, policies
    from kefu.sla.models import BusinessCalendar, CalendarDay, Escalation, SlaPolicy, SlaTarget

    def forget_policies(**_kwargs: Any) -> None:
        policies.forget()

    def calendar_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
        from kefu.sla.tasks import recompute_calendar_task

        calendars.forget()
        policies.forget()  # targets in working days depend on the calendar's day length
        if kwargs.get("raw") or (sender is BusinessCalendar and "created" not in kwargs):
            return  # loading fixtures, or the calendar itself is gone
        calendar_id = instance.calendar_id if sender is CalendarDay else instance.pk
        transaction.on_commit(lambda: jobs.enqueue(recompute_calendar_task, calendar_id))

    for model in (SlaPolicy, SlaTarget, Escalation):
        post_save.connect(
            forget_policies, sender=model, weak=False, dispatch_uid=f"sla-{model.__name__}"
        )
        post_delete.connect(
            forget_policies, sender=model, weak=False, dispatch_uid=f"sla-del-{model.__name__}"
        )
    for through in (
        SlaPolicy.ticket_types.through,
        SlaPolicy.categories.through,
        SlaPolicy.vip_tiers.through,
        SlaPolicy.organizations.through,
    ):
        m2m_changed.connect(
            forget_policies, sender=through, weak=False, dispatch_uid=f"sla-m2m-{through.__name__}"
        )
    for cal_model in (BusinessCalendar, CalendarDay):
        post_save.connect(
            calendar_changed,
            sender=cal_model,
            weak=False,
            dispatch_uid=f"sla-cal-{cal_model.__name__}",
        )
        post_delete.connect(
            calendar_changed,
            sender=cal_model,
            weak=False,
            dispatch_uid=f"sla-cal-del-{cal_model.__name__}",
        )
