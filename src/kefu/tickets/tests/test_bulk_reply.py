"""One reply to many work orders: the batch path writes what the one-by-one path writes."""

import pytest
from django.core.exceptions import ValidationError

from kefu.core.models import Event
from kefu.sla.models import SlaClock
from kefu.testing.factories import make_customer, make_ticket
from kefu.tickets.models import Message, Ticket
from kefu.tickets.services import (
    add_reply,
    common,
    register_ticket_hook,
    reply_and_resolve_many,
    transition_ticket,
)

REPLY = "您好，停电已恢复，给您带来不便深表歉意。"
REASON = "故障已排除"


def _ticket(centre, **kw):
    kw.setdefault("customer", make_customer(name="王五").pk)
    return make_ticket(actor=centre["agent"], title="家里停电了", place="朝阳区", **kw)


def _timeline(ticket):
    rows = []
    events = Event.objects.filter(object_type="ticket", object_id=ticket.pk)
    for e in events.exclude(action="ticket_created").order_by("id"):
        data = {k: v for k, v in e.data.items() if k != "message"}
        rows.append((e.action, e.changes, data, e.actor_id, e.actor_label))
    return rows


def _clocks(ticket):
    return sorted(
        SlaClock.objects.filter(ticket=ticket).values_list("metric", "state", "target_seconds")
    )


def test_one_work_order_through_the_batch_path_ends_as_through_the_single_path(centre):
    # given two identical work orders, one assigned, with running SLA clocks
    single, batch = _ticket(centre), _ticket(centre)
    assert SlaClock.objects.filter(ticket=single, state="running").exists()
    # when one is answered one by one and the other through the batch path
    transition_ticket(
        actor=centre["supervisor"], ticket=single, to="resolved", reply=REPLY, reason=REASON
    )
    result = reply_and_resolve_many([batch], actor=centre["supervisor"], body=REPLY, reason=REASON)
    # then both are in the same state, with the same timeline and the same clocks
    assert result.done == [batch.pk] and not result.failed and not result.skipped
    single.refresh_from_db()
    batch.refresh_from_db()
    for name in ("status", "is_open", "version", "sla_metric", "sla_breached", "reopen_count"):
        assert getattr(batch, name) == getattr(single, name), name
    assert batch.resolved_at and batch.first_response_at and batch.last_public_reply_at
    assert _timeline(batch) == _timeline(single)
    assert {"ticket_replied", "ticket_status_changed"} <= {row[0] for row in _timeline(batch)}
    assert _clocks(batch) == _clocks(single)
    assert not SlaClock.objects.filter(ticket=batch, state="running").exists()
    [reply] = Message.objects.filter(ticket=batch, kind="reply")
    assert (reply.body, reply.author_id, reply.channel) == (REPLY, centre["supervisor"].pk, "phone")
    event = Event.objects.get(object_id=batch.pk, action="ticket_replied")
    assert event.data["message"] == reply.pk


def test_finished_work_orders_are_skipped_and_a_refusing_rule_fails_only_its_own(
    centre, monkeypatch
):
    # given three open work orders and one already resolved
    tickets = [_ticket(centre) for _ in range(3)]
    finished = _ticket(centre)
    add_reply(actor=centre["agent"], ticket=finished, body="已处理")
    transition_ticket(actor=centre["agent"], ticket=finished, to="resolved")
    refused = tickets[1]

    def rule(ticket, event):
        if ticket.pk == refused.pk and event.action == "ticket_status_changed":
            raise ValidationError({"status": ["整改工单须由检查人签收。"]})

    monkeypatch.setattr(common, "TICKET_HOOKS", list(common.TICKET_HOOKS))
    register_ticket_hook(rule)
    monkeypatch.setattr("kefu.tickets.services.bulk.TICKET_HOOKS", common.TICKET_HOOKS)
    # when they are answered in one batch
    result = reply_and_resolve_many(
        [*tickets, finished], actor=centre["supervisor"], body=REPLY, batch=10
    )
    # then the refused one stays open without a reply; the others are answered once
    assert sorted(result.done) == sorted([tickets[0].pk, tickets[2].pk])
    assert result.skipped == [finished.pk]
    assert "签收" in result.failed[refused.pk]
    refused.refresh_from_db()
    assert refused.is_open
    assert not Message.objects.filter(ticket=refused, kind="reply").exists()
    for t in (tickets[0], tickets[2]):
        assert Message.objects.filter(ticket=t, kind="reply", body=REPLY).count() == 1
        assert Ticket.objects.get(pk=t.pk).status == "resolved"
    assert Message.objects.filter(ticket=finished, kind="reply").count() == 1


def test_the_batch_path_needs_both_permissions_and_a_body(centre):
    from django.core.exceptions import PermissionDenied

    ticket = _ticket(centre)
    with pytest.raises(ValidationError):
        reply_and_resolve_many([ticket], actor=centre["supervisor"], body="   ")
    with pytest.raises(PermissionDenied):
        reply_and_resolve_many([ticket], actor=centre["liaison"], body=REPLY)
    ticket.refresh_from_db()
    assert ticket.is_open
