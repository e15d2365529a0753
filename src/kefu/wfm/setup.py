"""What workforce management adds when Kefu starts: permissions, navigation and event labels."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from kefu.core.permissions import AGENT_ROLES, SCOPES, Perm, Role
from kefu.core.permissions import register as register_perm

ACTION_LABELS = {
    "wfm_forecast_created": _("made a forecast"),
    "wfm_override_added": _("added a forecast override"),
    "wfm_roster_created": _("created a roster"),
    "wfm_roster_solved": _("optimised a roster"),
    "wfm_shift_changed": _("changed a shift"),
    "wfm_roster_published": _("published a roster"),
    "wfm_leave_added": _("recorded leave"),
}


def _has_schedule(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.role in AGENT_ROLES)


def register() -> None:
    from kefu.core.labels import register_labels
    from kefu.core.navigation import NavItem, register_nav

    register_perm(
        Perm("wfm.view", "wfm:read", _("See forecasts, staffing and rosters")),
        (Role.PLANNER, Role.SUPERVISOR),
    )
    register_perm(
        Perm("wfm.plan", "wfm:write", _("Forecast, roster and publish schedules")),
        (Role.PLANNER,),
    )
    register_perm(
        Perm("wfm.own", "wfm:read", _("See my own schedule")),
        (Role.AGENT_L1, Role.AGENT_L2, Role.SUPERVISOR, Role.PLANNER),
    )
    SCOPES.setdefault("wfm:read", _("Workforce: read forecasts, rosters and schedules"))
    SCOPES.setdefault("wfm:write", _("Workforce: forecast, roster and publish"))
    register_labels(ACTION_LABELS)
    register_nav(
        NavItem("wfm", _("Workforce"), "wfm:home", "calendar-week", "manage", order=40,
                perm="wfm.view"),
        NavItem("wfm-me", _("My schedule"), "wfm:me", "calendar-check", "work", order=60,
                perm="wfm.own", visible=_has_schedule),
    )  # fmt: skip
