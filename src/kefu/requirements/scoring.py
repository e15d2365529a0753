"""The priority score of a customer requirement: pure arithmetic, no Django.

Importance, feasibility and benefit are each judged from 1 (low) to 5 (high). The score is
their weighted mean mapped onto 0–100: importance weighs most, then benefit, then feasibility
(a requirement that matters and pays is worth planning even when it is hard).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

WEIGHTS = {
    "importance": Decimal("0.40"),
    "benefit": Decimal("0.35"),
    "feasibility": Decimal("0.25"),
}
LOW, HIGH = 1, 5


def priority(
    importance: int | None, feasibility: int | None, benefit: int | None
) -> Decimal | None:
    """0.0–100.0, one decimal (half up); None until all three are judged."""
    values = {"importance": importance, "feasibility": feasibility, "benefit": benefit}
    if any(v is None for v in values.values()):
        return None
    for name, value in values.items():
        if not isinstance(value, int) or isinstance(value, bool) or not LOW <= value <= HIGH:
            raise ValueError(f"{name} must be an integer from {LOW} to {HIGH}")
    mean = Decimal(0)
    for name, value in values.items():
        mean += WEIGHTS[name] * Decimal(value or 0)
    score = (mean - LOW) / (HIGH - LOW) * 100
    return score.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
