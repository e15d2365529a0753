"""The queues through the API and on the pages: who may see and do what, and bad input."""

import datetime as dt

import pytest
from django.urls import reverse

from kefu.core.permissions import Role
from kefu.routing import services
from kefu.routing.models import Presence, QueueItem, RoutingQueue
from kefu.testing.factories import ApiClient, make_customer, make_portal_user, make_team, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(db):
    front, other = make_team("一线"), make_team("其他")
    q = RoutingQueue.objects.create(code="hotline", name="热线", strategy="least_loaded")
    q.teams.set([front])
    return {
        "queue": q,
        "agent": make_user(Role.AGENT_L1, username="a1", teams=[front]),
        "agent2": make_user(Role.AGENT_L1, username="a2", teams=[front]),
        "outsider": make_user(Role.AGENT_L1, username="o1", teams=[other]),
        "lead": make_user(Role.SUPERVISOR, username="lead"),
    }


def test_an_integration_queues_a_call_and_the_agent_accepts_the_offer(setup):
    agent = ApiClient(user=setup["agent"])
    assert agent.put("routing/presence", {"state": "available"}).json()["state"] == "available"
    customer = make_customer("赵六")
    made = ApiClient(user=setup["lead"]).post(
        "routing/items",
        {"queue": "hotline", "kind": "call", "title": "来电 138****0000", "customer": customer.pk},
    )
    assert made.status_code == 201
    body = made.json()
    assert body["state"] == "offered" and body["agent"] == setup["agent"].pk
    accepted = agent.post(f"routing/items/{body['id']}/accept", {})
    assert accepted.status_code == 200 and accepted.json()["state"] == "assigned"
    assert agent.get("routing/presence").json()["state"] == "busy"
    queues = agent.get("routing/queues").json()
    assert queues[0]["code"] == "hotline" and queues[0]["waiting"] == 0


def test_bad_input_is_refused_with_a_message_and_writes_nothing(setup):
    lead = ApiClient(user=setup["lead"])
    wrong = lead.post("routing/items", {"queue": "hotline", "kind": "fax", "title": "x"})
    assert wrong.status_code == 422
    assert (
        lead.post("routing/items", {"queue": "nope", "kind": "call", "title": "x"}).status_code
        == 404
    )
    booked = lead.post(
        "routing/items",
        {
            "queue": "hotline",
            "kind": "call",
            "title": "x",
            "not_before": "2026-12-01T09:00:00+08:00",
        },
    )
    assert booked.status_code == 422 and "not_before" in booked.json()["error"]["fields"]
    on_break = ApiClient(user=setup["agent"]).put("routing/presence", {"state": "break"})
    assert on_break.status_code == 422 and "reason" in on_break.json()["error"]["fields"]
    assert QueueItem.objects.count() == 0
    assert Presence.objects.filter(state="break").count() == 0


def test_agents_act_only_on_their_own_queues_and_offers(setup):
    services.set_presence(actor=setup["agent"], user=setup["agent"], state="available")
    item = services.add_item(actor=None, queue=setup["queue"], kind="call", title="来电")
    item.refresh_from_db()
    assert item.agent_id == setup["agent"].pk
    other = ApiClient(user=setup["agent2"])
    assert other.post(f"routing/items/{item.pk}/accept", {}).status_code == 403
    assert (
        ApiClient(user=setup["outsider"]).post(f"routing/items/{item.pk}/accept", {}).status_code
        == 404
    )
    assert ApiClient(user=setup["outsider"]).get("routing/items").json() == []
    assert (
        other.post(f"routing/items/{item.pk}/reassign", {"agent": setup["agent2"].pk}).status_code
        == 403
    )
    assert ApiClient(user=setup["agent"]).get("routing/agents").status_code == 403
    portal = ApiClient(user=make_portal_user(make_customer("钱七")))
    assert portal.get("routing/queues").status_code == 403
    assert (
        portal.post("routing/items", {"queue": "hotline", "kind": "call", "title": "x"}).status_code
        == 403
    )
    item.refresh_from_db()
    assert item.state == "offered" and item.agent_id == setup["agent"].pk


def test_the_board_shows_queues_to_agents_and_agents_to_supervisors(setup, client):
    services.add_item(
        actor=None, queue=setup["queue"], kind="chat", title="<script>alert(1)</script>会话"
    )
    client.force_login(setup["agent"])
    page = client.get(reverse("routing:board")).content.decode()
    assert "热线" in page and 'data-testid="agents"' not in page
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    assert 'data-testid="presence"' in page  # the switcher in the top bar
    client.force_login(setup["lead"])
    page = client.get(reverse("routing:board_body")).content.decode()
    assert 'data-testid="agents"' in page
    assert setup["agent"].display_label in page
    client.force_login(make_portal_user(make_customer("孙八")))
    assert client.get(reverse("routing:board")).status_code in (302, 403)


def test_the_presence_switcher_changes_state_and_keeps_the_history(setup, client):
    client.force_login(setup["agent"])
    client.post(
        reverse("routing:presence"), {"state": "break", "reason": "meal", "next": "/queues/"}
    )
    presence = Presence.objects.get(user=setup["agent"])
    assert (presence.state, presence.reason) == ("break", "meal")
    assert list(setup["agent"].presence_history.order_by("pk").values_list("state", flat=True)) == [
        "available",  # signing in
        "break",
    ]


def test_overflow_agents_can_answer_what_they_are_offered(setup):
    from django.utils import timezone

    helpers = make_team("二线")
    helper = make_user(Role.AGENT_L2, username="h1", teams=[helpers])
    q = setup["queue"]
    q.overflow_after = 60
    q.save()
    q.overflow_teams.set([helpers])
    services.set_presence(actor=helper, user=helper, state="available")
    item = services.add_item(actor=None, queue=q, kind="chat", title="会话")
    services.tick(timezone.now() + dt.timedelta(seconds=61))
    item.refresh_from_db()
    assert item.agent_id == helper.pk and item.state == "offered"
    accepted = ApiClient(user=helper).post(f"routing/items/{item.pk}/accept", {})
    assert accepted.status_code == 200 and accepted.json()["state"] == "assigned"
    # an agent may only queue work into queues their teams serve
    made = ApiClient(user=setup["outsider"]).post(
        "routing/items", {"queue": "hotline", "kind": "call", "title": "x"}
    )
    assert made.status_code == 404


def test_the_board_answers_bad_form_input_with_4xx_and_changes_nothing(setup, client):
    item = services.add_item(actor=None, queue=setup["queue"], kind="chat", title="会话")
    client.force_login(setup["lead"])
    for agent in ("abc", "", "99999"):
        response = client.post(reverse("routing:act", args=[item.pk, "reassign"]), {"agent": agent})
        assert response.status_code == 404
    assert client.post(reverse("routing:act", args=[item.pk, "explode"])).status_code == 403
    assert client.post(reverse("routing:act", args=[424242, "accept"])).status_code == 404
    item.refresh_from_db()
    assert item.state == "waiting" and item.agent_id is None
    client.force_login(setup["agent"])
    response = client.post(reverse("routing:presence"), {"state": "dancing", "next": "/queues/"})
    assert response.status_code == 302  # back to the page with the message
    assert Presence.objects.get(user=setup["agent"]).state == "available"  # as signing in set it
