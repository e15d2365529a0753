"""Demo workforce data: eight weeks of hotline history behind a two-week forecast (with a planned
outage notice as an override), working rules for the first-line team — eight agents on
四值三运转 in four teams, the others flexible — some leave, and a published one-week roster."""

from __future__ import annotations

import datetime as dt

import numpy as np

from kefu.accounts.models import Team, User
from kefu.core.demo import DemoContext, seeder
from kefu.core.permissions import AGENT_ROLES
from kefu.wfm import forecast, history, services
from kefu.wfm.models import Forecast, WorkRule


def hotline_history(first: dt.date, days: int, rng: np.random.Generator) -> forecast.Series:
    """Calls per 30 minutes with the 9–11 and 19–21 peaks, quieter weekends, a slight trend."""
    spd = 48
    hour = (np.arange(days * spd) % spd) / 2
    day = np.arange(days * spd) // spd
    weekday = np.array([(first + dt.timedelta(days=int(d))).weekday() for d in day])
    shape = (
        1.0
        + 9 * np.exp(-(((hour - 10) / 1.3) ** 2))
        + 7 * np.exp(-(((hour - 20) / 1.2) ** 2))
        + 4 * ((hour > 8) & (hour < 22))
    )
    level = np.where(weekday >= 5, 0.7, 1.0) * (1 + 0.002 * day)
    values = rng.poisson(shape * level).astype(np.float64)
    return forecast.Series(history.local_midnight(first), 30, values)


@seeder(70)
def seed_wfm(ctx: DemoContext) -> None:
    if Forecast.objects.exists():
        return
    planner = User.objects.filter(username="planner").first()
    team = Team.objects.filter(code="frontline").first()
    if planner is None or team is None:
        return
    rng = np.random.default_rng(7)
    today = ctx.now.astimezone(history.zone()).date()
    monday = today - dt.timedelta(days=today.weekday())
    hist = hotline_history(monday - dt.timedelta(days=56), 56, rng)
    outage = history.local_midnight(monday + dt.timedelta(days=2))
    services.add_override(
        actor=planner,
        channel="phone",
        starts_at=outage + dt.timedelta(hours=8),
        ends_at=outage + dt.timedelta(hours=12),
        percent=40,
        reason="计划停电通知：城东片区 8:00–12:00 检修",
    )
    fc = services.build_forecast(
        actor=planner,
        name="热线话务预测（两周）",
        start=monday,
        days=14,
        channel="phone",
        interval_minutes=30,
        history_days=56,
        aht_seconds=240,
        history_series=hist,
    )
    agents = list(
        User.objects.filter(memberships__team=team, role__in=AGENT_ROLES, is_active=True).order_by(
            "username"
        )
    )
    for i, agent in enumerate(agents):
        rotating = i < 8
        WorkRule.objects.update_or_create(
            user=agent,
            defaults={
                "rotation": "ABCD"[i % 4] if rotating else "",
                "days_off": [] if rotating else [6 - i % 2],
                "max_week_hours": 40,
            },
        )
    if len(agents) > 9:
        services.add_leave(actor=planner, agent=agents[9], first_day=monday + dt.timedelta(days=3),
                           last_day=monday + dt.timedelta(days=4), reason="年休假")  # fmt: skip
    roster = services.create_roster(
        actor=planner,
        team=team,
        forecast_obj=fc,
        start=monday,
        weeks=1,
        shrinkage=0.25,
        solve_now=True,
        time_limit_s=5,
    )
    services.publish_roster(actor=planner, roster_obj=roster)
