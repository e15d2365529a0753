"""Rosters (rotation, constraints, optimiser) and the day simulation against Erlang."""

from __future__ import annotations

import numpy as np
import pytest

from kefu.wfm import erlang, roster, simulation
from kefu.wfm.roster import Agent, Problem


def test_four_team_rotation_covers_every_shift_every_day():
    # given four teams of one agent each on 四值三运转
    agents = [Agent(t, team=t) for t in "ABCD"]
    problem = Problem(np.zeros(8 * 48, dtype=np.int64), 30, 0, agents, min_days_off_per_week=0)
    # when
    days = {a.id: [roster.rotation_shift(problem, a, d) for d in range(8)] for a in agents}
    # then each team runs 夜夜白白中中休休 two days after the previous one
    assert days["A"] == ["N", "N", "D", "D", "E", "E", None, None]
    assert days["B"] == ["D", "D", "E", "E", None, None, "N", "N"]
    for d in range(8):
        assert sorted(str(days[t][d]) for t in "ABCD") == ["D", "E", "N", "None"]
    # one agent on duty round the clock, except three half-hour meal breaks a day
    cov = roster.coverage_of(days, roster.CATALOGUE, 30, 8 * 48)
    assert cov.tolist().count(0) == 8 * 3 and cov.max() == 1
    assert cov[2 * 48 + 22] == 0  # the day shift's break opens its window at 11:00
    # and the rotation keeps at least 16 h between shifts
    assert roster.check(problem, days) == []


def test_check_names_each_broken_rule():
    agent = Agent("li", days_off=frozenset({2}), leave=frozenset({3}), max_week_minutes=16 * 60)
    problem = Problem(np.zeros(7 * 96, dtype=np.int64), 15, 0, [agent])
    broken = roster.check(problem, {"li": ["E", "N", "D", "D", None, None, None]})
    assert broken == [
        "li day 3: a fixed day off",
        "li day 4: on leave",
        "li day 2: 0 h rest, under 12 h",
        "li week 1: 30.0 h, over 16 h",
    ]


def test_solver_covers_a_small_requirement_at_least_cost():
    # given two office-hours agents needed 09:00–18:00 on weekdays of one week (30-minute slots)
    req = np.zeros(7 * 48, dtype=np.int64)
    for d in range(5):
        req[d * 48 + 18 : d * 48 + 36] = 2
    agents = [Agent(f"a{i}", frozenset({"phone"})) for i in range(3)] + [Agent("x", frozenset())]
    problem = Problem(req, 30, 0, agents, skill="phone", shifts=[roster.OFFICE, roster.DAY])
    # when
    sol = roster.solve(problem, time_limit_s=5)
    # then each weekday two office shifts (09–18, lunches staggered) and one day shift (08–16)
    # whose 11:00 break falls before the lunches: full cover for 10 × 480 + 5 × 450 paid minutes
    shifts = [c for days in sol.assignments.values() for c in days if c]
    assert "x" not in sol.assignments
    assert (shifts.count("O"), shifts.count("D"), len(shifts)) == (10, 5, 15)
    assert all(days[5] is None and days[6] is None for days in sol.assignments.values())
    assert roster.check(problem, sol.assignments) == []
    assert sol.short_intervals == 0
    assert sol.objective == 7050.0


def test_solver_respects_leave_and_weekly_hours():
    req = np.full(7 * 24, 1, dtype=np.int64)
    agents = [Agent("wang", leave=frozenset({0, 1}), max_week_minutes=24 * 60)]
    problem = Problem(req, 60, 0, agents, shifts=[roster.DAY])
    sol = roster.solve(problem, time_limit_s=3)
    days = sol.assignments["wang"]
    assert days[0] is None and days[1] is None
    assert sum(1 for c in days if c) == 3  # 3 × 7.5 paid hours fit 24 h, 4 would not
    assert roster.check(problem, sol.assignments) == []


def test_solver_refuses_bad_problems():
    with pytest.raises(ValueError, match="whole days"):
        roster.solve(Problem(np.zeros(10, dtype=np.int64), 60, 0, []))
    with pytest.raises(ValueError, match="unknown rotation team"):
        roster.solve(Problem(np.zeros(24, dtype=np.int64), 60, 0, [Agent("a", team="Z")]))


def test_simulation_agrees_with_erlang_c_and_a():
    # a steady day: 100 calls per 30 minutes, 180 s handle time
    c = simulation.simulate(np.full(48, 100.0), np.full(48, 14), 30, mean_handle=180, seed=1,
                            replications=10)  # fmt: skip
    sl, asa, ab = c.totals()
    theory = erlang.erlang_c_figures(14, 100 / 1800, 180, 20)
    assert abs(sl - theory.service_level) < 0.02 and abs(asa - theory.asa) < 2.0 and ab == 0.0
    a = simulation.simulate(np.full(48, 100.0), np.full(48, 11), 30, mean_handle=180,
                            mean_patience=120, seed=1, replications=4)  # fmt: skip
    sl, asa, ab = a.totals()
    theory = erlang.erlang_a_figures(11, 100 / 1800, 180, 120, 20)
    assert abs(sl - theory.service_level) < 0.02
    assert abs(ab - theory.abandonment) < 0.01
    assert abs(asa - theory.asa) < 1.5


def test_simulation_is_reproducible_and_checks_input():
    args = (np.array([10.0, 20.0, 0.0]), np.array([1, 2, 0]), 15)
    one = simulation.simulate(*args, handle_times=[60, 120, 300], mean_patience=90, seed=7)
    two = simulation.simulate(*args, handle_times=[60, 120, 300], mean_patience=90, seed=7)
    assert one.offered.tolist() == two.offered.tolist()
    assert one.wait_total.tolist() == two.wait_total.tolist()
    assert int(one.offered[2]) == 0
    # with nobody on duty every patient contact eventually hangs up
    none = simulation.simulate([50.0], [0], 15, mean_handle=60, mean_patience=30, seed=1)
    assert int(none.abandoned[0]) == int(none.offered[0]) > 0 and none.totals()[0] == 0.0
    with pytest.raises(ValueError, match="one value per interval"):
        simulation.simulate([1.0, 2.0], [1], 15, mean_handle=60)
    with pytest.raises(ValueError, match="handle"):
        simulation.simulate([1.0], [1], 15)
