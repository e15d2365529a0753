"""The hotline desk in a real browser: offers wait in one compact tray that never covers the 受理
form, going busy empties it, a hidden offer stays hidden until new work is offered, accepting a
queued call opens 受理 for that caller, and standard replies start on a line of their own."""

import pytest

from kefu.customers.models import Tag
from kefu.routing import services
from kefu.routing.models import Presence, QueueItem, RoutingQueue
from kefu.testing.factories import (
    PASSWORD,
    frontline_setup,
    make_customer,
    make_ticket,
    make_tier,
)
from kefu.testing.fixtures import sign_in, wait_for_live
from kefu.tickets.models import CannedResponse, CustomField, TicketType

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def _queues(centre):
    queues = {}
    for code, kinds, timeout in (("hotline", ["call"], 60), ("chat", ["chat"], 60),
                                 ("email", ["email"], 90)):  # fmt: skip
        queue = RoutingQueue.objects.create(
            code=code, name=code, strategy="least_loaded", kinds=kinds, offer_timeout=timeout
        )
        queue.teams.set([centre["front"]])
        queues[code] = queue
    return queues


def _six_offers(queues):
    """What the demo's morning looks like: a call, three chats and two e-mails at once."""
    work = [("hotline", "call", "来电 139****5521 电费账单异常")]
    work += [("chat", "chat", f"在线会话：问题{n}") for n in range(3)]
    work += [("email", "email", f"邮件：发票{n}") for n in range(2)]
    return [
        services.add_item(actor=None, queue=queues[q], kind=kind, title=title)
        for q, kind, title in work
    ]


def _box(page, selector):
    return page.locator(selector).bounding_box()


def _overlaps(a, b):
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


def _offered(agent):
    return QueueItem.objects.filter(agent=agent, state=QueueItem.State.OFFERED).count()


def test_six_offers_wait_in_a_tray_that_leaves_the_intake_form_usable(page, asgi_server, tmp_path):
    # given an available agent on the 受理 page and six offers made to them
    centre = frontline_setup()
    agent = centre["agent"]
    queues = _queues(centre)
    sign_in(page, asgi_server.url, agent.username, PASSWORD)
    page.goto(f"{asgi_server.url}/tickets/new/")
    wait_for_live(page, "user")
    _six_offers(queues)
    assert _offered(agent) == 6
    # then one compact tray shows the most urgent offer and counts the rest
    tray = page.locator("[data-testid=offer-tray]")
    tray.wait_for()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=offer-tray-count]')?.textContent === '6'"
    )
    assert page.locator("[data-testid=offer]").count() == 1
    assert "来电 139****5521 电费账单异常" in page.locator("[data-testid=offer]").inner_text()
    assert page.locator("[data-testid=offer-count] span").inner_text() == "6"
    page.screenshot(path=str(tmp_path / "tray.png"))
    # and it covers no part of the form: every field can be clicked and typed into
    form = _box(page, "main form[enctype]")
    assert not _overlaps(_box(page, "[data-testid=offer-tray]"), form)
    for selector, text in (
        ("#id_title", "整栋楼停电"),
        ("#id_description", "客户来电反映整栋楼停电"),
        ("#id_place", "荆州市沙市区"),
        ("[name=contact_name]", "王芳"),
        ("#id_contact_phone", "07168251639"),
    ):
        page.click(selector, timeout=3000)  # fails if anything lies on top of the field
        page.keyboard.type(text)
        assert page.input_value(selector) == text
    page.click("[data-testid=customer-search]", timeout=3000)
    # showing all offers lists six rows, still inside the tray's own room
    page.click("[data-testid=offer-more]")
    assert page.locator("[data-testid=offer]").count() == 6
    assert not _overlaps(_box(page, "[data-testid=offer-tray]"), _box(page, "main form[enctype]"))
    page.click("#id_title", timeout=3000)


def test_going_busy_clears_the_tray_and_returns_the_offers(page, asgi_server):
    centre = frontline_setup()
    agent = centre["agent"]
    queues = _queues(centre)
    sign_in(page, asgi_server.url, agent.username, PASSWORD)
    page.goto(f"{asgi_server.url}/tickets/new/")
    wait_for_live(page, "user")
    _six_offers(queues)
    page.locator("[data-testid=offer-tray]").wait_for()
    # when the agent goes busy
    page.click("[data-testid=presence-toggle]")
    page.click("#kefu-presence button[value=busy]")
    page.wait_for_load_state("networkidle")
    # then the tray is gone and nothing is offered to them any more
    assert "忙碌" in page.locator("[data-testid=presence-state]").inner_text()
    page.wait_for_timeout(500)  # the tray's first read of the offers
    assert page.locator("[data-testid=offer-tray]").is_hidden()
    assert page.locator("[data-testid=offer-count]").is_hidden()
    assert _offered(agent) == 0
    assert QueueItem.objects.filter(state=QueueItem.State.WAITING).count() == 6


def test_a_hidden_offer_stays_hidden_until_new_work_is_offered(page, asgi_server):
    centre = frontline_setup()
    agent = centre["agent"]
    queues = _queues(centre)
    sign_in(page, asgi_server.url, agent.username, PASSWORD)
    page.goto(f"{asgi_server.url}/tickets/new/")
    wait_for_live(page, "user")
    first = services.add_item(actor=None, queue=queues["chat"], kind="chat", title="在线会话：电费")
    tray = page.locator("[data-testid=offer-tray]")
    tray.wait_for()
    # when the agent hides the tray
    page.click("[data-testid=offer-dismiss]")
    assert tray.is_hidden()
    # then it stays hidden on the next read of the offers and after a reload
    page.evaluate("() => document.dispatchEvent(new CustomEvent('kefu:connected'))")
    page.wait_for_timeout(700)
    assert tray.is_hidden()
    page.reload()
    wait_for_live(page, "user")
    page.wait_for_timeout(700)
    assert tray.is_hidden()
    assert page.locator("[data-testid=offer-count] span").inner_text() == "1"  # still offered
    assert QueueItem.objects.get(pk=first.pk).state == QueueItem.State.OFFERED
    # a new offer opens the tray again, with the new work only
    services.add_item(actor=None, queue=queues["chat"], kind="chat", title="在线会话：停电")
    tray.wait_for()
    assert page.locator("[data-testid=offer]").count() == 1
    assert "在线会话：停电" in page.locator("[data-testid=offer]").inner_text()
    # the count in the top bar brings back everything offered
    page.click("[data-testid=offer-count]")
    assert page.locator("[data-testid=offer]").count() == 2


def test_accepting_a_queued_call_opens_intake_for_the_caller(page, asgi_server, tmp_path):
    # given a VIP caller with a tag, an account, an open work order, and their call in the queue
    centre = frontline_setup()
    agent = centre["agent"]
    queues = _queues(centre)
    fault = TicketType.objects.get(code="fault")
    CustomField.objects.create(ticket_type=fault, key="account", label="户号", kind="text")
    caller = make_customer(
        "荆州王芳",
        phone="0716-8251639",
        account="0716000123",
        vip_tier=make_tier(name="金卡"),
        address="荆州市沙市区北京中路 8 号",
    )
    caller.tags.add(Tag.objects.create(name="听障用户"))
    make_ticket(actor=agent, title="电表显示屏不亮", customer=caller.pk)
    sign_in(page, asgi_server.url, agent.username, PASSWORD)
    page.goto(f"{asgi_server.url}/queues/")
    wait_for_live(page, "user")
    services.add_item(actor=None, queue=queues["hotline"], kind="call",
                      title="来电 0716****639", customer=caller, phone="+867168251639")  # fmt: skip
    page.locator("[data-testid=offer]").wait_for()
    # when the agent accepts it
    page.click("[data-testid=offer-accept]")
    page.wait_for_url("**/tickets/new/**")
    # then 受理 shows the caller with tier, tags, open work orders, and fills the contact
    panel = page.locator("[data-testid=intake-customer]")
    panel.wait_for()
    text = panel.inner_text()
    assert "荆州王芳" in text and "金卡" in text and "听障用户" in text
    assert "电表显示屏不亮" in page.locator("[data-testid=intake-open]").inner_text()
    assert page.input_value("#id_contact_phone") == "07168251639"
    assert page.input_value("[name=contact_name]") == "荆州王芳"
    assert page.input_value("#id_place") == "荆州市沙市区北京中路 8 号"
    assert page.input_value("#id_channel") == "phone"
    # choosing a type with a 户号 field fills it with the caller's account
    page.select_option("#id_ticket_type", str(fault.pk))
    page.locator("#id_cf_account").wait_for()
    page.wait_for_function("() => document.querySelector('#id_cf_account').value === '0716000123'")
    page.screenshot(path=str(tmp_path / "intake.png"), full_page=True)
    assert Presence.objects.get(user=agent).state == "busy"  # on the call now


def test_picking_a_customer_found_by_a_landline_fills_the_intake(page, asgi_server):
    centre = frontline_setup()
    make_customer("荆州王芳", phone="0716-8251639", address="荆州市沙市区北京中路 8 号")
    sign_in(page, asgi_server.url, centre["agent"].username, PASSWORD)
    page.goto(f"{asgi_server.url}/tickets/new/")
    page.fill("[data-testid=customer-search]", "07168251639")
    page.locator("[data-pick-id]").first.click()
    page.locator("[data-testid=intake-customer]").wait_for()
    assert page.input_value("#id_contact_phone") == "07168251639"
    assert page.input_value("#id_place") == "荆州市沙市区北京中路 8 号"
    assert page.input_value("[name=contact_name]") == "荆州王芳"


def test_a_standard_reply_after_existing_text_starts_on_a_new_line(page, asgi_server):
    centre = frontline_setup()
    CannedResponse.objects.create(title="致歉", body="给您带来不便，敬请谅解。")
    ticket = make_ticket(actor=centre["agent"], title="停电")
    sign_in(page, asgi_server.url, centre["agent"].username, PASSWORD)
    page.goto(f"{asgi_server.url}/tickets/{ticket.number}/")
    page.click("#reply-body")
    page.keyboard.type("您好，已收到。")
    page.select_option("#canned", label="致歉")
    page.wait_for_function("() => document.querySelector('#reply-body').value.includes('谅解')")
    assert page.input_value("#reply-body") == "您好，已收到。\n给您带来不便，敬请谅解。"
