"""Workforce rules: build forecasts, record overrides, create, solve, edit and publish rosters.

Each function validates all of its input first (a ``ValidationError`` naming the field, nothing
written), changes records in one transaction with an event row, and schedules side effects after
commit.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.models import Team, User
from kefu.core import events, jobs
from kefu.core.notifications import notify
from kefu.core.permissions import require_perm, require_perm_unless_system
from kefu.wfm import erlang, forecast, history, roster
from kefu.wfm.models import CHANNELS, SHIFT_LABELS, Forecast, Leave, Override, Roster, Shift
from kefu.wfm.selectors import assignments_of, roster_agents

MAX_FORECAST_DAYS = 62
MAX_HISTORY_DAYS = 730
CHANNEL_CODES = {c for c, _label in CHANNELS}


def _fail(field: str, message: str) -> ValidationError:
    return ValidationError({field: [message]})


def _overrides_for(channel: str, since: dt.datetime, until: dt.datetime) -> list[Override]:
    return list(
        Override.objects.filter(
            channel__in={channel, "all"}, starts_at__lt=until, ends_at__gt=since
        ).order_by("starts_at", "pk")
    )


def build_forecast(
    *,
    actor: User,
    name: str,
    start: dt.date,
    days: int,
    channel: str = "all",
    interval_minutes: int = 30,
    history_days: int = 56,
    aht_seconds: float = 240.0,
    model: str = forecast.DEFAULT_MODEL,
    history_series: forecast.Series | None = None,
) -> Forecast:
    """Forecast ``days`` local days from ``start`` using the ``history_days`` before it —
    from the registered history sources, or from ``history_series`` (an imported call log)."""
    require_perm(actor, "wfm.plan")
    name = name.strip()
    if not name:
        raise _fail("name", _("Give the forecast a name."))
    if channel not in CHANNEL_CODES:
        raise _fail("channel", _("Unknown channel."))
    if interval_minutes not in (15, 30, 60):
        raise _fail("interval_minutes", _("The interval must be 15, 30 or 60 minutes."))
    if not 1 <= days <= MAX_FORECAST_DAYS:
        raise _fail("days", _("Forecast between 1 and %(n)d days.") % {"n": MAX_FORECAST_DAYS})
    if not 7 <= history_days <= MAX_HISTORY_DAYS:
        raise _fail("history_days", _("Use between 7 and 730 days of history."))
    if not 10 <= aht_seconds <= 7200:
        raise _fail("aht_seconds", _("Average handle time must be 10 to 7200 seconds."))
    if model not in forecast.MODELS:
        raise _fail("model", _("Unknown forecasting model."))
    first = start - dt.timedelta(days=history_days)
    if history_series is None:
        counts = history.counts(first, history_days, interval_minutes, channel)
        series = forecast.Series(history.local_midnight(first), interval_minutes, counts)
    else:
        series = history_series
        if series.interval_minutes != interval_minutes or series.day(series.days) != start:
            raise _fail("history_days", _("The imported history must end the day before."))
    if series.values.sum() == 0:
        raise _fail("history_days", _("There are no contacts in the history to learn from."))
    since = history.local_midnight(start)
    until = history.local_midnight(start + dt.timedelta(days=days))
    overrides = [
        forecast.Override(o.starts_at, o.ends_at, o.percent)
        for o in _overrides_for(channel, since, until)
    ]
    result = forecast.forecast(
        series, days, model=model, calendar=forecast.ChinaCalendar(), overrides=overrides
    )
    with transaction.atomic():
        fc = Forecast.objects.create(
            name=name[:120],
            channel=channel,
            interval_minutes=interval_minutes,
            start=start,
            days=days,
            model=model,
            values=[round(float(v), 3) for v in result.values],
            aht_seconds=aht_seconds,
            history_days=history_days,
            created_by=actor,
        )
        events.record(
            "wfm_forecast_created",
            fc,
            actor=actor,
            data={
                "start": start.isoformat(),
                "days": days,
                "channel": channel,
                "model": model,
                "overrides": [o.pk for o in _overrides_for(channel, since, until)],
                "total": round(float(result.values.sum()), 1),
            },
        )
    return fc


def add_override(
    *,
    actor: User,
    channel: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    percent: float,
    reason: str,
) -> Override:
    """A planner's known event: +X % (or −X %) for a window."""
    require_perm(actor, "wfm.plan")
    reason = reason.strip()
    if channel not in CHANNEL_CODES:
        raise _fail("channel", _("Unknown channel."))
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise _fail("starts_at", _("Times need a time zone."))
    if ends_at <= starts_at:
        raise _fail("ends_at", _("The window must end after it starts."))
    if not -100 < percent <= 1000:
        raise _fail("percent", _("The change must be above −100 % and at most +1000 %."))
    if not reason:
        raise _fail("reason", _("Say what the event is."))
    with transaction.atomic():
        ov = Override.objects.create(
            channel=channel,
            starts_at=starts_at,
            ends_at=ends_at,
            percent=percent,
            reason=reason[:200],
            created_by=actor,
        )
        events.record(
            "wfm_override_added",
            ov,
            actor=actor,
            data={"channel": channel, "percent": percent, "from": starts_at, "until": ends_at},
        )
    return ov


# --- Rosters --------------------------------------------------------------------------------


def requirement(
    fc: Forecast,
    start: dt.date,
    days: int,
    *,
    service_level: float,
    answer_seconds: float,
    shrinkage: float,
    max_occupancy: float,
) -> list[int]:
    """Agents to schedule per interval over ``days`` from ``start``, from ``fc`` (Erlang C)."""
    offset = (start - fc.start).days
    if offset < 0 or offset + days > fc.days:
        raise _fail("start", _("The forecast does not cover these days."))
    spd = 1440 // fc.interval_minutes
    volume = np.asarray(fc.values[offset * spd : (offset + days) * spd], dtype=np.float64)
    target = erlang.Target(service_level, answer_seconds, max_occupancy=max_occupancy)
    staffing = erlang.required_agents(
        volume, fc.aht_seconds, fc.interval_minutes * 60, target, shrinkage=shrinkage
    )
    return [int(v) for v in staffing.scheduled]


def create_roster(
    *,
    actor: User,
    team: Team,
    forecast_obj: Forecast,
    start: dt.date,
    weeks: int = 1,
    skill: str = "",
    service_level: float = 0.8,
    answer_seconds: int = 20,
    shrinkage: float = 0.3,
    max_occupancy: float = 0.9,
    solve_now: bool = False,
    time_limit_s: float = 20.0,
) -> Roster:
    """A draft roster for ``team`` covering ``forecast_obj``; solved in the background."""
    require_perm(actor, "wfm.plan")
    if not 1 <= weeks <= 6:
        raise _fail("weeks", _("A roster covers 1 to 6 weeks."))
    if not 0 < service_level < 1:
        raise _fail("service_level", _("The service level target is a share between 0 and 1."))
    if not 0 <= answer_seconds <= 3600:
        raise _fail("answer_seconds", _("Answer-within time must be 0 to 3600 seconds."))
    if not 0 <= shrinkage < 0.9:
        raise _fail("shrinkage", _("Shrinkage must be from 0 up to 0.9."))
    if not 0.3 <= max_occupancy <= 1:
        raise _fail("max_occupancy", _("Maximum occupancy must be between 0.3 and 1."))
    if not team.is_active:
        raise _fail("team", _("The team is not active."))
    req = requirement(
        forecast_obj,
        start,
        weeks * 7,
        service_level=service_level,
        answer_seconds=answer_seconds,
        shrinkage=shrinkage,
        max_occupancy=max_occupancy,
    )
    with transaction.atomic():
        ros = Roster.objects.create(
            team=team,
            forecast=forecast_obj,
            start=start,
            weeks=weeks,
            interval_minutes=forecast_obj.interval_minutes,
            skill=skill.strip(),
            service_level=service_level,
            answer_seconds=answer_seconds,
            shrinkage=shrinkage,
            max_occupancy=max_occupancy,
            requirement=req,
            solver_status="queued",
            created_by=actor,
        )
        events.record(
            "wfm_roster_created",
            ros,
            actor=actor,
            data={"team": team.pk, "start": start.isoformat(), "weeks": weeks},
        )
        if not solve_now:
            from kefu.wfm.tasks import solve_roster_task

            jobs.enqueue(solve_roster_task, ros.pk)
    if solve_now:
        solve_roster(ros.pk, time_limit_s=time_limit_s)
        ros.refresh_from_db()
    return ros


def problem_for(ros: Roster, agents: list[User] | None = None) -> roster.Problem:
    """The pure roster problem: the team's agents with their rules, leave and skills."""
    agents = roster_agents(ros) if agents is None else agents
    end = ros.start + dt.timedelta(days=ros.days - 1)
    leave: dict[int, set[int]] = {}
    for lv in Leave.objects.filter(
        user__in=agents, first_day__lte=end, last_day__gte=ros.start
    ).order_by("pk"):
        for d in range(ros.days):
            if lv.first_day <= ros.start + dt.timedelta(days=d) <= lv.last_day:
                leave.setdefault(lv.user_id, set()).add(d)
    skills: dict[int, set[str]] = {}
    from kefu.accounts.models import AgentSkill

    for user_id, code in AgentSkill.objects.filter(profile__user__in=agents).values_list(
        "profile__user_id", "skill__code"
    ):
        skills.setdefault(user_id, set()).add(code)
    members = []
    for user in agents:
        rule = getattr(user, "work_rule", None)
        members.append(
            roster.Agent(
                id=str(user.pk),
                skills=frozenset(skills.get(user.pk, set())),
                team=(rule.rotation or None) if rule else None,
                shifts=frozenset(rule.shifts) if rule and rule.shifts else None,
                days_off=frozenset(rule.days_off) if rule else frozenset(),
                leave=frozenset(leave.get(user.pk, set())),
                max_week_minutes=(rule.max_week_hours if rule else 40) * 60,
            )
        )
    return roster.Problem(
        requirement=np.asarray(ros.requirement, dtype=np.int64),
        interval_minutes=ros.interval_minutes,
        first_weekday=ros.start.weekday(),
        agents=members,
        skill=ros.skill or None,
    )


def solve_roster(roster_id: int, *, time_limit_s: float = 20.0) -> Roster:
    """Optimise a draft roster's shifts (replacing them) and record how it went."""
    ros = Roster.objects.select_related("team").get(pk=roster_id)
    problem = problem_for(ros)
    solution = roster.solve(problem, time_limit_s=time_limit_s)
    with transaction.atomic():
        ros = Roster.objects.select_for_update().get(pk=roster_id)
        Shift.objects.filter(roster=ros).delete()
        Shift.objects.bulk_create(
            Shift(roster=ros, agent_id=int(agent_id), day=ros.start + dt.timedelta(days=d),
                  code=code)
            for agent_id, codes in sorted(solution.assignments.items())
            for d, code in enumerate(codes)
            if code is not None
        )  # fmt: skip
        ros.solver_status = solution.status
        ros.solve_seconds = round(solution.wall_s, 2)
        ros.save(update_fields=["solver_status", "solve_seconds"])
        events.record(
            "wfm_roster_solved",
            ros,
            actor=None,
            data={
                "status": solution.status,
                "short_intervals": solution.short_intervals,
                "cost_hours": round(solution.cost, 1),
                "seconds": round(solution.wall_s, 2),
            },
        )
    return ros


def set_shift(
    *, actor: User, roster_obj: Roster, agent: User, day: dt.date, code: str | None
) -> list[str]:
    """Edit one cell (``code`` None or "" for a day off); returns the rules the roster now
    breaks for that agent, so the planner sees them at once."""
    require_perm(actor, "wfm.plan")
    code = code or None
    if code is not None and code not in SHIFT_LABELS:
        raise _fail("code", _("Unknown shift."))
    if not roster_obj.start <= day < roster_obj.start + dt.timedelta(days=roster_obj.days):
        raise _fail("day", _("The day is outside the roster."))
    if not roster_obj.team.memberships.filter(user=agent).exists():
        raise _fail("agent", _("The agent is not in this roster's team."))
    with transaction.atomic():
        current = Shift.objects.select_for_update().filter(roster=roster_obj, agent=agent, day=day)
        before = current.values_list("code", flat=True).first()
        if before == code:
            return _agent_problems(roster_obj, agent)
        current.delete()
        if code is not None:
            Shift.objects.create(roster=roster_obj, agent=agent, day=day, code=code)
        events.record(
            "wfm_shift_changed",
            roster_obj,
            actor=actor,
            changes={"code": [before, code]},
            data={"agent": agent.pk, "day": day.isoformat()},
        )
    return _agent_problems(roster_obj, agent)


def _agent_problems(ros: Roster, agent: User) -> list[str]:
    problem = problem_for(ros, [agent])
    days = assignments_of(ros).get(str(agent.pk), [None] * ros.days)
    return roster.check(problem, {str(agent.pk): days})


def publish_roster(*, actor: User, roster_obj: Roster) -> Roster:
    """Publish: the team's agents see their shifts and get a notification."""
    require_perm(actor, "wfm.plan")
    if roster_obj.status == Roster.Status.PUBLISHED:
        raise _fail("status", _("The roster is already published."))
    if not Shift.objects.filter(roster=roster_obj).exists():
        raise _fail("status", _("The roster has no shifts yet."))
    with transaction.atomic():
        roster_obj.status = Roster.Status.PUBLISHED
        roster_obj.published_at = timezone.now()
        roster_obj.save(update_fields=["status", "published_at"])
        events.record(
            "wfm_roster_published",
            roster_obj,
            actor=actor,
            changes={"status": [Roster.Status.DRAFT, Roster.Status.PUBLISHED]},
        )
        agents = User.objects.filter(wfm_shifts__roster=roster_obj).distinct()
        notify(
            agents,
            kind="wfm_schedule",
            title=_("Your schedule from %(day)s is published") % {"day": roster_obj.start},
            url="/wfm/me/",
        )
    return roster_obj


def add_leave(
    *, actor: User, agent: User, first_day: dt.date, last_day: dt.date, reason: str = ""
) -> Leave:
    require_perm_unless_system(actor, "wfm.plan")
    if last_day < first_day:
        raise _fail("last_day", _("Leave ends on or after its first day."))
    if (last_day - first_day).days > 366:
        raise _fail("last_day", _("Leave longer than a year is not a roster matter."))
    with transaction.atomic():
        lv = Leave.objects.create(
            user=agent, first_day=first_day, last_day=last_day, reason=reason.strip()[:200]
        )
        events.record(
            "wfm_leave_added",
            lv,
            actor=actor,
            data={"agent": agent.pk, "from": first_day.isoformat(), "until": last_day.isoformat()},
        )
    return lv


def staffing_table(
    volume: list[float],
    aht_seconds: float,
    interval_minutes: int,
    *,
    model: str = "erlang_c",
    service_level: float | None = 0.8,
    answer_seconds: float = 20.0,
    asa_seconds: float | None = None,
    abandonment: float | None = None,
    patience_seconds: float | None = None,
    shrinkage: float = 0.0,
    max_occupancy: float | None = None,
    concurrency: float = 1.0,
) -> dict[str, Any]:
    """The staffing calculator (no records): agents per interval for a target."""
    if not volume or len(volume) > 40_000:
        raise _fail("volume", _("Give 1 to 40000 intervals of volume."))
    if interval_minutes not in (15, 30, 60):
        raise _fail("interval_minutes", _("The interval must be 15, 30 or 60 minutes."))
    try:
        target = erlang.Target(service_level, answer_seconds, asa_seconds, abandonment,
                               max_occupancy)  # fmt: skip
        result = erlang.required_agents(
            volume,
            aht_seconds,
            interval_minutes * 60,
            target,
            model=erlang.Model(model),
            patience=patience_seconds,
            shrinkage=shrinkage,
            concurrency=concurrency,
        )
    except ValueError as exc:
        raise _fail("target", str(exc)) from None
    return {
        "servers": result.servers.tolist(),
        "agents": result.agents.tolist(),
        "scheduled": result.scheduled.tolist(),
        "service_level": [round(float(v), 4) for v in result.service_level],
        "asa": [round(float(v), 2) for v in result.asa],
        "abandonment": [round(float(v), 4) for v in result.abandonment],
        "occupancy": [round(float(v), 4) for v in result.occupancy],
    }
