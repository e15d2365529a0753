import datetime as dt

import pytest

from kefu.field.reorder import daily_use, suggest

TODAY = dt.date(2026, 12, 3)


@pytest.mark.parametrize(
    ("available", "min_qty", "lead", "used", "days", "target", "order", "arrives", "runs_out"),
    [
        # no use: keep the minimum only
        (1, 3, 14, 0, 90, 3, 2, dt.date(2026, 12, 17), None),
        # 45 used in 90 days = 0.5 a day; 10 days' lead time = 5 more than the minimum
        (4, 2, 10, 45, 90, 7, 3, dt.date(2026, 12, 13), dt.date(2026, 12, 11)),
        # a fraction of a part is a whole part on the shelf: 0.2 × 7 = 1.4 → 2
        (0, 1, 7, 18, 90, 3, 3, dt.date(2026, 12, 10), dt.date(2026, 12, 3)),
        # enough on hand: nothing to order
        (20, 2, 10, 45, 90, 7, 0, None, dt.date(2027, 1, 12)),
        # what is already reserved beyond stock (negative available) is ordered too
        (-2, 1, 0, 0, 90, 1, 3, dt.date(2026, 12, 3), None),
    ],
)
def test_suggestions_from_known_answers(
    available, min_qty, lead, used, days, target, order, arrives, runs_out
):
    s = suggest(
        available=available,
        min_qty=min_qty,
        lead_time_days=lead,
        used=used,
        period_days=days,
        today=TODAY,
    )
    assert (s.target, s.order_qty, s.arrives_on, s.runs_out_on) == (
        target,
        order,
        arrives,
        runs_out,
    )


def test_what_is_already_on_order_counts():
    s = suggest(
        available=1, min_qty=3, lead_time_days=5, used=0, period_days=90, today=TODAY, on_order=2
    )
    assert s.order_qty == 0


def test_daily_use_of_an_empty_period_is_zero():
    assert daily_use(10, 0) == 0.0
    assert daily_use(0, 30) == 0.0
    assert daily_use(9, 90) == 0.1


def test_negative_settings_are_refused():
    with pytest.raises(ValueError, match="never negative"):
        suggest(available=1, min_qty=-1, lead_time_days=1, used=0, period_days=1, today=TODAY)
