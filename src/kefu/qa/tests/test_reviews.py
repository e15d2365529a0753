"""Reviews end to end through the services: pre-filled checks, scoring, dispute once,
supervisor decision, calibration spread, coaching, external reviews, sampling and reports."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from kefu.core.models import Event
from kefu.qa import selectors, services
from kefu.qa.models import Answer, CoachingTask, Dispute, Review, SamplingPlan
from kefu.testing.factories import make_ticket


def _answers(review: Review) -> dict[str, Answer]:
    return {a.criterion.code: a for a in review.answers.select_related("criterion")}


def _sheet(review: Review, **values: int | None) -> dict[int, tuple[int | None, str]]:
    answers = _answers(review)
    return {answers[code].criterion_id: (value, "") for code, value in values.items()}


def test_automatic_checks_prefill_the_mapped_criteria(qa_centre: dict[str, Any]) -> None:
    # when
    review = services.start_review(
        qa_centre["qa"], "ticket", qa_centre["ticket"].pk, qa_centre["version"]
    )
    # then
    answers = _answers(review)
    assert (answers["greeting"].auto_value, answers["greeting"].auto_note) == (
        1,
        "很高兴为您服务, 您好",
    )
    assert (answers["forbidden"].auto_value, answers["forbidden"].auto_note) == (0, "这是规定")
    assert (answers["closing"].auto_value, answers["closing"].auto_note) == (0, "Not found")
    assert answers["answered"].auto_value == 0
    assert answers["answered"].auto_note == "发票能开吗?"
    assert answers["first_response"].auto_value == 1
    assert answers["accuracy"].auto_value is None and answers["accuracy"].value is None
    assert review.state == Review.State.DRAFT
    assert (review.agent_id, review.team_id) == (qa_centre["agent"].pk, qa_centre["team"].pk)
    assert Event.objects.filter(action="qa_review_started", object_id=review.pk).count() == 1


def test_a_failed_critical_item_zeroes_the_score_and_the_agent_disputes_once(
    qa_centre: dict[str, Any],
) -> None:
    # given
    inspector, agent, supervisor = qa_centre["qa"], qa_centre["agent"], qa_centre["supervisor"]
    review = services.start_review(
        inspector, "ticket", qa_centre["ticket"].pk, qa_centre["version"]
    )
    # when: the inspector confirms the pre-filled answers and scores the rest
    review = services.save_review(review, _sheet(review, accuracy=4, record=1, privacy=1),
                                  actor=inspector, submit=True)  # fmt: skip
    # then
    assert review.state == Review.State.SUBMITTED
    assert review.failed_critical is True
    assert review.score == Decimal("0.00")
    # greeting 5 + first_response 5 + reply_gap 5 + accuracy 20 + record 10 + privacy 10 + attitude 10
    assert review.raw_score == Decimal("65.00")
    # when: the agent disputes
    services.dispute_review(review, "“这是规定”是在解释政策，不是推诿。", actor=agent)
    # then: a second dispute is refused and changes nothing
    review.refresh_from_db()
    with pytest.raises(ValidationError, match="Only a scored inspection can be disputed"):
        services.dispute_review(review, "再申诉一次", actor=agent)
    assert Dispute.objects.filter(review=review).count() == 1
    # when: the supervisor changes the forbidden-word answer
    review = services.decide_dispute(review, "changed", actor=supervisor, note="属于政策解释。",
                                     answers=_sheet(review, forbidden=1))  # fmt: skip
    # then
    assert review.state == Review.State.FINAL
    assert (review.failed_critical, review.score) == (False, Decimal("75.00"))
    dispute = Dispute.objects.get(review=review)
    assert (dispute.decision, dispute.score_before, dispute.score_after) == (
        "changed",
        Decimal("0.00"),
        Decimal("75.00"),
    )
    assert list(Event.objects.filter(object_type="review", object_id=review.pk).values_list("action", flat=True).order_by("id")) == [
        "qa_review_started", "qa_review_submitted", "qa_review_disputed", "qa_dispute_decided",
    ]  # fmt: skip


def test_only_the_reviewed_agent_may_dispute_and_only_supervisors_decide(
    qa_centre: dict[str, Any],
) -> None:
    review = services.start_review(
        qa_centre["qa"], "ticket", qa_centre["ticket"].pk, qa_centre["version"]
    )
    review = services.save_review(review, {}, actor=qa_centre["qa"], submit=True)
    with pytest.raises(PermissionDenied):
        services.dispute_review(review, "不是我", actor=qa_centre["other"])
    services.dispute_review(review, "理由", actor=qa_centre["agent"])
    review.refresh_from_db()
    with pytest.raises(PermissionDenied):
        services.decide_dispute(review, "upheld", actor=qa_centre["qa"], note="x")
    review.refresh_from_db()
    assert review.state == Review.State.DISPUTED


def test_bad_answers_are_refused_whole(qa_centre: dict[str, Any]) -> None:
    review = services.start_review(
        qa_centre["qa"], "ticket", qa_centre["ticket"].pk, qa_centre["version"]
    )
    with pytest.raises(ValidationError) as exc:
        services.save_review(review, {**_sheet(review, greeting=0), **_sheet(review, accuracy=9)},
                             actor=qa_centre["qa"], submit=True)  # fmt: skip
    assert exc.value.message_dict == {"answers": ["“Accurate business answer”: 9 is outside 0–5."]}
    review.refresh_from_db()
    assert (review.state, review.score, _answers(review)["greeting"].value) == (
        Review.State.DRAFT,
        None,
        1,
    )


def test_calibration_shows_the_spread_between_inspectors(qa_centre: dict[str, Any]) -> None:
    # given
    session = services.start_calibration(
        actor=qa_centre["qa"], title="校准", source="ticket", object_id=qa_centre["ticket"].pk,
        version=qa_centre["version"], inspectors=[qa_centre["qa"], qa_centre["qa2"]],
    )  # fmt: skip
    first, second = session.reviews.order_by("id")
    # when
    services.save_review(
        first,
        _sheet(first, forbidden=1, accuracy=5, record=1, privacy=1),
        actor=qa_centre["qa"],
        submit=True,
    )
    services.save_review(
        second,
        _sheet(second, forbidden=1, accuracy=3, record=1, privacy=1),
        actor=qa_centre["qa2"],
        submit=True,
    )
    # then
    cal = selectors.calibration(session)
    rows = {row.code: row for row in cal.criteria}
    assert rows["accuracy"].values == (5, 3)
    assert rows["accuracy"].spread is not None
    assert (rows["accuracy"].spread.stdev, rows["accuracy"].spread.range) == (1.0, 2.0)
    assert cal.total is not None and (cal.total.low, cal.total.high) == (70.0, 80.0)
    assert cal.agreement == 0.9  # 9 of 10 criteria the same
    # calibration sheets are not the agent's results
    assert not selectors.list_reviews(qa_centre["agent"]).exists()


def test_coaching_is_assigned_from_a_review_and_completed_by_the_agent(
    qa_centre: dict[str, Any],
) -> None:
    review = services.start_review(
        qa_centre["qa"], "ticket", qa_centre["ticket"].pk, qa_centre["version"]
    )
    with pytest.raises(ValidationError, match="Coach from a scored inspection"):
        services.create_coaching(review, actor=qa_centre["qa"], excerpt="x", expected="y")
    review = services.save_review(review, {}, actor=qa_centre["qa"], submit=True)
    task = services.create_coaching(review, actor=qa_centre["qa"], excerpt="这是规定",
                                    expected="解释政策的原因并给出办理途径")  # fmt: skip
    with pytest.raises(PermissionDenied):
        services.complete_coaching(task, actor=qa_centre["other"])
    task = services.complete_coaching(task, actor=qa_centre["agent"], note="改用解释性的说法")
    assert task.completed_at is not None
    assert CoachingTask.objects.get(pk=task.pk).agent_note == "改用解释性的说法"


def test_sampling_gives_every_agent_the_quota_and_repeats_with_the_seed(
    qa_centre: dict[str, Any],
) -> None:
    # given: agent has 1 + 3 work orders, other has 2 (one a complaint)
    agent, other = qa_centre["agent"], qa_centre["other"]
    for n in range(3):
        make_ticket(
            actor=qa_centre["supervisor"], title=f"咨询{n}", assignee=agent, team=qa_centre["team"]
        )
    make_ticket(
        actor=qa_centre["supervisor"],
        title="投诉",
        type_code="complaint",
        assignee=other,
        team=qa_centre["team"],
    )
    make_ticket(actor=qa_centre["supervisor"], title="咨询", assignee=other, team=qa_centre["team"])
    plan = SamplingPlan.objects.create(
        name="p", scorecard=qa_centre["card"], per_agent=2, all_complaints=True
    )
    end = timezone.now() + dt.timedelta(minutes=1)
    # when
    run = services.run_sample(plan, actor=qa_centre["qa"], end=end, seed=5)
    # then
    picked = list(run.reviews.values_list("agent_id", "sample_reason", "object_id").order_by("id"))
    assert sorted((a, r) for a, r, _o in picked) == sorted(
        [(agent.pk, "quota"), (agent.pk, "quota"), (other.pk, "complaint"), (other.pk, "quota")]
    )
    assert run.picked == 4 and run.seed == 5
    again = [
        p.candidate.key
        for p in __import__("kefu.qa.sampling", fromlist=["draw"]).draw(
            __import__("kefu.qa.sources", fromlist=["all_candidates"]).all_candidates(
                run.period_start, end
            ),
            __import__("kefu.qa.sampling", fromlist=["Rule"]).Rule(
                per_agent=2, all_complaints=True
            ),
            5,
        )
    ]
    assert sorted(k[1] for k in again) == sorted(o for _a, _r, o in picked)
    # a second run leaves out what is already sampled
    run2 = services.run_sample(plan, actor=qa_centre["qa"], end=end, seed=5)
    assert run2.picked == 2  # agent's last two; other has none left


def test_reports_by_agent_criterion_and_external(qa_centre: dict[str, Any]) -> None:
    review = services.start_review(
        qa_centre["qa"], "ticket", qa_centre["ticket"].pk, qa_centre["version"]
    )
    services.save_review(
        review,
        _sheet(review, forbidden=1, accuracy=4, record=1, privacy=1),
        actor=qa_centre["qa"],
        submit=True,
    )
    services.record_external_review(
        actor=qa_centre["qa"], version=qa_centre["version"], agent=qa_centre["agent"], kind="mystery",
        evaluator="神秘客户", score=Decimal("90"), occurred_at=timezone.now(),
    )  # fmt: skip
    now = timezone.now()
    report = selectors.report(
        qa_centre["supervisor"], now - dt.timedelta(days=1), now + dt.timedelta(days=1)
    )
    assert [(r.label, r.n, r.mean) for r in report.by_agent] == [
        (qa_centre["agent"].display_label, 1, 75.0)
    ]
    assert report.by_criterion[0].key in ("closing", "answered")
    assert report.by_criterion[0].mean == 0.0
    assert [(r.n, r.mean) for r in report.external] == [(1, 90.0)]
    with pytest.raises(ValidationError) as exc:
        services.record_external_review(actor=qa_centre["qa"], version=qa_centre["version"], agent=qa_centre["agent"],
                                        kind="internal", evaluator="", score=Decimal("120"), occurred_at=now)  # fmt: skip
    assert set(exc.value.message_dict) == {"kind", "score"}
    assert Review.objects.filter(kind="mystery").count() == 1


def test_a_new_version_leaves_old_reviews_on_theirs(qa_centre: dict[str, Any]) -> None:
    review = services.start_review(
        qa_centre["qa"], "ticket", qa_centre["ticket"].pk, qa_centre["version"]
    )
    criteria = services_criteria = __import__(
        "kefu.qa.defaults", fromlist=["x"]
    ).hotline_criteria()[:3]
    v2 = services.new_version(qa_centre["card"], criteria, actor=qa_centre["admin"], note="精简")
    assert (v2.number, v2.criteria.count()) == (2, 3)
    review.refresh_from_db()
    assert (review.version.number, review.answers.count()) == (1, 10)
    with pytest.raises(PermissionDenied):
        services.new_version(qa_centre["card"], services_criteria, actor=qa_centre["qa"])
