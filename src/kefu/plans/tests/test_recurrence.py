"""The scheduler's maths, against dates worked out by hand."""

import datetime as dt

import pytest

from kefu.plans.recurrence import (
    Rule,
    RuleError,
    next_occurrence,
    nominal_dates,
    occurrences,
    shift,
)

D = dt.date


def dates(rule, until, since=None):
    return list(nominal_dates(rule, until, since=since))


@pytest.mark.parametrize(
    ("rule", "until", "expected"),
    [
        (Rule("daily", D(2026, 3, 30), interval=2), D(2026, 4, 5),
         [D(2026, 3, 30), D(2026, 4, 1), D(2026, 4, 3), D(2026, 4, 5)]),
        (Rule("weekly", D(2026, 3, 4), weekdays=(0, 4)), D(2026, 3, 17),
         [D(2026, 3, 6), D(2026, 3, 9), D(2026, 3, 13), D(2026, 3, 16)]),
        (Rule("weekly", D(2026, 3, 4), interval=2), D(2026, 4, 1),
         [D(2026, 3, 4), D(2026, 3, 18), D(2026, 4, 1)]),
        (Rule("monthly", D(2026, 1, 31), day=-1), D(2026, 4, 30),
         [D(2026, 1, 31), D(2026, 2, 28), D(2026, 3, 31), D(2026, 4, 30)]),
        (Rule("monthly", D(2026, 1, 10), day=31), D(2026, 3, 31),
         [D(2026, 1, 31), D(2026, 2, 28), D(2026, 3, 31)]),
        (Rule("quarterly", D(2026, 1, 15)), D(2026, 12, 31),
         [D(2026, 1, 15), D(2026, 4, 15), D(2026, 7, 15), D(2026, 10, 15)]),
        (Rule("yearly", D(2026, 3, 1), month=2, day=1), D(2028, 12, 31),
         [D(2027, 2, 1), D(2028, 2, 1)]),
        (Rule("once", D(2026, 5, 6)), D(2026, 12, 31), [D(2026, 5, 6)]),
        (Rule("monthly", D(2026, 1, 5), end=D(2026, 3, 1)), D(2026, 12, 31),
         [D(2026, 1, 5), D(2026, 2, 5)]),
        (Rule("rrule", D(2026, 1, 1), rrule="FREQ=MONTHLY;BYDAY=1MO;COUNT=3"), D(2026, 12, 31),
         [D(2026, 1, 5), D(2026, 2, 2), D(2026, 3, 2)]),
    ],
)  # fmt: skip
def test_nominal_dates(rule, until, expected):
    assert dates(rule, until) == expected


@pytest.mark.parametrize(
    "rule",
    [
        Rule("daily", D(2020, 1, 1), interval=3),
        Rule("weekly", D(2020, 1, 1), weekdays=(1, 3), interval=2),
        Rule("monthly", D(2020, 1, 31), day=-1, interval=2),
        Rule("quarterly", D(2020, 2, 29)),
        Rule("yearly", D(2020, 6, 1), month=1, day=15),
        Rule("rrule", D(2020, 1, 1), rrule="RRULE:FREQ=WEEKLY;BYDAY=TU"),
    ],
)
def test_skipping_ahead_gives_the_same_dates_as_walking(rule):
    since, until = D(2026, 2, 10), D(2026, 9, 1)
    walked = [d for d in dates(rule, until) if d >= since]
    assert dates(rule, until, since=since) == walked


def test_holidays_move_the_due_date_not_the_period():
    national_day = {D(2026, 10, d) for d in range(1, 8)}

    def working(d):
        return d.weekday() < 5 and d not in national_day

    assert shift(D(2026, 10, 1), working, "next") == D(2026, 10, 8)
    assert shift(D(2026, 10, 1), working, "previous") == D(2026, 9, 30)
    assert shift(D(2026, 10, 1), working, "none") == D(2026, 10, 1)
    rule = Rule("monthly", D(2026, 1, 1))
    found = occurrences(rule, today=D(2026, 10, 6), lead_days=2, is_working=working, how="next")
    assert [(o.period_start, o.due_on, o.generate_on) for o in found] == [
        (D(2026, 10, 1), D(2026, 10, 8), D(2026, 10, 6))
    ]
    assert (
        occurrences(rule, today=D(2026, 10, 5), lead_days=2, is_working=working, how="next") == []
    )


def test_a_round_already_made_or_past_due_is_not_offered():
    rule = Rule("daily", D(2026, 3, 1))
    assert [o.period_start for o in occurrences(rule, today=D(2026, 3, 10), lead_days=1)] == [
        D(2026, 3, 10),
        D(2026, 3, 11),
    ]
    after = occurrences(rule, today=D(2026, 3, 10), lead_days=1, after=D(2026, 3, 11))
    assert after == []
    nxt = next_occurrence(Rule("quarterly", D(2026, 1, 15)), today=D(2026, 5, 1))
    assert nxt is not None and nxt.due_on == D(2026, 7, 15)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"frequency": "hourly"},
        {"frequency": "monthly", "day": 0},
        {"frequency": "weekly", "weekdays": (7,)},
        {"frequency": "daily", "interval": 0},
        {"frequency": "rrule", "rrule": "FREQ=SOMETIMES"},
        {"frequency": "daily", "end": D(2025, 1, 1)},
    ],
)
def test_bad_rules_are_refused(kwargs):
    with pytest.raises(RuleError):
        Rule(start=D(2026, 1, 1), **kwargs)


@pytest.mark.parametrize(
    "text", ["FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", "FREQ=MONTHLY;BYMONTH=4;BYMONTHDAY=31"]
)
def test_an_rrule_that_names_no_date_is_refused(text):
    # Feb 30 and Apr 31 never come: the rule is refused with a reason instead of being kept
    # and walked to the year 9999 by every scheduler run
    with pytest.raises(RuleError, match="names no date"):
        Rule("rrule", D(2026, 1, 1), rrule=text)


def test_a_rare_rrule_is_kept_and_walks_stop_at_the_window_asked_for():
    import dateutil.rrule

    leap = Rule("rrule", D(2026, 1, 1), rrule="FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29")
    assert list(nominal_dates(leap, D(2036, 12, 31))) == [
        D(2028, 2, 29),
        D(2032, 2, 29),
        D(2036, 2, 29),
    ]
    assert list(nominal_dates(leap, D(2027, 12, 31))) == []
    # other walks in the process are not bounded
    assert dateutil.rrule.datetime.MAXYEAR == 9999
    every = dateutil.rrule.rrule(
        dateutil.rrule.YEARLY, dtstart=dt.datetime(9990, 1, 1, tzinfo=dt.UTC)
    )
    assert len(list(every)) == 10
