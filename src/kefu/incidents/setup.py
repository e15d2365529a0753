"""What major incidents add when Kefu starts: permissions, the work-order hook and the contact
listener that link contacts, the notices every channel shows, menus, the ticket-page panel,
the start-page card and event labels."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from kefu.core.permissions import SCOPES, Perm, Role
from kefu.core.permissions import register as register_perm

ACTION_LABELS = {
    "incident_declared": _("declared the major incident"),
    "incident_changed": _("changed the incident's scope"),
    "incident_update_published": _("published an incident update"),
    "incident_resolved": _("resolved the incident"),
    "incident_closed": _("closed the incident"),
    "incident_contact_linked": _("linked a contact to the incident"),
    "incident_contact_unlinked": _("unlinked a contact from the incident"),
    "incident_contacts_matched": _("linked the matching work orders"),
    "incident_closing_started": _("started answering the linked work orders"),
    "incident_closing_finished": _("finished answering the linked work orders"),
}


def register() -> None:
    from kefu.core.dashboard import register_card
    from kefu.core.interactions import (
        register_contact_listener,
        register_notice_provider,
        register_ticket_panel,
    )
    from kefu.core.labels import register_labels
    from kefu.core.navigation import NavItem, register_nav
    from kefu.incidents import services, views
    from kefu.tickets.services.common import register_ticket_hook

    register_perm(
        Perm("incidents.view", "incidents:read", _("See major incidents")),
        (Role.SUPERVISOR, Role.AGENT_L1, Role.AGENT_L2, Role.QA, Role.PLANNER),
    )
    register_perm(
        Perm("incidents.link", "incidents:write", _("Link contacts to major incidents")),
        (Role.SUPERVISOR, Role.AGENT_L1, Role.AGENT_L2),
    )
    register_perm(
        Perm(
            "incidents.manage",
            "incidents:write",
            _("Declare, update, resolve and close major incidents"),
        ),
        (Role.SUPERVISOR,),
    )
    SCOPES.setdefault("incidents:read", _("Read major incidents and the IVR announcement"))
    SCOPES.setdefault("incidents:write", _("Declare and update major incidents, link contacts"))
    register_labels(ACTION_LABELS)
    register_ticket_hook(services.on_ticket_event)
    register_contact_listener(services.on_contact)
    register_notice_provider(services.notices)
    register_ticket_panel(views.ticket_panel)
    register_card(views.dashboard_card)
    register_nav(
        NavItem("incidents", _("Major incidents"), "incidents:list", "exclamation-octagon", "work",
                order=18, perm="incidents.view"),
    )  # fmt: skip
