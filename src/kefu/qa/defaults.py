"""The hotline scorecard a new centre starts from (the demo and the tests use it too)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from kefu.qa import checks
from kefu.qa.services import CriterionInput

HOTLINE_SCORECARD = "热线服务质检表"


def hotline_criteria() -> list[CriterionInput]:
    lang, resp, biz, comp, feel = (str(_("Service wording")), str(_("Responsiveness")),
                                   str(_("Business skill")), str(_("Compliance")),
                                   str(_("Customer experience")))  # fmt: skip
    return [
        CriterionInput(lang, "greeting", str(_("Standard greeting used")), weight=5, check=checks.GREETING),
        CriterionInput(lang, "closing", str(_("Standard closing used")), weight=5, check=checks.CLOSING),
        CriterionInput(lang, "forbidden", str(_("No forbidden words")), weight=10, critical=True,
                       check=checks.FORBIDDEN),
        CriterionInput(resp, "first_response", str(_("First response in time")), weight=5,
                       check=checks.FIRST_RESPONSE),
        CriterionInput(resp, "reply_gap", str(_("No long gaps between replies")), weight=5,
                       check=checks.REPLY_GAP),
        CriterionInput(biz, "answered", str(_("Every question answered")), weight=15,
                       check=checks.UNANSWERED),
        CriterionInput(biz, "accuracy", str(_("Accurate business answer")), scale="points",
                       max_points=5, weight=25),
        CriterionInput(biz, "record", str(_("Work order recorded completely")), weight=10),
        CriterionInput(comp, "privacy", str(_("No personal data disclosed")), weight=10, critical=True),
        CriterionInput(feel, "attitude", str(_("Attitude and politeness")), scale="points",
                       max_points=5, weight=10, check=checks.SENTIMENT),
    ]  # fmt: skip
