"""The priority score against known answers."""

from decimal import Decimal

import pytest

from kefu.requirements.scoring import priority


@pytest.mark.parametrize(
    ("importance", "feasibility", "benefit", "expected"),
    [
        (5, 5, 5, Decimal("100.0")),
        (1, 1, 1, Decimal("0.0")),
        (3, 3, 3, Decimal("50.0")),
        (5, 1, 1, Decimal("40.0")),  # 0.40*5 + 0.25 + 0.35 = 2.6 → 1.6 / 4
        (1, 5, 1, Decimal("25.0")),
        (1, 1, 5, Decimal("35.0")),
        (4, 2, 5, Decimal("71.3")),  # 1.6 + 0.5 + 1.75 = 3.85 → 71.25, half up
        (2, 4, 3, Decimal("46.3")),  # 0.8 + 1.0 + 1.05 = 2.85 → 46.25, half up
    ],
)
def test_priority(importance, feasibility, benefit, expected):
    assert priority(importance, feasibility, benefit) == expected


def test_priority_waits_for_every_judgement():
    assert priority(5, None, 3) is None


@pytest.mark.parametrize("bad", [0, 6, True, 2.5])
def test_priority_refuses_values_off_the_scale(bad):
    with pytest.raises(ValueError, match="from 1 to 5"):
        priority(bad, 3, 3)
