"""The roster screen in a real browser: the heat map draws, a cell edit saves through HTMX and
shows the rule it breaks; the agent then sees the change on their own schedule."""

import datetime as dt

import pytest
from django.utils import timezone

from kefu.core.permissions import Role
from kefu.testing.factories import PASSWORD, make_team, make_ticket, make_user
from kefu.testing.fixtures import sign_in
from kefu.wfm import history, services
from kefu.wfm.models import Shift, WorkRule

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_the_planner_edits_a_cell_and_the_agent_sees_it(page, asgi_server):
    from kefu.tickets.defaults import install

    install()  # an earlier transactional test may have emptied what the data migration filled
    team = make_team("浏览器排班组")
    planner = make_user(Role.PLANNER, username="planner-b", language="en")
    agents = [make_user(Role.AGENT_L1, username=f"rb{i}", teams=[team]) for i in range(5)]
    for i, agent in enumerate(agents):
        WorkRule.objects.create(user=agent, rotation="ABCD"[i] if i < 4 else "")
    monday = timezone.localdate() - dt.timedelta(days=timezone.localdate().weekday())
    for d in range(1, 15):
        day = monday - dt.timedelta(days=d)
        for minute in (5, 35):
            make_ticket(
                created_at=history.local_midnight(day) + dt.timedelta(hours=10, minutes=minute)
            )
    fc = services.build_forecast(actor=planner, name="浏览器预测", start=monday, days=7,
                                 channel="phone", history_days=14)  # fmt: skip
    ros = services.create_roster(actor=planner, team=team, forecast_obj=fc, start=monday,
                                 solve_now=True, time_limit_s=3)  # fmt: skip
    services.publish_roster(actor=planner, roster_obj=ros)

    sign_in(page, asgi_server.url, planner.username, PASSWORD)
    page.goto(f"{asgi_server.url}/wfm/rosters/{ros.pk}/")
    page.wait_for_selector("#wfm-heatmap canvas", timeout=10_000)
    cell = f"[data-testid=cell-rb0-{monday:%Y%m%d}]"
    assert page.locator(cell).input_value() == "N"
    # an evening shift right before the team's night shift leaves no rest
    page.select_option(cell, "E")
    page.wait_for_selector("[data-testid=cell-problems]", timeout=10_000)
    assert "0 h rest, under 12 h" in page.locator("[data-testid=cell-problems]").inner_text()
    assert Shift.objects.get(roster=ros, agent=agents[0], day=monday).code == "E"

    page.context.clear_cookies()
    sign_in(page, asgi_server.url, agents[0].username, PASSWORD)
    page.goto(f"{asgi_server.url}/wfm/me/")
    first_row = page.locator("[data-testid=my-shifts] tbody tr").first.inner_text()
    assert first_row.split()[2] == "E"
