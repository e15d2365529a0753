"""What the hotline adds when Kefu starts: permissions, the phone channel (ticket panel,
customer history), menus, the screen pop in the top bar, and event labels."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from kefu.core.permissions import AGENT_ROLES, SCOPES, Perm, Role
from kefu.core.permissions import register as register_perm

ACTION_LABELS = {
    "calls_imported": _("imported calls"),
    "call_customer_linked": _("linked the call to a customer"),
    "call_ticket_linked": _("logged the call on a work order"),
    "call_wrapped_up": _("wrapped up the call"),
    "call_ring": _("call ringing"),
    "call_answer": _("call answered"),
    "call_hold": _("call put on hold"),
    "call_unhold": _("call taken off hold"),
    "call_transfer": _("call transferred"),
    "call_hangup": _("call ended"),
}


def takes_calls(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.role in AGENT_ROLES)


def register() -> None:
    from kefu.calls import search
    from kefu.calls.views import customer_history, ticket_panel
    from kefu.core.interactions import ContactChannel, register_channel
    from kefu.core.labels import register_labels
    from kefu.core.navigation import NavItem, register_nav, register_topbar

    register_perm(
        Perm("calls.view", "calls:read", _("See calls and hotline KPIs")),
        (Role.SUPERVISOR, Role.AGENT_L1, Role.AGENT_L2, Role.QA, Role.PLANNER),
    )
    register_perm(
        Perm("calls.handle", "calls:write", _("Wrap up calls and link them to customers and work orders")),
        (Role.SUPERVISOR, Role.AGENT_L1, Role.AGENT_L2),
    )  # fmt: skip
    register_perm(Perm("calls.import", "admin", _("Import call logs")), (Role.SUPERVISOR,))
    SCOPES.setdefault("calls:read", _("Read calls and hotline KPIs"))
    SCOPES.setdefault("calls:write", _("Wrap up and link calls"))
    register_labels(ACTION_LABELS)
    register_channel(
        ContactChannel(
            code="phone",
            label=_("Phone hotline"),
            routing_kind="call",
            ticket_panel=ticket_panel,
            history=customer_history,
            search_source=search.source(),
        )
    )
    register_nav(
        NavItem("calls", _("Calls"), "calls:list", "telephone", "work", order=18, perm="calls.view"),
        NavItem("calls_kpi", _("Hotline KPIs"), "calls:kpi", "graph-up", "manage", order=42,
                perm="calls.view"),
        NavItem("calls_import", _("Import call logs"), "calls:import", "upload", "admin", order=74,
                perm="calls.import"),
    )  # fmt: skip
    register_topbar("calls/_screenpop.html", takes_calls)
