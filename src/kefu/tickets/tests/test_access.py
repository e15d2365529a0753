"""Who sees which work order, on every path, and that refused attempts change nothing."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import reverse

from kefu.core.models import Event
from kefu.core.permissions import Role
from kefu.testing.factories import (
    ApiClient,
    make_customer,
    make_portal_user,
    make_ticket,
    make_user,
)
from kefu.tickets import services
from kefu.tickets.access import visible_tickets
from kefu.tickets.models import Attachment, Message, Ticket, Transfer, VisibilityRule

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def state() -> dict:
    return {
        "tickets": sorted(
            Ticket.objects.values_list(
                "id", "status", "title", "assignee_id", "priority", "version"
            )
        ),
        "messages": Message.objects.count(),
        "attachments": Attachment.objects.count(),
        "transfers": sorted(Transfer.objects.values_list("id", "state")),
        "events": Event.objects.count(),
    }


@pytest.fixture
def world(centre):
    mine = make_customer("我")
    theirs = make_customer("别人")
    ticket_front = make_ticket(actor=centre["agent"], title="一线的工单", customer=mine.pk)
    ticket_other = make_ticket(
        actor=centre["outsider"], title="其他团队的工单", customer=theirs.pk, team=centre["other"]
    )
    transferred = make_ticket(actor=centre["outsider"], title="转办给营销部", team=centre["other"])
    services.transfer_ticket(
        actor=centre["outsider"],
        ticket=transferred,
        department=centre["dept"],
        instructions="请核实",
    )
    services.add_note(actor=centre["agent"], ticket=ticket_front, body="内部备注：客户情绪激动")
    with transaction.atomic():
        services.add_attachment(
            actor=centre["agent"],
            ticket=ticket_front,
            upload=SimpleUploadedFile("内部.png", PNG, "image/png"),
            public=False,
        )
        services.add_attachment(
            actor=centre["agent"],
            ticket=ticket_front,
            upload=SimpleUploadedFile("公开.png", PNG, "image/png"),
            public=True,
        )
    return {
        **centre,
        "mine": mine,
        "theirs": theirs,
        "front": ticket_front,
        "other_t": ticket_other,
        "transferred": transferred,
        "portal": make_portal_user(mine),
    }


def titles(user) -> set[str]:
    # as a new request would: the user loaded afresh (visibility is worked out once per request)
    fresh = type(user).objects.get(pk=user.pk)
    return set(visible_tickets(fresh).values_list("title", flat=True))


def test_visibility_by_role(world):
    assert (
        titles(world["admin"])
        == titles(world["supervisor"])
        == {"一线的工单", "其他团队的工单", "转办给营销部"}
    )
    assert titles(world["agent"]) == {"一线的工单"}
    assert titles(world["outsider"]) == {"其他团队的工单", "转办给营销部"}
    assert titles(world["liaison"]) == {"转办给营销部"}
    assert titles(world["portal"]) == {"一线的工单"}
    assert titles(make_user(Role.PLANNER)) == set()


def test_visibility_rules_are_configurable(world):
    VisibilityRule.objects.update_or_create(
        role=Role.AGENT_L1, defaults={"scope": VisibilityRule.Scope.ALL}
    )
    assert len(titles(world["agent"])) == 3
    VisibilityRule.objects.filter(role=Role.AGENT_L1).update(scope=VisibilityRule.Scope.OWN)
    assert titles(world["agent"]) == {"一线的工单"}  # created by them
    assert titles(world["agent2"]) == set()


def test_an_agent_cannot_reach_another_teams_work_order_on_any_path(world, client):
    agent, other = world["agent"], world["other_t"]
    before = state()
    api = ApiClient(user=agent)
    assert api.get(f"tickets/{other.number}").status_code == 404
    assert api.get(f"tickets/{other.pk}/timeline").status_code == 404
    assert api.patch(f"tickets/{other.pk}", {"priority": 1}).status_code == 404
    assert api.post(f"tickets/{other.pk}/replies", {"body": "x"}).status_code == 404
    assert (
        api.post(f"tickets/{other.pk}/transitions", {"to": "cancelled", "reason": "x"}).status_code
        == 404
    )
    assert other.number not in [
        t["number"] for t in api.get("tickets", {"limit": 200}).json()["items"]
    ]
    client.force_login(agent)
    assert client.get(reverse("tickets:detail", args=[other.number])).status_code == 404
    assert (
        client.post(
            reverse("tickets:reply", args=[other.number]), {"kind": "reply", "body": "x"}
        ).status_code
        == 404
    )
    assert (
        client.post(
            reverse("tickets:move", args=[other.number]), {"to": "cancelled", "reason": "x"}
        ).status_code
        == 404
    )
    bulk = client.post(
        reverse("tickets:bulk"), {"ids": [other.pk], "action": "priority", "value": "1"}
    )
    assert bulk.status_code == 302
    assert state() == before


def test_a_customer_sees_only_their_own_work_order_and_only_its_public_parts(world, client):
    portal, front, other = world["portal"], world["front"], world["other_t"]
    before = state()
    api = ApiClient(user=portal)
    listed = api.get("tickets").json()["items"]
    assert [t["number"] for t in listed] == [front.number]
    assert listed[0]["assignee"] is None and listed[0]["tags"] == []  # internal fields hidden
    timeline = api.get(f"tickets/{front.number}/timeline").json()
    assert all(e["action"] != "ticket_note_added" for e in timeline)
    assert "客户情绪激动" not in str(timeline)
    assert [a["filename"] for a in api.get(f"tickets/{front.number}/attachments").json()] == [
        "公开.png"
    ]
    assert api.get(f"tickets/{other.number}").status_code == 404
    assert api.post(f"tickets/{other.number}/replies", {"body": "hi"}).status_code == 404
    assert api.post(f"tickets/{front.number}/notes", {"body": "hi"}).status_code == 403
    assert api.patch(f"tickets/{front.number}", {"priority": 1}).status_code == 403
    assert api.post(f"tickets/{front.number}/assign", {"assignee_id": portal.pk}).status_code == 403
    assert api.get("tickets", {"customer": world["theirs"].pk}).json()["items"] == []
    internal = Attachment.objects.get(filename="内部.png")
    client.force_login(portal)
    assert client.get(reverse("tickets:attachment", args=[internal.pk])).status_code == 404
    assert (
        client.get(reverse("tickets:detail", args=[front.number])).status_code == 403
    )  # staff page
    assert client.get(reverse("portal:ticket", args=[other.number])).status_code == 404
    page = client.get(reverse("portal:ticket", args=[front.number])).content.decode()
    assert "客户情绪激动" not in page and "内部.png" not in page and "公开.png" in page
    assert state() == before


def test_a_liaison_sees_only_what_was_transferred_and_cannot_act_on_it(world):
    liaison = world["liaison"]
    api = ApiClient(user=liaison)
    before = state()
    assert [t["title"] for t in api.get("tickets").json()["items"]] == ["转办给营销部"]
    assert api.get(f"tickets/{world['front'].number}").status_code == 404
    transferred = world["transferred"]
    assert api.patch(f"tickets/{transferred.number}", {"priority": 1}).status_code == 403
    assert api.post(f"tickets/{transferred.number}/replies", {"body": "x"}).status_code == 403
    assert state() == before
    transfer = Transfer.objects.get(ticket=transferred)
    assert api.post(f"transfers/{transfer.pk}/reply", {"text": "已核实"}).status_code == 200


def test_other_departments_cannot_answer_a_transfer(world):
    stranger = make_user(Role.LIAISON)
    transfer = Transfer.objects.get(ticket=world["transferred"])
    before = state()
    assert (
        ApiClient(user=stranger).post(f"transfers/{transfer.pk}/reply", {"text": "x"}).status_code
        == 404
    )
    assert state() == before


def test_attachment_of_an_invisible_work_order_is_404(world, client):
    attachment = Attachment.objects.get(filename="公开.png")
    client.force_login(world["outsider"])
    assert client.get(reverse("tickets:attachment", args=[attachment.pk])).status_code == 404
    client.force_login(world["agent"])
    response = client.get(reverse("tickets:attachment", args=[attachment.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PNG


def test_websocket_subscriptions_are_access_checked(world):
    from django.http import Http404

    from kefu.core.consumers import SUBSCRIBERS

    subscribe = SUBSCRIBERS["ticket"]
    assert subscribe(world["agent"], world["front"].pk) == f"ticket-{world['front'].pk}"
    with pytest.raises(Http404):
        subscribe(world["agent"], world["other_t"].pk)
    with pytest.raises(Http404):
        subscribe(world["portal"], world["other_t"].pk)
