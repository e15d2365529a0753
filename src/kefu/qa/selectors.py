"""Read queries: the inspector's queue, a review with its answers, calibration spreads and the
QA reports (by agent, team, criterion and week; worst criteria; inspector agreement)."""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from kefu.qa import scoring
from kefu.qa.access import visible_reviews
from kefu.qa.models import Answer, CalibrationSession, Review

SCORED = (Review.State.SUBMITTED, Review.State.DISPUTED, Review.State.FINAL)


def list_reviews(user: Any, *, state: str = "", mine: bool = False) -> QuerySet[Review]:
    qs = visible_reviews(user).select_related("agent", "inspector", "version__scorecard", "team")
    if state:
        qs = qs.filter(state=state)
    if mine:
        qs = qs.filter(inspector_id=user.pk)
    return qs.order_by("-created_at", "-id")


def answers_of(review: Review) -> list[Answer]:
    return list(
        review.answers.select_related("criterion").order_by("criterion__sort", "criterion_id")
    )


@dataclass(frozen=True)
class CriterionSpread:
    code: str
    label: str
    values: tuple[int | None, ...]
    spread: scoring.Spread | None


@dataclass(frozen=True)
class Calibration:
    session: CalibrationSession
    reviews: list[Review]
    criteria: list[CriterionSpread]
    total: scoring.Spread | None
    agreement: float | None


def calibration(session: CalibrationSession) -> Calibration:
    reviews = list(session.reviews.select_related("inspector").order_by("id"))
    answers: dict[int, dict[str, int | None]] = defaultdict(dict)
    labels: dict[str, str] = {}
    order: list[str] = []
    for a in Answer.objects.filter(review__calibration=session).select_related("criterion").order_by("criterion__sort", "criterion_id"):  # fmt: skip
        answers[a.review_id][a.criterion.code] = a.value
        if a.criterion.code not in labels:
            labels[a.criterion.code] = a.criterion.label
            order.append(a.criterion.code)
    done = [r for r in reviews if r.state != Review.State.DRAFT]
    rows = []
    for code in order:
        values = tuple(answers[r.pk].get(code) for r in done)
        rows.append(CriterionSpread(code, labels[code], values,
                                    scoring.spread([float(v) for v in values if v is not None])))  # fmt: skip
    total = scoring.spread([float(r.score) for r in done if r.score is not None])
    agreement = scoring.pairwise_agreement([answers[r.pk] for r in done])
    return Calibration(session, reviews, rows, total, agreement)


@dataclass(frozen=True)
class Row:
    key: str
    label: str
    n: int
    mean: float
    failed_critical: int


@dataclass(frozen=True)
class Report:
    start: dt.datetime
    end: dt.datetime
    by_agent: list[Row]
    by_team: list[Row]
    by_week: list[Row]
    by_criterion: list[Row]  # mean % of points earned, worst first
    external: list[Row]
    agreement: float | None
    calibrations: int


def _rows(
    groups: dict[tuple[str, str], list[tuple[float, bool]]], *, sort_by_key: bool = False
) -> list[Row]:
    rows = [
        Row(
            key,
            label,
            len(v),
            round(statistics.fmean(s for s, _f in v), 2),
            sum(1 for _s, f in v if f),
        )
        for (key, label), v in groups.items()
    ]
    return sorted(rows, key=(lambda r: r.key) if sort_by_key else (lambda r: (r.mean, r.label)))


def report(user: Any, start: dt.datetime, end: dt.datetime) -> Report:
    """QA scores of reviews scored in [start, end) that ``user`` may see."""
    reviews = list(
        visible_reviews(user)
        .filter(
            state__in=SCORED, submitted_at__gte=start, submitted_at__lt=end, score__isnull=False
        )
        .select_related("agent", "team")
    )
    internal = [r for r in reviews if r.kind == Review.Kind.INTERNAL]
    by_agent: dict[tuple[str, str], list[tuple[float, bool]]] = defaultdict(list)
    by_team: dict[tuple[str, str], list[tuple[float, bool]]] = defaultdict(list)
    by_week: dict[tuple[str, str], list[tuple[float, bool]]] = defaultdict(list)
    external: dict[tuple[str, str], list[tuple[float, bool]]] = defaultdict(list)
    for r in internal:
        item = (float(r.score or 0), r.failed_critical)
        by_agent[(str(r.agent_id), r.agent.display_label)].append(item)
        if r.team_id:
            by_team[(str(r.team_id), str(r.team))].append(item)
        year, week, _day = r.occurred_at.isocalendar()
        by_week[(f"{year}-W{week:02d}", f"{year}-W{week:02d}")].append(item)
    for r in reviews:
        if r.is_external:
            external[
                (f"{r.kind}:{r.agent_id}", f"{r.get_kind_display()} · {r.agent.display_label}")
            ].append((float(r.score or 0), False))
    by_criterion: dict[tuple[str, str], list[tuple[float, bool]]] = defaultdict(list)
    answers = Answer.objects.filter(
        review__in=[r.pk for r in internal], value__isnull=False
    ).values_list("criterion__code", "criterion__label", "value", "criterion__max_points")
    for code, label, value, max_points in answers:
        if value is None:
            continue
        by_criterion[(code, label)].append((100 * value / max_points, False))
    sessions = CalibrationSession.objects.filter(created_at__gte=start, created_at__lt=end)
    agreements = [a for s in sessions if (a := calibration(s).agreement) is not None]
    return Report(
        start, end, _rows(by_agent), _rows(by_team), _rows(by_week, sort_by_key=True),
        _rows(by_criterion), _rows(external),
        round(statistics.fmean(agreements), 4) if agreements else None, len(agreements),
    )  # fmt: skip
