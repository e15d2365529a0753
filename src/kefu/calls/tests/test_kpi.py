"""The KPI definitions against hand-worked answers."""

from __future__ import annotations

import pytest

from kefu.calls.kpi import Totals, compute, staffed_seconds, staffed_totals


def test_every_kpi_from_known_sums() -> None:
    # given 100 offered: 80 answered (70 within Y), 20 abandoned of which 4 short
    t = Totals(
        offered=100, answered=80, abandoned=20, short_abandoned=4, answered_within=70,
        rung=60, timely=54, wait_answered_s=1600, talk_s=14_400, hold_s=800, acw_s=2400,
        longest_wait_s=310, staffed_s=28_800,
    )  # fmt: skip
    k = compute(t)
    assert k.answer_rate == 0.8
    assert k.abandon_rate == 16 / 96
    assert k.asa_s == 20.0
    assert k.talk_avg_s == 180.0
    assert k.acw_avg_s == 30.0
    assert k.aht_s == 220.0
    assert k.sl_answered == 0.875
    assert k.sl_offered == 70 / 96
    assert k.timely_rate == 0.9
    assert k.longest_wait_s == 310
    assert k.occupancy == 17_600 / 28_800


def test_empty_groups_have_no_ratios() -> None:
    k = compute(Totals())
    assert (k.answer_rate, k.asa_s, k.sl_offered, k.timely_rate, k.occupancy) == (
        None, None, None, None, None,
    )  # fmt: skip
    assert k.offered == 0


def test_sums_add_and_ratios_come_from_sums() -> None:
    a = Totals(offered=10, answered=10, answered_within=10, wait_answered_s=0, longest_wait_s=3)
    b = Totals(offered=30, answered=10, answered_within=0, wait_answered_s=400, longest_wait_s=90)
    both = a + b
    assert both.longest_wait_s == 90
    assert both.staffed_s is None
    assert compute(both).sl_answered == 0.5  # not the mean of 100 % and 0 %
    assert compute(both).asa_s == 20.0
    assert (a + Totals(staffed_s=60)).staffed_s == 60


def test_staffed_seconds_split_by_interval_and_pauses() -> None:
    events = [
        (1000, "A", "login"),
        (1300, "A", "pause"),  # 300 s staffed
        (1500, "A", "unpause"),
        (2000, "A", "logoff"),  # 500 s staffed
        (1100, "B", "unpause"),  # seen first unpausing: logged in since then
    ]
    events.sort()
    got = staffed_seconds(events, start=900, end=2700, interval_s=900)
    assert got == {
        ("A", 900): 300 + 300,  # 1000-1300 and 1500-1800
        ("A", 1800): 200,  # 1800-2000
        ("B", 900): 700,  # 1100-1800
        ("B", 1800): 900,  # still logged in at the end of the range
    }


@pytest.mark.parametrize("interval", [900, 1800, 3600])
def test_staffed_seconds_total_does_not_depend_on_the_interval(interval: int) -> None:
    events = [(0, "A", "login"), (5000, "A", "logoff")]
    got = staffed_seconds(events, start=0, end=7200, interval_s=interval)
    assert sum(got.values()) == 5000


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_staffed_totals_equal_the_per_agent_interval_seconds(seed: int) -> None:
    import random

    rng = random.Random(seed)
    kinds = ("login", "logoff", "pause", "unpause")
    events = sorted(
        (rng.randrange(0, 20_000), f"A{rng.randrange(5)}", rng.choice(kinds)) for _ in range(60)
    )
    start, end, step = 1_000, 19_000, 900
    detailed = staffed_seconds(events, start, end, step)
    per_interval, per_agent = staffed_totals(events, start, end, step)
    by_interval: dict[int, int] = {}
    by_agent: dict[str, int] = {}
    for (agent, bucket), seconds in detailed.items():
        by_interval[bucket] = by_interval.get(bucket, 0) + seconds
        by_agent[agent] = by_agent.get(agent, 0) + seconds
    assert per_interval == {k: v for k, v in by_interval.items() if v}
    assert per_agent == {k: v for k, v in by_agent.items() if v}
