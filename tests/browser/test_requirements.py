"""Customer requirements in a real browser: an agent raises one from a work order, a shift
leader scores it and walks it to shipped, and the customer's work order gets the news once."""

import pytest

from kefu.requirements.models import Requirement
from kefu.testing.factories import PASSWORD, frontline_setup, make_customer, make_ticket
from kefu.testing.fixtures import sign_in
from kefu.tickets.models import Message

NEXT = {"organise": "analyse", "analyse": "screen", "screen": "reject"}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_raise_score_and_ship_a_requirement(page, asgi_server):
    centre = frontline_setup()
    ticket = make_ticket(
        actor=centre["agent"],
        title="希望网上营业厅能开电子发票",
        type_code="suggestion",
        team=centre["front"],
        customer=make_customer(name="周九").pk,
    )
    sign_in(page, asgi_server.url, centre["agent"].username, PASSWORD)
    page.goto(f"{asgi_server.url}/tickets/{ticket.number}/")
    panel = page.locator("[data-testid=requirement-panel]")
    panel.locator("select[name=kind]").select_option("functional")
    panel.locator("input[name=note]").fill("每月都要电子发票报销")
    panel.locator("[data-testid=raise-requirement]").click()
    page.wait_for_selector("[data-testid=requirement-panel] a[href^='/requirements/']")
    requirement = Requirement.objects.get()
    page.context.clear_cookies()

    sign_in(page, asgi_server.url, centre["supervisor"].username, PASSWORD)
    page.goto(f"{asgi_server.url}/requirements/{requirement.pk}/")
    assert page.locator("[data-testid=askers]").inner_text() == "1"
    for step in ("organise", "analyse", "screen"):
        page.click(f"[data-testid=move-{step}]")
        page.wait_for_selector(f"[data-testid=move-{NEXT[step]}]")
    page.select_option("#s-imp", "4")
    page.select_option("#s-fea", "2")
    page.select_option("#s-ben", "5")
    page.click("[data-testid=score]")
    page.wait_for_selector("[data-testid=requirement-score] >> text=71.3")
    page.click("[data-testid=move-accept]")
    page.wait_for_selector("[data-testid=move-ship]")
    page.fill("textarea[name=note]", "网上营业厅“我的账单”页已可开具电子发票。")
    page.click("[data-testid=move-ship]")
    page.wait_for_selector("[data-testid=move-close]")
    replies = Message.objects.filter(ticket=ticket, kind="reply")
    assert replies.count() == 1 and "电子发票" in replies.get().body
