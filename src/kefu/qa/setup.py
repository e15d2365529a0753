"""What quality inspection adds when Kefu starts: permissions, the interaction sources, menus
and event labels."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from kefu.core.permissions import AGENT_ROLES, SCOPES, Perm, Role
from kefu.core.permissions import register as register_perm

ACTION_LABELS = {
    "qa_scorecard_created": _("created the scorecard"),
    "qa_scorecard_versioned": _("published a scorecard version"),
    "qa_review_started": _("opened a QA review"),
    "qa_review_taken": _("took the QA review"),
    "qa_review_saved": _("saved the QA review"),
    "qa_review_submitted": _("scored the QA review"),
    "qa_review_disputed": _("disputed the QA score"),
    "qa_dispute_decided": _("decided the QA dispute"),
    "qa_external_recorded": _("recorded an external evaluation"),
    "qa_sample_drawn": _("drew a QA sample"),
    "qa_calibration_started": _("started a calibration session"),
    "qa_coaching_created": _("assigned coaching"),
    "qa_coaching_completed": _("completed coaching"),
}


def register() -> None:
    from kefu.core.labels import register_labels
    from kefu.core.navigation import NavItem, register_nav
    from kefu.qa.sources import register_defaults

    register_perm(Perm("qa.own", "qa:read", _("See my own QA results, dispute them, do my coaching")),
                  tuple(AGENT_ROLES))  # fmt: skip
    register_perm(Perm("qa.review", "qa:write", _("Sample and score interactions, calibrate, coach")),
                  (Role.QA, Role.SUPERVISOR))  # fmt: skip
    register_perm(Perm("qa.decide", "qa:write", _("Decide disputed QA scores")), (Role.SUPERVISOR,))
    register_perm(Perm("qa.reports", "qa:read", _("See QA reports")), (Role.QA, Role.SUPERVISOR))
    register_perm(Perm("qa.configure", "admin", _("Change scorecards and QA phrase lists")), ())
    SCOPES.setdefault("qa:read", _("Read QA results and reports"))
    SCOPES.setdefault("qa:write", _("Score, sample and decide QA reviews"))
    register_labels(ACTION_LABELS)
    register_defaults()
    register_nav(
        NavItem("qa", _("Quality inspection"), "qa:home", "clipboard-check", "work", order=60,
                perm="qa.own"),
        NavItem("qa_inspect", _("Quality inspection"), "qa:home", "clipboard-check", "manage",
                order=44, perm="qa.review"),
        NavItem("qa_reports", _("QA reports"), "qa:reports", "bar-chart", "manage", order=45,
                perm="qa.reports"),
    )  # fmt: skip
