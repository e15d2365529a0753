"""What customer requirements add when Kefu starts: permissions, menus, the ticket-page panel
("raise as requirement") and event labels."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from kefu.core.permissions import SCOPES, Perm, Role
from kefu.core.permissions import register as register_perm

ACTION_LABELS = {
    "requirement_created": _("recorded the requirement"),
    "requirement_changed": _("changed the requirement"),
    "requirement_source_added": _("linked a customer who asked"),
    "requirement_scored": _("scored the requirement"),
    "requirement_moved": _("moved the requirement"),
    "requirement_merged": _("merged a duplicate requirement into this one"),
    "requirement_merged_into": _("merged this requirement into another"),
    "requirement_customers_told": _("told the customers it shipped"),
}


def register() -> None:
    from kefu.core.interactions import register_ticket_panel
    from kefu.core.labels import register_labels
    from kefu.core.navigation import NavItem, register_nav
    from kefu.requirements import views

    register_perm(
        Perm("requirements.view", "requirements:read", _("See customer requirements")),
        (Role.SUPERVISOR, Role.AGENT_L1, Role.AGENT_L2, Role.QA, Role.PLANNER),
    )
    register_perm(
        Perm(
            "requirements.raise",
            "requirements:write",
            _("Raise customer requirements from work orders and chats"),
        ),
        (Role.SUPERVISOR, Role.AGENT_L1, Role.AGENT_L2),
    )
    register_perm(
        Perm(
            "requirements.manage",
            "requirements:write",
            _("Score, move, merge and close customer requirements"),
        ),
        (Role.SUPERVISOR,),
    )
    SCOPES.setdefault("requirements:read", _("Read customer requirements"))
    SCOPES.setdefault("requirements:write", _("Raise and manage customer requirements"))
    register_labels(ACTION_LABELS)
    register_ticket_panel(views.ticket_panel)
    register_nav(
        NavItem("requirements", _("Customer requirements"), "requirements:list", "lightbulb",
                "manage", order=35, perm="requirements.view"),
    )  # fmt: skip
