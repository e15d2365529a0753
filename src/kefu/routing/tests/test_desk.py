"""The offer tray's server side: an agent reads only their own offers, and taking a queued call
leads to the 受理 page for that caller."""

import pytest
from django.urls import reverse

from kefu.core.permissions import Role
from kefu.routing import services
from kefu.routing.models import Presence, QueueItem, RoutingQueue
from kefu.testing.factories import make_customer, make_team, make_ticket, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk():
    team = make_team("一线")
    queue = RoutingQueue.objects.create(
        code="hotline",
        name="95598 热线",
        strategy="least_loaded",
        offer_timeout=30,
        kinds=["call", "callback"],
    )
    queue.teams.set([team])
    agent = make_user(Role.AGENT_L1, username="a1", teams=[team])
    other = make_user(Role.AGENT_L1, username="a2", teams=[team])
    lead = make_user(Role.SUPERVISOR, username="lead", teams=[team])
    return {"queue": queue, "agent": agent, "other": other, "lead": lead}


def _available(user):
    services.set_presence(actor=user, user=user, state=Presence.State.AVAILABLE)


def test_the_tray_reads_only_the_agents_own_offers(client, desk):
    # given one offer to each of two agents
    _available(desk["agent"])
    mine = services.add_item(actor=None, queue=desk["queue"], kind="call", title="来电 <b>1</b>")
    _available(desk["other"])
    theirs = services.add_item(actor=None, queue=desk["queue"], kind="call", title="来电 2")
    assert QueueItem.objects.get(pk=theirs.pk).agent_id == desk["other"].pk
    # when each reads the tray
    client.force_login(desk["agent"])
    offers = client.get(reverse("routing:offers")).json()["offers"]
    # then they see their own offer only, with what the tray shows
    mine = QueueItem.objects.get(pk=mine.pk)
    assert offers == [
        {
            "item": mine.pk,
            "kind": "call",
            "kind_label": "来电",
            "title": "来电 <b>1</b>",
            "queue": "95598 热线",
            "expires_at": mine.offer_expires_at.isoformat(),
        }
    ]
    client.force_login(desk["lead"])  # a supervisor's tray holds no one else's offers
    assert client.get(reverse("routing:offers")).json() == {"offers": []}


def test_accepting_a_queued_call_leads_to_intake_for_the_caller(client, desk):
    caller = make_customer("荆州王芳", phone="0716-8251639")
    _available(desk["agent"])
    item = services.add_item(actor=None, queue=desk["queue"], kind="call", title="来电",
                             customer=caller, phone="+867168251639")  # fmt: skip
    client.force_login(desk["agent"])
    answer = client.post(
        reverse("routing:act", args=[item.pk, "accept"]), HTTP_ACCEPT="application/json"
    ).json()
    assert answer == {
        "item": item.pk,
        "state": "assigned",
        "url": f"/tickets/new/?channel=phone&customer={caller.pk}&caller=%2B867168251639",
    }
    page = client.get(answer["url"]).content.decode()
    assert 'data-fill-name="荆州王芳"' in page
    assert 'name="contact_phone" value="07168251639"' in page


def test_accepting_without_javascript_goes_to_the_same_place(client, desk):
    _available(desk["agent"])
    call = services.add_item(actor=None, queue=desk["queue"], kind="call", title="来电",
                             phone="+8613800138000")  # fmt: skip
    client.force_login(desk["agent"])
    response = client.post(reverse("routing:act", args=[call.pk, "accept"]))
    assert response.status_code == 302
    assert response["Location"] == "/tickets/new/?channel=phone&caller=%2B8613800138000"


def test_a_work_order_offer_still_leads_to_the_work_order(client, desk):
    queue = RoutingQueue.objects.create(code="wo", name="工单", strategy="manual")
    queue.teams.set(desk["queue"].teams.all())
    ticket = make_ticket(actor=desk["lead"], type_code="consultation")
    item = QueueItem.objects.get(ticket=ticket)
    client.force_login(desk["agent"])
    response = client.post(reverse("routing:act", args=[item.pk, "pick"]))
    assert response["Location"] == f"/tickets/{ticket.number}/"


def test_my_taken_call_on_the_board_leads_to_intake(client, desk):
    caller = make_customer("荆州王芳", phone="0716-8251639")
    _available(desk["agent"])
    item = services.add_item(actor=None, queue=desk["queue"], kind="call", title="来电",
                             customer=caller, phone="+867168251639")  # fmt: skip
    services.accept(actor=desk["agent"], item=QueueItem.objects.get(pk=item.pk))
    client.force_login(desk["agent"])
    board = client.get(reverse("routing:board")).content.decode()
    url = f"/tickets/new/?channel=phone&amp;customer={caller.pk}&amp;caller=%2B867168251639"
    assert f'href="{url}" data-testid="intake"' in board
