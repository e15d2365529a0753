"""Work orders in a real browser: stored markup never runs, and colleagues' changes arrive live."""

import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from kefu.testing.factories import (
    PASSWORD,
    frontline_setup,
    make_customer,
    make_portal_user,
    make_ticket,
)
from kefu.testing.fixtures import sign_in, wait_for_live
from kefu.tickets import services
from kefu.tickets.models import CustomField, TicketType

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

XSS = '<img src=x onerror="window.__xss=1"><script>window.__xss=1</script><svg onload="window.__xss=1">'
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _xss_world():
    centre = frontline_setup()
    fault = TicketType.objects.get(code="fault")
    CustomField.objects.create(ticket_type=fault, key="note", label="备注", kind="text")
    customer = make_customer(XSS, address=XSS)
    portal = make_portal_user(customer, email="victim@example.com")
    ticket = make_ticket(
        actor=centre["agent"],
        title=XSS,
        description=XSS,
        customer=customer.pk,
        place=XSS,
        tags=["<b>tag</b>"],
        custom_fields={"note": XSS},
        contact_name=XSS,
    )
    services.add_note(actor=centre["agent"], ticket=ticket, body=XSS)
    services.add_reply(actor=centre["agent"], ticket=ticket, body=XSS)
    with transaction.atomic():
        services.add_attachment(
            actor=centre["agent"],
            ticket=ticket,
            upload=SimpleUploadedFile(f"{XSS}.png", PNG, "image/png"),
            public=True,
        )
    services.add_customer_message(actor=portal, ticket=ticket, body=XSS)
    return centre, ticket, portal


def test_stored_markup_never_runs_for_agents(page, asgi_server):
    centre, ticket, _portal = _xss_world()
    sign_in(page, asgi_server.url, centre["agent"].username, PASSWORD)
    for path in (
        f"/tickets/{ticket.number}/",
        "/tickets/?view=all",
        f"/customers/{ticket.customer_id}/",
        "/",
    ):
        page.goto(asgi_server.url + path)
        page.wait_for_load_state("networkidle")
        assert page.evaluate("window.__xss") is None, path
    page.goto(f"{asgi_server.url}/tickets/{ticket.number}/")
    assert XSS in page.locator("[data-testid=ticket-title]").inner_text()
    assert XSS in page.locator("[data-testid=timeline]").inner_text()


def test_stored_markup_never_runs_for_customers(page, asgi_server):
    _centre, ticket, portal = _xss_world()
    sign_in(page, asgi_server.url, portal.email, PASSWORD, portal=True)
    for path in (
        "/portal/",
        "/portal/requests/",
        f"/portal/requests/{ticket.number}/",
        "/portal/profile/",
    ):
        page.goto(asgi_server.url + path)
        page.wait_for_load_state("networkidle")
        assert page.evaluate("window.__xss") is None, path
    page.goto(f"{asgi_server.url}/portal/requests/{ticket.number}/")
    assert page.locator("[data-testid=portal-ticket-title]").inner_text() == XSS
    assert XSS in page.locator("[data-testid=portal-timeline]").inner_text()


def test_a_colleagues_change_arrives_live(page, asgi_server):
    centre = frontline_setup()
    ticket = make_ticket(actor=centre["agent"], title="实时更新")
    sign_in(page, asgi_server.url, centre["agent"].username, PASSWORD)
    page.goto(f"{asgi_server.url}/tickets/{ticket.number}/")
    wait_for_live(page, f"ticket-{ticket.pk}")
    services.add_reply(actor=centre["agent2"], ticket=ticket, body="同事刚刚的回复")
    page.wait_for_selector("#live-banner:not(.d-none)", timeout=10_000)
    page.wait_for_function(
        "document.querySelector('#timeline').innerText.includes('同事刚刚的回复')", timeout=10_000
    )
    assert centre["agent2"].display_name in page.locator("#live-text").inner_text()


def test_the_page_joins_its_work_order_when_its_script_arrives_after_the_socket(page, asgi_server):
    # given the ticket page's script arrives a moment after the live socket has opened
    centre = frontline_setup()
    ticket = make_ticket(actor=centre["agent"], title="脚本来迟")
    sign_in(page, asgi_server.url, centre["agent"].username, PASSWORD)

    def late(route):
        time.sleep(1.5)
        route.continue_()

    page.route("**/tickets/ticket*.js", late)
    # when the page opens, then it still joins the work order's live group
    page.goto(f"{asgi_server.url}/tickets/{ticket.number}/")
    wait_for_live(page, f"ticket-{ticket.pk}")


def test_colleagues_see_who_is_writing(browser, asgi_server):
    centre = frontline_setup()
    ticket = make_ticket(actor=centre["agent"], title="谁在回复")
    pages = []
    for user in (centre["agent"], centre["agent2"]):
        context = browser.new_context(viewport={"width": 1366, "height": 768})
        tab = context.new_page()
        sign_in(tab, asgi_server.url, user.username, PASSWORD)
        tab.goto(f"{asgi_server.url}/tickets/{ticket.number}/")
        pages.append(tab)
    for tab in pages:
        wait_for_live(tab, f"ticket-{ticket.pk}")
    pages[1].type("#reply-body", "正在写")
    pages[0].wait_for_function(
        "document.querySelector('#typing').innerText.length > 0", timeout=10_000
    )
    assert centre["agent2"].display_name in pages[0].locator("#typing").inner_text()
    for tab in pages:
        tab.context.close()


def test_supervisor_is_told_about_a_sensitive_work_order_live(page, asgi_server):
    centre = frontline_setup()
    sign_in(page, asgi_server.url, centre["supervisor"].username, PASSWORD)
    page.goto(f"{asgi_server.url}/")
    wait_for_live(page, "user")
    ticket = make_ticket(actor=centre["agent"], title="媒体曝光", sensitive=True)
    page.wait_for_selector(".kefu-toast", timeout=10_000)
    assert ticket.number in page.locator(".kefu-toast").first.inner_text()
    assert page.locator("#bell-count").inner_text().strip() == "1"
