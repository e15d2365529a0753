"""What the work-order app adds to the rest of Kefu when it starts: permissions, navigation,
event labels, hooks, the customer page's history, the portal menu, live-update subscriptions."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from kefu.core.permissions import SCOPES, Perm, Role
from kefu.core.permissions import register as register_perm

AGENTS = (Role.SUPERVISOR, Role.AGENT_L1, Role.AGENT_L2)

PERMISSIONS: list[tuple[Perm, tuple[str, ...]]] = [
    (
        Perm(
            "tickets.view", "tickets:read", _("See work orders (as the role's visibility allows)")
        ),
        (*AGENTS, Role.QA, Role.LIAISON),
    ),
    (Perm("tickets.create", "tickets:write", _("Open work orders")), AGENTS),
    (Perm("tickets.edit", "tickets:write", _("Change work-order fields")), AGENTS),
    (Perm("tickets.assign", "tickets:write", _("Assign work orders")), AGENTS),
    (
        Perm("tickets.transition", "tickets:write", _("Move work orders through their lifecycle")),
        AGENTS,
    ),
    (Perm("tickets.reply", "tickets:write", _("Reply to customers")), AGENTS),
    (Perm("tickets.note", "tickets:write", _("Write internal notes")), (*AGENTS, Role.QA)),
    (Perm("tickets.bulk", "tickets:write", _("Change many work orders at once")), AGENTS),
    (
        Perm(
            "tickets.transfer",
            "tickets:write",
            _("Transfer work orders to departments and review replies"),
        ),
        AGENTS,
    ),
    (
        Perm("tickets.escalate", "tickets:write", _("Escalate work orders to the second line")),
        AGENTS,
    ),
    (Perm("tickets.merge", "tickets:write", _("Merge duplicate work orders")), AGENTS),
    (Perm("tickets.link", "tickets:write", _("Link work orders and set parents")), AGENTS),
    (
        Perm("transfers.reply", "tickets:write", _("Answer transfers for one's department")),
        (Role.LIAISON,),
    ),
    (Perm("webhooks.manage", "admin", _("Manage webhooks")), ()),
]

ACTION_LABELS: dict[str, Any] = {
    "ticket_created": _("opened the work order"),
    "ticket_changed": _("changed fields"),
    "ticket_status_changed": _("changed the status"),
    "ticket_assigned": _("assigned the work order"),
    "ticket_escalated": _("escalated to the second line"),
    "ticket_replied": _("replied to the customer"),
    "customer_replied": _("the customer wrote"),
    "ticket_note_added": _("added an internal note"),
    "ticket_attachment_added": _("attached a file"),
    "ticket_transferred": _("transferred to a department"),
    "transfer_replied": _("the department replied"),
    "transfer_returned": _("the department sent it back"),
    "transfer_accepted": _("accepted the department's reply"),
    "transfer_rejected": _("rejected the department's reply"),
    "transfer_withdrawn": _("withdrew the transfer"),
    "ticket_merged": _("merged a duplicate into this work order"),
    "ticket_merged_into": _("merged this work order into another"),
    "ticket_parent_set": _("set the parent work order"),
    "ticket_child_added": _("added a child work order"),
    "ticket_linked": _("linked a related work order"),
    "ticket_unlinked": _("removed a link"),
    "webhook_created": _("created a webhook"),
    "webhook_changed": _("changed a webhook"),
    "webhook_deleted": _("deleted a webhook"),
    "webhook_redelivered": _("sent a webhook delivery again"),
}

FIELD_LABELS: dict[str, Any] = {
    "title": _("Title"),
    "ticket_type": _("Type"),
    "category": _("Category"),
    "subject": _("Subject"),
    "channel": _("Channel"),
    "priority": _("Priority"),
    "severity": _("Severity"),
    "status": _("Status"),
    "customer": _("Customer"),
    "contact_name": _("Contact name"),
    "contact_phone": _("Contact phone"),
    "contact_email": _("Contact e-mail"),
    "place": _("Place"),
    "area": _("Area"),
    "staff_concerned": _("Staff concerned"),
    "sensitive": _("Sensitive"),
    "custom_fields": _("Custom fields"),
    "assignee": _("Assignee"),
    "team": _("Team"),
    "line": _("Support line"),
    "parent": _("Parent"),
}


def register() -> None:
    from kefu.core.consumers import register_subscription
    from kefu.core.dashboard import register_card
    from kefu.core.labels import register_field_labels, register_labels, register_value_labelers
    from kefu.core.navigation import NavItem, register_nav, register_portal_nav
    from kefu.customers.selectors import register_history_provider
    from kefu.portal.home import register_section
    from kefu.tickets import dashboard, history, portal
    from kefu.tickets.services.common import register_ticket_hook
    from kefu.tickets.services.webhooks import queue_webhooks

    for perm, roles in PERMISSIONS:
        register_perm(perm, roles)
    from kefu.tickets import search

    search.register()
    _forget_options_on_change()
    SCOPES["tickets:read"] = _("Read work orders")
    SCOPES["tickets:write"] = _("Open, change, assign and answer work orders")
    register_labels(ACTION_LABELS)
    register_value_labelers(_value_labelers())
    register_field_labels(FIELD_LABELS)
    register_nav(
        NavItem(
            "tickets",
            _("Work orders"),
            "tickets:list",
            "inbox",
            "work",
            order=10,
            perm="tickets.view",
            visible=lambda u: u.role != Role.LIAISON,
        ),
        NavItem(
            "transfers",
            _("Department inbox"),
            "tickets:transfers",
            "send",
            "work",
            order=12,
            perm="transfers.reply",
        ),
        NavItem(
            "ticket_config",
            _("Work-order setup"),
            "tickets:config",
            "sliders",
            "admin",
            order=70,
            perm="config.manage",
        ),
        NavItem(
            "webhooks",
            _("Webhooks"),
            "tickets:webhooks",
            "broadcast",
            "admin",
            order=75,
            perm="webhooks.manage",
        ),
    )
    register_portal_nav(10, "tickets", _("My requests"), "portal:tickets")
    register_portal_nav(20, "new_ticket", _("New request"), "portal:ticket_new")
    register_section(portal.open_requests_section)
    register_card(dashboard.my_work_card)
    register_card(dashboard.sensitive_card)
    register_history_provider(history.ticket_history)
    register_ticket_hook(queue_webhooks)
    from kefu.tickets.services.bulk import queue_webhooks_many, register_bulk_ticket_hook

    register_bulk_ticket_hook(queue_webhooks_many, replaces=queue_webhooks)
    register_subscription("ticket", _ticket_group)


def _value_labelers() -> dict[str, Any]:
    from kefu.core.choices import Channel
    from kefu.tickets import selectors
    from kefu.tickets.models import Area, Severity, Subject
    from kefu.tickets.states import Status

    def by_pk(options: Any, attr: str) -> Any:
        def label(value: Any) -> str:
            found = next((o for o in options() if o.pk == value), None)
            return str(getattr(found, attr)) if found is not None else f"#{value}"

        return label

    return {
        "status": lambda v: Status(v).label,
        "priority": lambda v: f"P{int(v)}",
        "channel": lambda v: Channel(v).label,
        "severity": lambda v: Severity(v).label,
        "area": lambda v: Area(v).label,
        "subject": lambda v: Subject(v).label,
        "ticket_type": by_pk(selectors.type_options, "label"),
        "category": by_pk(selectors.category_options, "label"),
        "assignee": by_pk(selectors.agent_options, "display_label"),
        "team": by_pk(selectors.team_options, "name"),
        "line": lambda v: _("Second line") if int(v) == 2 else _("First line"),
    }


def _ticket_group(user: Any, ticket_id: Any) -> str:
    from kefu.core.realtime import ticket_group
    from kefu.tickets.access import access_ticket

    ticket = access_ticket(user, ticket_id)
    return ticket_group(ticket.pk)


def ticket_url(number: str) -> str:
    return reverse("tickets:detail", args=[number])


def _forget_options_on_change() -> None:
    """Option lists are cached in each process (tickets.selectors); a change made in this
    process clears them at once, whichever path made it (admin, API, shell, import)."""
    from django.db.models.signals import post_delete, post_save

    from kefu.accounts.models import Team
    from kefu.tickets.models import Category, CustomField, TicketTag, TicketType
    from kefu.tickets.selectors import forget_options

    def forget(**_kwargs: Any) -> None:
        forget_options()

    for model in (TicketType, Category, CustomField, TicketTag, Team):
        post_save.connect(
            forget, sender=model, weak=False, dispatch_uid=f"options-{model.__name__}"
        )
        post_delete.connect(
            forget, sender=model, weak=False, dispatch_uid=f"options-del-{model.__name__}"
        )
