"""What service plans add when Kefu starts: permissions, menus, the ticket-page checklist panel
and event labels."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from kefu.core.permissions import Perm, Role
from kefu.core.permissions import register as register_perm

ACTION_LABELS = {
    "plan_created": _("created a service plan"),
    "plan_changed": _("changed a service plan"),
    "plan_round_made": _("made a planned round"),
    "plan_trainee_added": _("added a trainee"),
    "checklist_version_saved": _("saved a checklist version"),
    "checklist_started": _("attached a checklist"),
    "checklist_item_checked": _("checked a checklist item"),
    "finding_raised": _("raised a finding"),
    "rectification_opened": _("opened a rectification"),
    "rectification_start": _("started a rectification"),
    "rectification_submit": _("submitted a rectification for sign-off"),
    "rectification_sign_off": _("signed off a rectification"),
    "rectification_return": _("returned a rectification"),
    "rectification_escalated": _("escalated an overdue rectification"),
    "training_session_added": _("added a training session"),
    "training_attendance_marked": _("marked attendance"),
    "care_planned": _("planned proactive care"),
    "care_notice_sent": _("sent a care notice"),
    "care_notice_failed": _("could not send a care notice"),
}

WORKERS = (Role.SUPERVISOR, Role.AGENT_L1, Role.AGENT_L2)


def register() -> None:
    from kefu.core.interactions import register_ticket_panel
    from kefu.core.labels import register_labels
    from kefu.core.navigation import NavItem, register_nav
    from kefu.core.permissions import SCOPES
    from kefu.customers.services import register_merge_handler
    from kefu.plans.hooks import merge_care_targets, on_ticket_change
    from kefu.plans.views import ticket_panel
    from kefu.tickets.services.common import register_ticket_hook

    register_perm(
        Perm("plans.view", "plans:read", _("See service plans, inspections and rectifications")),
        (*WORKERS, Role.QA),
    )
    register_perm(
        Perm("plans.manage", "plans:write", _("Create and change service plans and checklists")),
        (Role.SUPERVISOR,),
    )
    register_perm(
        Perm("plans.check", "plans:write", _("Tick checklists and rectify findings")), WORKERS
    )
    register_perm(
        Perm("plans.signoff", "plans:write", _("Sign off rectifications")),
        (Role.SUPERVISOR, Role.QA),
    )
    register_perm(Perm("plans.training", "plans:write", _("Mark training attendance")), WORKERS)
    SCOPES.setdefault("plans:read", _("Read service plans and rectifications"))
    SCOPES.setdefault("plans:write", _("Tick checklists, rectify and sign off"))
    register_labels(ACTION_LABELS)
    register_ticket_panel(ticket_panel)
    register_ticket_hook(on_ticket_change)
    register_merge_handler("plans.caretarget", merge_care_targets)
    from kefu.core.dashboard import register_card
    from kefu.plans.dashboard import rectification_card

    register_card(rectification_card)
    register_nav(
        NavItem("plans", _("Service plans"), "plans:list", "calendar2-check", "work", order=48, perm="plans.view"),
        NavItem("rectifications", _("Rectifications"), "plans:rectifications", "cone-striped", "work", order=49, perm="plans.view"),
    )  # fmt: skip
