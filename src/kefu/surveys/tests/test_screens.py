"""Screens render for the roles that use them, within a fixed number of queries; the demo seeds."""

import datetime as dt
import random

from django.db import connection
from django.test.utils import CaptureQueriesContext

from kefu.core.demo import DemoContext
from kefu.surveys.demo import seed_surveys
from kefu.surveys.models import FollowUpTask, Invitation, Response
from kefu.testing.factories import make_customer, make_ticket
from kefu.tickets.services import add_reply, transition_ticket


def _resolved(centre, n, type_code="complaint"):
    out = []
    for i in range(n):
        t = make_ticket(
            actor=centre["agent"],
            type_code=type_code,
            customer=make_customer(name=f"客户{i}").pk,
            team=centre["front"],
            assignee=centre["agent"],
        )
        add_reply(actor=centre["agent"], ticket=t, body="已处理。")
        out.append(transition_ticket(actor=centre["agent"], ticket=t, to="resolved"))
    return out


def test_follow_up_screens(centre, survey, client):
    _resolved(centre, 3)
    task = FollowUpTask.objects.first()
    client.force_login(centre["agent"])
    with CaptureQueriesContext(connection) as ctx:
        page = client.get("/surveys/followups/")
    assert page.status_code == 200
    assert len(ctx) <= 12
    assert page.content.decode().count("/surveys/followups/") >= 3
    detail = client.get(f"/surveys/followups/{task.pk}/").content.decode()
    assert "回访话术" in detail
    assert 'data-show-key="csat"' in detail
    ticket_page = client.get(f"/tickets/{task.ticket.number}/").content.decode()
    assert 'data-testid="survey-panel"' in ticket_page
    client.force_login(centre["liaison"])
    assert client.get("/surveys/followups/").status_code == 403


def test_report_screen_budget_and_roles(centre, survey, client):
    _resolved(centre, 2, type_code="consultation")
    client.force_login(centre["supervisor"])
    for by in ("agent", "week", "channel"):
        with CaptureQueriesContext(connection) as ctx:
            r = client.get(f"/surveys/report/?by={by}")
        assert r.status_code == 200
        assert len(ctx) <= 15
    assert 'id="survey-trend"' in client.get("/surveys/report/?by=week").content.decode()
    assert client.get("/surveys/cases/").status_code == 200
    client.force_login(centre["agent"])
    assert client.get("/surveys/report/").status_code == 403


def test_demo_seeds_answers_and_calls(centre):
    tickets = _resolved(centre, 6, type_code="consultation")
    for t in tickets[:3]:
        transition_ticket(actor=centre["agent"], ticket=t, to="closed")
    ctx = DemoContext(rng=random.Random(3), now=dt.datetime(2026, 12, 1, tzinfo=dt.UTC))
    seed_surveys(ctx)
    assert Invitation.objects.filter(trigger="ticket_resolved").count() == 6
    assert Response.objects.count() >= 1
    assert FollowUpTask.objects.count() == 3
