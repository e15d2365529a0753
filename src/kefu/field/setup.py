"""What field service adds when Kefu starts: permissions, menus, timeline labels, the ticket
page's panel, the work-order hooks for contract deadlines (one by one and for a batch) and
webhook event types."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from kefu.core.permissions import SCOPES, Perm, Role
from kefu.core.permissions import register as register_perm

AGENTS = (Role.AGENT_L1, Role.AGENT_L2, Role.SUPERVISOR)

ACTION_LABELS = {
    "visit_scheduled": _("sent an engineer on site"),
    "visit_travel_started": _("left for the site"),
    "visit_arrived": _("checked in on site"),
    "visit_departed": _("checked out and reported the work"),
    "visit_confirmed": _("customer confirmed the visit"),
    "visit_disputed": _("customer disputed the visit"),
    "visit_cancelled": _("cancelled a visit"),
    "visit_photos_added": _("added photos of the work"),
    "remote_session_logged": _("logged remote support"),
    "remote_session_ended": _("ended remote support"),
    "field_deadlines_started": _("started the contract deadlines"),
    "field_deadline_missed": _("missed a contract deadline"),
    "part_receive": _("received spare parts"),
    "part_reserve": _("reserved spare parts"),
    "part_release": _("released reserved parts"),
    "part_consume": _("used spare parts"),
    "part_transfer_out": _("transferred parts out"),
    "part_transfer_in": _("transferred parts in"),
    "part_minimum_changed": _("changed the minimum stock"),
    "asset_created": _("registered the asset"),
    "asset_changed": _("changed the asset"),
}


def register() -> None:
    from kefu.core.dashboard import register_card
    from kefu.core.interactions import register_ticket_panel
    from kefu.core.labels import register_event_summaries, register_labels
    from kefu.core.navigation import NavItem, register_nav
    from kefu.field.dashboard import field_card
    from kefu.field.deadlines import on_ticket_event
    from kefu.field.views import ticket_panel
    from kefu.tickets.services.bulk import register_bulk_ticket_hook
    from kefu.tickets.services.common import register_ticket_hook
    from kefu.tickets.services.webhooks import register_event_type

    for perm, roles in (
        (Perm("field.view", "field:read", _("See visits, assets and spare parts")), (*AGENTS, Role.QA)),
        (Perm("field.dispatch", "field:write", _("Send engineers on site and cancel visits")), AGENTS),
        (Perm("field.work", "field:write", _("Make on-site visits (check in, report)")), (Role.AGENT_L2,)),
        (Perm("field.remote", "field:write", _("Log remote-support sessions")), (Role.AGENT_L2, Role.SUPERVISOR)),
        (Perm("field.assets", "field:write", _("Register and change customer assets")), AGENTS),
        (Perm("field.parts", "field:write", _("Reserve and use spare parts on work orders")), AGENTS),
        (Perm("field.stock", "field:write", _("Keep the spare-parts stock (receive, transfer, minimums)")), (Role.SUPERVISOR,)),
    ):  # fmt: skip
        register_perm(perm, roles)
    SCOPES.setdefault("field:read", _("Read visits, assets and spare parts"))
    SCOPES.setdefault("field:write", _("Dispatch, report visits and move spare parts"))
    register_labels(ACTION_LABELS)
    register_event_summaries(
        {
            "visit_scheduled": _visit_summary,
            "field_deadline_missed": _deadline_summary,
            "visit_departed": _outcome_summary,
        }
    )
    register_ticket_hook(on_ticket_event)
    register_bulk_ticket_hook(meet_deadlines, replaces=on_ticket_event)
    register_ticket_panel(ticket_panel)
    register_card(field_card)
    for action, event_type in (
        ("visit_scheduled", "visit.scheduled"),
        ("visit_arrived", "visit.arrived"),
        ("visit_departed", "visit.departed"),
        ("visit_confirmed", "visit.confirmed"),
        ("field_deadline_missed", "field.deadline_missed"),
    ):
        register_event_type(action, event_type)
    register_nav(
        NavItem("field_today", _("My visits"), "field:today", "geo-alt", "work", order=50, perm="field.work"),
        NavItem("field_visits", _("Field visits"), "field:visits", "truck", "work", order=52, perm="field.dispatch"),
        NavItem("field_assets", _("Assets"), "field:assets", "hdd-rack", "manage", order=55, perm="field.view"),
        NavItem("field_parts", _("Spare parts"), "field:parts", "box-seam", "manage", order=56, perm="field.view"),
    )  # fmt: skip


def meet_deadlines(tickets: list[Any], events: list[Any]) -> None:
    """Batch version of ``deadlines.on_ticket_event`` (one reply to many work orders): the
    workaround and resolution deadlines of every work order the batch resolved or closed are
    met at that event's time, with one statement per time."""
    from kefu.field.deadlines import K
    from kefu.field.models import Deadline

    first: dict[int, Any] = {}
    for event in events:
        if event.action != "ticket_status_changed":
            continue
        status = (event.changes or {}).get("status")
        if status and status[1] in ("resolved", "closed"):
            first.setdefault(event.object_id, event.at)  # a later one finds them met already
    by_time: dict[Any, list[int]] = {}
    for ticket_id, at in first.items():
        by_time.setdefault(at, []).append(ticket_id)
    for at, ids in by_time.items():
        Deadline.objects.filter(
            ticket_id__in=ids, kind__in=(K.WORKAROUND, K.RESOLUTION), met_at__isnull=True
        ).update(met_at=at)


def _visit_summary(event: Any) -> str:
    import datetime as dt

    from django.utils import timezone

    data = event.data
    start = timezone.localtime(dt.datetime.fromisoformat(data["window_start"]))
    end = timezone.localtime(dt.datetime.fromisoformat(data["window_end"]))
    return f"{data.get('engineer_name', '')} · {start:%m-%d %H:%M}–{end:%H:%M} · {data.get('address', '')}"


def _deadline_summary(event: Any) -> str:
    from kefu.field.models import Deadline

    kind = event.data.get("kind", "")
    return str(Deadline.Kind(kind).label) if kind in Deadline.Kind.values else kind


def _outcome_summary(event: Any) -> str:
    from kefu.field.models import Visit

    outcome = event.data.get("outcome", "")
    return str(Visit.Outcome(outcome).label) if outcome in Visit.Outcome.values else ""
