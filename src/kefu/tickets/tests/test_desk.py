"""The hotline desk's work-order screens: the timeline of a new work order, the portal form."""

import re

import pytest
from django.urls import reverse

from kefu.core import events
from kefu.testing.factories import make_customer, make_portal_user, make_ticket
from kefu.tickets.models import Ticket, TicketType

pytestmark = pytest.mark.django_db


def _lines(html: str) -> list[list[str]]:
    """The change lines of each timeline event, as text."""
    return [
        [
            re.sub(r"<[^>]+>", "", li).strip()
            for li in re.findall(r"<li data-field=[^>]+>(.*?)</li>", box)
        ]
        for box in re.findall(r'<ul[^>]*data-testid="change-lines">(.*?)</ul>', html, re.S)
    ]


def test_a_new_work_orders_timeline_lists_what_it_was_opened_with_in_words(client, centre):
    # given an agent opening a work order for a customer on a landline
    agent = centre["agent"]
    customer = make_customer("荆州王芳", phone="0716-8251639")
    client.force_login(agent)
    response = client.post(
        reverse("tickets:create"),
        {
            "title": "整栋楼停电",
            "description": "客户来电反映整栋楼停电",
            "ticket_type": TicketType.objects.get(code="consultation").pk,
            "channel": "phone",
            "priority": 3,
            "customer": customer.pk,
            "contact_phone": "0716-8251639",
            "assign_to_me": "on",
        },
    )
    assert response.status_code == 302
    ticket = Ticket.objects.get(title="整栋楼停电")
    # when the work order's page is shown
    page = client.get(reverse("tickets:detail", args=[ticket.number])).content.decode()
    # then the opening event lists only the fields set, each in words, with no arrows
    lines = _lines(page)
    assert lines[0] == [
        f"处理人: {agent.display_label}",
        "受理渠道: 热线电话",
        "联系人: 荆州王芳",
        "联系电话: 07168251639",
        "客户: 荆州王芳",
        "优先级: P3",
        "状态: 已派单",
        f"团队: {ticket.team.name}",
        "类型: 咨询",
        "标题: 整栋楼停电",
    ]
    assert "— → —" not in page
    assert "→ <ins>" + str(customer.pk) not in page


def test_a_change_shows_before_and_after_and_skips_fields_that_stayed_empty(client, centre):
    from django.db import transaction

    ticket = make_ticket(actor=centre["agent"], title="电表不走", place="")
    other = make_customer("李强")
    with transaction.atomic():
        events.record(
            "ticket_changed",
            ticket,
            actor=centre["agent"],
            changes={"customer": [None, other.pk], "place": [None, ""], "priority": [3, 2]},
        )
    client.force_login(centre["agent"])
    page = client.get(reverse("tickets:detail", args=[ticket.number])).content.decode()
    assert _lines(page)[-1] == ["客户: — → 李强", "优先级: P3 → P2"]


def test_the_portal_form_calls_the_title_a_title(client):
    client.force_login(make_portal_user())
    page = client.get(reverse("portal:ticket_new")).content.decode()
    assert re.search(r'<label[^>]*for="id_title"[^>]*>\s*标题', page)
    assert "事务主体" not in page


def test_the_caller_card_shows_tier_tags_open_work_orders_and_what_fills_the_form(client, centre):
    from kefu.customers.models import Tag
    from kefu.testing.factories import make_tier

    # given a VIP caller tagged 听障用户 with an account, one open and one closed work order
    caller = make_customer(
        "荆州<王芳>",
        phone="0716-8251639",
        account="0716000123",
        vip_tier=make_tier(name="金卡"),
        address="荆州市沙市区北京中路 8 号",
    )
    caller.tags.add(Tag.objects.create(name="听障用户"))
    open_one = make_ticket(actor=centre["agent"], title="电表显示屏不亮", customer=caller.pk)
    client.force_login(centre["agent"])
    # when the agent picks them in 受理
    response = client.get(reverse("tickets:intake_customer", args=[caller.pk]))
    # then the card has everything, escaped, and the values that fill the form
    assert response.status_code == 200
    card = response.content.decode()
    assert "荆州&lt;王芳&gt;" in card and "<王芳>" not in card
    assert 'data-fill-phone="07168251639"' in card
    assert 'data-fill-address="荆州市沙市区北京中路 8 号"' in card
    assert 'data-fill-account="0716000123"' in card
    assert "金卡" in card and "听障用户" in card
    assert open_one.number in card and "未办结工单 1 件" in card


def test_the_caller_card_needs_the_right_to_open_work_orders(client, centre):
    from kefu.core.permissions import Role
    from kefu.testing.factories import make_user

    caller = make_customer("王芳")
    client.force_login(make_user(Role.LIAISON))
    assert client.get(reverse("tickets:intake_customer", args=[caller.pk])).status_code == 403
    client.force_login(centre["agent"])
    assert client.get(reverse("tickets:intake_customer", args=[99999])).status_code == 404


def test_intake_for_a_queued_call_fills_the_caller_and_the_account_field(client, centre):
    from kefu.tickets.models import CustomField

    fault = TicketType.objects.get(code="fault")
    CustomField.objects.create(ticket_type=fault, key="account", label="户号", kind="text")
    caller = make_customer("王芳", phone="13700137000", account="0716000123", address="沙市区")
    client.force_login(centre["agent"])
    page = client.get(
        reverse("tickets:create"),
        {"customer": caller.pk, "caller": "+8613700137000", "ticket_type": fault.pk},
    ).content.decode()
    assert f'name="customer" id="intake-customer-id" value="{caller.pk}"' in page
    assert 'name="contact_phone" value="13700137000"' in page
    assert 'name="place" value="沙市区"' in page
    assert 'name="cf_account" value="0716000123"' in page


def test_the_caller_card_within_its_query_budget(client, centre):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from kefu.customers.models import Tag

    caller = make_customer("王芳", phone="13700137000", account="0716000123")
    caller.tags.add(*(Tag.objects.create(name=f"标签{n}") for n in range(3)))
    for n in range(8):
        make_ticket(actor=centre["agent"], title=f"工单{n}", customer=caller.pk)
    client.force_login(centre["agent"])
    url = reverse("tickets:intake_customer", args=[caller.pk])
    client.get(url)  # the session's first request
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    assert "未办结工单 8 件" in response.content.decode()
    assert len(queries) <= 14, [q["sql"][:100] for q in queries]  # whatever the history size
