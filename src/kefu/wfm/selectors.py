"""Read queries for workforce screens, the API and the export."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.db.models import QuerySet

from kefu.accounts.models import User
from kefu.core.permissions import AGENT_ROLES
from kefu.wfm import erlang, forecast, history, roster, simulation
from kefu.wfm.models import Forecast, Roster, Shift


def roster_agents(ros: Roster) -> list[User]:
    return list(
        User.objects.filter(memberships__team=ros.team, role__in=AGENT_ROLES, is_active=True)
        .select_related("work_rule")
        .order_by("username")
    )


def assignments_of(ros: Roster) -> dict[str, list[str | None]]:
    out: dict[str, list[str | None]] = {}
    for agent_id, day, code in Shift.objects.filter(roster=ros).values_list(
        "agent_id", "day", "code"
    ):
        days = out.setdefault(str(agent_id), [None] * ros.days)
        days[(day - ros.start).days] = code
    return out


def list_forecasts() -> QuerySet[Forecast]:
    return Forecast.objects.select_related("created_by").order_by("-created_at")[:50]


def list_rosters() -> QuerySet[Roster]:
    return Roster.objects.select_related("team", "forecast").order_by("-start", "pk")[:50]


def forecast_vs_actual(fc: Forecast) -> dict[str, Any]:
    """Forecast and actual arrivals per interval (actual only up to now), with WAPE."""
    actual = history.counts(fc.start, fc.days, fc.interval_minutes, fc.channel)
    values = np.asarray(fc.values, dtype=np.float64)
    now = dt.datetime.now(tz=history.zone())
    elapsed = int(
        (now - history.local_midnight(fc.start)).total_seconds() // (fc.interval_minutes * 60)
    )
    elapsed = max(0, min(values.size, elapsed))
    labels = []
    step = dt.timedelta(minutes=fc.interval_minutes)
    t0 = history.local_midnight(fc.start)
    for i in range(values.size):
        labels.append((t0 + i * step).strftime("%m-%d %H:%M"))
    done = actual[:elapsed]
    wape = None
    if elapsed and done.sum() > 0:
        wape = round(forecast.wape(done, values[:elapsed]) * 100, 1)
    return {
        "labels": labels,
        "forecast": [round(float(v), 2) for v in values],
        "actual": [int(v) for v in actual[:elapsed]],
        "wape": wape,
        "total": round(float(values.sum()), 1),
    }


@dataclass(frozen=True)
class Grid:
    days: list[dt.date]
    rows: list[tuple[User, list[tuple[dt.date, str | None]]]]


def roster_grid(ros: Roster) -> Grid:
    days = [ros.start + dt.timedelta(days=d) for d in range(ros.days)]
    cells = assignments_of(ros)
    rows = [
        (u, list(zip(days, cells.get(str(u.pk), [None] * ros.days), strict=True)))
        for u in roster_agents(ros)
    ]
    return Grid(days, rows)


def coverage(ros: Roster) -> dict[str, Any]:
    """Required and scheduled agents per interval, and the gap (scheduled − required)."""
    req = np.asarray(ros.requirement, dtype=np.int64)
    cov = roster.coverage_of(assignments_of(ros), roster.CATALOGUE, ros.interval_minutes, req.size)
    gap = cov - req
    spd = 1440 // ros.interval_minutes
    times = [f"{(i * ros.interval_minutes) // 60:02d}:{(i * ros.interval_minutes) % 60:02d}"
             for i in range(spd)]  # fmt: skip
    return {
        "days": [(ros.start + dt.timedelta(days=d)).strftime("%m-%d") for d in range(ros.days)],
        "times": times,
        "required": req.tolist(),
        "scheduled": cov.tolist(),
        "gap": gap.tolist(),
        "short_intervals": int((gap < 0).sum()),
        "short_agent_intervals": int(-gap[gap < 0].sum()),
        "over_agent_intervals": int(gap[gap > 0].sum()),
    }


def my_shifts(user: User, since: dt.date, days: int = 28) -> list[Shift]:
    """The agent's own published shifts from ``since``."""
    return list(
        Shift.objects.filter(
            agent=user,
            roster__status=Roster.Status.PUBLISHED,
            day__gte=since,
            day__lt=since + dt.timedelta(days=days),
        )
        .select_related("roster__team")
        .order_by("day")
    )


def shift_window(day: dt.date, code: str) -> tuple[dt.datetime, dt.datetime]:
    shift = next(s for s in roster.CATALOGUE if s.code == code)
    base = history.local_midnight(day)
    return base + dt.timedelta(minutes=shift.start), base + dt.timedelta(minutes=shift.end)


def adherence(ros: Roster) -> list[dict[str, Any]]:
    """Per agent: scheduled minutes so far and minutes signed in (any presence but offline)
    during them, from routing's presence history."""
    from kefu.routing.models import Presence, PresenceChange

    now = dt.datetime.now(tz=dt.UTC)
    shifts = list(Shift.objects.filter(roster=ros).select_related("agent").order_by("agent", "day"))
    if not shifts:
        return []
    first, last = history.local_midnight(ros.start), now
    stretches: dict[int, list[tuple[dt.datetime, dt.datetime]]] = {}
    for user_id, start, end in (
        PresenceChange.objects.filter(
            user__in={s.agent_id for s in shifts},
            started_at__lt=last,
        )
        .exclude(state=Presence.State.OFFLINE)
        .exclude(ended_at__lt=first)
        .values_list("user_id", "started_at", "ended_at")
    ):
        stretches.setdefault(user_id, []).append((start, end or now))
    by_agent: dict[int, dict[str, Any]] = {}
    for s in shifts:
        row = by_agent.setdefault(s.agent_id, {"agent": s.agent, "scheduled": 0.0, "present": 0.0})
        worked = next(t for t in roster.CATALOGUE if t.code == s.code)
        base = history.local_midnight(s.day)
        for a, b in worked.segments:
            lo, hi = base + dt.timedelta(minutes=a), min(base + dt.timedelta(minutes=b), now)
            if hi <= lo:
                continue
            row["scheduled"] += (hi - lo).total_seconds() / 60
            for p0, p1 in stretches.get(s.agent_id, []):
                overlap = (min(hi, p1) - max(lo, p0)).total_seconds()
                if overlap > 0:
                    row["present"] += overlap / 60
    out = []
    for row in by_agent.values():
        sched = row["scheduled"]
        row["percent"] = round(100 * row["present"] / sched, 1) if sched else None
        row["scheduled"] = round(sched)
        row["present"] = round(row["present"])
        out.append(row)
    return out


def day_figures(ros: Roster, day_index: int, *, seed: int = 1) -> dict[str, Any] | None:
    """One roster day: simulation (5 replications) beside Erlang A per interval, both with the
    scheduled agents less shrinkage on the phone. Service level and abandonment in percent."""
    fc = ros.forecast
    if fc is None or not 0 <= day_index < ros.days:
        return None
    spd = 1440 // ros.interval_minutes
    offset = (ros.start - fc.start).days + day_index
    if offset < 0 or offset >= fc.days:
        return None
    volume = np.asarray(fc.values[offset * spd : (offset + 1) * spd], dtype=np.float64)
    cov = np.asarray(coverage(ros)["scheduled"][day_index * spd : (day_index + 1) * spd])
    on_phone = np.floor(cov * (1 - ros.shrinkage)).astype(np.int64)
    # handle times and patience from the call log of the eight weeks before, when there is one
    day = ros.start + dt.timedelta(days=day_index)
    stats = history.call_stats(history.local_midnight(day - dt.timedelta(days=56)),
                               history.local_midnight(day))  # fmt: skip
    patience = ros.patience_seconds
    handle_times = None
    if stats is not None:
        handle_times = stats.handle_times
        patience = stats.mean_patience or patience
    sim = simulation.simulate(volume, on_phone, ros.interval_minutes,
                              answer_within=ros.answer_seconds, handle_times=handle_times,
                              mean_handle=fc.aht_seconds, mean_patience=patience, seed=seed,
                              replications=5)  # fmt: skip
    sl, asa, ab = sim.totals()
    aht = float(np.mean(handle_times)) if handle_times else fc.aht_seconds
    total = float(volume.sum())
    e_sl = e_asa = e_ab = 0.0
    if total > 0:
        for v, n in zip(volume, on_phone, strict=True):
            if v <= 0:
                continue
            f = erlang.erlang_a_figures(int(n), v / (ros.interval_minutes * 60), aht, patience,
                                        ros.answer_seconds)  # fmt: skip
            e_sl += v / total * f.service_level
            e_asa += v / total * f.asa
            e_ab += v / total * f.abandonment
    return {
        "day": ros.start + dt.timedelta(days=day_index),
        "offered": int(sim.offered.sum()),
        "from_calls": stats is not None,
        "aht": aht,
        "patience": patience,
        "simulated": {"service_level": 100 * sl, "asa": asa, "abandonment": 100 * ab},
        "erlang": {"service_level": 100 * e_sl, "asa": e_asa, "abandonment": 100 * e_ab},
    }
