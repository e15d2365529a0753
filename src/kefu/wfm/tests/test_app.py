"""The workforce app through its services, API and screens: forecasts from work-order history,
overrides, the staffing calculator, rosters (solve, edit, publish, export), the agent's own
schedule, adherence, and who may do what."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.utils import timezone

from kefu.accounts.models import User
from kefu.core.models import Event, Notification
from kefu.core.permissions import Role
from kefu.testing.factories import make_team, make_ticket, make_user
from kefu.wfm import history, selectors, services
from kefu.wfm.models import Forecast, Leave, Override, Roster, Shift, WorkRule

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup():
    team = make_team("排班一线")
    planner = make_user(Role.PLANNER, username="planner-t", language="en")
    agents = [make_user(Role.AGENT_L1, username=f"ag{i}", teams=[team]) for i in range(6)]
    outsider = make_user(Role.AGENT_L1, username="outsider")
    for i, agent in enumerate(agents):
        WorkRule.objects.create(user=agent, rotation="ABCD"[i] if i < 4 else "")
    return {"team": team, "planner": planner, "agents": agents, "outsider": outsider}


def _history_tickets(days: int = 14) -> dt.date:
    """Work orders every weekday at 09:10, 09:20, 09:40 and 09:50 (two per half-hour slot), none
    at weekends, over the ``days`` before this week's Monday; returns that Monday."""
    today = timezone.localdate()
    today -= dt.timedelta(days=today.weekday())
    for d in range(1, days + 1):
        day = today - dt.timedelta(days=d)
        if day.weekday() >= 5:
            continue
        for minute in (10, 20, 40, 50):
            t = history.local_midnight(day) + dt.timedelta(hours=9, minutes=minute)
            make_ticket(created_at=t, channel="phone")
    return today


def _forecast(setup, start: dt.date | None = None, **kw) -> Forecast:
    start = start or _history_tickets()
    return services.build_forecast(actor=setup["planner"], name="下周", start=start, days=7,
                                   channel="phone", history_days=14, **kw)  # fmt: skip


def test_forecast_learns_weekday_slots_from_work_orders(setup):
    # given two weeks of work orders: 2 per slot at 09:00 and 09:30 on weekdays
    today = _history_tickets()
    # when
    fc = _forecast(setup, today)
    # then weekdays get 2 calls in those slots, nothing elsewhere, weekends are closed
    values = fc.values
    assert len(values) == 7 * 48
    for d in range(7):
        day = today + dt.timedelta(days=d)
        slot = d * 48 + 18
        expected = 0.0 if day.weekday() >= 5 else 2.0
        assert values[slot] == pytest.approx(expected, abs=0.01)
        assert values[slot + 1] == pytest.approx(expected, abs=0.01)
        assert sum(values[d * 48 : d * 48 + 18]) == 0.0
    event = Event.objects.get(action="wfm_forecast_created")
    assert event.object_id == fc.pk and event.data["channel"] == "phone"


def test_overrides_raise_their_window(setup):
    today = _history_tickets()
    start = history.local_midnight(today + dt.timedelta(days=2))  # Wednesday of the forecast
    services.add_override(actor=setup["planner"], channel="phone", percent=50, reason="停电通知",
                          starts_at=start + dt.timedelta(hours=9), ends_at=start + dt.timedelta(hours=10))  # fmt: skip
    fc = _forecast(setup, today)
    d = (start.date() - today).days
    assert fc.values[d * 48 + 18] == pytest.approx(3.0, abs=0.01)
    assert fc.values[d * 48 + 19] == pytest.approx(3.0, abs=0.01)
    assert Event.objects.filter(action="wfm_override_added").count() == 1


def test_agents_cannot_forecast_and_nothing_is_written(setup, client):
    _history_tickets()
    client.force_login(setup["agents"][0])
    body = {"name": "x", "start": timezone.localdate().isoformat(), "days": 7}
    response = client.post("/api/v1/wfm/forecasts", body, content_type="application/json")
    assert response.status_code == 403
    assert (
        Forecast.objects.count() == 0
        and not Event.objects.filter(action__startswith="wfm").exists()
    )


def test_forecast_api_refuses_bad_input_naming_the_field(setup, client):
    client.force_login(setup["planner"])
    body = {"name": "x", "start": timezone.localdate().isoformat(), "days": 7, "history_days": 14}
    response = client.post("/api/v1/wfm/forecasts", body, content_type="application/json")
    # no work orders at all: nothing to learn from
    assert response.status_code == 422
    assert "history_days" in response.json()["error"]["fields"]
    bad = {"channel": "phone", "starts_at": "2026-05-01T10:00:00+08:00",
           "ends_at": "2026-05-01T09:00:00+08:00", "percent": 20, "reason": "x"}  # fmt: skip
    response = client.post("/api/v1/wfm/overrides", bad, content_type="application/json")
    assert response.status_code == 422
    assert response.json()["error"]["fields"] == {
        "ends_at": ["The window must end after it starts."]
    }
    assert Forecast.objects.count() == 0 and Override.objects.count() == 0


def test_staffing_calculator_api(setup, client):
    client.force_login(setup["planner"])
    body = {"volume": [100, 0], "aht_seconds": 180, "interval_minutes": 30, "shrinkage": 0.3}
    response = client.post("/api/v1/wfm/staffing", body, content_type="application/json")
    assert response.status_code == 200
    data = response.json()
    assert (data["servers"], data["scheduled"]) == ([14, 0], [20, 0])
    assert data["service_level"][0] == pytest.approx(0.8884, abs=1e-4)
    body = {"volume": [100], "aht_seconds": 180, "abandonment": 0.05}
    response = client.post("/api/v1/wfm/staffing", body, content_type="application/json")
    assert response.status_code == 422
    assert "Erlang A" in response.json()["error"]["message"] + str(response.json()["error"])
    client.force_login(setup["agents"][0])
    response = client.post("/api/v1/wfm/staffing", {"volume": [1], "aht_seconds": 60},
                           content_type="application/json")  # fmt: skip
    assert response.status_code == 403


def _roster(setup) -> Roster:
    fc = _forecast(setup)
    Leave.objects.create(user=setup["agents"][5], first_day=fc.start, last_day=fc.start)
    return services.create_roster(actor=setup["planner"], team=setup["team"], forecast_obj=fc,
                                  start=fc.start, weeks=1, solve_now=True)  # fmt: skip


def test_roster_solves_with_rotation_leave_and_coverage(setup):
    ros = _roster(setup)
    assert ros.solver_status in ("optimal", "feasible")
    assert "outsider" not in {s.agent.username for s in Shift.objects.filter(roster=ros)}
    # the rotation teams follow 夜夜白白中中休休 from day 0
    a0 = setup["agents"][0]
    codes = [Shift.objects.filter(roster=ros, agent=a0, day=ros.start + dt.timedelta(days=d))
             .values_list("code", flat=True).first() for d in range(7)]  # fmt: skip
    assert codes == ["N", "N", "D", "D", "E", "E", None]
    # the agent on leave has no shift that day
    assert not Shift.objects.filter(roster=ros, agent=setup["agents"][5], day=ros.start).exists()
    cov = selectors.coverage(ros)
    # 2 calls per half hour need 3 agents scheduled (80/20, shrinkage 30 %); on Monday one
    # flexible agent is on leave, so 09:00–10:00 has the day-shift team and one agent only
    short = [(i // 48, i % 48, cov["required"][i], cov["scheduled"][i])
             for i, g in enumerate(cov["gap"]) if g < 0]  # fmt: skip
    assert short == [(0, 18, 3, 2), (0, 19, 3, 2)]
    assert Event.objects.filter(action="wfm_roster_solved", object_id=ros.pk).count() == 1


def test_cell_edit_reports_broken_rules_and_records_the_change(setup, client):
    ros = _roster(setup)
    agent = setup["agents"][0]  # night shift on day 1
    client.force_login(setup["planner"])
    # when the planner puts an evening shift before that night shift
    response = client.post(f"/wfm/rosters/{ros.pk}/cell/",
                           {"agent": agent.pk, "day": ros.start.isoformat(), "code": "E"})  # fmt: skip
    assert response.status_code == 200
    html = response.content.decode()
    assert "day 2: 0 h rest, under 12 h" in html
    event = Event.objects.get(action="wfm_shift_changed")
    assert event.changes == {"code": ["N", "E"]}
    # an unknown shift is refused and changes nothing
    response = client.put(f"/api/v1/wfm/rosters/{ros.pk}/shifts",
                          {"agent": agent.pk, "day": ros.start.isoformat(), "code": "ZZ"},
                          content_type="application/json")  # fmt: skip
    assert response.status_code == 422
    assert Shift.objects.get(roster=ros, agent=agent, day=ros.start).code == "E"


def test_publish_shows_agents_their_schedule_and_notifies_them(setup, client):
    ros = _roster(setup)
    agent = setup["agents"][0]
    client.force_login(agent)
    assert client.get(f"/wfm/rosters/{ros.pk}/").status_code == 403
    assert client.post(f"/wfm/rosters/{ros.pk}/publish/").status_code == 403
    assert client.get("/api/v1/wfm/me/shifts", {"since": ros.start.isoformat()}).json() == []
    client.force_login(setup["planner"])
    assert client.post(f"/wfm/rosters/{ros.pk}/publish/").status_code == 302
    ros.refresh_from_db()
    assert ros.status == "published"
    assert Notification.objects.filter(user=agent, kind="wfm_schedule").count() == 1
    client.force_login(agent)
    mine = client.get("/api/v1/wfm/me/shifts", {"since": ros.start.isoformat()}).json()
    assert [s["code"] for s in mine] == ["N", "N", "D", "D", "E", "E"]
    page = client.get("/wfm/me/")
    assert page.status_code == 200
    # publishing twice is refused
    client.force_login(setup["planner"])
    response = client.post(f"/api/v1/wfm/rosters/{ros.pk}/publish")
    assert response.status_code == 422


def test_roster_pages_export_and_query_budget(setup, client, django_assert_max_num_queries):
    from openpyxl import load_workbook

    ros = _roster(setup)
    client.force_login(setup["planner"])
    page = client.get(f"/wfm/rosters/{ros.pk}/")
    assert page.status_code == 200
    assert 'data-testid="heatmap"' in page.content.decode()
    with django_assert_max_num_queries(12):
        response = client.get(f"/api/v1/wfm/rosters/{ros.pk}")
    assert response.status_code == 200 and response.json()["short_intervals"] == 2
    export = client.get(f"/wfm/rosters/{ros.pk}/export.xlsx")
    assert export.status_code == 200
    book = load_workbook(io.BytesIO(export.content))
    sheet, coverage = book.worksheets
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows[0]) == 2 + 7 and rows[0][2] == ros.start.strftime("%m-%d %a")
    first = next(r for r in rows if r[0] == setup["agents"][0].display_name)
    assert list(first[2:9]) == ["N", "N", "D", "D", "E", "E", None]
    assert coverage.max_row == 1 + 7 * 48
    assert list(coverage.iter_rows(min_row=20, max_row=20, values_only=True))[0][2:] == (3, 2, -1)


def test_adherence_from_presence_history(setup):
    from kefu.routing.models import PresenceChange

    ros = _roster(setup)
    agent = setup["agents"][1]  # team B: day shift 08:00–16:00 on Monday
    day = ros.start + dt.timedelta(days=0)
    code = Shift.objects.get(roster=ros, agent=agent, day=day).code
    assert code == "D"
    base = history.local_midnight(day)
    PresenceChange.objects.create(user=agent, state="available",
                                  started_at=base + dt.timedelta(hours=8),
                                  ended_at=base + dt.timedelta(hours=12))  # fmt: skip
    rows = {r["agent"].pk: r for r in selectors.adherence(ros)}
    row = rows[agent.pk]
    # only the part of the roster already past counts as scheduled
    assert row["present"] <= 240 and row["scheduled"] >= row["present"]
    if timezone.now() > base + dt.timedelta(hours=16):
        assert row["present"] == 240


def test_planner_pages_and_forms(setup, client):
    today = _history_tickets()
    client.force_login(setup["planner"])
    assert client.get("/wfm/").status_code == 200
    response = client.post("/wfm/forecasts/new/", {"name": "", "channel": "phone",
                           "start": today.isoformat(), "days": 7, "interval_minutes": 30,
                           "history_days": 14, "aht_seconds": 240})  # fmt: skip
    assert response.status_code == 422 and Forecast.objects.count() == 0
    response = client.post("/wfm/forecasts/new/", {"name": "<b>周</b>", "channel": "phone",
                           "start": today.isoformat(), "days": 7, "interval_minutes": 30,
                           "history_days": 14, "aht_seconds": 240})  # fmt: skip
    assert response.status_code == 302
    fc = Forecast.objects.get()
    page = client.get(f"/wfm/forecasts/{fc.pk}/").content.decode()
    assert "&lt;b&gt;周&lt;/b&gt;" in page and "<b>周</b>" not in page
    client.force_login(setup["agents"][0])
    assert client.get("/wfm/").status_code == 403
    assert client.get(f"/wfm/forecasts/{fc.pk}/").status_code == 403


def test_demo_has_a_forecast_and_a_published_roster(client):
    import random

    from kefu.accounts.demo import seed_staff
    from kefu.core.demo import DemoContext
    from kefu.wfm.demo import seed_wfm

    ctx = DemoContext(rng=random.Random(1), now=timezone.now())
    seed_staff(ctx)
    seed_wfm(ctx)
    fc = Forecast.objects.get()
    assert (fc.days, fc.interval_minutes, len(fc.values)) == (14, 30, 14 * 48)
    assert Override.objects.count() == 1
    ros = Roster.objects.get()
    assert ros.status == "published"
    assert WorkRule.objects.filter(rotation__in=["A", "B", "C", "D"]).count() == 8
    agent = User.objects.get(username="agent01")
    client.force_login(agent)
    monday = ros.start
    mine = client.get("/api/v1/wfm/me/shifts", {"since": monday.isoformat()}).json()
    assert [s["code"] for s in mine] == ["N", "N", "D", "D", "E", "E"]
    client.force_login(User.objects.get(username="planner"))
    assert client.get(f"/wfm/rosters/{ros.pk}/").status_code == 200
    assert client.get(f"/wfm/forecasts/{fc.pk}/").status_code == 200


def test_forecast_against_actuals_and_the_simulated_day(setup, client):
    # given work orders in the fortnight before this Monday: learn from the first week,
    # forecast the second, which has already happened
    monday = _history_tickets()
    start = monday - dt.timedelta(days=7)
    fc = services.build_forecast(actor=setup["planner"], name="上周回顾", start=start, days=7,
                                 channel="phone", history_days=7)  # fmt: skip
    # when
    chart = selectors.forecast_vs_actual(fc)
    # then the same pattern came in: no error
    assert len(chart["actual"]) == 7 * 48
    assert sum(chart["actual"]) == 5 * 4
    assert chart["wape"] == 0.0
    client.force_login(setup["planner"])
    response = client.get(f"/api/v1/wfm/forecasts/{fc.pk}")
    assert response.json()["wape_percent"] == 0.0
    # and a roster day's simulation is reproducible and reported in percent
    ros = services.create_roster(actor=setup["planner"], team=setup["team"], forecast_obj=fc,
                                 start=start, solve_now=True, time_limit_s=3)  # fmt: skip
    first = selectors.day_figures(ros, 0)
    again = selectors.day_figures(ros, 0)
    assert first == again and first["offered"] > 0
    assert 0 <= first["simulated"]["abandonment"] <= 100
    assert abs(first["simulated"]["service_level"] - first["erlang"]["service_level"]) < 15
    page = client.get(f"/wfm/rosters/{ros.pk}/?day=0").content.decode()
    assert 'data-testid="figures"' in page


def test_calls_replace_work_orders_for_the_phone_and_give_handle_times(setup):
    from kefu.calls.models import Call

    # given phone work orders every weekday and, on one day, the call log
    monday = _history_tickets()
    day = monday - dt.timedelta(days=7)
    base = history.local_midnight(day) + dt.timedelta(hours=14)
    for i, (outcome, wait, talk) in enumerate([("answered", 10, 200), ("answered", 30, 100),
                                                ("abandoned", 60, 0)]):  # fmt: skip
        Call.objects.create(source="test", external_id=str(i), outcome=outcome,
                            started_at=base, offered_at=base + dt.timedelta(minutes=i),
                            wait_s=wait, talk_s=talk, acw_s=20)  # fmt: skip
    since, until = history.local_midnight(day), history.local_midnight(day + dt.timedelta(days=1))
    # when
    phone = history.arrivals(since, until, "phone")
    everything = history.counts(day, 1, 30, "all")
    stats = history.call_stats(since, until)
    # then the phone that day is the three calls, not the four work orders
    assert len(phone) == 3
    assert everything[28] == 3 and everything[18] == 0
    assert stats is not None
    assert sorted(stats.handle_times) == [120.0, 220.0]
    assert stats.mean_patience == 100.0  # (10 + 30 + 60) s waited / 1 abandoned


def test_roster_api_and_who_may_change_it(setup, client):
    fc = _forecast(setup)
    client.force_login(setup["planner"])
    body = {"team": setup["team"].pk, "forecast": fc.pk, "start": fc.start.isoformat(), "weeks": 1}
    response = client.post("/api/v1/wfm/rosters", body, content_type="application/json")
    assert response.status_code == 201
    ros = Roster.objects.get(pk=response.json()["id"])
    # solved after commit (here at once): every shift of the first rotation agent is there
    assert ros.solver_status in ("optimal", "feasible")
    data = client.get(f"/api/v1/wfm/rosters/{ros.pk}").json()
    first = [s["code"] for s in data["shifts"] if s["agent"] == setup["agents"][0].pk]
    assert first == ["N", "N", "D", "D", "E", "E"]
    assert len(data["required"]) == len(data["scheduled"]) == 7 * 48
    # a supervisor may look but not change
    supervisor = make_user(Role.SUPERVISOR, username="sup-t")
    client.force_login(supervisor)
    assert client.get(f"/wfm/rosters/{ros.pk}/").status_code == 200
    cell = {"agent": setup["agents"][0].pk, "day": ros.start.isoformat(), "code": "D"}
    assert client.post(f"/wfm/rosters/{ros.pk}/cell/", cell).status_code == 403
    response = client.put(f"/api/v1/wfm/rosters/{ros.pk}/shifts", cell,
                          content_type="application/json")  # fmt: skip
    assert response.status_code == 403
    assert Shift.objects.get(roster=ros, agent=setup["agents"][0], day=ros.start).code == "N"
    assert not Event.objects.filter(action="wfm_shift_changed").exists()
    # an unknown roster is a 404
    client.force_login(setup["planner"])
    assert client.get("/api/v1/wfm/rosters/999999").status_code == 404


def test_forecast_and_override_api_create(setup, client):
    monday = _history_tickets()
    client.force_login(setup["planner"])
    nine = history.local_midnight(monday) + dt.timedelta(hours=9)
    body = {"channel": "phone", "starts_at": nine.isoformat(),
            "ends_at": (nine + dt.timedelta(hours=1)).isoformat(), "percent": 25,
            "reason": "气象预警"}  # fmt: skip
    response = client.post("/api/v1/wfm/overrides", body, content_type="application/json")
    assert response.status_code == 201 and response.json()["percent"] == 25
    body = {"name": "API 预测", "start": monday.isoformat(), "days": 7, "channel": "phone",
            "history_days": 14}  # fmt: skip
    response = client.post("/api/v1/wfm/forecasts", body, content_type="application/json")
    assert response.status_code == 201
    data = response.json()
    assert len(data["values"]) == 7 * 48
    # Monday 09:00–09:30 and 09:30–10:00: 2 calls each, +25 %
    assert data["values"][18:20] == [pytest.approx(2.5, abs=0.01)] * 2
    assert data["values"][20] == 0.0
