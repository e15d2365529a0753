"""Scoring and disputing in a real browser: the inspector confirms the pre-filled scorecard
beside the transcript and submits; the agent sees the result and disputes it once."""

from __future__ import annotations

from typing import Any

import pytest

from kefu.qa import services
from kefu.qa.models import Review
from kefu.testing.factories import PASSWORD
from kefu.testing.fixtures import sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_inspector_scores_and_agent_disputes(
    page: Any, asgi_server: Any, qa_centre: dict[str, Any]
) -> None:
    # given
    review = services.start_review(
        qa_centre["qa"], "ticket", qa_centre["ticket"].pk, qa_centre["version"]
    )
    accuracy = review.answers.get(criterion__code="accuracy").criterion_id
    # when: the inspector scores
    sign_in(page, asgi_server.url, qa_centre["qa"].username, PASSWORD)
    page.goto(f"{asgi_server.url}/qa/reviews/{review.pk}/")
    assert "这是规定" in page.locator("[data-testid=transcript]").inner_text()
    page.select_option(f"select[name=c{accuracy}]", "4")
    page.click("[data-testid=qa-submit]")
    page.wait_for_load_state("networkidle")
    # then
    assert page.locator("[data-testid=qa-score]").inner_text() == "0.00"  # a forbidden word
    review.refresh_from_db()
    assert (review.state, review.raw_score is not None) == (Review.State.SUBMITTED, True)
    # when: the agent disputes
    page.context.clear_cookies()
    sign_in(page, asgi_server.url, qa_centre["agent"].username, PASSWORD)
    page.goto(f"{asgi_server.url}/qa/")
    page.click(f"text={review}")
    page.fill("textarea[name=reason]", "“这是规定”是在解释政策。")
    page.click("[data-testid=qa-dispute-send]")
    page.wait_for_load_state("networkidle")
    # then
    assert "解释政策" in page.locator("[data-testid=qa-dispute]").inner_text()
    assert page.locator("[data-testid=qa-dispute-send]").count() == 0
    review.refresh_from_db()
    assert review.state == Review.State.DISPUTED
