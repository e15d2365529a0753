"""Shift rosters: rotating teams (四值三运转) plus optimised shifts, solved with OR-Tools CP-SAT.

Pure, no Django. The model chooses one shift type (or a day off) per flexible agent and day —
never per interval — so 200 agents over four weeks stays a few tens of thousands of booleans:

* rotating agents follow their team's pattern (四值三运转: four teams through three 8-hour shifts,
  each team two nights, two days, two evenings, two off, the teams two days apart); their shifts are
  fixed and only cover requirement, except on requested leave;
* flexible agents get early, middle, night or peak shifts (尖峰班 over the 9–11 and 19–21 peaks,
  or a split shift covering both) chosen to cover what the teams leave uncovered;
* constraints: minimum rest between shifts, maximum hours per week, at least a number of days off
  per week, fixed weekly days off, requested leave, the roster's skill, shifts an agent may work;
  meal breaks staggered across each shift's break window (a split shift's gap is its break);
* objective: shift cost (paid minutes × the agent's cost factor × the shift's premium) plus a
  heavy penalty per agent-interval short of the requirement.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from ortools.sat.python import cp_model

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class ShiftType:
    """A shift: worked segments in minutes from the start of its day (may pass 1440), and an
    optional break of ``break_minutes`` that starts somewhere in ``break_window``.

    Breaks are staggered: the agents on the same shift on the same day take theirs one after
    another across the window (agent k in roster order at position k mod positions), so the
    optimiser counts each interval of the window at its average staffed share.
    """

    code: str
    segments: tuple[tuple[int, int], ...]
    premium: float = 1.0  # cost multiplier (night shifts pay more)
    kind: str = "regular"  # regular | peak
    break_window: tuple[int, int] | None = None
    break_minutes: int = 0

    def __post_init__(self) -> None:
        if not self.segments:
            raise ValueError(f"shift {self.code}: no worked time")
        last = -1
        for start, end in self.segments:
            if start < 0 or end <= start or start < last or end > 2880:
                raise ValueError(f"shift {self.code}: segments must be increasing minutes")
            last = end
        if self.break_window is not None:
            lo, hi = self.break_window
            if not (self.start <= lo and hi <= self.end and hi - lo >= self.break_minutes > 0):
                raise ValueError(f"shift {self.code}: the break must fit inside the shift")

    @property
    def start(self) -> int:
        return self.segments[0][0]

    @property
    def end(self) -> int:
        return self.segments[-1][1]

    @property
    def minutes(self) -> int:
        """Paid minutes: worked segments less the break."""
        return sum(end - start for start, end in self.segments) - self.break_minutes

    @property
    def break_positions(self) -> int:
        if self.break_window is None:
            return 1
        return max(1, (self.break_window[1] - self.break_window[0]) // self.break_minutes)

    def worked(self, position: int | None) -> list[tuple[int, int]]:
        """Worked minutes of the day with the break at ``position`` (None: no break)."""
        if self.break_window is None or position is None:
            return list(self.segments)
        b0 = self.break_window[0] + (position % self.break_positions) * self.break_minutes
        b1 = b0 + self.break_minutes
        out = []
        for start, end in self.segments:
            if end <= b0 or start >= b1:
                out.append((start, end))
                continue
            if start < b0:
                out.append((start, b0))
            if end > b1:
                out.append((b1, end))
        return out


# The standard catalogue: 8-hour shifts of 四值三运转 with a 30-minute meal break each (the
# evening one before the 19–21 peak), an office-hours shift, peak shifts and a split peak shift
# (尖峰班).
NIGHT = ShiftType("N", ((0, 480),), 1.3, break_window=(120, 360), break_minutes=30)  # 夜班 00–08
DAY = ShiftType("D", ((480, 960),), break_window=(660, 840), break_minutes=30)  # 白班 08–16
EVENING = ShiftType("E", ((960, 1440),), 1.1, break_window=(1050, 1170), break_minutes=30)  # 中班
OFFICE = ShiftType("O", ((540, 1080),), break_window=(690, 870), break_minutes=60)  # 09–18
PEAK_AM = ShiftType("PA", ((510, 750),), kind="peak")  # 08:30–12:30
PEAK_PM = ShiftType("PP", ((1110, 1350),), kind="peak")  # 18:30–22:30
SPLIT = ShiftType(
    "PS", ((510, 690), (1110, 1290)), premium=1.15, kind="peak"
)  # 8:30–11:30, 18:30–21:30
CATALOGUE: tuple[ShiftType, ...] = (NIGHT, DAY, EVENING, OFFICE, PEAK_AM, PEAK_PM, SPLIT)

# 四值三运转: an 8-day forward-rotating cycle per team — two nights, two days, two evenings, two
# off (夜夜白白中中休休): every change of shift keeps 24 h between starts, and on every day one
# team is on each shift and one rests.
FOUR_TEAM_CYCLE: tuple[str | None, ...] = ("N", "N", "D", "D", "E", "E", None, None)
FOUR_TEAM_OFFSETS: dict[str, int] = {"A": 0, "B": 2, "C": 4, "D": 6}


@dataclass(frozen=True)
class Agent:
    id: str
    skills: frozenset[str] = frozenset()
    team: str | None = None  # a rotation team (A–D) or None for a flexible agent
    shifts: frozenset[str] | None = None  # shift codes a flexible agent may work; None: all
    days_off: frozenset[int] = frozenset()  # weekdays (0 = Monday) never worked
    leave: frozenset[int] = frozenset()  # roster day indices on requested leave
    max_week_minutes: int = 40 * 60
    cost_factor: float = 1.0


@dataclass(frozen=True)
class Problem:
    requirement: IntArray  # agents needed per interval over the whole roster
    interval_minutes: int
    first_weekday: int  # weekday of day 0 (0 = Monday)
    agents: Sequence[Agent]
    shifts: Sequence[ShiftType] = CATALOGUE
    skill: str | None = None  # agents without it are not rostered
    min_rest_minutes: int = 12 * 60
    min_days_off_per_week: int = 2
    under_penalty: float = 2000.0  # per agent-interval short, against cost per paid minute
    cycle: tuple[str | None, ...] = FOUR_TEAM_CYCLE
    offsets: dict[str, int] = field(default_factory=lambda: dict(FOUR_TEAM_OFFSETS))

    @property
    def slots_per_day(self) -> int:
        return 1440 // self.interval_minutes

    @property
    def days(self) -> int:
        return int(self.requirement.size) // self.slots_per_day


@dataclass(frozen=True)
class Solution:
    status: str  # optimal | feasible | infeasible
    assignments: dict[str, list[str | None]]  # agent id → shift code per day (None = off)
    coverage: IntArray
    requirement: IntArray
    cost: float  # paid agent-hours weighted by premiums and cost factors
    wall_s: float
    objective: float = 0.0  # cost in weighted minutes plus the shortfall penalty

    @property
    def gap(self) -> IntArray:
        """Scheduled minus required per interval (negative: short)."""
        return self.coverage - self.requirement

    @property
    def short_intervals(self) -> int:
        return int(np.count_nonzero(self.gap < 0))


def _slots(parts: Sequence[tuple[int, int]], day: int, interval: int, total: int) -> dict[int, int]:
    """Minutes worked in each roster interval by worked ``parts`` of a shift on ``day``."""
    out: dict[int, int] = {}
    for start, end in parts:
        first, last = day * 1440 + start, day * 1440 + end
        i = first // interval
        while i * interval < last and i < total:
            lo, hi = max(first, i * interval), min(last, (i + 1) * interval)
            if hi > lo:
                out[i] = out.get(i, 0) + hi - lo
            i += 1
    return out


def _weights(shift: ShiftType, day: int, interval: int, total: int) -> dict[int, int]:
    """Average staffed share (in 1/WEIGHT) of each interval over the break positions."""
    acc: dict[int, float] = {}
    positions = shift.break_positions
    for p in range(positions):
        for i, minutes in _slots(shift.worked(p if shift.break_window else None), day,
                                 interval, total).items():  # fmt: skip
            acc[i] = acc.get(i, 0.0) + minutes / interval / positions
    return {i: round(v * WEIGHT) for i, v in acc.items() if round(v * WEIGHT) > 0}


WEIGHT = 60


def coverage_of(
    assignments: dict[str, list[str | None]],
    shifts: Sequence[ShiftType],
    interval_minutes: int,
    total: int,
) -> IntArray:
    """Agents on duty per interval (breaks staggered in agent-id order); an interval counts an
    agent who works at least half of it."""
    by_code = {s.code: s for s in shifts}
    cov = np.zeros(total, dtype=np.int64)
    seen: dict[tuple[int, str], int] = {}
    for agent_id in sorted(assignments):
        for d, code in enumerate(assignments[agent_id]):
            if code is None:
                continue
            shift = by_code[code]
            position = seen.get((d, code), 0)
            seen[(d, code)] = position + 1
            for i, minutes in _slots(shift.worked(position), d, interval_minutes, total).items():
                if 2 * minutes >= interval_minutes:
                    cov[i] += 1
    return cov


def rotation_shift(problem: Problem, agent: Agent, day: int) -> str | None:
    if agent.team is None:
        return None
    if agent.team not in problem.offsets:
        raise ValueError(f"agent {agent.id}: unknown rotation team {agent.team!r}")
    if day in agent.leave:
        return None
    return problem.cycle[(day + problem.offsets[agent.team]) % len(problem.cycle)]


def validate(problem: Problem) -> None:
    if problem.interval_minutes not in (15, 30, 60):
        raise ValueError("interval must be 15, 30 or 60 minutes")
    if problem.requirement.size % problem.slots_per_day or problem.days < 1:
        raise ValueError("the requirement must cover whole days")
    if np.any(problem.requirement < 0):
        raise ValueError("the requirement cannot be negative")
    codes = [s.code for s in problem.shifts]
    if len(set(codes)) != len(codes):
        raise ValueError("shift codes must be unique")
    known = set(codes)
    rotating = any(a.team is not None for a in problem.agents)
    for code in problem.cycle if rotating else ():
        if code is not None and code not in known:
            raise ValueError(f"the rotation uses unknown shift {code!r}")
    seen: set[str] = set()
    for agent in problem.agents:
        if agent.id in seen:
            raise ValueError(f"agent {agent.id} appears twice")
        seen.add(agent.id)
        if agent.shifts is not None and not agent.shifts <= known:
            raise ValueError(f"agent {agent.id}: unknown shifts {sorted(agent.shifts - known)}")
        if agent.team is not None and agent.team not in problem.offsets:
            raise ValueError(f"agent {agent.id}: unknown rotation team {agent.team!r}")


def solve(
    problem: Problem, *, time_limit_s: float = 30.0, workers: int = 2, seed: int = 1
) -> Solution:
    """Roster ``problem``; returns the best roster found within the time limit.

    Three steps, because identical flexible agents make the full model highly symmetric:
    1. how many flexible agents start each shift type on each day (CP-SAT on counts, with the
       day's available agents, weekly hours and rest as aggregate limits) — small, solved to
       optimality or near it in a fraction of the time;
    2. a greedy pass gives those shifts to agents, respecting every individual rule;
    3. the full per-agent model starts from that roster as a hint and improves it for the rest
       of the time. The better of steps 2 and 3 is returned.
    """
    validate(problem)
    began = time.perf_counter()
    total = int(problem.requirement.size)
    interval = problem.interval_minutes
    shifts = list(problem.shifts)
    by_code = {s.code: s for s in shifts}
    eligible = [a for a in problem.agents if problem.skill is None or problem.skill in a.skills]
    fixed_assign: dict[str, list[str | None]] = {}
    flexible: list[Agent] = []
    for agent in eligible:
        if agent.team is None:
            flexible.append(agent)
        else:
            fixed_assign[agent.id] = [
                rotation_shift(problem, agent, d) for d in range(problem.days)
            ]
    fixed = coverage_of(fixed_assign, shifts, interval, total)
    need = np.maximum(problem.requirement - fixed, 0)
    covers = {
        (d, si): _weights(s, d, interval, total)
        for d in range(problem.days)
        for si, s in enumerate(shifts)
    }
    options = _options(problem, flexible, shifts)

    targets, bound = _solve_counts(problem, flexible, shifts, options, covers, need,
                                   max(1.0, time_limit_s * 0.25), workers, seed)  # fmt: skip
    greedy = _greedy(problem, flexible, shifts, options, targets)
    greedy_cov = coverage_of({**fixed_assign, **greedy}, shifts, interval, total)
    best = greedy
    best_score = _score(problem, flexible, shifts, greedy, greedy_cov)
    status = "feasible"

    left = time_limit_s - (time.perf_counter() - began)
    # the counts model is a relaxation of the full one: a roster that scores within 0.5 % of its
    # proven bound needs no further search
    close = best_score <= bound * 1.005
    if close:
        status = "optimal" if best_score <= bound else "feasible"
    if left > 1.0 and flexible and not close:
        improved = _solve_full(problem, flexible, shifts, options, covers, need, greedy,
                               left, workers, seed)  # fmt: skip
        if improved is not None:
            assign, optimal = improved
            cov = coverage_of({**fixed_assign, **assign}, shifts, interval, total)
            score = _score(problem, flexible, shifts, assign, cov)
            if score <= best_score:
                best, best_score = assign, score
                status = "optimal" if optimal else "feasible"
    assignments = {**fixed_assign, **best}
    coverage = coverage_of(assignments, shifts, interval, total)
    return Solution(
        status,
        assignments,
        coverage,
        problem.requirement,
        roster_cost(assignments, eligible, by_code),
        time.perf_counter() - began,
        best_score,
    )


def _options(
    problem: Problem, flexible: Sequence[Agent], shifts: Sequence[ShiftType]
) -> list[list[list[int]]]:
    """options[agent][day] = the shift indices the agent may work that day."""
    out = []
    for agent in flexible:
        allowed = [
            si for si, s in enumerate(shifts) if agent.shifts is None or s.code in agent.shifts
        ]
        per_day = []
        for d in range(problem.days):
            weekday = (problem.first_weekday + d) % 7
            off = d in agent.leave or weekday in agent.days_off
            per_day.append([] if off else allowed)
        out.append(per_day)
    return out


def _forbidden(problem: Problem, shifts: Sequence[ShiftType]) -> list[tuple[int, int, int]]:
    """(gap in days, shift before, shift after) pairs that leave too little rest."""
    out = []
    for gap_days in (1, 2):
        for s1 in range(len(shifts)):
            for s2 in range(len(shifts)):
                if gap_days * 1440 + shifts[s2].start - shifts[s1].end < problem.min_rest_minutes:
                    out.append((gap_days, s1, s2))
    return out


def _week_limits(problem: Problem, agent: Agent, w0: int) -> tuple[int, int]:
    days = min(7, problem.days - w0)
    share = days / 7
    return (
        int(agent.max_week_minutes * share),
        days - math.ceil(problem.min_days_off_per_week * share),
    )


def _score(
    problem: Problem,
    flexible: Sequence[Agent],
    shifts: Sequence[ShiftType],
    assign: dict[str, list[str | None]],
    coverage: IntArray,
) -> float:
    by_code = {s.code: s for s in shifts}
    cost = roster_cost(assign, flexible, by_code) * 60
    short = float(np.maximum(problem.requirement - coverage, 0).sum())
    return cost + problem.under_penalty * short


def _solve_counts(
    problem: Problem,
    flexible: Sequence[Agent],
    shifts: Sequence[ShiftType],
    options: list[list[list[int]]],
    covers: dict[tuple[int, int], dict[int, int]],
    need: IntArray,
    time_limit_s: float,
    workers: int,
    seed: int,
) -> tuple[dict[tuple[int, int], int], float]:
    """Agents starting each shift type per day, and a lower bound on any roster's score."""
    model = cp_model.CpModel()
    n: dict[tuple[int, int], cp_model.IntVar] = {}
    for d in range(problem.days):
        avail = [ai for ai in range(len(flexible)) if options[ai][d]]
        for si in range(len(shifts)):
            able = sum(1 for ai in avail if si in options[ai][d])
            if able:
                n[(d, si)] = model.new_int_var(0, able, f"n{d}_{si}")
        model.add(sum(v for (dd, _), v in n.items() if dd == d) <= len(avail))
    for gap_days, s1, s2 in _forbidden(problem, shifts):
        for d in range(problem.days - gap_days):
            a, b = n.get((d, s1)), n.get((d + gap_days, s2))
            if a is not None and b is not None:
                # an agent available on both days can work only one of the two shifts
                either = sum(1 for opts in options if opts[d] or opts[d + gap_days])
                model.add(a + b <= either)
    for w0 in range(0, problem.days, 7):
        minutes = sum(_week_limits(problem, a, w0)[0] for a in flexible)
        days = sum(_week_limits(problem, a, w0)[1] for a in flexible)
        week = [(v, shifts[si].minutes) for (d, si), v in n.items() if w0 <= d < w0 + 7]
        if week:
            model.add(sum(v * m for v, m in week) <= minutes)
            model.add(sum(v for v, _ in week) <= days)
    covering: list[list[cp_model.LinearExprT]] = [[] for _ in range(need.size)]
    for key, var in n.items():
        for i, w in covers[key].items():
            covering[i].append(var * w)
    shorts = _shortfall(model, covering, need)
    cost = [v * round(shifts[si].minutes * shifts[si].premium * 10) for (_, si), v in n.items()]
    model.minimize(sum(cost) + round(problem.under_penalty * 10) * sum(shorts))
    solver = _solver(time_limit_s, workers, seed)
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return {}, 0.0
    return {k: int(solver.value(v)) for k, v in n.items()}, solver.best_objective_bound / 10


def _greedy(
    problem: Problem,
    flexible: Sequence[Agent],
    shifts: Sequence[ShiftType],
    options: list[list[list[int]]],
    targets: dict[tuple[int, int], int],
) -> dict[str, list[str | None]]:
    days = problem.days
    assign: list[list[int | None]] = [[None] * days for _ in flexible]
    last_end = [-(10**9)] * len(flexible)
    order = sorted(range(len(shifts)), key=lambda si: (shifts[si].start, shifts[si].end))
    for d in range(days):
        w0 = d - d % 7
        used_min = [0] * len(flexible)
        used_days = [0] * len(flexible)
        for ai in range(len(flexible)):
            for dd in range(w0, d):
                si = assign[ai][dd]
                if si is not None:
                    used_min[ai] += shifts[si].minutes
                    used_days[ai] += 1
        limits = [_week_limits(problem, a, w0) for a in flexible]
        taken: set[int] = set()
        for si in order:
            want = targets.get((d, si), 0)
            if not want:
                continue
            start = d * 1440 + shifts[si].start
            candidates = [
                ai
                for ai in range(len(flexible))
                if ai not in taken
                and si in options[ai][d]
                and start - last_end[ai] >= problem.min_rest_minutes
                and used_min[ai] + shifts[si].minutes <= limits[ai][0]
                and used_days[ai] < limits[ai][1]
            ]
            candidates.sort(key=lambda ai: (used_days[ai], used_min[ai], ai))
            for ai in candidates[:want]:
                assign[ai][d] = si
                taken.add(ai)
                last_end[ai] = d * 1440 + shifts[si].end
    return {
        agent.id: [None if si is None else shifts[si].code for si in assign[ai]]
        for ai, agent in enumerate(flexible)
    }


def _shortfall(
    model: cp_model.CpModel, covering: list[list[cp_model.LinearExprT]], need: IntArray
) -> list[cp_model.IntVar]:
    """Agents short per interval: Σ weight·count + WEIGHT·short ≥ WEIGHT·need."""
    shorts = []
    for i in np.nonzero(need > 0)[0]:
        short = model.new_int_var(0, int(need[i]), f"u{i}")
        model.add(cp_model.LinearExpr.sum(covering[i]) + WEIGHT * short >= WEIGHT * int(need[i]))
        shorts.append(short)
    return shorts


def _solver(time_limit_s: float, workers: int, seed: int) -> cp_model.CpSolver:
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit_s
    solver.parameters.num_workers = workers
    solver.parameters.random_seed = seed
    # stop once the roster is proven within 0.5 % of the best possible
    solver.parameters.relative_gap_limit = 0.005
    return solver


def _solve_full(
    problem: Problem,
    flexible: Sequence[Agent],
    shifts: Sequence[ShiftType],
    options: list[list[list[int]]],
    covers: dict[tuple[int, int], dict[int, int]],
    need: IntArray,
    hint: dict[str, list[str | None]],
    time_limit_s: float,
    workers: int,
    seed: int,
) -> tuple[dict[str, list[str | None]], bool] | None:
    model = cp_model.CpModel()
    code_index = {s.code: si for si, s in enumerate(shifts)}
    x: dict[tuple[int, int, int], cp_model.IntVar] = {}
    for ai, agent in enumerate(flexible):
        for d in range(problem.days):
            day_vars = []
            for si in options[ai][d]:
                var = model.new_bool_var(f"x{ai}_{d}_{si}")
                x[(ai, d, si)] = var
                day_vars.append(var)
                hinted = hint[agent.id][d]
                model.add_hint(var, hinted is not None and code_index[hinted] == si)
            if len(day_vars) > 1:
                model.add_at_most_one(day_vars)
    for gap_days, s1, s2 in _forbidden(problem, shifts):
        for ai in range(len(flexible)):
            for d in range(problem.days - gap_days):
                a = x.get((ai, d, s1))
                b = x.get((ai, d + gap_days, s2))
                if a is not None and b is not None:
                    model.add_bool_or([a.Not(), b.Not()])
    for ai, agent in enumerate(flexible):
        for w0 in range(0, problem.days, 7):
            max_minutes, max_days = _week_limits(problem, agent, w0)
            terms = [
                (x[(ai, d, si)], shifts[si].minutes)
                for d in range(w0, min(w0 + 7, problem.days))
                for si in options[ai][d]
            ]
            if terms:
                model.add(sum(v * m for v, m in terms) <= max_minutes)
                model.add(sum(v for v, _ in terms) <= max_days)
    count: dict[tuple[int, int], list[cp_model.IntVar]] = {}
    for (_ai, d, si), var in x.items():
        count.setdefault((d, si), []).append(var)
    covering: list[list[cp_model.LinearExprT]] = [[] for _ in range(need.size)]
    for key, members in count.items():
        c = model.new_int_var(0, len(members), f"n{key[0]}_{key[1]}")
        model.add(c == sum(members))
        for i, w in covers[key].items():
            covering[i].append(c * w)
    shorts = _shortfall(model, covering, need)
    cost = [
        var * round(shifts[si].minutes * shifts[si].premium * flexible[ai].cost_factor * 10)
        for (ai, _d, si), var in x.items()
    ]
    model.minimize(sum(cost) + round(problem.under_penalty * 10) * sum(shorts))
    solver = _solver(time_limit_s, workers, seed)
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    out: dict[str, list[str | None]] = {}
    for ai, agent in enumerate(flexible):
        days: list[str | None] = []
        for d in range(problem.days):
            chosen = [si for si in options[ai][d] if solver.boolean_value(x[(ai, d, si)])]
            days.append(shifts[chosen[0]].code if chosen else None)
        out[agent.id] = days
    return out, status == cp_model.OPTIMAL


def roster_cost(
    assignments: dict[str, list[str | None]],
    agents: Sequence[Agent],
    by_code: dict[str, ShiftType],
) -> float:
    """Paid minutes × premium × cost factor, in agent-hours."""
    factor = {a.id: a.cost_factor for a in agents}
    total = 0.0
    for agent_id, days in assignments.items():
        for code in days:
            if code is not None:
                s = by_code[code]
                total += s.minutes * s.premium * factor.get(agent_id, 1.0)
    return total / 60.0


def check(problem: Problem, assignments: dict[str, list[str | None]]) -> list[str]:
    """Every rule a roster breaks, in words (used after a planner edits cells by hand)."""
    by_code = {s.code: s for s in problem.shifts}
    problems: list[str] = []
    agents = {a.id: a for a in problem.agents}
    for agent_id, days in assignments.items():
        agent = agents.get(agent_id)
        if agent is None:
            problems.append(f"{agent_id}: not an agent of this roster")
            continue
        worked: list[tuple[int, ShiftType]] = []
        for d, code in enumerate(days):
            if code is None:
                continue
            if code not in by_code:
                problems.append(f"{agent_id} day {d + 1}: unknown shift {code}")
                continue
            if d in agent.leave:
                problems.append(f"{agent_id} day {d + 1}: on leave")
            if agent.team is None and (problem.first_weekday + d) % 7 in agent.days_off:
                problems.append(f"{agent_id} day {d + 1}: a fixed day off")
            worked.append((d, by_code[code]))
        for (d1, s1), (d2, s2) in zip(worked, worked[1:], strict=False):
            rest = (d2 - d1) * 1440 + s2.start - s1.end
            if rest < problem.min_rest_minutes:
                problems.append(
                    f"{agent_id} day {d2 + 1}: {rest // 60} h rest, under "
                    f"{problem.min_rest_minutes // 60} h"
                )
        if agent.team is None:
            for w0 in range(0, len(days), 7):
                minutes = sum(s.minutes for d, s in worked if w0 <= d < w0 + 7)
                if minutes > agent.max_week_minutes:
                    problems.append(
                        f"{agent_id} week {w0 // 7 + 1}: {minutes / 60:.1f} h, over "
                        f"{agent.max_week_minutes / 60:.0f} h"
                    )
    return problems
