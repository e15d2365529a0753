"""The minute sweep: warnings and breaches fire once, escalations run, and the claim uses the
partial index however many work orders are open."""

import threading

import pytest
from django.db import connection, connections

from kefu.accounts.models import Membership
from kefu.core.models import Event, Notification
from kefu.sla.models import Escalation, Metric, SlaAlert, SlaClock, SlaTarget
from kefu.sla.sweep import due_clocks_query, sweep
from kefu.sla.tests.conftest import at
from kefu.testing.factories import make_team, make_ticket
from kefu.testing.fixtures import on_postgres
from kefu.tickets import services
from kefu.tickets.models import Ticket


def _assigned_complaint(centre):
    ticket = make_ticket(actor=centre["agent"], type_code="complaint", title="停电无人处理")
    services.assign_ticket(actor=centre["agent"], ticket=ticket, assignee=centre["agent"])
    Membership.objects.filter(team=centre["front"], user=centre["agent2"]).update(is_lead=True)
    return ticket


@pytest.mark.django_db
def test_warnings_then_the_breach_fire_once_each_with_their_escalations(centre, clock_at):
    clock_at(at(2026, 11, 20, 16))
    ticket = _assigned_complaint(centre)
    agent, lead, supervisor = centre["agent"], centre["agent2"], centre["supervisor"]
    assert sweep() == []

    clock_at(at(2026, 11, 21, 10))  # 18 of 24 hours: the 75 % warning
    fired = sweep()
    assert [(f.level, SlaClock.objects.get(pk=f.clock_id).metric) for f in fired] == [
        (75, Metric.FIRST_RESPONSE)
    ]
    assert Notification.objects.filter(user=agent, kind="sla_warning").count() == 1
    assert sweep() == []  # nothing twice

    clock_at(at(2026, 11, 21, 16, 1))  # past 90 % and the deadline, in one sweep
    assert sorted(f.level for f in sweep()) == [90, 100]
    assert Notification.objects.filter(user=lead, kind="sla_warning").count() == 1
    assert Notification.objects.filter(user=lead, kind="sla_breached").count() == 1
    assert Notification.objects.filter(user=supervisor, kind="sla_breached").count() == 1
    events = Event.objects.filter(object_id=ticket.pk, action__in=["sla_warning", "sla_breached"])
    assert sorted(events.values_list("data__level", flat=True)) == [75, 90, 100]
    assert all(e.actor_id is None for e in events)
    row = Ticket.objects.get(pk=ticket.pk)
    assert row.sla_breached
    first = SlaClock.objects.get(ticket=ticket, metric=Metric.FIRST_RESPONSE)
    assert (first.breached_at, first.next_alert_at, sorted(first.fired)) == (
        at(2026, 11, 21, 16),
        None,
        [75, 90, 100],
    )
    assert sweep() == []
    assert SlaAlert.objects.filter(clock=first).count() == 3


@pytest.mark.django_db
def test_a_breach_can_raise_the_priority_reassign_and_mark_sensitive(centre, clock_at):
    clock_at(at(2026, 11, 20, 16))
    ticket = _assigned_complaint(centre)
    target = SlaTarget.objects.get(policy__name="投诉", metric=Metric.FIRST_RESPONSE)
    escalation_team = make_team("投诉专席")
    Escalation.objects.create(target=target, level=100, action="raise_priority")
    Escalation.objects.create(target=target, level=100, action="mark_sensitive")
    Escalation.objects.create(target=target, level=100, action="reassign", team=escalation_team)
    before = Ticket.objects.get(pk=ticket.pk).priority
    clock_at(at(2026, 11, 21, 17))
    sweep()
    row = Ticket.objects.get(pk=ticket.pk)
    assert (row.priority, row.sensitive, row.team, row.assignee) == (
        before - 1,
        True,
        escalation_team,
        None,
    )
    changed = Event.objects.filter(object_id=ticket.pk, action="ticket_changed", actor=None)
    assert changed.count() == 2  # priority, then sensitive: by Kefu itself
    assert Event.objects.filter(object_id=ticket.pk, action="ticket_assigned", actor=None).exists()


@pytest.mark.django_db
def test_a_paused_clock_is_not_swept_and_a_moved_deadline_can_breach_again(centre, clock_at):
    from kefu.tickets.states import Status

    clock_at(at(2026, 11, 23, 9))
    ticket = make_ticket(actor=centre["agent"], type_code="consultation")
    services.assign_ticket(actor=centre["agent"], ticket=ticket, assignee=centre["agent"])
    services.transition_ticket(
        actor=centre["agent"], ticket=Ticket.objects.get(pk=ticket.pk), to=Status.IN_PROGRESS
    )
    services.add_reply(
        actor=centre["agent"], ticket=Ticket.objects.get(pk=ticket.pk), body="请补充。"
    )
    services.transition_ticket(
        actor=centre["agent"], ticket=Ticket.objects.get(pk=ticket.pk), to=Status.WAITING_CUSTOMER
    )
    clock_at(at(2026, 12, 31, 9))  # a month later, still waiting: paused clocks never breach
    assert [f for f in sweep() if f.ticket_id == ticket.pk] == []


@pytest.mark.django_db
def test_the_sweep_claims_through_the_partial_index(centre):
    sql, params = due_clocks_query(at(2026, 11, 23, 9), 500)
    with connection.cursor() as cursor:
        if on_postgres():
            cursor.execute("SET LOCAL enable_seqscan = off")  # tiny test tables would be scanned
            cursor.execute("EXPLAIN " + sql, params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        else:
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
            plan = "\n".join(str(row[-1]) for row in cursor.fetchall())
    assert "sla_clock_sweep_idx" in plan


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_sweeps_fire_every_alert_exactly_once(clock_at):
    from kefu.testing.factories import frontline_setup

    centre = frontline_setup()
    clock_at(at(2026, 11, 20, 16))
    tickets = [
        make_ticket(actor=centre["agent"], type_code="complaint", title=f"投诉{i}")
        for i in range(40)
    ]
    clock_at(at(2026, 11, 21, 17))  # every first-response clock: 75 %, 90 % and breached
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)
    results: list[int] = []

    def worker() -> None:
        try:
            barrier.wait()
            results.append(len(sweep(batch=7)))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sum(results) == 40 * 3
    assert SlaAlert.objects.count() == 40 * 3
    assert Event.objects.filter(action="sla_breached").count() == 40
    assert Event.objects.filter(action="sla_warning").count() == 80
    assert Ticket.objects.filter(pk__in=[t.pk for t in tickets], sla_breached=True).count() == 40


@pytest.mark.django_db
def test_the_sweep_cost_does_not_grow_with_work_orders_that_are_not_due(
    centre, clock_at, django_assert_max_num_queries
):
    clock_at(at(2026, 11, 23, 9))
    for i in range(30):
        make_ticket(actor=centre["agent"], type_code="consultation", title=f"未到期{i}")
    clock_at(at(2026, 11, 23, 9, 5))
    with django_assert_max_num_queries(3):
        assert sweep() == []


@pytest.mark.django_db
def test_a_webhook_escalation_sends_sla_escalated_to_the_chosen_hook(centre, clock_at):
    from kefu.tickets.models import Webhook, WebhookDelivery

    clock_at(at(2026, 11, 20, 16))
    ticket = _assigned_complaint(centre)
    hook = Webhook.objects.create(
        name="监控大屏",
        url="https://wall.example.com/hook",
        secret="s" * 32,
        events=["ticket.created"],
    )
    target = SlaTarget.objects.get(policy__name="投诉", metric=Metric.FIRST_RESPONSE)
    Escalation.objects.create(target=target, level=100, action="webhook", webhook=hook)
    clock_at(at(2026, 11, 21, 17))
    sweep()
    delivery = WebhookDelivery.objects.get(webhook=hook, event_type="sla.escalated")
    assert delivery.payload["ticket"]["number"] == ticket.number
    assert delivery.payload["data"]["level"] == 100
    assert not WebhookDelivery.objects.filter(webhook=hook, event_type="sla.breached").exists()
