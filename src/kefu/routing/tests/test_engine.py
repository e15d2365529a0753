"""The routing decisions, with no database: each strategy, and the bounded VIP promise."""

import heapq
import random

import pytest

from kefu.routing import engine
from kefu.routing.engine import Agent, Item


def agents() -> list[Agent]:
    return [
        Agent(1, skills=frozenset({"billing"}), languages=frozenset({"zh"}),
              capacity={"ticket": 20, "voice": 1}, load={"ticket": 10}, last_offered=300),
        Agent(2, skills=frozenset({"billing", "english"}), languages=frozenset({"zh", "en"}),
              capacity={"ticket": 20, "voice": 1}, load={"ticket": 3}, last_offered=200),
        Agent(3, skills=frozenset({"repair"}), languages=frozenset({"zh"}),
              capacity={"ticket": 20, "voice": 1}, load={"ticket": 5, "voice": 1}, last_offered=100),
    ]  # fmt: skip


def test_urgency_is_waiting_time_plus_bonus_and_rank_orders_by_it():
    now = 1000.0
    regular = (900.0, 0)  # waited 100 s
    vip = (960.0, 300)  # waited 40 s, bonus 300 s
    assert engine.urgency(*regular, now) == 100
    assert engine.urgency(*vip, now) == 340
    assert engine.rank(*vip) < engine.rank(*regular)  # the VIP goes first
    late_vip = (1250.0, 300)  # arrived 350 s after the regular: more than its bonus
    assert engine.rank(*late_vip) > engine.rank(*regular)


def test_round_robin_offers_to_whoever_was_offered_work_longest_ago():
    pool = agents()
    order = []
    for i in range(6):
        chosen = engine.choose("round_robin", Item(i, "ticket"), pool)
        assert chosen is not None
        engine.take(chosen, "ticket", 1000.0 + i)
        order.append(chosen.id)
    assert order == [3, 2, 1, 3, 2, 1]


def test_least_loaded_takes_the_smallest_share_of_capacity():
    pool = agents()
    assert engine.choose("least_loaded", Item(1, "ticket"), pool).id == 2  # 3/20
    pool[1].load["ticket"] = 6
    assert engine.choose("least_loaded", Item(1, "ticket"), pool).id == 3  # 5/20 < 6/20


def test_skills_need_every_must_have_and_prefer_the_most_preferred():
    pool = agents()
    item = Item(1, "ticket", required_skills=frozenset({"billing"}),
                preferred_skills=frozenset({"english"}))  # fmt: skip
    assert engine.choose("skills", item, pool).id == 2
    repair = Item(2, "ticket", required_skills=frozenset({"repair"}))
    assert engine.choose("skills", repair, pool).id == 3
    nobody = Item(3, "ticket", required_skills=frozenset({"legal"}))
    assert engine.choose("skills", nobody, pool) is None


def test_language_and_capacity_and_declines_rule_agents_out():
    pool = agents()
    assert engine.choose("least_loaded", Item(1, "ticket", language="en"), pool).id == 2
    assert engine.choose("least_loaded", Item(1, "voice"), pool).id == 2  # 3 is on a call
    item = Item(1, "ticket", declined_by=frozenset({2}))
    assert engine.choose("least_loaded", item, pool).id == 3


def test_sticky_returns_to_the_last_agent_only_when_they_can_take_it():
    pool = agents()
    assert engine.choose("sticky", Item(1, "ticket", sticky_agent=1), pool).id == 1
    assert engine.choose("sticky", Item(1, "voice", sticky_agent=3), pool).id == 2  # 3 is busy
    assert engine.choose("sticky", Item(1, "ticket", sticky_agent=99), pool).id == 2


def test_manual_queues_assign_nothing_and_unknown_strategies_are_refused():
    assert engine.choose("manual", Item(1, "ticket"), agents()) is None
    with pytest.raises(ValueError, match="unknown routing strategy"):
        engine.choose("fastest", Item(1, "ticket"), agents())


def simulate(bonus: float, seconds: int = 400_000) -> dict[str, float]:
    """One agent, 10 s per item. VIPs arrive at random (seeded) at 85 % of what the agent can
    serve, regular customers at 8 %: a sustained VIP load with busy spells. Items are served in
    rank order, as the dispatcher serves them. Returns the longest wait of each kind."""
    rng = random.Random(20261123)
    arrivals: list[tuple[float, str]] = []
    for kind, rate in (("vip", 0.085), ("regular", 0.008)):
        t = 0.0
        while t < seconds:
            t += rng.expovariate(rate)
            arrivals.append((t, kind))
    arrivals.sort()
    waiting: list[tuple[float, int, float, str]] = []
    longest = {"regular": 0.0, "vip": 0.0}
    now, i = 0.0, 0
    while i < len(arrivals) or waiting:
        if not waiting:
            now = max(now, arrivals[i][0])
        while i < len(arrivals) and arrivals[i][0] <= now:
            at, kind = arrivals[i]
            heapq.heappush(waiting, (engine.rank(at, bonus if kind == "vip" else 0), i, at, kind))
            i += 1
        _rank, _n, at, kind = heapq.heappop(waiting)
        longest[kind] = max(longest[kind], now - at)
        now += 10
    return longest


def test_sustained_vip_load_never_starves_regular_customers():
    bonus = 300.0
    fifo = simulate(0)  # everyone in arrival order
    ranked = simulate(bonus)
    strict = simulate(10**9)  # VIPs always first: what the bonus design avoids
    # The promise: a regular customer waits at most what first-come-first-served would have
    # made them wait, plus the VIPs who arrived within `bonus` seconds after them.
    assert ranked["regular"] <= max(fifo.values()) + bonus + 120, (ranked, fifo)
    assert ranked["vip"] <= max(fifo.values())  # and VIPs do get ahead
    assert strict["regular"] > 2 * ranked["regular"], (strict, ranked)


@pytest.mark.parametrize("strategy", ["round_robin", "least_loaded", "skills", "sticky"])
def test_the_grouped_pool_chooses_exactly_as_the_plain_rule(strategy):
    """The dispatcher's fast pool must pick the very agent the one-line rule picks, through a
    long run of takes, declines and agents found full."""
    rng = random.Random(strategy)
    skills = ["billing", "fault", "metering", "english"]
    for _round in range(20):
        agents = [
            Agent(i, skills=frozenset(rng.sample(skills, rng.randint(0, 3))),
                  languages=frozenset(["zh", "en"] if rng.random() < 0.3 else ["zh"]),
                  capacity={"chat": rng.randint(1, 4), "email": rng.randint(0, 3)},
                  last_offered=float(rng.randint(0, 5)))
            for i in range(rng.randint(1, 25))
        ]  # fmt: skip
        twins = [Agent(a.id, a.skills, a.languages, dict(a.capacity), {}, a.last_offered)
                 for a in agents]  # fmt: skip
        pool = engine.Pool(strategy, twins)
        by_id = {a.id: a for a in twins}
        for n in range(60):
            item = Item(
                n, rng.choice(["chat", "email"]),
                required_skills=frozenset(rng.sample(skills, rng.randint(0, 1))),
                preferred_skills=frozenset(rng.sample(skills, rng.randint(0, 2))),
                language="en" if rng.random() < 0.1 else "",
                sticky_agent=rng.choice([None, rng.randrange(30)]),
                declined_by=frozenset(rng.sample(range(25), rng.randint(0, 3))),
            )  # fmt: skip
            expected = engine.choose(strategy, item, agents)
            got = pool.choose(item)
            assert (got.id if got else None) == (expected.id if expected else None)
            if expected is None:
                continue
            if rng.random() < 0.1:  # another dispatcher filled this agent meanwhile
                expected.load[item.channel] = expected.capacity.get(item.channel, 0)
                pool.full(by_id[expected.id], item.channel)
                continue
            engine.take(expected, item.channel, 100.0 + n)
            pool.take(by_id[expected.id], item.channel, 100.0 + n)
