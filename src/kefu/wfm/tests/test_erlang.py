"""Erlang B, C and A against published worked examples, an exact birth–death chain, and limits."""

from __future__ import annotations

import math

import numpy as np
import pytest

from kefu.wfm import erlang
from kefu.wfm.erlang import Model, Target


def test_erlang_b_small_table():
    # given B(1, a) = a / (1 + a) and B(2, 1) = (1/2) / (1 + 1 + 1/2) = 0.2
    # then
    assert erlang.erlang_b(1, 3.0) == pytest.approx(0.75, rel=1e-12)
    assert erlang.erlang_b(2, 1.0) == pytest.approx(0.2, rel=1e-12)
    assert erlang.erlang_b(0, 5.0) == 1.0


def test_erlang_c_call_centre_helper_example():
    # Call Centre Helper, "Erlang C Formula – Made Simple" (callcentrehelper.com): 100 calls in
    # 30 minutes, AHT 180 s, 80 % in 20 s: 10 Erlangs; 14 agents wait 17.4 % of calls, service
    # level 88.8 %, occupancy 71.4 %; 13 agents miss the target (79.6 %).
    f14 = erlang.erlang_c_figures(14, 100 / 1800, 180, 20)
    f13 = erlang.erlang_c_figures(13, 100 / 1800, 180, 20)
    assert round(f14.wait_probability, 3) == 0.174
    assert round(f14.service_level, 3) == 0.888
    assert round(f14.occupancy, 3) == 0.714
    assert round(f14.asa, 1) == 7.8
    assert round(f13.service_level, 3) == 0.796


def test_erlang_c_westbay_example():
    # Westbay Engineers, "The Erlang-C formula" worked example: 360 calls per half hour, 4-minute
    # calls, 55 agents, 15 s target: 48 Erlangs, occupancy 87.3 %, P(wait) 23.9 %, ASA 8.2 s,
    # 84.6 % answered within 15 s.
    f = erlang.erlang_c_figures(55, 360 / 1800, 240, 15)
    assert f.load == pytest.approx(48.0)
    assert round(f.occupancy, 3) == 0.873
    assert round(f.wait_probability, 3) == 0.239
    assert round(f.asa, 1) == 8.2
    assert round(f.service_level, 3) == 0.846


def _palm_chain(n: int, lam: float, aht: float, patience: float, t: float) -> tuple[float, ...]:
    """M/M/n+M solved exactly on a truncated birth–death chain (independent of the formulas):
    P(wait), P(abandon), mean wait of all arrivals, share answered within t (by uniformising the
    position of an arriving contact in the queue)."""
    mu, theta = 1 / aht, 1 / patience
    top = n + 4000
    log_p = np.zeros(top + 1)
    for j in range(1, top + 1):
        death = min(j, n) * mu + max(j - n, 0) * theta
        log_p[j] = log_p[j - 1] + math.log(lam) - math.log(death)
    p = np.exp(log_p - log_p.max())
    p /= p.sum()
    p_wait = p[n:].sum()
    queue = np.arange(top + 1) - n
    mean_q = (p[n:] * queue[n:]).sum()
    p_ab = theta * mean_q / lam
    # answered within t: an arrival finding k ahead is answered when k+1 queue departures happen
    # before its own patience ends; integrate the chain of "ahead" counts numerically.
    steps = 4000
    dt = t / steps
    answered = p[:n].sum()
    for k in range(0, 200):
        weight = p[n + k]
        if weight < 1e-14:
            break
        state = np.zeros(k + 2)  # state[i] = i contacts still ahead; last = answered
        state[k] = 1.0
        for _ in range(steps):
            ahead = np.arange(k + 1)
            out = (n * mu + ahead * theta) * state[: k + 1] * dt
            served = n * mu * state[: k + 1] * dt
            new = state.copy()
            new[: k + 1] -= out + theta * state[: k + 1] * dt
            new[:k] += out[1:]
            new[k + 1] += served[0]
            state = new
        answered += weight * state[k + 1]
    return p_wait, p_ab, p_ab / theta, answered


@pytest.mark.parametrize(
    ("n", "volume", "aht", "patience"), [(11, 100, 180, 120), (8, 100, 180, 300), (20, 300, 60, 45)]
)
def test_erlang_a_matches_the_exact_chain(n, volume, aht, patience):
    # given a Palm queue solved exactly on its birth–death chain
    lam = volume / 1800
    p_wait, p_ab, mean_wait, within = _palm_chain(n, lam, aht, patience, 20)
    # when
    f = erlang.erlang_a_figures(n, lam, aht, patience, 20)
    # then
    assert f.wait_probability == pytest.approx(p_wait, rel=1e-9)
    assert f.abandonment == pytest.approx(p_ab, rel=1e-9)
    assert f.asa == pytest.approx(mean_wait, rel=1e-9)
    assert f.service_level == pytest.approx(within, abs=2e-3)


def test_erlang_a_tends_to_erlang_c_as_patience_grows():
    c = erlang.erlang_c_figures(11, 100 / 1800, 180, 20)
    gaps = []
    for patience in (1e3, 1e5, 1e7, 1e9):
        a = erlang.erlang_a_figures(11, 100 / 1800, 180, patience, 20)
        gaps.append(abs(a.service_level - c.service_level))
    assert gaps == sorted(gaps, reverse=True)
    a = erlang.erlang_a_figures(11, 100 / 1800, 180, 1e9, 20)
    assert a.wait_probability == pytest.approx(c.wait_probability, rel=1e-5)
    assert a.service_level == pytest.approx(c.service_level, rel=1e-5)
    assert a.asa == pytest.approx(c.asa, rel=1e-4)
    assert a.abandonment < 1e-6


def test_erlang_a_is_stable_when_overloaded_and_when_many_agents():
    # an overloaded queue (8 agents for 10 Erlangs) still has an answer: abandonment carries it
    over = erlang.erlang_a_figures(8, 100 / 1800, 180, 120, 20)
    assert 0.2 < over.abandonment < 0.3
    # thousands of agents
    big = erlang.erlang_a_figures(5000, 4900 / 180, 180, 600, 20)
    assert math.isfinite(big.service_level) and 0.99 < big.service_level <= 1.0
    huge_c = erlang.erlang_c(5000, 4900.0)
    assert 0.0999 < huge_c < 0.1000


def test_erlang_c_monotonic_in_agents():
    sls = [erlang.erlang_c_figures(n, 10 / 60, 240, 20).service_level for n in range(41, 60)]
    assert sls == sorted(sls)
    waits = [erlang.erlang_c(n, 40.0) for n in range(41, 60)]
    assert waits == sorted(waits, reverse=True)


def test_required_agents_service_level_vector():
    # given the Call Centre Helper interval and an idle one
    st = erlang.required_agents([100, 0, 360], [180, 180, 240], 1800, Target(0.8, 20))
    # then 14 agents (13 reach only 79.6 %), none when idle, 54 for 48 Erlangs at 80/20
    assert st.servers.tolist() == [14, 0, 54]
    assert st.service_level[0] == pytest.approx(0.88835, abs=1e-5)
    assert erlang.erlang_c_figures(54, 0.2, 240, 20).service_level == st.service_level[2]
    assert erlang.erlang_c_figures(53, 0.2, 240, 20).service_level < 0.8


def test_required_agents_shrinkage_occupancy_and_concurrency():
    base = erlang.required_agents([100], 180, 1800, Target(0.8, 20), shrinkage=0.3)
    assert (base.agents[0], base.scheduled[0]) == (14, 20)  # ceil(14 / 0.7) = 20
    occ = erlang.required_agents([100], 180, 1800, Target(0.8, 20, max_occupancy=0.65))
    assert occ.servers[0] == 16  # ceil(10 / 0.65)
    chat = erlang.required_agents([100], 180, 1800, Target(0.8, 20), concurrency=3)
    assert (chat.servers[0], chat.agents[0]) == (14, 5)


def test_required_agents_asa_and_abandonment_targets():
    asa = erlang.required_agents([100], 180, 1800, Target(None, 20, asa=10))
    assert asa.servers[0] == 14  # 13 agents: ASA 17.1 s; 14: 7.8 s
    ab = erlang.required_agents([100], 180, 1800, Target(None, 20, abandonment=0.05),
                                model=Model.ERLANG_A, patience=120)  # fmt: skip
    n = int(ab.servers[0])
    assert erlang.erlang_a_figures(n, 100 / 1800, 180, 120, 20).abandonment <= 0.05
    assert erlang.erlang_a_figures(n - 1, 100 / 1800, 180, 120, 20).abandonment > 0.05


def test_required_agents_refuses_bad_input():
    with pytest.raises(ValueError, match="volume"):
        erlang.required_agents([-1], 180, 1800, Target())
    with pytest.raises(ValueError, match="abandonment target needs Erlang A"):
        erlang.required_agents([1], 180, 1800, Target(None, 20, abandonment=0.1))
    with pytest.raises(ValueError, match="service level"):
        Target(1.5, 20)
