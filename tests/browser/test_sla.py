"""SLA in a real browser: the report draws its charts, the ticket page counts down and records
the engineer's arrival."""

import datetime as dt

import pytest
from django.utils import timezone

from kefu.sla.sweep import sweep
from kefu.testing.factories import PASSWORD, frontline_setup, make_ticket
from kefu.testing.fixtures import sign_in
from kefu.tickets import services

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_the_report_draws_its_charts_and_lists_the_breach(page, asgi_server):
    centre = frontline_setup()
    now = timezone.now()
    late = make_ticket(
        actor=centre["agent"], type_code="complaint", title="迟迟未联系客户",
        created_at=now - dt.timedelta(days=2),
    )  # fmt: skip
    quick = make_ticket(
        actor=centre["agent"],
        type_code="complaint",
        title="及时联系",
        created_at=now - dt.timedelta(hours=1),
    )
    services.add_reply(actor=centre["agent"], ticket=quick, body="您好，已收到您的反映。")
    sweep()
    sign_in(page, asgi_server.url, centre["supervisor"].username, PASSWORD)
    page.goto(f"{asgi_server.url}/sla/")
    page.wait_for_selector("#chart-trend canvas", timeout=10_000)
    page.wait_for_selector("#chart-dist-0 canvas")
    assert page.locator("[data-testid=stat-first_response]").inner_text().count("%") == 1
    assert late.number in page.locator("[data-testid=breaches]").inner_text()
    assert quick.number not in page.locator("[data-testid=breaches]").inner_text()


def test_the_ticket_page_counts_down_and_records_the_arrival(page, asgi_server):
    centre = frontline_setup()
    ticket = make_ticket(
        actor=centre["agent"],
        type_code="fault",
        area="urban",
        title="小区停电",
        created_at=timezone.now() - dt.timedelta(minutes=20),
    )
    sign_in(page, asgi_server.url, centre["agent"].username, PASSWORD)
    page.goto(f"{asgi_server.url}/tickets/{ticket.number}/")
    badge = page.locator("[data-testid=deadline] .kefu-sla")
    assert badge.get_attribute("data-sla") == "overdue"  # the 15-minute first response passed
    arrival = page.locator("[data-testid=sla-panel] li[data-metric=onsite_arrival]")
    assert arrival.get_attribute("data-state") == "running"
    page.click("[data-testid=milestone-onsite_arrival]")
    page.wait_for_selector("[data-testid=sla-panel] li[data-metric=onsite_arrival][data-state=met]")
    assert "到达现场" in page.locator("[data-testid=timeline]").inner_text()
