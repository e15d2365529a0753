"""Satisfaction figures from answer counts. Pure: no Django; screens, the API, the export and
the benchmark all call :func:`figures`.

- CSAT % = satisfied answers / answers on a satisfaction scale × 100, where satisfied is the top
  two of the 4-level scale (非常满意 4, 满意 3) or 4–5 of 5 stars.
- NPS = % promoters (9–10) − % detractors (0–6) of the 0–10 answers.
- Response rate = answered invitations / sent invitations × 100.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

LEVEL4 = "level4"
STARS = "stars"
SATISFIED_FROM = {LEVEL4: 3, STARS: 4}
DISSATISFIED_UPTO = {LEVEL4: 1, STARS: 2}


def is_satisfied(scale: str, score: int) -> bool:
    return score >= SATISFIED_FROM[scale]


def is_dissatisfied(scale: str, score: int) -> bool:
    return score <= DISSATISFIED_UPTO[scale]


@dataclass
class Tally:
    """Counts for one group of answers (one agent, one week, ...)."""

    sent: int = 0
    answered: int = 0
    csat_answers: int = 0
    csat_satisfied: int = 0
    nps_answers: int = 0
    promoters: int = 0
    detractors: int = 0
    distribution: dict[str, dict[int, int]] = field(default_factory=dict)

    def add(self, other: Tally) -> None:
        self.sent += other.sent
        self.answered += other.answered
        self.csat_answers += other.csat_answers
        self.csat_satisfied += other.csat_satisfied
        self.nps_answers += other.nps_answers
        self.promoters += other.promoters
        self.detractors += other.detractors
        for scale, counts in other.distribution.items():
            mine = self.distribution.setdefault(scale, {})
            for score, n in counts.items():
                mine[score] = mine.get(score, 0) + n


@dataclass(frozen=True)
class Figures:
    sent: int
    answered: int
    response_rate: float | None
    csat_answers: int
    csat: float | None
    nps_answers: int
    nps: float | None
    promoters: float | None
    detractors: float | None
    distribution: Mapping[str, Mapping[int, int]]


def _pct(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def figures(t: Tally) -> Figures:
    promoters = _pct(t.promoters, t.nps_answers)
    detractors = _pct(t.detractors, t.nps_answers)
    nps = round(100.0 * (t.promoters - t.detractors) / t.nps_answers, 1) if t.nps_answers else None
    return Figures(
        sent=t.sent,
        answered=t.answered,
        response_rate=_pct(t.answered, t.sent),
        csat_answers=t.csat_answers,
        csat=_pct(t.csat_satisfied, t.csat_answers),
        nps_answers=t.nps_answers,
        nps=nps,
        promoters=promoters,
        detractors=detractors,
        distribution={k: dict(sorted(v.items())) for k, v in sorted(t.distribution.items())},
    )


def count_answer(t: Tally, scale: str, score: int | None, nps: int | None, n: int = 1) -> None:
    """Add ``n`` answers with this (CSAT scale, CSAT score, NPS score) to ``t``."""
    t.answered += n
    if scale and score is not None:
        t.csat_answers += n
        if is_satisfied(scale, score):
            t.csat_satisfied += n
        bucket = t.distribution.setdefault(scale, {})
        bucket[score] = bucket.get(score, 0) + n
    if nps is not None:
        t.nps_answers += n
        if nps >= 9:
            t.promoters += n
        elif nps <= 6:
            t.detractors += n


def tally_answers(answers: Iterable[tuple[str, int | None, int | None]], sent: int = 0) -> Tally:
    """Count (csat scale, csat score, nps score) triples one by one: the slow, obvious way the
    tests and the benchmark compare the database's counts with."""
    t = Tally(sent=sent)
    for scale, score, nps in answers:
        count_answer(t, scale, score, nps)
    return t
