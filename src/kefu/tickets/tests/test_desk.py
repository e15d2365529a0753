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
