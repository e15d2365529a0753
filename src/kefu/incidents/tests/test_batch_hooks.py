"""The batch versions of other apps' work-order hooks that a major incident's closing runs
(field service's contract deadlines, routing's queue): each leaves what the per-work-order
hook leaves when the same work orders are answered one by one."""

import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone

from kefu.core.models import Event
from kefu.testing.factories import make_customer, make_ticket
from kefu.tickets.services import reply_and_resolve_many, transition_ticket

REPLY = "您好，停电已恢复，给您带来不便深表歉意。"

pytestmark = pytest.mark.django_db


def _both_ways(tickets, actor, outcome):
    """The outcome after answering ``tickets`` through the batch path (then undone), and after
    answering them one by one."""
    with transaction.atomic():
        result = reply_and_resolve_many(tickets, actor=actor, body=REPLY)
        assert sorted(result.done) == sorted(t.pk for t in tickets)
        batch = outcome()
        transaction.set_rollback(True)
    for ticket in tickets:
        transition_ticket(actor=actor, ticket=ticket, to="resolved", reply=REPLY)
    return batch, outcome()


def test_contract_deadlines_are_met_as_one_by_one(centre):
    from kefu.field.deadlines import start_deadlines
    from kefu.field.models import Asset, Deadline, ServiceLevel

    # given work orders on covered assets with running deadlines, one already met
    level = ServiceLevel.objects.create(
        name="金牌", arrival_minutes=120, workaround_minutes=240, resolution_minutes=480
    )
    tickets = []
    for i in range(3):
        customer = make_customer(f"客户{i}")
        asset = Asset.objects.create(
            customer=customer,
            product="配电终端",
            serial=f"DTU{i}",
            installed_on=timezone.localdate() - dt.timedelta(days=10),
            warranty_until=timezone.localdate() + dt.timedelta(days=300),
            service_level=level,
        )
        ticket = make_ticket(actor=centre["agent"], customer=customer.pk, title="配电终端离线")
        with transaction.atomic():
            start_deadlines(actor=centre["agent"], ticket=ticket, asset=asset)
        tickets.append(ticket)
    long_ago = timezone.now() - dt.timedelta(hours=1)
    Deadline.objects.filter(ticket=tickets[0], kind="workaround").update(met_at=long_ago)
    plain = make_ticket(actor=centre["agent"], title="咨询")

    def outcome():
        return sorted(
            (ticket_id, kind, met_at is not None, met_at == long_ago)
            for ticket_id, kind, met_at in Deadline.objects.values_list(
                "ticket_id", "kind", "met_at"
            )
        )

    # when they are answered through the batch path and one by one
    batch, single = _both_ways([*tickets, plain], centre["supervisor"], outcome)
    # then the workaround and resolution deadlines are met (the met one kept), arrival runs on
    assert batch == single
    assert [row for row in single if row[0] == tickets[0].pk] == [
        (tickets[0].pk, "arrival", False, False),
        (tickets[0].pk, "resolution", True, False),
        (tickets[0].pk, "workaround", True, True),
    ]


def test_work_orders_leave_their_queue_as_one_by_one(centre):
    from kefu.routing import services as routing
    from kefu.routing.models import AgentLoad, Presence, QueueItem, RoutingQueue

    # given work orders in a queue: one given to an agent by the queue, then two waiting
    q = RoutingQueue.objects.create(
        code="wo", name="工单", strategy="least_loaded", offer_timeout=0
    )
    q.teams.set([centre["front"]])
    routing.set_presence(
        actor=centre["agent"], user=centre["agent"], state=Presence.State.AVAILABLE
    )
    served = make_ticket(actor=centre["agent"], type_code="consultation", team=centre["front"])
    served.refresh_from_db()
    assert served.assignee_id == centre["agent"].pk
    RoutingQueue.objects.filter(pk=q.pk).update(strategy="manual")
    waiting = [
        make_ticket(actor=centre["agent"], type_code="consultation", team=centre["front"])
        for _ in range(2)
    ]
    tickets = [*waiting, served]
    assert QueueItem.objects.filter(ticket__in=tickets, state__in=routing.LIVE).count() == 3

    def outcome():
        items = sorted(
            (item.ticket_id, item.state, item.finished_at is not None)
            for item in QueueItem.objects.filter(ticket__in=tickets)
        )
        finished = sorted(
            (e.object_id, e.data["state"], e.actor_id)
            for e in Event.objects.filter(action="queue_item_finished")
        )
        load = AgentLoad.objects.get(user=centre["agent"], channel="ticket").active
        return items, finished, load

    # when they are answered through the batch path and one by one
    batch, single = _both_ways(tickets, centre["supervisor"], outcome)
    # then every item has left its queue the same way and the agent's load is freed
    assert batch == single
    items, finished, load = single
    assert {state for _t, state, _f in items} == {"cancelled", "done"}
    assert [(t, s) for t, s, _f in items if t == served.pk] == [(served.pk, "done")]
    assert len(finished) == 3 and load == 0


def test_webhook_deliveries_are_the_ones_one_by_one_writes(centre):
    from kefu.tickets.models import WebhookDelivery
    from kefu.tickets.services import webhooks
    from kefu.tickets.tests.test_webhooks import Receiver

    # given a webhook for every event and one for status changes only, on a real receiver
    receiver = Receiver()
    try:
        every = webhooks.create_webhook(
            actor=centre["admin"], name="CRM", url=receiver.url, allow_private=True
        )
        status_only = webhooks.create_webhook(
            actor=centre["admin"],
            name="大屏",
            url=receiver.url,
            events_=["ticket.status_changed"],
            allow_private=True,
        )
        assigned = make_ticket(actor=centre["agent"], title="停电", assignee=centre["agent"])
        tickets = [assigned, make_ticket(actor=centre["agent"], title="没电")]
        first = WebhookDelivery.objects.order_by("-id").values_list("id", flat=True).first()
        before = len(receiver.requests)

        def outcome():
            rows = []
            for d in WebhookDelivery.objects.filter(id__gt=first).order_by("id"):
                payload = dict(d.payload)
                event = Event.objects.get(pk=d.event_id)
                assert payload.pop("id") == event.pk
                assert payload.pop("occurred_at") == event.at.isoformat()
                ticket = dict(payload.pop("ticket"))
                assert ticket.pop("updated_at")
                data = dict(payload.pop("data"))
                data.pop("message", None)
                rows.append((d.webhook_id, d.event_type, d.state, payload, ticket, data))
            return sorted(rows, key=repr), len(receiver.requests)

        # when they are answered through the batch path and one by one
        (batch, batch_sent), (single, single_sent) = _both_ways(
            tickets, centre["supervisor"], outcome
        )
    finally:
        receiver.stop()
    # then the same deliveries were written, each describing the work order after its event,
    # and delivered
    assert batch == single
    assert (batch_sent - before, single_sent - batch_sent) == (6, 6)
    by_type = sorted(
        (webhook, kind, ticket["status"]) for webhook, kind, _s, _p, ticket, _d in single
    )
    assert by_type == sorted(
        [
            (every.pk, "ticket.replied", "in_progress"),
            (every.pk, "ticket.replied", "in_progress"),
            (every.pk, "ticket.status_changed", "resolved"),
            (every.pk, "ticket.status_changed", "resolved"),
            (status_only.pk, "ticket.status_changed", "resolved"),
            (status_only.pk, "ticket.status_changed", "resolved"),
        ]
    )
    assert {state for _w, _k, state, _p, _t, _d in single} == {"delivered"}
