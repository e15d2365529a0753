"""Queueing formulas for staffing: Erlang B, Erlang C (M/M/n) and Erlang A (M/M/n+M).

Pure maths, no Django. Every function works for thousands of agents without overflow:

* Erlang B runs its recursion on ``log(1/B)``: ``1/B(k) = 1 + (k/a)·1/B(k-1)`` becomes
  ``L(k) = logaddexp(0, log(k/a) + L(k-1))``, which neither overflows nor underflows.
* Erlang A uses the regularised lower incomplete gamma function (``scipy.special.gammainc``) and
  works on logarithms until the final probability (Mandelbaum & Zeltyn 2007,
  "Service engineering in action: the Palm/Erlang-A queue").

Notation: arrival rate ``lam`` per second, mean handle time ``aht`` seconds, offered load
``a = lam·aht`` Erlangs, ``n`` agents (servers), mean patience ``patience`` seconds
(abandonment rate θ = 1/patience). Waiting-time targets are in seconds.

Definitions used throughout:

* service level = the share of all offered contacts answered within ``t`` seconds (abandoned
  contacts count against it);
* ASA = the mean wait of all offered contacts (for Erlang C every contact is answered, so it is the
  mean wait of the answered ones);
* abandonment = the share of offered contacts that hang up before an agent answers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt
from scipy.special import expit, gammainc, gammaln

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


# --- Erlang B and C ---------------------------------------------------------------------------


def log_inv_erlang_b(n: int, a: float) -> float:
    """``log(1/B(n, a))``: the log of the inverse Erlang B blocking probability."""
    if n < 0 or a < 0:
        raise ValueError("agents and load must not be negative")
    if a == 0:
        return math.inf if n > 0 else 0.0
    inv = 0.0
    log_a = math.log(a)
    for k in range(1, n + 1):
        inv = float(np.logaddexp(0.0, math.log(k) - log_a + inv))
    return inv


def erlang_b(n: int, a: float) -> float:
    """Blocking probability of an M/M/n/n loss system with load ``a`` Erlangs."""
    return math.exp(-log_inv_erlang_b(n, a))


def erlang_c(n: int, a: float) -> float:
    """Probability that a contact waits in an M/M/n queue (1.0 when ``n <= a``)."""
    if n <= a:
        return 1.0
    b = erlang_b(n, a)
    return n * b / (n - a * (1.0 - b))


@dataclass(frozen=True)
class Figures:
    """The figures of one interval for ``agents`` servers."""

    agents: int
    load: float
    wait_probability: float
    service_level: float
    asa: float
    abandonment: float
    occupancy: float


def erlang_c_figures(n: int, lam: float, aht: float, t: float) -> Figures:
    """Erlang C for ``n`` agents: P(wait), service level in ``t`` s, ASA, occupancy."""
    a = lam * aht
    if n <= a:
        return Figures(n, a, 1.0, 0.0, math.inf, 0.0, 1.0 if n else 0.0)
    c = erlang_c(n, a)
    sl = 1.0 - c * math.exp(-(n - a) * t / aht)
    asa = c * aht / (n - a)
    return Figures(n, a, c, sl, asa, 0.0, a / n)


# --- Erlang A -----------------------------------------------------------------------------------


def _erlang_a_core(
    log_inv_b: FloatArray,
    n: FloatArray,
    lam: FloatArray,
    aht: FloatArray,
    patience: FloatArray,
    t: FloatArray,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Vectorised Erlang A: (P(wait), service level within t, ASA, P(abandon)).

    With x = n·μ/θ and y = λ/θ, the Palm queue's sum over the waiting states is
    S = x·e^y·y^(-x)·Γ(x)·P(x, y) (P the regularised lower incomplete gamma function). With B the
    Erlang B probability of n servers (given as ``log_inv_b`` = log 1/B), P(wait) = B·S / (1 − B
    + B·S); a waiting contact's offered wait V has P(V > t | V > 0) = P(x, y·e^(−θt)) / P(x, y),
    and integrating its own patience against that density gives the share of waiting contacts
    answered at all, (x/y)·P(x+1, y) / P(x, y), and answered only after t,
    (x/y)·P(x+1, y·e^(−θt)) / P(x, y). The service level is 1 − P(wait)·(abandoned + late).

    Where P(x, y) underflows (x many standard deviations above y: long patience and capacity well
    above the load) the same quantities come from the series S = Σ_k Π_{i≤k} y/(x+i) summed
    directly, with Σ k·q_k / (y·S) for the abandonment of a waiting contact (no cancellation).
    """
    theta = 1.0 / patience
    x = n / (aht * theta)
    y = lam / theta
    with np.errstate(all="ignore"):
        p_xy = gammainc(x, y)
        tiny = p_xy < 1e-250
        safe_p = np.where(tiny, 1.0, p_xy)
        log_s = np.log(x) + y - x * np.log(y) + gammaln(x) + np.log(safe_p)
        ratio = (x / y) * gammainc(x + 1.0, y) / safe_p  # answered, given a wait
        ab_if_wait = 1.0 - ratio
        z = y * np.exp(-theta * t)
        # answered after t, given a wait: (x/y)·P(x+1, y·e^(−θt)) / P(x, y)
        late = (x / y) * gammainc(x + 1.0, z) / safe_p
        if tiny.any():
            xs, ys, zs = x[tiny], y[tiny], z[tiny]
            log_s_t, mean_q = _series(xs, ys)
            log_s_z, _ = _series(xs + 1.0, zs)
            log_s[tiny] = log_s_t
            ab_if_wait[tiny] = mean_q / ys
            late[tiny] = np.exp(
                np.log(xs / ys) + np.log(zs / (xs + 1.0)) + log_s_z - log_s_t + ys - zs
                - (n[tiny] / aht[tiny]) * t[tiny]
            )  # fmt: skip
        # r = log((1 − B) / (B·S)) with B = exp(−log_inv_b)
        log_one_minus_b = np.log(-np.expm1(-log_inv_b))
        r = log_one_minus_b + log_inv_b - log_s
        p_wait = expit(-r)
        ab_if_wait = np.clip(ab_if_wait, 0.0, 1.0)
    p_ab = p_wait * ab_if_wait
    sl = 1.0 - p_wait * np.clip(ab_if_wait + late, 0.0, 1.0)
    asa = p_ab / theta  # Little's law on the queue: E[W] = E[Q]/λ = P(abandon)/θ
    return p_wait, sl, asa, p_ab


def _series(x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
    """For y < x + 1: (log S, Σ k·q_k / S) with q_k = Π_{i≤k} y/(x+i), S = Σ_{k≥0} q_k."""
    log_q = np.zeros(x.shape)
    total = np.ones(x.shape)
    weighted = np.zeros(x.shape)
    log_y = np.log(y)
    k = 0
    while True:
        k += 1
        log_q = log_q + log_y - np.log(x + k)
        q = np.exp(log_q)
        total += q
        weighted += k * q
        if np.all(log_q < -45.0) or k > 10_000_000:
            break
    return np.log(total), weighted / total


def erlang_a_figures(n: int, lam: float, aht: float, patience: float, t: float) -> Figures:
    """Erlang A (exponential patience with mean ``patience`` s) for ``n`` agents."""
    if n < 0 or lam < 0 or aht <= 0 or patience <= 0:
        raise ValueError("agents, rate, handle time and patience must be positive")
    a = lam * aht
    if lam == 0:
        return Figures(n, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0)
    if n == 0:
        return Figures(0, a, 1.0, 0.0, patience, 1.0, 0.0)
    arr = np.array
    p_wait, sl, asa, p_ab = _erlang_a_core(
        arr([log_inv_erlang_b(n, a)]), arr([float(n)]), arr([lam]), arr([aht]),
        arr([patience]), arr([t]),
    )  # fmt: skip
    served_load = a * (1.0 - float(p_ab[0]))
    return Figures(
        n, a, float(p_wait[0]), float(sl[0]), float(asa[0]), float(p_ab[0]), served_load / n
    )


# --- Staffing -----------------------------------------------------------------------------------


class Model(StrEnum):
    ERLANG_C = "erlang_c"
    ERLANG_A = "erlang_a"


@dataclass(frozen=True)
class Target:
    """What an interval must achieve. Unset parts are not checked.

    ``service_level`` (0–1) within ``answer_within`` seconds; ``asa`` seconds;
    ``abandonment`` (0–1, Erlang A only); ``max_occupancy`` (0–1) caps a / n.
    """

    service_level: float | None = 0.8
    answer_within: float = 20.0
    asa: float | None = None
    abandonment: float | None = None
    max_occupancy: float | None = None

    def __post_init__(self) -> None:
        if self.service_level is not None and not 0 < self.service_level < 1:
            raise ValueError("service level must be between 0 and 1")
        if self.answer_within < 0:
            raise ValueError("answer-within time must not be negative")
        if self.asa is not None and self.asa <= 0:
            raise ValueError("ASA target must be positive")
        if self.abandonment is not None and not 0 < self.abandonment < 1:
            raise ValueError("abandonment target must be between 0 and 1")
        if self.max_occupancy is not None and not 0 < self.max_occupancy <= 1:
            raise ValueError("maximum occupancy must be in (0, 1]")


@dataclass(frozen=True)
class Staffing:
    """Per-interval results of :func:`required_agents` (arrays of equal length)."""

    servers: IntArray  # positions needed on the queue (before concurrency and shrinkage)
    agents: IntArray  # agents logged in and working (after chat concurrency)
    scheduled: IntArray  # agents to schedule (after shrinkage)
    service_level: FloatArray
    asa: FloatArray
    abandonment: FloatArray
    occupancy: FloatArray


def required_agents(
    volume: npt.ArrayLike,
    aht: npt.ArrayLike,
    interval_s: float,
    target: Target,
    *,
    model: Model = Model.ERLANG_C,
    patience: float | None = None,
    shrinkage: float = 0.0,
    concurrency: float = 1.0,
    limit: int = 100_000,
) -> Staffing:
    """The fewest servers per interval that meet ``target``, for all intervals at once.

    ``volume`` is contacts per interval and ``aht`` seconds (scalar or per interval). With chat
    concurrency c an agent works c contacts at once, so servers = agents·c (handle time is the
    time a contact occupies one of the agent's slots). ``shrinkage`` (breaks, training, absence,
    0–1) turns working agents into agents to schedule. The search walks n upwards once for all
    intervals, carrying the Erlang B recursion, and stops when every interval is met.
    """
    vol = np.atleast_1d(np.asarray(volume, dtype=np.float64))
    handle = np.broadcast_to(np.asarray(aht, dtype=np.float64), vol.shape).copy()
    if interval_s <= 0:
        raise ValueError("interval length must be positive")
    if np.any(vol < 0) or not np.all(np.isfinite(vol)):
        raise ValueError("volume must be finite and not negative")
    if np.any(handle <= 0) or not np.all(np.isfinite(handle)):
        raise ValueError("handle time must be positive")
    if not 0 <= shrinkage < 1:
        raise ValueError("shrinkage must be in [0, 1)")
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    if model is Model.ERLANG_A and (patience is None or patience <= 0):
        raise ValueError("Erlang A needs a positive mean patience")
    if target.abandonment is not None and model is not Model.ERLANG_A:
        raise ValueError("an abandonment target needs Erlang A")

    lam = vol / interval_s
    load = lam * handle
    size = vol.size
    servers = np.zeros(size, dtype=np.int64)
    sl_out = np.ones(size)
    asa_out = np.zeros(size)
    ab_out = np.zeros(size)
    occ_out = np.zeros(size)
    todo = load > 0
    min_n = np.zeros(size)
    if target.max_occupancy is not None:
        min_n = np.ceil(load / target.max_occupancy - 1e-9)
    log_load = np.log(np.where(todo, load, 1.0))
    inv = np.zeros(size)  # log(1/B(k, a)) for the current k
    t = target.answer_within
    k = 0
    while todo.any():
        k += 1
        if k > limit:
            raise ValueError(f"no staffing up to {limit} servers meets the target")
        inv = np.logaddexp(0.0, math.log(k) - log_load + inv)
        idx = np.nonzero(todo & (k >= min_n))[0]
        if idx.size == 0:
            continue
        a = load[idx]
        h = handle[idx]
        if model is Model.ERLANG_C:
            ok_idx = a < k
            idx = idx[ok_idx]
            if idx.size == 0:
                continue
            a = a[ok_idx]
            h = h[ok_idx]
            b = np.exp(-inv[idx])
            c = k * b / (k - a * (1.0 - b))
            sl = 1.0 - c * np.exp(-(k - a) * t / h)
            asa = c * h / (k - a)
            ab = np.zeros(idx.size)
            occ = a / k
        else:
            assert patience is not None
            p = np.full(idx.size, patience)
            _pw, sl, asa, ab = _erlang_a_core(
                inv[idx], np.full(idx.size, float(k)), lam[idx], h, p, np.full(idx.size, t)
            )
            occ = a * (1.0 - ab) / k
        ok = np.ones(idx.size, dtype=bool)
        if target.service_level is not None:
            ok &= sl >= target.service_level
        if target.asa is not None:
            ok &= asa <= target.asa
        if target.abandonment is not None:
            ok &= ab <= target.abandonment
        done = idx[ok]
        servers[done] = k
        sl_out[done] = sl[ok]
        asa_out[done] = asa[ok]
        ab_out[done] = ab[ok]
        occ_out[done] = occ[ok]
        todo[done] = False
    agents = np.ceil(servers / concurrency - 1e-9).astype(np.int64)
    scheduled = np.ceil(agents / (1.0 - shrinkage) - 1e-9).astype(np.int64)
    return Staffing(servers, agents, scheduled, sl_out, asa_out, ab_out, occ_out)
