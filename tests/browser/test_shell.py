"""The staff workspace and the portal, driven in headless Chromium."""

import pytest

from kefu.core.permissions import Role
from kefu.customers.models import Customer
from kefu.testing.factories import PASSWORD, make_customer, make_portal_user, make_user
from kefu.testing.fixtures import sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

XSS_NAME = '<img src=x onerror="window.__xss=1"><script>window.__xss=1</script>'


def test_an_agent_finds_and_opens_a_customer(page, asgi_server):
    make_user(Role.AGENT_L1, username="agent01")
    make_customer("王芳", phone="13912345678", account="0712345678")
    sign_in(page, asgi_server.url, "agent01", PASSWORD)
    page.click("[data-nav=customers]")
    page.fill("#q", "13912345678")
    page.keyboard.press("Enter")
    page.wait_for_load_state("networkidle")
    rows = page.locator("[data-testid=customer-table] tbody tr")
    assert rows.count() == 1
    rows.first.locator("a").first.click()
    page.wait_for_load_state("networkidle")
    assert page.locator("[data-testid=customer-name]").inner_text() == "王芳"
    assert "0712345678" in page.locator("[data-testid=accounts]").inner_text()


def test_the_interface_switches_between_chinese_and_english(page, asgi_server):
    make_user(Role.ADMIN, username="boss")
    sign_in(page, asgi_server.url, "boss", PASSWORD)
    assert page.locator("[data-nav=customers]").inner_text().strip() == "客户"
    page.click("button[name=language][value=en]")
    page.wait_for_load_state("networkidle")
    assert page.locator("[data-nav=customers]").inner_text().strip() == "Customers"
    page.click("button[name=language][value=zh-hans]")
    page.wait_for_load_state("networkidle")
    assert page.locator("[data-nav=audit]").inner_text().strip() == "审计日志"


def test_stored_markup_in_customer_text_never_runs(page, asgi_server):
    make_user(Role.ADMIN, username="boss")
    customer = make_customer(XSS_NAME, address=XSS_NAME)
    sign_in(page, asgi_server.url, "boss", PASSWORD)
    for path in (
        "/customers/",
        f"/customers/{customer.pk}/",
        f"/customers/{customer.pk}/edit/",
        f"/customers/{customer.pk}/merge/",
    ):
        page.goto(asgi_server.url + path)
        page.wait_for_load_state("networkidle")
        assert page.evaluate("window.__xss") is None, path
    assert XSS_NAME in page.locator("body").inner_text()


def test_the_customer_portal_fits_a_phone_screen(page, asgi_server):
    customer = make_customer("李明", account="0798765432")
    make_portal_user(customer, email="liming@example.com")
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, asgi_server.url, "liming@example.com", PASSWORD, portal=True)
    assert "0798765432" in page.locator("main").inner_text()
    for path in ("/portal/", "/portal/profile/"):
        page.goto(asgi_server.url + path)
        page.wait_for_load_state("networkidle")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), path


def test_the_workspace_fits_1366_by_768(page, asgi_server):
    make_user(Role.SUPERVISOR, username="lead")
    for i in range(5):
        make_customer(
            f"客户{i}",
            phone=f"1390000000{i}",
            address="江城市东湖区解放大道100号阳光花园3栋2单元1801室",
        )
    sign_in(page, asgi_server.url, "lead", PASSWORD)
    for path in (
        "/",
        "/customers/",
        "/teams/",
        "/users/",
        f"/customers/{Customer.objects.first().pk}/",
    ):
        page.goto(asgi_server.url + path)
        page.wait_for_load_state("networkidle")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), path
