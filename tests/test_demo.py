import pytest

from kefu.accounts.models import Team, User
from kefu.core.demo import demo_accounts, seed_demo
from kefu.core.permissions import Role
from kefu.customers.models import AccountNumber, Customer, VipTier

pytestmark = pytest.mark.django_db


def test_the_demo_centre_has_every_role_and_500_customers(client):
    ctx = seed_demo()
    assert ctx is not None
    assert seed_demo() is None  # loaded once
    kinds = dict(Team.objects.values_list("code", "kind"))
    assert {kinds["frontline"], kinds["second-line"], kinds["qa"], kinds["planning"]} == {
        "frontline",
        "second_line",
        "qa",
        "planning",
    }
    assert sum(1 for k in kinds.values() if k == "department") == 3
    roles = dict.fromkeys(Role.values, 0)
    for role in User.objects.values_list("role", flat=True):
        roles[role] += 1
    assert roles == {
        "admin": 1,
        "supervisor": 1,
        "agent_l1": 14,
        "agent_l2": 6,
        "qa": 1,
        "planner": 1,
        "liaison": 3,
        "customer": 1,
    }
    assert Customer.objects.count() == 500
    assert Customer.objects.filter(kind="organization").count() >= 20
    assert Customer.objects.filter(vip_tier__isnull=False).count() >= 20
    assert VipTier.objects.count() == 3
    assert AccountNumber.objects.count() >= 500
    assert len(demo_accounts()) == 8
    # every demo account signs in
    for username in ("admin", "supervisor", "agent01", "agent20", "qa", "planner", "liaison1"):
        client.logout()
        assert (
            client.post("/login/", {"login": username, "password": "Kefu@2026"}).status_code == 302
        ), username
    client.logout()
    assert (
        client.post(
            "/portal/login/", {"login": "customer@example.com", "password": "Kefu@2026"}
        ).status_code
        == 302
    )


def test_the_demo_work_orders_cover_every_type_channel_and_state_with_timelines():
    import datetime as dt

    from django.db.models import Max, Min
    from django.utils import timezone

    from kefu.core.choices import Channel
    from kefu.core.models import Event
    from kefu.tickets.models import Ticket, TicketType
    from kefu.tickets.states import Status

    seed_demo()
    tickets = Ticket.objects.all()
    assert tickets.count() >= 2000
    span = tickets.aggregate(first=Min("created_at"), last=Max("created_at"))
    assert span["first"] >= timezone.now() - dt.timedelta(days=91)
    assert span["last"] <= timezone.now()
    assert set(tickets.values_list("ticket_type__code", flat=True)) == set(
        TicketType.objects.values_list("code", flat=True)
    )
    assert set(tickets.values_list("channel", flat=True)) == set(Channel.values)
    assert set(tickets.values_list("status", flat=True)) == set(Status.values)
    created = set(
        Event.objects.filter(object_type="ticket", action="ticket_created").values_list(
            "object_id", flat=True
        )
    )
    assert created == set(tickets.values_list("pk", flat=True))
    # The last recorded status change of every work order is its current status.
    last_status: dict[int, str] = {}
    for object_id, changes in (
        Event.objects.filter(object_type="ticket", changes__has_key="status")
        .order_by("at", "id")
        .values_list("object_id", "changes")
    ):
        last_status[object_id] = changes["status"][1]
    for pk, status in tickets.values_list("pk", "status"):
        if pk in last_status:
            assert last_status[pk] == status, pk
        else:
            assert status == Status.NEW, pk


@pytest.mark.parametrize("beijing_hour", [8, 23])
def test_the_demo_queues_have_waiting_customers_and_a_morning_of_presence(client, beijing_hour):
    import datetime as dt
    from zoneinfo import ZoneInfo

    import time_machine

    # given the demo loaded early in the morning or late at night (Beijing time)
    loaded_at = dt.datetime(2026, 12, 3, beijing_hour, tzinfo=ZoneInfo("Asia/Shanghai"))
    with time_machine.travel(loaded_at, tick=True):
        seed_demo()
        _check_the_demo_queues(client)


def _check_the_demo_queues(client):
    from django.utils import timezone

    from kefu.routing.models import Presence, PresenceChange, QueueItem, RoutingQueue

    assert set(RoutingQueue.objects.values_list("strategy", flat=True)) == {
        "skills",
        "least_loaded",
        "round_robin",
        "manual",
    }
    waiting = QueueItem.objects.filter(state="waiting")
    kinds = set(waiting.values_list("kind", flat=True))
    # work orders opened by the other channels' demo data wait in the work-order queues too
    live = {"call", "chat", "email", "callback"}
    assert live <= kinds <= live | {"ticket"}
    assert waiting.filter(bonus__gt=0).exists()  # VIPs among them
    assert waiting.filter(not_before__isnull=False).count() == 1
    for phone, customer in waiting.filter(kind="call").values_list("phone", "customer"):
        # a caller's number finds them, so accepting the call opens 受理 for them
        assert Customer.objects.filter(contacts__normalized=phone, pk=customer).exists()
    assert not Presence.objects.filter(state="available").exists()  # nobody takes offers unseen
    assert PresenceChange.objects.filter(state="break", reason="training").exists()
    assert not PresenceChange.objects.filter(started_at__gt=timezone.now()).exists()
    # a signed-out agent who signs in becomes available
    agent = User.objects.get(username="agent01")
    client.force_login(agent)
    assert Presence.objects.get(user=agent).state == "available"
    client.force_login(User.objects.get(username="supervisor"))
    page = client.get("/queues/")
    assert page.status_code == 200
    assert "95598 热线" in page.content.decode()
