"""Raising requirements from work orders, linking every customer who asked, scoring, the
lifecycle, merging duplicates, and telling each customer once when theirs ships."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from kefu.core.models import Event, Notification
from kefu.requirements import services
from kefu.requirements.models import Requirement, ShipNotice, Source
from kefu.requirements.states import Status
from kefu.testing.factories import make_customer, make_portal_user, make_ticket
from kefu.tickets.models import Message
from kefu.tickets.services import add_reply, transition_ticket


def _ticket(centre, name="王五", title="希望增加电子发票功能"):
    return make_ticket(
        actor=centre["agent"],
        title=title,
        type_code="suggestion",
        customer=make_customer(name=name).pk,
    )


def _walk_to(centre, r, *steps, note=""):
    for to in steps:
        r = services.move_requirement(actor=centre["supervisor"], requirement=r, to=to, note=note)
    return r


def test_raise_from_work_orders_links_every_customer_once(centre):
    # given two customers asking for the same thing
    first, second = _ticket(centre, "王五"), _ticket(centre, "赵六")
    # when the first agent raises it and the second joins it
    r = services.raise_from_ticket(actor=centre["agent"], ticket=first, kind="functional")
    services.raise_from_ticket(actor=centre["agent"], ticket=second, requirement=r, note="也想要")
    # then both customers are linked, each with their work order
    assert r.title == "希望增加电子发票功能" and r.status == Status.COLLECT
    assert services.asking_customers(r) == sorted([first.customer_id, second.customer_id])
    assert set(Source.objects.filter(requirement=r).values_list("ticket_id", flat=True)) == {
        first.pk,
        second.pk,
    }
    assert Event.objects.filter(object_type="requirement", object_id=r.pk).count() == 3
    # and linking the same work order again is refused
    with pytest.raises(ValidationError):
        services.raise_from_ticket(actor=centre["agent"], ticket=second, requirement=r)


def test_a_chat_or_any_contact_can_be_a_source(centre):
    ticket = _ticket(centre)
    r = services.create_requirement(actor=centre["agent"], title="夜间在线客服", kind="service")
    message = Message.objects.create(ticket=ticket, kind="customer", body="晚上也想有人在线")
    source = services.add_source(
        actor=None, requirement=r, obj=message, channel="chat", customer=ticket.customer
    )
    assert source.channel == "chat" and source.customer_id == ticket.customer_id
    assert services.add_source(actor=None, requirement=r, obj=message, channel="chat") is None


def test_lifecycle_needs_scores_reasons_and_what_shipped(centre):
    r = services.raise_from_ticket(actor=centre["agent"], ticket=_ticket(centre), kind="functional")
    r = _walk_to(centre, r, Status.ORGANISE, Status.ANALYSE, Status.SCREEN)
    with pytest.raises(ValidationError, match="Score"):
        services.move_requirement(actor=centre["supervisor"], requirement=r, to=Status.IMPLEMENT)
    r = services.score_requirement(
        actor=centre["supervisor"], requirement=r, importance=4, feasibility=2, benefit=5
    )
    assert str(r.score) == "71.3"
    r = _walk_to(centre, r, Status.IMPLEMENT)
    with pytest.raises(ValidationError, match="what shipped"):
        services.move_requirement(actor=centre["supervisor"], requirement=r, to=Status.TRACK)
    with pytest.raises(ValidationError):
        services.move_requirement(actor=centre["supervisor"], requirement=r, to=Status.CLOSED)
    r.refresh_from_db()
    assert r.status == Status.IMPLEMENT


def test_rejecting_needs_a_reason_and_agents_cannot_move(centre):
    r = services.raise_from_ticket(actor=centre["agent"], ticket=_ticket(centre), kind="emotional")
    with pytest.raises(PermissionDenied):
        services.move_requirement(actor=centre["agent"], requirement=r, to=Status.ORGANISE)
    with pytest.raises(ValidationError):
        services.move_requirement(actor=centre["supervisor"], requirement=r, to=Status.REJECTED)
    r.refresh_from_db()
    assert r.status == Status.COLLECT and r.version == 1
    r = services.move_requirement(
        actor=centre["supervisor"], requirement=r, to=Status.REJECTED, note="与现行政策不符"
    )
    assert r.decision_note == "与现行政策不符"


def test_shipping_tells_every_customer_exactly_once(centre):
    # given three customers: one with an open work order, one whose work order is closed but
    # who uses the portal, one with neither
    open_ticket = _ticket(centre, "客户甲")
    closed = _ticket(centre, "客户乙")
    portal_user = make_portal_user(closed.customer)
    add_reply(actor=centre["agent"], ticket=closed, body="已记录您的建议")
    transition_ticket(actor=centre["agent"], ticket=closed, to="resolved")
    transition_ticket(actor=centre["agent"], ticket=closed, to="closed")
    nobody = make_customer(name="客户丙")
    r = services.raise_from_ticket(actor=centre["agent"], ticket=open_ticket, kind="functional")
    services.raise_from_ticket(actor=centre["agent"], ticket=closed, requirement=r)
    services.add_source(actor=centre["agent"], requirement=r, customer=nobody, note="电话里提过")
    r = _walk_to(centre, r, Status.ORGANISE, Status.ANALYSE, Status.SCREEN)
    services.score_requirement(
        actor=centre["supervisor"], requirement=r, importance=5, feasibility=4, benefit=4
    )
    r = _walk_to(centre, r, Status.IMPLEMENT)
    # when it ships
    r = _walk_to(centre, r, Status.TRACK, note="网上营业厅已支持开具电子发票。")
    # then each is told once, through what reaches them
    vias = dict(ShipNotice.objects.filter(requirement=r).values_list("customer_id", "via"))
    assert vias == {
        open_ticket.customer_id: "reply",
        closed.customer_id: "portal",
        nobody.pk: "none",
    }
    replies = Message.objects.filter(ticket=open_ticket, kind="reply", body__contains="电子发票")
    assert replies.count() == 1
    assert Notification.objects.filter(user=portal_user, kind="requirement_shipped").count() == 1
    # and telling again (a retry, or someone joining later) tells nobody twice
    assert services.tell_customers(actor=centre["supervisor"], requirement=r) == {
        "reply": 0,
        "portal": 0,
        "none": 0,
    }
    late = _ticket(centre, "客户丁")
    services.raise_from_ticket(actor=centre["agent"], ticket=late, requirement=r)
    assert ShipNotice.objects.get(customer=late.customer).via == "reply"
    assert replies.count() == 1
    assert ShipNotice.objects.filter(requirement=r).count() == 4


def test_merging_duplicates_keeps_every_asker(centre):
    a, b, c = _ticket(centre, "甲"), _ticket(centre, "乙"), _ticket(centre, "丙")
    keep = services.raise_from_ticket(actor=centre["agent"], ticket=a, kind="functional")
    dup = services.raise_from_ticket(
        actor=centre["agent"], ticket=b, kind="functional", title="电子发票"
    )
    services.raise_from_ticket(actor=centre["agent"], ticket=c, requirement=dup)
    services.raise_from_ticket(actor=centre["agent"], ticket=c, requirement=keep)
    with pytest.raises(PermissionDenied):
        services.merge_requirements(actor=centre["agent"], source=dup, target=keep)
    merged = services.merge_requirements(actor=centre["supervisor"], source=dup, target=keep)
    assert merged.pk == keep.pk
    assert services.asking_customers(keep) == sorted([a.customer_id, b.customer_id, c.customer_id])
    assert Source.objects.filter(requirement=keep).count() == 3
    dup.refresh_from_db()
    assert dup.status == Status.MERGED and dup.merged_into_id == keep.pk
    with pytest.raises(ValidationError):
        services.merge_requirements(actor=centre["supervisor"], source=dup, target=keep)


def test_bad_input_is_refused_whole(centre):
    with pytest.raises(ValidationError) as exc:
        services.create_requirement(actor=centre["agent"], title="", kind="wish")
    assert set(exc.value.message_dict) == {"title", "kind"}
    assert not Requirement.objects.exists()
    r = services.create_requirement(actor=centre["agent"], title="夜间客服", kind="service")
    with pytest.raises(ValidationError):
        services.score_requirement(
            actor=centre["supervisor"], requirement=r, importance=6, feasibility=3, benefit=3
        )
    r.refresh_from_db()
    assert r.importance is None and r.version == 1
