"""Declaring an incident, linking contacts, publishing to every channel, answering every
linked work order once, closing."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from kefu.core.interactions import ContactReceived, contact_received, current_notices
from kefu.core.models import Event
from kefu.incidents import services
from kefu.incidents.models import ClosingReply, Incident, Link, Status
from kefu.testing.factories import make_customer, make_ticket
from kefu.tickets.models import Message, Ticket
from kefu.tickets.services import add_reply, transition_ticket


def _declare(centre, **kw):
    kw.setdefault("title", "朝阳区大面积停电")
    kw.setdefault("public_text", "朝阳区部分区域停电，抢修中，预计18:00恢复。")
    kw.setdefault("areas", ["朝阳区"])
    kw.setdefault("keywords", ["停电", "没电"])
    return services.declare_incident(actor=centre["supervisor"], **kw)


def _ticket(centre, place="朝阳区望京街道", title="家里没电了", **kw):
    kw.setdefault("customer", make_customer(name="李四").pk)
    return make_ticket(actor=centre["agent"], title=title, place=place, **kw)


def test_declaring_links_matching_open_work_orders(centre):
    # given
    match = [_ticket(centre) for _ in range(3)]
    other_area = _ticket(centre, place="海淀区")
    other_matter = _ticket(centre, title="电费账单有误")
    finished = _ticket(centre)
    add_reply(actor=centre["agent"], ticket=finished, body="已处理")
    transition_ticket(actor=centre["agent"], ticket=finished, to="resolved")
    # when
    incident = _declare(centre)
    # then
    linked = set(Link.objects.filter(incident=incident).values_list("ticket_id", flat=True))
    assert linked == {t.pk for t in match}
    assert other_area.pk not in linked and other_matter.pk not in linked
    assert Event.objects.filter(action="incident_declared", object_id=incident.pk).count() == 1
    assert (
        Event.objects.get(action="incident_contacts_matched", object_id=incident.pk).data[
            "work_orders"
        ]
        == 3
    )


def test_new_work_orders_and_contacts_are_linked_while_active(centre):
    incident = _declare(centre)
    # a new work order that matches is linked by the ticket hook
    ticket = _ticket(centre)
    assert Link.objects.filter(incident=incident, ticket=ticket, how="area").exists()
    assert not Link.objects.filter(incident=incident, ticket=_ticket(centre, place="海淀区"))
    # any channel's contact is linked through the contact listener, generically
    message = Message.objects.create(ticket=ticket, kind="customer", body="还是没电")
    contact_received(
        ContactReceived(channel="chat", obj=message, text="朝阳区还是没电", customer=None)
    )
    link = Link.objects.get(incident=incident, channel="chat")
    assert link.object_id == message.pk and link.how == "area"
    # the same contact announced twice is linked once
    contact_received(ContactReceived(channel="chat", obj=message, text="朝阳区还是没电"))
    assert Link.objects.filter(incident=incident, channel="chat").count() == 1
    # once resolved, nothing more is linked automatically
    services.resolve_incident(actor=centre["supervisor"], incident=incident, text="已恢复供电")
    later = _ticket(centre)
    assert not Link.objects.filter(ticket=later).exists()


def test_updates_reach_every_channel(centre):
    assert current_notices("portal") == []
    incident = _declare(centre, ivr_text="朝阳区停电抢修中")
    for channel in ("portal", "chat", "email", "phone"):
        [notice] = current_notices(channel)
        assert notice.key == f"incident:{incident.pk}"
        assert notice.text == "朝阳区部分区域停电，抢修中，预计18:00恢复。"
        assert notice.severity == "warning"
    assert services.ivr_announcement() == "朝阳区停电抢修中。"
    services.publish_update(
        actor=centre["supervisor"], incident=incident, text="抢修队已到达现场。"
    )
    incident.refresh_from_db()
    assert incident.status == Status.MONITORING
    assert [n.text for n in current_notices("chat")] == ["抢修队已到达现场。"]
    assert services.ivr_announcement() == "抢修队已到达现场。"
    assert incident.updates.count() == 2
    services.resolve_incident(actor=centre["supervisor"], incident=incident, text="已恢复")
    assert current_notices("portal") == []
    assert services.ivr_announcement() == ""


def test_resolving_answers_every_linked_work_order_exactly_once(centre):
    # given an incident with four linked open work orders, one already resolved
    tickets = [_ticket(centre) for _ in range(4)]
    incident = _declare(centre)
    done = tickets[3]
    add_reply(actor=centre["agent"], ticket=done, body="已处理")
    transition_ticket(actor=centre["agent"], ticket=done, to="resolved")
    # when it is resolved with one reply (the job runs at once in tests)
    services.resolve_incident(
        actor=centre["supervisor"],
        incident=incident,
        text="已恢复供电",
        closing_reply="您好，朝阳区停电已于17:40恢复，给您带来不便深表歉意。",
    )
    # then each open one has exactly one reply and is resolved; the finished one is left alone
    for t in tickets[:3]:
        t.refresh_from_db()
        assert t.status == "resolved"
        assert (
            Message.objects.filter(ticket=t, kind="reply", body__startswith="您好，朝阳区").count()
            == 1
        )
    assert Message.objects.filter(ticket=done, kind="reply").count() == 1
    states = dict(ClosingReply.objects.values_list("ticket_id", "state"))
    assert states == {**{t.pk: "sent" for t in tickets[:3]}, done.pk: "skipped"}
    incident.refresh_from_db()
    assert incident.closing_finished_at is not None and not incident.closing_running
    # when the job runs again (a retry), nobody gets a second reply
    again = services.run_closing(incident.pk)
    assert (again.sent, again.skipped, again.failed) == (0, 0, 0)
    assert Message.objects.filter(kind="reply", body__startswith="您好，朝阳区").count() == 3
    # a work order linked afterwards by hand is answered by the next run, once
    late = _ticket(centre, place="海淀区")
    services.link_ticket(actor=centre["agent"], incident=incident, ticket=late)
    services.start_closing(actor=centre["supervisor"], incident=incident, reply="已恢复供电。")
    late.refresh_from_db()
    assert late.status == "resolved"
    assert Message.objects.filter(ticket=late, kind="reply").count() == 1
    assert Message.objects.filter(ticket=tickets[0], kind="reply").count() == 1
    # and the incident closes
    services.close_incident(actor=centre["supervisor"], incident=incident)
    incident.refresh_from_db()
    assert incident.status == Status.CLOSED


def test_a_work_order_that_cannot_be_resolved_is_reported_not_retried(centre):
    ticket = _ticket(centre)
    incident = _declare(centre)
    ticket.status = "cancelled"  # cancelled after linking, outside the state machine's reach
    Ticket.objects.filter(pk=ticket.pk).update(status="cancelled", is_open=False)
    services.resolve_incident(
        actor=centre["supervisor"], incident=incident, text="已恢复", closing_reply="已恢复供电。"
    )
    assert ClosingReply.objects.get(ticket=ticket).state == "skipped"
    assert not Message.objects.filter(ticket=ticket, kind="reply").exists()


def test_only_supervisors_declare_and_agents_link_by_hand(centre):
    with pytest.raises(PermissionDenied):
        services.declare_incident(
            actor=centre["agent"], title="停电", public_text="停电", areas=["朝阳区"]
        )
    assert not Incident.objects.exists()
    incident = _declare(centre, auto_link=False)
    ticket = _ticket(centre, place="海淀区", title="电压不稳")
    services.link_ticket(actor=centre["agent"], incident=incident, ticket=ticket)
    assert Link.objects.get(ticket=ticket).how == "manual"
    with pytest.raises(ValidationError):
        services.link_ticket(actor=centre["agent"], incident=incident, ticket=ticket)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"title": ""}, "title"),
        ({"public_text": ""}, "public_text"),
        ({"severity": "huge"}, "severity"),
        ({"areas": [], "keywords": []}, "areas"),
        ({"areas": ["区" * 41]}, "areas"),
    ],
)
def test_bad_declarations_are_refused_whole(centre, fields, field):
    with pytest.raises(ValidationError) as exc:
        _declare(centre, **fields)
    assert field in exc.value.message_dict
    assert not Incident.objects.exists()


def test_state_machine_refuses_wrong_moves(centre):
    incident = _declare(centre)
    with pytest.raises(ValidationError):
        services.close_incident(actor=centre["supervisor"], incident=incident)
    with pytest.raises(ValidationError):
        services.start_closing(actor=centre["supervisor"], incident=incident, reply="好了")
    incident.refresh_from_db()
    assert incident.status == Status.DECLARED
