"""The unified queue with the real database: strategies end to end, offers, capacity, presence,
overflow, appointments, work orders, and concurrent dispatchers."""

import datetime as dt
import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connections
from django.utils import timezone

from kefu.accounts.models import AgentSkill, Skill
from kefu.core.models import Event
from kefu.core.permissions import Role
from kefu.routing import services
from kefu.routing.models import AgentLoad, Presence, PresenceChange, QueueItem, RoutingQueue
from kefu.testing.factories import make_customer, make_team, make_ticket, make_tier, make_user


def queue(team, strategy="least_loaded", **fields):
    q = RoutingQueue.objects.create(
        code=fields.pop("code", f"q-{strategy}"), name=fields.pop("name", f"队列{strategy}"),
        strategy=strategy, offer_timeout=fields.pop("offer_timeout", 30), **fields,
    )  # fmt: skip
    q.teams.set([team])
    return q


def available(*users):
    for user in users:
        services.set_presence(actor=user, user=user, state=Presence.State.AVAILABLE)


def call(q, title="来电", **fields):
    return services.add_item(actor=None, queue=q, kind="call", title=title, **fields)


def reload(item):
    return QueueItem.objects.get(pk=item.pk)


@pytest.fixture
def team(db):
    return make_team("一线")


@pytest.fixture
def trio(team):
    return [make_user(Role.AGENT_L1, username=f"a{i}", teams=[team]) for i in range(3)]


def test_an_item_is_offered_then_accepted_with_an_event_for_each_step(team, trio):
    q = queue(team)
    available(trio[0])
    item = reload(call(q))
    assert item.state == QueueItem.State.OFFERED and item.agent_id == trio[0].pk
    assert item.offer_expires_at is not None
    accepted = services.accept(actor=trio[0], item=item)
    assert accepted.state == QueueItem.State.ASSIGNED
    actions = list(
        Event.objects.filter(object_type="queueitem", object_id=item.pk)
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == ["queue_item_added", "queue_item_offered", "queue_item_assigned"]
    assert AgentLoad.objects.get(user=trio[0], channel="voice").active == 1
    assert Presence.objects.get(user=trio[0]).state == Presence.State.BUSY  # on a call now


def test_round_robin_goes_round(team, trio):
    q = queue(team, "round_robin", offer_timeout=0)
    available(*trio)
    agents = [reload(services.add_item(actor=None, queue=q, kind="chat", title=f"会话{i}")).agent_id
              for i in range(6)]  # fmt: skip
    first = agents[:3]
    assert sorted(first) == sorted(u.pk for u in trio)
    assert agents[3:] == first


def test_least_loaded_prefers_the_emptiest_agent(team, trio):
    q = queue(team, "least_loaded", offer_timeout=0)
    available(*trio)
    AgentLoad.objects.filter(user=trio[0], channel="chat").update(active=2)
    AgentLoad.objects.filter(user=trio[1], channel="chat").update(active=1)
    item = services.add_item(actor=None, queue=q, kind="chat", title="会话")
    assert reload(item).agent_id == trio[2].pk


def test_skills_route_to_the_agent_with_the_must_haves_and_most_preferred(team, trio):
    q = queue(team, "skills", offer_timeout=0)
    billing = Skill.objects.create(code="billing", name="电费")
    english = Skill.objects.create(code="english", name="英语")
    for user, skills in ((trio[0], [billing]), (trio[1], [billing, english]), (trio[2], [])):
        for skill in skills:
            AgentSkill.objects.create(profile=user.agent_profile, skill=skill)
    available(*trio)
    item = services.add_item(actor=None, queue=q, kind="email", title="Bill question",
                             required_skills=["billing"], preferred_skills=["english"])  # fmt: skip
    assert reload(item).agent_id == trio[1].pk
    nobody = services.add_item(actor=None, queue=q, kind="email", title="法律咨询",
                               required_skills=["legal"])  # fmt: skip
    assert reload(nobody).state == QueueItem.State.WAITING


def test_sticky_sends_a_returning_customer_back_to_their_agent(team, trio):
    q = queue(team, "sticky", offer_timeout=0, sticky_days=7)
    customer = make_customer("李四")
    available(*trio)
    first = reload(
        services.add_item(actor=None, queue=q, kind="chat", title="一", customer=customer)
    )
    services.finish(actor=None, item=first)
    for i in range(3):  # others take other customers' chats meanwhile
        services.add_item(actor=None, queue=q, kind="chat", title=f"别人{i}")
    again = services.add_item(actor=None, queue=q, kind="chat", title="二", customer=customer)
    assert reload(again).agent_id == first.agent_id


def test_manual_queues_wait_for_someone_to_take_the_item(team, trio):
    q = queue(team, "manual")
    available(*trio)
    item = services.add_item(actor=None, queue=q, kind="email", title="信件")
    assert reload(item).state == QueueItem.State.WAITING
    services.pick(actor=trio[1], item=item)
    assert reload(item).agent_id == trio[1].pk
    with pytest.raises(ValidationError, match="Someone else"):
        services.pick(actor=trio[2], item=item)


def test_a_declined_or_unanswered_offer_goes_to_the_next_agent(team, trio, settings):
    q = queue(team, "round_robin")
    available(trio[0], trio[1])
    item = reload(call(q))
    first = item.agent_id
    services.decline(actor=item.agent, item=item)
    item = reload(item)
    assert item.state == QueueItem.State.OFFERED and item.agent_id != first
    assert item.declined_by == [first]
    assert AgentLoad.objects.get(user_id=first, channel="voice").active == 0
    services.expire_offers(timezone.now() + dt.timedelta(seconds=31))
    item = reload(item)
    # both have now refused it: the round starts again with whoever was offered work longest ago
    assert item.state == QueueItem.State.OFFERED and item.agent_id == first
    assert item.declined_by == []
    with pytest.raises(ValidationError, match="no longer offered"):
        services.accept(actor=trio[1], item=item)


def test_agents_finish_only_their_own_assigned_calls(team, trio):
    q = queue(team)
    available(trio[0])
    item = reload(call(q))
    with pytest.raises(ValidationError, match="not yours"):
        services.finish(actor=trio[0], item=item)  # still only offered
    services.accept(actor=trio[0], item=item)
    with pytest.raises(ValidationError, match="not yours"):
        services.finish(actor=trio[1], item=item)
    services.finish(actor=trio[0], item=item)
    assert reload(item).state == QueueItem.State.DONE


def test_work_orders_leave_the_queue_only_through_their_own_lifecycle(centre):
    wo = RoutingQueue.objects.create(code="wo", name="工单", strategy="manual")
    ticket = make_ticket(actor=centre["agent"], type_code="consultation")
    ticket_item = QueueItem.objects.get(ticket=ticket, queue=wo)  # joined on creation
    with pytest.raises(ValidationError, match="resolved or reassigned"):
        services.finish(actor=centre["supervisor"], item=ticket_item)


def test_a_merged_work_order_leaves_the_queue(centre):
    from kefu.tickets.services import merge_tickets

    q = RoutingQueue.objects.create(code="wo", name="工单", strategy="manual")
    q.teams.set([centre["front"]])
    duplicate = make_ticket(actor=centre["agent"], type_code="consultation", team=centre["front"])
    kept = make_ticket(actor=centre["agent"], type_code="consultation", team=centre["front"])
    item = QueueItem.objects.get(ticket=duplicate)
    merge_tickets(actor=centre["agent"], source=duplicate, target=kept)
    assert reload(item).state == QueueItem.State.CANCELLED
    assert QueueItem.objects.get(ticket=kept).state == QueueItem.State.WAITING


def test_a_supervisor_can_confirm_an_offer_for_the_agent_at_capacity(team, trio):
    lead = make_user(Role.SUPERVISOR, username="lead2")
    q = queue(team)
    available(trio[0])
    item = reload(call(q))
    assert item.state == QueueItem.State.OFFERED  # the agent's only call slot is held by it
    services.reassign(actor=lead, item=item, agent=trio[0])
    assert reload(item).state == QueueItem.State.ASSIGNED
    assert AgentLoad.objects.get(user=trio[0], channel="voice").active == 1


def test_capacity_is_never_exceeded_and_after_call_work_follows_a_call(team, trio):
    q = queue(team, offer_timeout=0, wrap_up=30)
    agent = trio[0]
    available(agent)
    one = reload(call(q, "第一通"))
    two = reload(call(q, "第二通"))
    assert one.agent_id == agent.pk and two.state == QueueItem.State.WAITING  # 1 call at a time
    assert Presence.objects.get(user=agent).state == Presence.State.BUSY
    services.finish(actor=agent, item=one)
    presence = Presence.objects.get(user=agent)
    assert presence.state == Presence.State.AFTER_CALL
    assert reload(two).state == QueueItem.State.WAITING  # not during after-call work
    services.tick(timezone.now() + dt.timedelta(seconds=31))  # wrap-up over: the next call
    assert reload(two).agent_id == agent.pk
    assert Presence.objects.get(user=agent).state == Presence.State.BUSY
    states = list(
        PresenceChange.objects.filter(user=agent).order_by("pk").values_list("state", "by_system")
    )
    assert states == [("available", False), ("busy", True), ("after_call", True),
                      ("available", True), ("busy", True)]  # fmt: skip
    assert PresenceChange.objects.filter(user=agent, ended_at__isnull=True).count() == 1


def test_vip_bonus_moves_an_item_ahead_by_at_most_the_bonus(team, trio):
    q = queue(team, offer_timeout=0)
    gold = make_tier(weight=300)
    vip = make_customer("王五", vip_tier=gold)
    now = timezone.now()
    regular = call(q, "普通", arrived_at=now - dt.timedelta(seconds=100))
    near_vip = call(q, "金卡", customer=vip, arrived_at=now)  # 100 s later: within the bonus
    far_vip = call(q, "金卡晚到", customer=vip, arrived_at=now + dt.timedelta(seconds=250))
    available(*trio)
    order = [reload(i).agent_id is not None for i in (near_vip, regular, far_vip)]
    assert order == [True, True, True]
    assigned = sorted((reload(i).assigned_at, i.title) for i in (regular, near_vip, far_vip))
    assert [t for _a, t in assigned] == ["金卡", "普通", "金卡晚到"]


def test_overflow_teams_help_after_the_set_wait(team, trio):
    helpers = make_team("二线")
    helper = make_user(Role.AGENT_L2, username="helper", teams=[helpers])
    q = queue(team, offer_timeout=0, overflow_after=60)
    q.overflow_teams.set([helpers])
    available(helper)
    item = call(q)
    assert reload(item).state == QueueItem.State.WAITING
    services.tick(timezone.now() + dt.timedelta(seconds=61))
    item = reload(item)
    assert item.overflowed and item.agent_id == helper.pk


def test_a_callback_waits_for_its_appointment(team, trio):
    q = queue(team, offer_timeout=0)
    available(trio[0])
    later = timezone.now() + dt.timedelta(minutes=30)
    item = services.add_item(actor=None, queue=q, kind="callback", title="预约回电",
                             phone="13800000000", not_before=later)  # fmt: skip
    assert reload(item).state == QueueItem.State.WAITING
    services.tick(later + dt.timedelta(seconds=1))
    assert reload(item).agent_id == trio[0].pk
    with pytest.raises(ValidationError, match="Only callbacks"):
        services.add_item(actor=None, queue=q, kind="call", title="x", not_before=later)


def test_breaks_need_a_reason_and_withdraw_open_offers(team, trio):
    q = queue(team)
    available(trio[0])
    item = call(q)
    with pytest.raises(ValidationError, match="reason"):
        services.set_presence(actor=trio[0], user=trio[0], state="break")
    services.set_presence(actor=trio[0], user=trio[0], state="break", reason="meal")
    assert reload(item).state == QueueItem.State.WAITING
    assert reload(item).declined_by == []  # leaving is not declining
    assert AgentLoad.objects.get(user=trio[0], channel="voice").active == 0
    with pytest.raises(PermissionDenied):
        services.set_presence(actor=trio[1], user=trio[0], state="available")


def test_new_unassigned_work_orders_join_their_queue_and_leave_it_when_done(centre):
    q = RoutingQueue.objects.create(
        code="wo", name="工单", strategy="least_loaded", offer_timeout=0
    )
    q.teams.set([centre["front"]])
    available(centre["agent"])
    ticket = make_ticket(actor=centre["agent"], type_code="consultation", team=centre["front"])
    item = QueueItem.objects.get(ticket=ticket)
    ticket.refresh_from_db()
    assert item.state == QueueItem.State.ASSIGNED and ticket.assignee_id == centre["agent"].pk
    assert AgentLoad.objects.get(user=centre["agent"], channel="ticket").active == 1
    from kefu.tickets.services import transition_ticket

    transition_ticket(actor=centre["agent"], ticket=ticket, to="cancelled", reason="重复")
    assert reload(item).state == QueueItem.State.DONE
    assert AgentLoad.objects.get(user=centre["agent"], channel="ticket").active == 0


def test_assigning_a_work_order_by_hand_takes_it_out_of_the_queue(centre):
    from kefu.tickets.services import assign_ticket

    q = RoutingQueue.objects.create(code="wo", name="工单", strategy="manual")
    q.teams.set([centre["front"]])
    ticket = make_ticket(actor=centre["agent"], type_code="consultation", team=centre["front"])
    item = QueueItem.objects.get(ticket=ticket)
    assign_ticket(actor=centre["supervisor"], ticket=ticket, assignee=centre["agent2"])
    assert reload(item).state == QueueItem.State.CANCELLED


def test_only_supervisors_reassign_and_never_past_capacity(team, trio):
    lead = make_user(Role.SUPERVISOR, username="lead")
    q = queue(team, "manual")
    available(*trio)
    item = call(q)
    with pytest.raises(PermissionDenied):
        services.reassign(actor=trio[0], item=item, agent=trio[1])
    assert reload(item).state == QueueItem.State.WAITING
    services.reassign(actor=lead, item=item, agent=trio[1])
    assert reload(item).agent_id == trio[1].pk
    second = call(q, "第二通")
    with pytest.raises(ValidationError, match="capacity"):
        services.reassign(actor=lead, item=second, agent=trio[1])
    assert reload(second).state == QueueItem.State.WAITING


def test_signing_in_and_out_sets_presence_where_work_is_routed(client, team):
    agent = make_user(Role.AGENT_L1, username="signin", teams=[team])
    client.force_login(agent)
    assert not Presence.objects.filter(user=agent).exists()  # no queues: no presence to keep
    client.post("/logout/")
    queue(team)
    client.force_login(agent)
    assert Presence.objects.get(user=agent).state == Presence.State.AVAILABLE
    client.post("/logout/")
    assert Presence.objects.get(user=agent).state == Presence.State.OFFLINE


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_eight_concurrent_dispatchers_never_double_assign_or_overfill():
    team = make_team("并发")
    agents = [make_user(Role.AGENT_L1, username=f"c{i}", teams=[team]) for i in range(10)]
    q = RoutingQueue.objects.create(
        code="conc", name="并发", strategy="least_loaded", offer_timeout=0
    )
    q.teams.set([team])
    for agent in agents:
        services.sync_capacity(agent)
        Presence.objects.create(user=agent, state="available", since=timezone.now())
    now = timezone.now()
    for i in range(120):  # more chats than room: 10 agents × 3 chats
        QueueItem.objects.create(
            queue=q, kind="chat", channel="chat", title=f"会话{i}",
            arrived_at=now, rank_at=now - dt.timedelta(seconds=i),
        )  # fmt: skip
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def worker() -> None:
        try:
            barrier.wait()
            services.dispatch(q.pk)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assigned = QueueItem.objects.filter(state="assigned")
    assert assigned.count() == 30
    assert Event.objects.filter(action="queue_item_assigned").count() == 30  # once each
    for agent in agents:
        load = AgentLoad.objects.get(user=agent, channel="chat")
        assert load.active == load.capacity == 3
        assert assigned.filter(agent=agent).count() == 3


def test_escalating_a_routed_work_order_frees_the_first_line_agents_capacity(centre):
    from kefu.tickets.services import escalate_ticket

    q = RoutingQueue.objects.create(
        code="wo", name="工单", strategy="least_loaded", offer_timeout=0
    )
    q.teams.set([centre["front"]])
    available(centre["agent"])
    ticket = make_ticket(actor=centre["agent"], type_code="consultation", team=centre["front"])
    item = QueueItem.objects.get(ticket=ticket)
    assert AgentLoad.objects.get(user=centre["agent"], channel="ticket").active == 1
    ticket.refresh_from_db()
    escalate_ticket(
        actor=centre["agent"], ticket=ticket, reason="需二线处理", team=centre["second"]
    )
    assert reload(item).state == QueueItem.State.CANCELLED
    assert AgentLoad.objects.get(user=centre["agent"], channel="ticket").active == 0


def test_going_busy_returns_open_offers_to_the_queue(team, trio):
    # given an agent with an open offer
    q = queue(team)
    available(trio[0])
    item = reload(call(q))
    assert (item.state, item.agent_id) == (QueueItem.State.OFFERED, trio[0].pk)
    # when the agent goes busy
    services.set_presence(actor=trio[0], user=trio[0], state="busy")
    # then the offer is back in the queue, not counted as declined, and the capacity is free
    item = reload(item)
    assert (item.state, item.agent_id, item.declined_by) == (QueueItem.State.WAITING, None, [])
    assert AgentLoad.objects.get(user=trio[0], channel="voice").active == 0
    assert Event.objects.filter(
        object_type="queueitem", object_id=item.pk, action="queue_item_declined"
    ).values_list("data", flat=True)[0] == {"agent": trio[0].pk, "reason": "busy"}
