"""The API and the screens: every role sees what it may, bad input is a 4xx that changes
nothing, lists keep a fixed number of queries."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from kefu.core.models import Event
from kefu.qa import services
from kefu.qa.models import Dispute, Review, SampleRun, SamplingPlan
from kefu.testing.factories import ApiClient


def _review(c: dict[str, Any], *, submit: bool = True) -> Review:
    review = services.start_review(c["qa"], "ticket", c["ticket"].pk, c["version"])
    return services.save_review(review, {}, actor=c["qa"], submit=submit) if submit else review


def test_inspector_scores_through_the_api(qa_centre: dict[str, Any]) -> None:
    # given
    review = _review(qa_centre, submit=False)
    accuracy = review.answers.get(criterion__code="accuracy").criterion_id
    api = ApiClient(qa_centre["qa"])
    # when
    bad = api.post(
        f"qa/reviews/{review.pk}/score",
        {"answers": [{"criterion": accuracy, "value": 7}], "submit": True},
    )
    unchanged = Review.objects.get(pk=review.pk).state
    good = api.post(
        f"qa/reviews/{review.pk}/score",
        {"answers": [{"criterion": accuracy, "value": 5}], "submit": True},
    )
    # then
    assert bad.status_code == 422
    message = bad.json()["error"]["fields"]["answers"][0]
    assert message in (
        "“Accurate business answer”: 7 is outside 0–5.",
        "“Accurate business answer”：7 不在 0–5 之间。",
    )
    assert unchanged == Review.State.DRAFT
    assert good.status_code == 200
    body = good.json()
    assert (body["state"], body["score"], body["failed_critical"]) == ("submitted", "0.00", True)
    assert body["raw_score"] == "62.50"  # (5 + 5 + 5 + 25 + 10) / 80 before the forbidden word
    assert [a["code"] for a in body["answers"]][:3] == ["greeting", "closing", "forbidden"]


def test_agent_sees_only_own_scored_reviews_and_disputes_once(qa_centre: dict[str, Any]) -> None:
    # given
    draft = _review(qa_centre, submit=False)
    scored = _review(qa_centre)
    agent, other = ApiClient(qa_centre["agent"]), ApiClient(qa_centre["other"])
    # then
    assert [r["id"] for r in agent.get("qa/reviews").json()["items"]] == [scored.pk]
    assert agent.get(f"qa/reviews/{draft.pk}").status_code == 404
    assert other.get(f"qa/reviews/{scored.pk}").status_code == 404
    assert other.post(f"qa/reviews/{scored.pk}/dispute", {"reason": "x"}).status_code == 404
    assert agent.post(f"qa/reviews/{scored.pk}/score", {"submit": True}).status_code == 403
    # when
    first = agent.post(f"qa/reviews/{scored.pk}/dispute", {"reason": "转写不完整"})
    second = agent.post(f"qa/reviews/{scored.pk}/dispute", {"reason": "再来"})
    # then
    assert first.status_code == 200 and first.json()["state"] == "disputed"
    assert second.status_code == 422
    assert Dispute.objects.filter(review=scored).count() == 1
    assert (
        ApiClient(qa_centre["qa"])
        .post(f"qa/reviews/{scored.pk}/decision", {"decision": "upheld", "note": "x"})
        .status_code
        == 403
    )
    decided = ApiClient(qa_centre["supervisor"]).post(
        f"qa/reviews/{scored.pk}/decision", {"decision": "upheld", "note": "维持"}
    )
    assert decided.status_code == 200 and decided.json()["state"] == "final"


def test_review_list_has_a_fixed_query_budget(qa_centre: dict[str, Any]) -> None:
    for _ in range(3):
        _review(qa_centre)
    api = ApiClient(qa_centre["supervisor"])
    api.get("qa/reviews")
    with CaptureQueriesContext(connection) as few:
        assert api.get("qa/reviews").status_code == 200
    for _ in range(5):
        _review(qa_centre)
    with CaptureQueriesContext(connection) as many:
        assert len(api.get("qa/reviews").json()["items"]) == 8
    assert len(many.captured_queries) == len(few.captured_queries)


def test_bad_ids_and_unknown_fields_are_refused(qa_centre: dict[str, Any]) -> None:
    api = ApiClient(qa_centre["qa"])
    assert api.get("qa/reviews/99999999999999999999").status_code == 422
    assert api.post("qa/plans/1/runs", {"seed": 1, "colour": "red"}).status_code == 422
    assert api.get("qa/reviews", {"state": "open"}).status_code == 422
    external = api.post("qa/external-reviews", {"scorecard": qa_centre["card"].pk, "agent": qa_centre["agent"].pk,
                        "kind": "mystery", "evaluator": "神秘客户", "score": "101", "occurred_at": "2026-05-01T10:00:00+08:00"})  # fmt: skip
    assert external.status_code == 422
    assert not Review.objects.exists()


def test_screens_show_the_interaction_beside_the_scorecard(qa_centre: dict[str, Any]) -> None:
    # given
    review = _review(qa_centre, submit=False)
    client = Client()
    client.force_login(qa_centre["qa"])
    # when
    page = client.get(f"/qa/reviews/{review.pk}/").content.decode()
    # then
    assert 'data-testid="transcript"' in page
    assert "这是规定" in page and "很高兴为您服务" in page
    assert 'name="c' in page and 'value="submit"' in page
    # the agent cannot open a draft, and the home page shows only their results
    agent = Client()
    agent.force_login(qa_centre["agent"])
    assert agent.get(f"/qa/reviews/{review.pk}/").status_code == 404
    assert 'data-testid="qa-results"' in agent.get("/qa/").content.decode()
    # posting a score through the form
    accuracy = review.answers.get(criterion__code="accuracy").criterion_id
    response = client.post(
        f"/qa/reviews/{review.pk}/",
        {"action": "submit", f"c{accuracy}": "4", "comment": "<b>ok</b>"},
    )
    assert response.status_code == 302
    review.refresh_from_db()
    assert review.state == Review.State.SUBMITTED
    assert "&lt;b&gt;ok&lt;/b&gt;" in client.get(f"/qa/reviews/{review.pk}/").content.decode()


def test_reports_page_and_csv_export(qa_centre: dict[str, Any]) -> None:
    _review(qa_centre)
    client = Client()
    client.force_login(qa_centre["supervisor"])
    assert 'data-testid="report-agents"' in client.get("/qa/reports/").content.decode()
    csv = client.get("/qa/reports/", {"format": "csv"}).content.decode("utf-8-sig").splitlines()
    assert len(csv) == 1 + 1 + 1 + 1 + 7  # header, agent, team, week, the seven answered criteria
    assert csv[1].endswith(f",{qa_centre['agent'].display_label},1,0.0,1")
    agent = Client()
    agent.force_login(qa_centre["agent"])
    assert agent.get("/qa/reports/").status_code == 403


def test_inspector_home_calibration_page_and_sample_draw(qa_centre: dict[str, Any]) -> None:
    # given
    session = services.start_calibration(
        actor=qa_centre["qa"], title="<i>校准</i>", source="ticket", object_id=qa_centre["ticket"].pk,
        version=qa_centre["version"], inspectors=[qa_centre["qa"], qa_centre["qa2"]],
    )  # fmt: skip
    plan = SamplingPlan.objects.create(name="每周", scorecard=qa_centre["card"], per_agent=2)
    client = Client()
    client.force_login(qa_centre["qa"])
    # when
    home = client.get("/qa/").content.decode()
    drawn = client.post(f"/qa/plans/{plan.pk}/run/", {"seed": "11"})
    bad_seed = client.post(f"/qa/plans/{plan.pk}/run/", {"seed": "abc"})
    page = client.get(f"/qa/calibration/{session.pk}/").content.decode()
    # then
    assert 'data-testid="qa-plans"' in home and "每周" in home
    assert drawn.status_code == 302 and bad_seed.status_code == 302
    assert SampleRun.objects.get(plan=plan).seed == 11
    assert SampleRun.objects.count() == 1
    assert "&lt;i&gt;校准&lt;/i&gt;" in page and 'data-testid="calibration-spread"' in page
    agent = Client()
    agent.force_login(qa_centre["agent"])
    assert agent.get(f"/qa/calibration/{session.pk}/").status_code == 403
    assert agent.post(f"/qa/plans/{plan.pk}/run/").status_code == 403


def test_taking_a_sampled_review_is_recorded_and_only_once(qa_centre: dict[str, Any]) -> None:
    plan = SamplingPlan.objects.create(name="p", scorecard=qa_centre["card"], per_agent=1)
    run = services.run_sample(plan, actor=qa_centre["qa"], seed=1)
    review = run.reviews.get()
    first, second = Client(), Client()
    first.force_login(qa_centre["qa"])
    second.force_login(qa_centre["qa2"])
    assert first.post(f"/qa/reviews/{review.pk}/take/").status_code == 302
    assert second.post(f"/qa/reviews/{review.pk}/take/")["Location"] == "/qa/"
    review.refresh_from_db()
    assert review.inspector_id == qa_centre["qa"].pk
    assert Event.objects.filter(action="qa_review_taken", object_id=review.pk).count() == 1


def test_the_demo_seeder_fills_every_screen(qa_centre: dict[str, Any]) -> None:
    import random

    from django.utils import timezone

    from kefu.core.demo import DemoContext
    from kefu.qa.demo import seed_qa
    from kefu.qa.models import CalibrationSession, CoachingTask, Scorecard
    from kefu.testing.factories import make_ticket

    Scorecard.objects.all().delete()  # the seeder runs on a centre without QA data
    make_ticket(
        actor=qa_centre["supervisor"],
        title="咨询",
        assignee=qa_centre["other"],
        team=qa_centre["team"],
    )
    ctx = DemoContext(rng=random.Random(1), now=timezone.now())
    ctx.data.update(admin=qa_centre["admin"], qa=qa_centre["qa"], supervisor=qa_centre["supervisor"],
                    agents=[qa_centre["agent"]])  # fmt: skip
    seed_qa(ctx)
    assert (
        Review.objects.filter(state="final").count() == 2
    )  # the decided dispute, the mystery shopper
    assert CoachingTask.objects.count() == 1
    assert CalibrationSession.objects.count() == 1
