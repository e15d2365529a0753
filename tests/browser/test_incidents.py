"""Major incidents in a real browser: a shift leader declares one, the portal shows its banner
to anyone, and resolving answers the linked work order once."""

import pytest

from kefu.testing.factories import PASSWORD, frontline_setup, make_customer, make_ticket
from kefu.testing.fixtures import sign_in
from kefu.tickets.models import Message

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_declare_an_incident_and_the_portal_banner_shows_it(page, browser, asgi_server):
    centre = frontline_setup()
    ticket = make_ticket(
        actor=centre["agent"],
        title="家里停电了",
        place="朝阳区望京西园",
        customer=make_customer(name="孙八").pk,
    )
    sign_in(page, asgi_server.url, centre["supervisor"].username, PASSWORD)
    page.goto(f"{asgi_server.url}/incidents/")
    page.click("[data-testid=declare]")
    page.fill("#f-title", "朝阳区望京部分小区停电")
    page.select_option("#f-severity", "critical")
    page.fill("#f-areas", "望京")
    page.fill("#f-keywords", "停电\n没电")
    page.fill("#f-public", "望京部分小区停电，抢修人员已到场，预计18:00前恢复。")
    page.fill("#f-ivr", "望京部分小区停电，预计下午六点前恢复")
    page.click("[data-testid=declare-submit]")
    page.wait_for_selector("[data-testid=incident-summary]")
    assert page.locator("[data-testid=linked-count]").inner_text() == "1"
    assert ticket.number in page.content()

    # anyone on the portal, signed in or not, sees the banner
    visitor = browser.new_context(locale="zh-CN")
    portal = visitor.new_page()
    portal.goto(f"{asgi_server.url}/portal/login/")
    banner = portal.locator("[data-testid=portal-notice]")
    assert "望京部分小区停电，抢修人员已到场" in banner.inner_text()
    assert "alert-danger" in banner.get_attribute("class")

    # resolving with one reply answers the linked work order, and the banner goes
    page.fill("#r-text", "望京已全部恢复供电。")
    page.fill("#r-reply", "您好，望京部分小区已于17:40恢复供电，给您带来不便深表歉意。")
    page.click("[data-testid=resolve]")
    page.wait_for_selector("[data-testid=replies-sent]")
    assert page.locator("[data-testid=replies-sent]").inner_text() == "1"
    assert Message.objects.filter(ticket=ticket, kind="reply").count() == 1
    portal.reload()
    assert portal.locator("[data-testid=portal-notice]").count() == 0
    visitor.close()
