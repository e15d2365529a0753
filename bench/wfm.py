"""kefu bench wfm — staffing for a year of 15-minute intervals, and a 200-agent, 4-week roster.

1. Staffing: Erlang C for 35,040 intervals (a year at 15 minutes) with a daily double peak,
   weekly and yearly seasonality, 80/20 target, 30 % shrinkage — one vectorised call. Erlang A
   (mean patience 180 s) is timed as well.
2. Roster: 200 agents over 4 weeks at 15 minutes — 40 on 四值三运转 in four teams, 160 flexible
   (night, day, evening, office, peak and split peak shifts), each with some leave and some with
   a fixed day off — against a requirement from step 1's formulas, solved with OR-Tools CP-SAT
   within a 40 s limit. Prints the short intervals (the coverage gap) and the cost.
3. Simulation: the roster's busiest day simulated against the Erlang figures.

--scale shrinks the year and the roster (agents and time limit) for a quick run. Ends with a
JSON line.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from bench._harness import emit, say

YEAR = 35_040
AHT = 240.0


def volume(intervals: int) -> np.ndarray:
    """Calls per 15 minutes: peaks at 9–11 and 19–21, quieter weekends, summer and winter highs."""
    t = np.arange(intervals)
    hour = (t % 96) / 4
    day = t // 96
    profile = (
        8
        + 40 * np.exp(-(((hour - 10) / 1.4) ** 2))
        + 32 * np.exp(-(((hour - 20) / 1.3) ** 2))
        + 20 * ((hour > 8) & (hour < 22))
    )
    weekly = np.where(day % 7 >= 5, 0.75, 1.0)
    yearly = 1.0 + 0.15 * np.cos(2 * np.pi * (day - 200) / 365) ** 2
    return profile * weekly * yearly


def main(scale: float, argv: list[str]) -> int:
    from kefu.wfm import erlang, roster, simulation

    parser = argparse.ArgumentParser(prog="kefu bench wfm")
    parser.add_argument("--time-limit", type=float, default=40.0)
    args = parser.parse_args(argv)

    n = max(96, int(YEAR * scale))
    vol = volume(n)
    target = erlang.Target(0.8, 20)
    started = time.perf_counter()
    st = erlang.required_agents(vol, AHT, 900, target, shrinkage=0.3)
    staffing_s = time.perf_counter() - started
    started = time.perf_counter()
    sta = erlang.required_agents(vol, AHT, 900, target, model=erlang.Model.ERLANG_A,
                                 patience=180.0, shrinkage=0.3)  # fmt: skip
    staffing_a_s = time.perf_counter() - started
    say(f"staffing: {n} intervals, Erlang C {staffing_s:.3f} s, Erlang A {staffing_a_s:.3f} s; "
        f"peak {int(st.scheduled.max())} agents to schedule (Erlang A {int(sta.scheduled.max())})")  # fmt: skip

    agents_n = max(12, round(200 * min(scale * 100, 1.0)))
    teams = agents_n // 5
    rng = np.random.default_rng(13)
    agents = [roster.Agent(f"t{i:03d}", frozenset({"phone"}), team="ABCD"[i % 4],
                           leave=frozenset({int(rng.integers(28))})) for i in range(teams)]  # fmt: skip
    for i in range(agents_n - teams):
        leave = frozenset(
            int(d) for d in rng.choice(28, size=int(rng.integers(0, 3)), replace=False)
        )
        off = frozenset({int(rng.integers(7))}) if i % 3 == 0 else frozenset()
        agents.append(roster.Agent(f"f{i:03d}", frozenset({"phone"}), leave=leave, days_off=off))
    days = 28
    four_weeks = volume(days * 96) * 0.9 * agents_n / 200
    req = erlang.required_agents(four_weeks, AHT, 900, target, shrinkage=0.1).scheduled
    problem = roster.Problem(req, 15, 0, agents, skill="phone")
    limit = args.time_limit if scale >= 0.5 else max(3.0, args.time_limit * scale * 10)
    started = time.perf_counter()
    sol = roster.solve(problem, time_limit_s=limit)
    roster_s = time.perf_counter() - started
    gap = sol.gap
    say(f"roster: {len(agents)} agents ({teams} on 四值三运转) × {days} days, {req.size} intervals, "
        f"{roster_s:.1f} s ({sol.status}); short intervals {sol.short_intervals}, "
        f"agent-intervals short {int(-gap[gap < 0].sum())}, over {int(gap[gap > 0].sum())}; "
        f"cost {sol.cost:.0f} weighted agent-hours")  # fmt: skip
    broken = roster.check(problem, {k: v for k, v in sol.assignments.items() if k.startswith("f")})
    say(f"roster rules broken by the optimised shifts: {len(broken)}")

    busiest = int(np.argmax(req.reshape(days, 96).sum(axis=1)))
    day_vol = four_weeks[busiest * 96 : (busiest + 1) * 96]
    on_duty = np.floor(sol.coverage[busiest * 96 : (busiest + 1) * 96] * 0.9).astype(np.int64)
    started = time.perf_counter()
    sim = simulation.simulate(day_vol, on_duty, 15, mean_handle=AHT, mean_patience=180.0,
                              seed=1, replications=5)  # fmt: skip
    sim_s = time.perf_counter() - started
    sl, asa, ab = sim.totals()
    figs = [erlang.erlang_a_figures(int(k), v / 900, AHT, 180.0, 20)
            for v, k in zip(day_vol, on_duty, strict=True)]  # fmt: skip
    weight = day_vol / day_vol.sum()
    e_sl = float(sum(w * f.service_level for w, f in zip(weight, figs, strict=True)))
    e_ab = float(sum(w * f.abandonment for w, f in zip(weight, figs, strict=True)))
    say(f"simulation of day {busiest + 1} (90 % of rostered agents on the phone, 5 replications, "
        f"{int(sim.offered.sum())} calls, {sim_s:.2f} s): service level {sl:.1%}, ASA {asa:.1f} s, "
        f"abandonment {ab:.1%}; Erlang A per interval: service level {e_sl:.1%}, "
        f"abandonment {e_ab:.1%}")  # fmt: skip

    emit({
        "bench": "wfm",
        "scale": scale,
        "intervals": n,
        "staffing_s": round(staffing_s, 3),
        "staffing_erlang_a_s": round(staffing_a_s, 3),
        "agents": len(agents),
        "roster_s": round(roster_s, 2),
        "roster_status": sol.status,
        "roster_gap_intervals": sol.short_intervals,
        "roster_cost_hours": round(sol.cost, 1),
        "simulated_service_level": round(sl, 4),
        "simulated_abandonment": round(ab, 4),
    })  # fmt: skip
    return 0
