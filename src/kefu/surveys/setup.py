"""What surveys add when Kefu starts: permissions, the work-order hook, menus, the portal
section, the ticket-page panel and event labels."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from kefu.core.permissions import Perm, Role
from kefu.core.permissions import register as register_perm

ACTION_LABELS = {
    "survey_version_created": _("saved a survey version"),
    "survey_sent": _("sent a satisfaction survey"),
    "survey_delivered": _("delivered a satisfaction survey"),
    "survey_not_delivered": _("could not deliver a satisfaction survey"),
    "survey_answered": _("answered a satisfaction survey"),
    "survey_loop_opened": _("opened a dissatisfaction case"),
    "survey_loop_closed": _("closed a dissatisfaction case"),
    "followup_task_created": _("planned a follow-up call"),
    "followup_task_taken": _("took a follow-up call"),
    "followup_unreachable": _("could not reach the customer"),
    "followup_done": _("finished a follow-up call"),
}


def register() -> None:
    from kefu.core.interactions import register_ticket_panel
    from kefu.core.labels import register_labels
    from kefu.core.navigation import NavItem, register_nav
    from kefu.core.permissions import SCOPES
    from kefu.portal.home import Section, register_section
    from kefu.surveys.hooks import on_ticket_change, on_ticket_events
    from kefu.surveys.views import ticket_panel
    from kefu.tickets.services.bulk import register_bulk_ticket_hook
    from kefu.tickets.services.common import register_ticket_hook

    register_perm(
        Perm("surveys.report", "surveys:read", _("See satisfaction reports and answers")),
        (Role.SUPERVISOR, Role.QA),
    )
    register_perm(
        Perm("surveys.followup", "surveys:write", _("Make follow-up calls")),
        (Role.SUPERVISOR, Role.AGENT_L1, Role.AGENT_L2),
    )
    register_perm(
        Perm("surveys.import", "surveys:write", _("Import IVR survey results")), (Role.SUPERVISOR,)
    )
    register_perm(Perm("surveys.manage", "admin", _("Change survey templates")), ())
    SCOPES.setdefault("surveys:read", _("Read satisfaction reports"))
    SCOPES.setdefault("surveys:write", _("Record follow-up calls and survey results"))
    register_labels(ACTION_LABELS)
    register_ticket_hook(on_ticket_change)
    register_bulk_ticket_hook(on_ticket_events, replaces=on_ticket_change)
    from kefu.calls.services import register_wrap_up_hook
    from kefu.surveys.services import call_ended

    register_wrap_up_hook(lambda call: call_ended(call=call))
    register_ticket_panel(ticket_panel)
    register_nav(
        NavItem("followups", _("Follow-up calls"), "surveys:tasks", "telephone-outbound", "work", order=45, perm="surveys.followup"),
        NavItem("satisfaction", _("Satisfaction"), "surveys:report", "emoji-smile", "manage", order=40, perm="surveys.report"),
    )  # fmt: skip

    def pending_surveys(request: HttpRequest) -> Any:
        from django.utils import timezone

        from kefu.surveys.access import open_invitations_for
        from kefu.surveys.services import link_token

        rows = list(
            open_invitations_for(request.user)
            .filter(expires_at__gt=timezone.now())
            .select_related("ticket")
            .order_by("-sent_at")[:5]
        )
        if not rows:
            return None
        items = [(i, link_token(i)) for i in rows]
        return Section(order=5, template="surveys/portal/_section.html", context={"items": items})

    register_section(pending_surveys)
