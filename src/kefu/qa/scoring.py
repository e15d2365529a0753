"""Scoring a review and measuring how inspectors agree: pure functions, no Django.

A review's score is the weighted share of points earned over the criteria that apply, as a
percentage: a yes/no criterion earns its weight for "yes", a 0–N criterion earns weight × n / N,
and "not applicable" (None) leaves the criterion out of both sides. A critical criterion that
does not earn full points fails the whole review: its score is 0.
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class CriterionSpec:
    code: str
    weight: float
    max_points: int = 1  # 1 for yes/no
    critical: bool = False


@dataclass(frozen=True)
class Score:
    percent: float | None  # None when no criterion applies
    failed_critical: tuple[str, ...] = ()
    raw_percent: float | None = None  # before a critical failure zeroes it


def score(specs: Sequence[CriterionSpec], answers: Mapping[str, int | None]) -> Score:
    """``answers`` maps a criterion code to the points given (None: not applicable)."""
    earned = possible = 0.0
    failed: list[str] = []
    for spec in specs:
        value = answers.get(spec.code)
        if value is None:
            continue
        if not 0 <= value <= spec.max_points:
            raise ValueError(f"{spec.code}: {value} is outside 0–{spec.max_points}")
        earned += spec.weight * value / spec.max_points
        possible += spec.weight
        if spec.critical and value < spec.max_points:
            failed.append(spec.code)
    if possible == 0:
        return Score(None, tuple(failed))
    raw = round(100 * earned / possible, 2)
    return Score(0.0 if failed else raw, tuple(failed), raw)


@dataclass(frozen=True)
class Spread:
    n: int
    mean: float
    stdev: float  # population standard deviation
    low: float
    high: float

    @property
    def range(self) -> float:
        return self.high - self.low


def spread(values: Sequence[float]) -> Spread | None:
    """How far apart the inspectors' values are (None for no values)."""
    if not values:
        return None
    return Spread(
        len(values),
        round(statistics.fmean(values), 2),
        round(statistics.pstdev(values), 2),
        min(values),
        max(values),
    )


def pairwise_agreement(sheets: Sequence[Mapping[str, int | None]]) -> float | None:
    """The share of (criterion, pair of inspectors) where both gave the same answer — "not
    applicable" included — over the criteria both sheets name; None with fewer than two."""
    same = total = 0
    for a, b in itertools.combinations(sheets, 2):
        for code in sorted(set(a) & set(b)):
            total += 1
            same += a[code] == b[code]
    return round(same / total, 4) if total else None
