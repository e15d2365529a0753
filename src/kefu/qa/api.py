"""Quality inspection in the API: reviews (list, one, score, dispute, decide), sampling runs,
external evaluations and the QA report. Every path loads reviews through ``qa.access``."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import Http404, HttpRequest
from ninja import Query, Router
from pydantic import Field

from kefu.core.api_base import Input, Out
from kefu.core.pagination import SortKey, paginate
from kefu.core.permissions import require_perm
from kefu.core.validation import BodyId, PathId
from kefu.qa import selectors, services
from kefu.qa.access import access_review
from kefu.qa.models import Review, SamplingPlan, Scorecard

router = Router(tags=["qa"])


class AnswerOut(Out):
    criterion: int
    code: str
    label: str
    section: str
    max_points: int
    weight: int
    critical: bool
    value: int | None
    comment: str
    auto_value: int | None
    auto_note: str


class ReviewOut(Out):
    id: int
    kind: str
    state: str
    scorecard: str
    version: int
    source: str
    object_id: int | None
    channel: str
    occurred_at: dt.datetime
    agent: int
    team: int | None
    inspector: int | None
    evaluator: str
    score: Decimal | None
    raw_score: Decimal | None
    failed_critical: bool
    comment: str
    submitted_at: dt.datetime | None
    answers: list[AnswerOut] | None = None


class ReviewPage(Out):
    items: list[ReviewOut]
    next_cursor: str | None


def _out(r: Review, *, answers: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": r.pk, "kind": r.kind, "state": r.state, "scorecard": r.version.scorecard.name,
        "version": r.version.number, "source": r.source, "object_id": r.object_id,
        "channel": r.channel, "occurred_at": r.occurred_at, "agent": r.agent_id,
        "team": r.team_id, "inspector": r.inspector_id, "evaluator": r.evaluator,
        "score": r.score,
        "raw_score": r.raw_score, "failed_critical": r.failed_critical, "comment": r.comment,
        "submitted_at": r.submitted_at,
    }  # fmt: skip
    if answers:
        data["answers"] = [
            {"criterion": a.criterion_id, "code": a.criterion.code, "label": a.criterion.label,
             "section": a.criterion.section, "max_points": a.criterion.max_points,
             "weight": a.criterion.weight, "critical": a.criterion.critical, "value": a.value,
             "comment": a.comment, "auto_value": a.auto_value, "auto_note": a.auto_note}
            for a in selectors.answers_of(r)
        ]  # fmt: skip
    return data


class ReviewFilter(Input):
    state: str = Field("", max_length=10)
    cursor: str | None = None
    limit: int = Field(50, ge=1, le=200)


SORT = {"created": SortKey("created_at", "datetime")}


@router.get("/qa/reviews", response=ReviewPage, summary="QA reviews the caller may see")
def list_reviews(request: HttpRequest, f: Query[ReviewFilter]) -> dict[str, Any]:
    if f.state and f.state not in Review.State.values:
        from django.core.exceptions import ValidationError

        raise ValidationError({"state": [f"choose one of: {', '.join(Review.State.values)}"]})
    qs = selectors.list_reviews(request.user, state=f.state)
    page = paginate(qs, sort="-created", keys=SORT, cursor=f.cursor, limit=f.limit)
    return {"items": [_out(r) for r in page.items], "next_cursor": page.next_cursor}


@router.get("/qa/reviews/{review_id}", response=ReviewOut, summary="One review with its answers")
def get_review(request: HttpRequest, review_id: PathId) -> dict[str, Any]:
    return _out(access_review(request.user, review_id), answers=True)


class AnswerIn(Input):
    criterion: BodyId
    value: int | None = Field(None, ge=0, le=100)
    comment: str = Field("", max_length=500)


class ScoreIn(Input):
    answers: list[AnswerIn] = Field(default_factory=list, max_length=200)
    comment: str = Field("", max_length=4000)
    submit: bool = False


def _answers(items: list[AnswerIn]) -> dict[int, tuple[int | None, str]]:
    return {a.criterion: (a.value, a.comment) for a in items}


@router.post("/qa/reviews/{review_id}/score", response=ReviewOut, summary="Save or submit a score")
def score_review(request: HttpRequest, review_id: PathId, payload: ScoreIn) -> dict[str, Any]:
    review = access_review(request.user, review_id, perm="qa.review")
    review = services.save_review(review, _answers(payload.answers), actor=request.user,
                                  comment=payload.comment, submit=payload.submit)  # fmt: skip
    return _out(review, answers=True)


class DisputeIn(Input):
    reason: str = Field(..., max_length=2000)


@router.post(
    "/qa/reviews/{review_id}/dispute", response=ReviewOut, summary="Dispute a score (once)"
)
def dispute(request: HttpRequest, review_id: PathId, payload: DisputeIn) -> dict[str, Any]:
    review = access_review(request.user, review_id)
    services.dispute_review(review, payload.reason, actor=request.user)
    review.refresh_from_db()
    return _out(review)


class DecisionIn(Input):
    decision: str = Field(..., max_length=8)
    note: str = Field(..., max_length=2000)
    answers: list[AnswerIn] = Field(default_factory=list, max_length=200)


@router.post("/qa/reviews/{review_id}/decision", response=ReviewOut, summary="Decide a dispute")
def decide(request: HttpRequest, review_id: PathId, payload: DecisionIn) -> dict[str, Any]:
    review = access_review(request.user, review_id, perm="qa.decide")
    review = services.decide_dispute(review, payload.decision, actor=request.user,
                                     note=payload.note, answers=_answers(payload.answers))  # fmt: skip
    return _out(review, answers=True)


class RunIn(Input):
    seed: int | None = Field(None, ge=0, le=2**62)
    end: dt.datetime | None = None


class RunOut(Out):
    id: int
    seed: int
    picked: int
    period_start: dt.datetime
    period_end: dt.datetime
    reviews: list[int]


@router.post("/qa/plans/{plan_id}/runs", response={201: RunOut}, summary="Draw a plan's sample")
def run_plan(request: HttpRequest, plan_id: PathId, payload: RunIn) -> tuple[int, dict[str, Any]]:
    require_perm(request.user, "qa.review")
    plan = (
        SamplingPlan.objects.filter(pk=plan_id, is_active=True).select_related("scorecard").first()
    )
    if plan is None:
        raise Http404
    run = services.run_sample(plan, actor=request.user, end=payload.end, seed=payload.seed)
    return 201, {
        "id": run.pk, "seed": run.seed, "picked": run.picked, "period_start": run.period_start,
        "period_end": run.period_end,
        "reviews": list(run.reviews.order_by("id").values_list("id", flat=True)),
    }  # fmt: skip


class ExternalIn(Input):
    scorecard: BodyId
    agent: BodyId
    kind: str = Field(..., max_length=12)
    evaluator: str = Field(..., max_length=120)
    score: Decimal = Field(..., max_digits=5, decimal_places=2)
    occurred_at: dt.datetime
    comment: str = Field("", max_length=4000)


@router.post("/qa/external-reviews", response={201: ReviewOut}, summary="Record a mystery-shopper or third-party evaluation")  # fmt: skip
def external(request: HttpRequest, payload: ExternalIn) -> tuple[int, dict[str, Any]]:
    from django.core.exceptions import ValidationError

    from kefu.accounts.models import User

    require_perm(request.user, "qa.review")
    card = Scorecard.objects.filter(pk=payload.scorecard).first()
    version = card.current_version() if card else None
    agent = User.objects.filter(pk=payload.agent, is_active=True).first()
    errors = {}
    if version is None:
        errors["scorecard"] = ["no such scorecard"]
    if agent is None:
        errors["agent"] = ["no such user"]
    if errors or version is None:
        raise ValidationError(errors)
    review = services.record_external_review(
        actor=request.user, version=version, agent=agent, kind=payload.kind,
        evaluator=payload.evaluator, score=payload.score, occurred_at=payload.occurred_at,
        comment=payload.comment,
    )  # fmt: skip
    return 201, _out(review)


class ReportRow(Out):
    key: str
    label: str
    n: int
    mean: float
    failed_critical: int


class QaReportOut(Out):
    start: dt.datetime
    end: dt.datetime
    by_agent: list[ReportRow]
    by_team: list[ReportRow]
    by_week: list[ReportRow]
    by_criterion: list[ReportRow]
    external: list[ReportRow]
    agreement: float | None
    calibrations: int


class QaReportQuery(Input):
    start: dt.datetime
    end: dt.datetime


@router.get(
    "/qa/report", response=QaReportOut, summary="QA scores by agent, team, week and criterion"
)
def report(request: HttpRequest, q: Query[QaReportQuery]) -> Any:
    from django.core.exceptions import ValidationError

    require_perm(request.user, "qa.reports")
    if q.start.tzinfo is None or q.end.tzinfo is None or q.end <= q.start:
        raise ValidationError({"end": ["give start and end with a time zone, end after start"]})
    return selectors.report(request.user, q.start, q.end)
