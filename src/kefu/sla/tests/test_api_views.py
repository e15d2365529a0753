"""SLA in the API and on the pages: who may see what, what the badges and the report say."""

import csv
import io

import pytest
from django.urls import reverse

from kefu.sla.models import BusinessCalendar, Metric, SlaClock
from kefu.sla.sweep import sweep
from kefu.sla.tests.conftest import at
from kefu.testing.factories import ApiClient, make_customer, make_portal_user, make_ticket
from kefu.tickets import services
from kefu.tickets.models import Ticket

pytestmark = pytest.mark.django_db


def test_the_api_shows_a_work_orders_clocks_and_their_history_to_staff_only(centre, clock_at):
    clock_at(at(2026, 11, 20, 16))
    customer = make_customer("王芳")
    ticket = make_ticket(actor=centre["agent"], type_code="complaint", customer=customer.pk)
    body = ApiClient(user=centre["agent"]).get(f"tickets/{ticket.number}/sla").json()
    first = next(c for c in body if c["metric"] == "first_response")
    assert first["state"] == "running" and first["policy"] == "投诉"
    assert first["target_seconds"] == 24 * 3600
    assert first["due_at"].startswith("2026-11-21T08:00:00")  # 16:00 in Shanghai
    assert first["history"][0]["new_due_at"] == first["due_at"]
    listed = ApiClient(user=centre["agent"]).get("tickets", {"view": "all"}).json()["items"]
    assert listed[0]["sla_due_at"].startswith("2026-11-21T08:00:00")
    assert listed[0]["sla_metric"] == "first_response"
    portal = ApiClient(user=make_portal_user(customer))
    assert portal.get(f"tickets/{ticket.number}/sla").status_code == 404
    assert portal.get(f"tickets/{ticket.number}").json()["sla_due_at"] is None
    assert ApiClient(user=centre["outsider"]).get(f"tickets/{ticket.number}/sla").status_code == 404


def test_milestones_and_breach_reasons_through_the_api(centre, clock_at):
    clock_at(at(2026, 11, 21, 23, 30))
    ticket = make_ticket(actor=centre["agent"], type_code="fault", area="urban")
    api = ApiClient(user=centre["agent"])
    clock_at(at(2026, 11, 22, 0, 30))  # 60 minutes: 15 past the 45-minute promise
    sweep()
    response = api.post(f"tickets/{ticket.number}/sla/milestones", {"milestone": "onsite"})
    assert response.status_code == 200
    arrival = next(c for c in response.json() if c["metric"] == "onsite_arrival")
    assert (arrival["state"], arrival["used_seconds"]) == ("breached", 3600)
    again = api.post(f"tickets/{ticket.number}/sla/milestones", {"milestone": "onsite"})
    assert again.status_code == 422
    bad = api.post(f"tickets/{ticket.number}/sla/milestones", {"milestone": "moon"})
    assert bad.status_code == 422
    reason = api.put(f"sla/clocks/{arrival['id']}/reason", {"reason": "雨天道路积水，绕行"})
    assert reason.status_code == 200 and reason.json()["breach_reason"] == "雨天道路积水，绕行"
    first = SlaClock.objects.get(ticket=ticket, metric=Metric.FIRST_RESPONSE)
    met_or_running = api.put(f"sla/clocks/{first.pk}/reason", {"reason": "x"})
    assert met_or_running.status_code in (200, 422)
    other = ApiClient(user=centre["outsider"]).put(
        f"sla/clocks/{arrival['id']}/reason", {"reason": "改"}
    )
    assert other.status_code == 404
    assert SlaClock.objects.get(pk=arrival["id"]).breach_reason == "雨天道路积水，绕行"


def test_the_deadline_calculator_and_the_policy_list(centre):
    api = ApiClient(user=centre["agent"])
    workdays = BusinessCalendar.objects.get(code="workdays")
    response = api.get(
        f"sla/calendars/{workdays.pk}/deadline",
        {"start": "2026-09-30T16:00:00+08:00", "seconds": 4 * 3600},
    )
    assert response.status_code == 200
    assert response.json()["due_at"].startswith("2026-10-08T03:00:00")  # 11:00 after National Day
    naive = api.get(
        f"sla/calendars/{workdays.pk}/deadline", {"start": "2026-09-30T16:00:00", "seconds": 60}
    )
    assert naive.status_code == 422
    policies = api.get("sla/policies").json()
    complaint = next(p for p in policies if p["name"] == "投诉")
    assert {t["metric"]: t["seconds"] for t in complaint["targets"]}["resolution"] == 4 * 27000
    assert api.get("sla/report", {"from": "2026-11-01", "to": "2026-11-30"}).status_code == 403


def test_the_sla_report_counts_met_and_missed_deadlines(centre, client, clock_at):
    clock_at(at(2026, 11, 20, 16))
    late = make_ticket(actor=centre["agent"], type_code="complaint", title="迟到的答复")
    quick = make_ticket(actor=centre["agent"], type_code="complaint", title="及时的答复")
    clock_at(at(2026, 11, 20, 17))
    services.add_reply(actor=centre["agent"], ticket=quick, body="您好，已收到。")
    clock_at(at(2026, 11, 22, 9))
    sweep()
    services.add_reply(
        actor=centre["agent"], ticket=Ticket.objects.get(pk=late.pk), body="抱歉久等。"
    )
    client.force_login(centre["supervisor"])
    page = client.get(reverse("sla:report"), {"from": "2026-11-01", "to": "2026-11-30"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "50.0%" in html  # first response: one of two on time
    assert late.number in html and quick.number not in html.split('data-testid="breaches"')[1]
    api = ApiClient(user=centre["supervisor"])
    rows = api.get("sla/report", {"from": "2026-11-01", "to": "2026-11-30", "group": "type"}).json()
    first = next(m for m in rows[0]["metrics"] if m["metric"] == "first_response")
    assert (first["total"], first["met"], first["percent"]) == (2, 1, 50.0)
    exported = client.get(reverse("sla:breaches_csv"), {"from": "2026-11-01", "to": "2026-11-30"})
    lines = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert lines[1][0] == late.number and len(lines) == 2
    client.force_login(centre["agent"])
    assert client.get(reverse("sla:report")).status_code == 403


def test_badges_in_the_workspace_and_the_overdue_view(centre, client, clock_at):
    clock_at(at(2026, 11, 23, 9))
    soon = make_ticket(actor=centre["agent"], type_code="fault", area="urban", title="即将超时")
    later = make_ticket(actor=centre["agent"], type_code="consultation", title="时间充裕")
    clock_at(at(2026, 11, 23, 9, 10))
    client.force_login(centre["agent"])
    html = client.get(reverse("tickets:list"), {"view": "all"}).content.decode()
    assert 'data-sla="soon"' in html  # the repair's 15-minute first response: 5 minutes left
    assert 'data-sla="ok"' in html  # the enquiry: hours left
    clock_at(at(2026, 11, 23, 10))
    overdue = client.get(reverse("tickets:list"), {"view": "overdue"}).content.decode()
    assert soon.number in overdue and later.number not in overdue
    assert 'data-sla="overdue"' in overdue
    page = client.get(reverse("tickets:detail", args=[soon.number])).content.decode()
    assert 'data-testid="sla-panel"' in page and "故障报修·城区" in page


def test_the_calendar_page_marks_holidays_and_make_up_days(centre, client, clock_at):
    clock_at(at(2026, 9, 28, 9))
    workdays = BusinessCalendar.objects.get(code="workdays")
    client.force_login(centre["agent"])
    html = client.get(reverse("sla:calendar", args=[workdays.pk]), {"weeks": "3"}).content.decode()
    assert 'data-date="2026-10-01" data-kind="holiday"' in html
    assert 'data-date="2026-10-10" data-kind="makeup"' in html
    assert 'data-date="2026-10-09" data-kind="open"' in html
