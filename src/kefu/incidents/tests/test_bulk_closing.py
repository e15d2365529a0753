"""Answering many linked work orders in batches: one reply per customer on every channel,
the timeline and the clocks as for any reply, nothing twice; work orders linked while the
job runs; candidates found as ``match`` finds them."""

import pytest

from kefu.core.models import Event
from kefu.email.models import Mailbox, OutboundEmail
from kefu.incidents import services
from kefu.incidents.models import ClosingReply, Link
from kefu.sla.models import SlaClock
from kefu.testing.factories import make_customer, make_ticket, ticket_type
from kefu.tickets.models import Message, Ticket

CLOSING = "您好，朝阳区停电已于17:40全部恢复供电，给您带来的不便深表歉意。"
N = 200


def _declare(centre, **kw):
    kw.setdefault("title", "朝阳区大面积停电")
    kw.setdefault("public_text", "朝阳区部分区域停电，抢修中。")
    kw.setdefault("areas", ["朝阳区"])
    kw.setdefault("keywords", ["停电", "没电"])
    return services.declare_incident(actor=centre["supervisor"], **kw)


def _ticket(centre, i=0, place="朝阳区望京街道", title="家里没电了", **kw):
    channel = kw.pop("channel", ("phone", "email", "portal")[i % 3])
    customer = make_customer(name=f"客户{i}")
    if channel == "email":
        kw.setdefault("contact_email", f"c{i}@example.com")
    return make_ticket(
        actor=centre["agent"], title=title, place=place, channel=channel, customer=customer.pk, **kw
    )


def _resolve(centre, incident, **kw):
    return services.resolve_incident(
        actor=centre["supervisor"],
        incident=incident,
        text="已恢复供电",
        closing_reply=CLOSING,
        **kw,
    )


@pytest.fixture
def mailbox(centre):
    return Mailbox.objects.create(
        name="客服中心",
        address="service@example.com",
        team=centre["front"],
        ticket_type=ticket_type("fault"),
        in_host="127.0.0.1",
        in_username="service",
        out_host="127.0.0.1",
        out_port=1,
        out_security="none",
        use_idle=False,
        poll_seconds=86400,
    )


def test_every_customer_gets_exactly_one_reply_across_channels(centre, mailbox, monkeypatch):
    # given 200 linked work orders on three channels, a third by e-mail
    monkeypatch.setattr(services, "BATCH", 40)
    tickets = [_ticket(centre, i) for i in range(N)]
    ids = [t.pk for t in tickets]
    email_ids = [t.pk for t in tickets if t.channel == "email"]
    assert len(email_ids) == N // 3 + (1 if N % 3 > 1 else 0)
    incident = _declare(centre)
    assert Link.objects.filter(incident=incident, ticket_id__in=ids).count() == N
    assert SlaClock.objects.filter(ticket_id__in=ids, state="running").exists()
    # when it is resolved with one closing reply (the job's parts run at once in tests)
    _resolve(centre, incident)
    # then every work order is resolved with one reply, by its own channel
    assert Ticket.objects.filter(pk__in=ids, status="resolved").count() == N
    replies = Message.objects.filter(ticket_id__in=ids, kind="reply", body=CLOSING)
    assert replies.count() == N
    assert replies.values("ticket_id").distinct().count() == N
    mails = OutboundEmail.objects.filter(kind="reply", ticket_id__in=ids)
    assert sorted(mails.values_list("ticket_id", flat=True)) == sorted(email_ids)
    assert set(mails.values_list("to_address", flat=True)) == {
        f"c{i}@example.com" for i in range(N) if i % 3 == 1
    }
    # with the timeline of a reply and a resolution, and the clocks stopped
    for action in ("ticket_replied", "ticket_status_changed"):
        assert (
            Event.objects.filter(object_type="ticket", object_id__in=ids, action=action).count()
            == N
        )
    assert not SlaClock.objects.filter(ticket_id__in=ids, state__in=["running", "paused"]).exists()
    assert ClosingReply.objects.filter(incident=incident, state="sent").count() == N
    incident.refresh_from_db()
    assert incident.closing_finished_at is not None
    # when the job runs again, in parts and whole, nothing is added
    before = (Message.objects.count(), Event.objects.count(), OutboundEmail.objects.count())
    for part in range(services.PARTS):
        again = services.run_closing(incident.pk, part, services.PARTS, batch=30)
        assert (again.sent, again.skipped, again.failed) == (0, 0, 0)
    services.run_closing(incident.pk)
    after = (Message.objects.count(), Event.objects.count(), OutboundEmail.objects.count())
    assert after == before


def test_a_work_order_linked_during_the_closing_below_the_cursor_is_answered(centre, monkeypatch):
    # given an unlinked work order with a low id, then linked ones after it
    low = _ticket(centre, 0, place="海淀区", title="电压不稳", channel="phone")
    linked = [_ticket(centre, i, channel="phone") for i in range(1, 7)]
    incident = _declare(centre)
    assert not Link.objects.filter(incident=incident, ticket=low).exists()
    monkeypatch.setattr(services, "start_parts", lambda incident_id: None)
    _resolve(centre, incident)
    # when it is linked by hand after the first batch went out
    from kefu.tickets import services as ticket_services

    original = ticket_services.reply_and_resolve_many
    calls = []

    def then_link(*args, **kw):
        result = original(*args, **kw)
        if not calls:
            services.link_ticket(actor=centre["agent"], incident=incident, ticket=low)
        calls.append(1)
        return result

    monkeypatch.setattr(ticket_services, "reply_and_resolve_many", then_link)
    result = services.run_closing(incident.pk, 0, 1, batch=2)
    # then it is answered too, and the closing finishes
    assert result.sent == len(linked) + 1
    low.refresh_from_db()
    assert low.status == "resolved"
    assert Message.objects.filter(ticket=low, kind="reply", body=CLOSING).count() == 1
    incident.refresh_from_db()
    assert incident.closing_finished_at is not None and not incident.closing_running


def test_a_work_order_linked_into_a_part_that_finished_is_answered_by_another(centre, monkeypatch):
    linked = [_ticket(centre, i, channel="phone") for i in range(8)]
    incident = _declare(centre)
    monkeypatch.setattr(services, "start_parts", lambda incident_id: None)
    _resolve(centre, incident)
    parts = services.PARTS
    for part in range(parts - 1):
        services.run_closing(incident.pk, part, parts)
    # a work order linked now whose part has already run
    late = _ticket(centre, 99, place="海淀区", title="电压不稳", channel="phone")
    while late.pk % parts == parts - 1:
        late = _ticket(centre, 99, place="海淀区", title="电压不稳", channel="phone")
    services.link_ticket(actor=centre["agent"], incident=incident, ticket=late)
    # the last part takes it over, and the closing finishes
    services.run_closing(incident.pk, parts - 1, parts)
    late.refresh_from_db()
    assert late.status == "resolved"
    assert Message.objects.filter(ticket_id__in=[t.pk for t in linked], kind="reply").count() == 8
    incident.refresh_from_db()
    assert incident.closing_finished_at is not None


@pytest.mark.parametrize(
    ("area", "place"),
    [("ＸＸ 小区", "XX小区3号楼"), ("XX小区", "ＸＸ 小区3号楼"), ("xx小区", "XX 小区")],
)
def test_linking_by_terms_finds_what_match_finds(centre, area, place):
    incident = _declare(centre, areas=[area], keywords=[], auto_link=False)
    ticket = _ticket(centre, 0, place=place, title="停水了", channel="phone")
    assert services.link_matching(actor=centre["supervisor"], incident=incident) == 1
    assert Link.objects.filter(incident=incident, ticket=ticket, how="matched").exists()
