"""What monitoring and reports add when Kefu starts: permissions, menus, start-page cards,
event labels and the wall board's socket."""

from __future__ import annotations

from django.urls import path
from django.utils.translation import gettext_lazy as _

from kefu.core.permissions import Perm, Role
from kefu.core.permissions import register as register_perm

ACTION_LABELS = {
    "wallboard_threshold_set": _("set a wall-board alert threshold"),
    "wallboard_threshold_cleared": _("removed a wall-board alert threshold"),
    "report_template_created": _("created a report template"),
    "report_template_changed": _("changed a report template"),
    "report_generated": _("generated a report"),
}


def register() -> None:
    from kefu.config.routing import register as register_routes
    from kefu.core.dashboard import register_card
    from kefu.core.labels import register_labels
    from kefu.core.navigation import NavItem, register_nav
    from kefu.core.permissions import SCOPES
    from kefu.reports import dashboards
    from kefu.reports.consumers import WallboardConsumer

    register_perm(
        Perm("reports.view", "reports:read", _("See centre reports and their records")),
        (Role.SUPERVISOR, Role.QA, Role.PLANNER),
    )
    register_perm(
        Perm("reports.wallboard", "reports:read", _("See the wall board")),
        (Role.SUPERVISOR, Role.PLANNER, Role.QA),
    )
    register_perm(
        Perm(
            "reports.wallboard_manage", "reports:write", _("Set the wall board's alert thresholds")
        ),
        (Role.SUPERVISOR,),
    )
    register_perm(
        Perm("reports.generate", "reports:write", _("Generate periodic reports now")),
        (Role.SUPERVISOR,),
    )
    register_perm(Perm("reports.manage", "admin", _("Edit periodic report templates")), ())
    SCOPES.setdefault("reports:read", _("Read reports"))
    SCOPES.setdefault("reports:write", _("Generate reports and set alert thresholds"))
    register_labels(ACTION_LABELS)
    register_nav(
        NavItem("wallboard", _("Wall board"), "reports:wallboard", "display", "manage", order=5, perm="reports.wallboard"),
        NavItem("reports", _("Reports"), "reports:report", "bar-chart-line", "manage", order=6, perm="reports.view"),
        NavItem("periodic_reports", _("Periodic reports"), "reports:templates", "calendar3", "manage", order=7, perm="reports.view"),
    )  # fmt: skip
    register_card(dashboards.agent_card)
    register_card(dashboards.lead_card)
    register_card(dashboards.manager_card)
    register_routes([path("ws/wallboard/", WallboardConsumer.as_asgi())])
