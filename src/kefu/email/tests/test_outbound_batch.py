"""Replies to many e-mail work orders at once (a major incident's closing): queued as one by
one, and sent over one SMTP connection per mailbox, each claimed, logged and retried on its
own, never twice."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from kefu.core.models import Event
from kefu.customers.models import ContactPoint
from kefu.email import connectors, services
from kefu.email.models import DeliveryAttempt, OutboundEmail
from kefu.email.services import outbound as outbound_service
from kefu.email.tests.conftest import corpus
from kefu.testing.factories import make_customer, make_ticket
from kefu.tickets.models import Message, Ticket
from kefu.tickets.services import reply_and_resolve_many, transition_ticket

pytestmark = pytest.mark.django_db

REPLY = "您好，停电已于17:40全部恢复供电，给您带来的不便深表歉意。"


@pytest.fixture
def connections(monkeypatch: Any) -> list[int]:
    """Counts the SMTP connections opened (the server is the real one)."""
    opened: list[int] = []
    real = connectors.smtp_connect

    def counting(server: Any) -> Any:
        opened.append(server.port)
        return real(server)

    monkeypatch.setattr(connectors, "smtp_connect", counting)
    return opened


def _work_orders(centre: Any, mailbox: Any) -> dict[str, Ticket]:
    """E-mail work orders that find their mailbox and address each another way, one with no
    address, and one by phone."""
    agent = centre["agent"]
    threaded = services.ingest(mailbox, corpus("foxmail_gb2312.eml")).inbound.ticket
    english = make_customer(name="John Smith", language="en")
    ContactPoint.objects.create(
        customer=english, kind=ContactPoint.Kind.EMAIL, value="john@example.com", is_primary=True
    )
    return {
        "threaded": threaded,
        "by_team": make_ticket(
            actor=agent,
            title="家里停电了",
            channel="email",
            contact_name="李四",
            contact_email="lisi@example.com",
            team=centre["front"],
        ),
        "by_contact_point": make_ticket(
            actor=agent, title="No power", channel="email", customer=english.pk
        ),
        "no_address": make_ticket(actor=agent, title="停电", channel="email"),
        "phone": make_ticket(actor=agent, title="停电", channel="phone", contact_name="王五"),
    }


def _outcome(tickets: dict[str, Ticket], smtp: Any, first_mail: int) -> dict[str, Any]:
    """What answering left, per work order, without ids and random Message-IDs."""
    found: dict[str, Any] = {}
    for role, ticket in tickets.items():
        mails = []
        for o in OutboundEmail.objects.filter(ticket=ticket).order_by("id"):
            assert o.message_id.startswith(f"<kefu.{ticket.number}.")
            reply = Message.objects.get(pk=o.ticket_message_id or 0)
            mails.append(
                {
                    "mailbox": o.mailbox_id,
                    "kind": o.kind,
                    "to": o.to_address,
                    "subject": o.subject,
                    "body": o.body,
                    "in_reply_to": o.in_reply_to,
                    "references": o.references,
                    "attachments": o.attachment_ids,
                    "state": o.state,
                    "attempts": o.attempts,
                    "reply": (reply.body, reply.author_id),
                    "log": list(
                        DeliveryAttempt.objects.filter(outbound=o).values_list(
                            "attempt", "ok", "code"
                        )
                    ),
                    "events": sorted(
                        (e.action, e.actor_id, e.actor_label, e.object_repr, e.data)
                        for e in Event.objects.filter(object_type="outboundemail", object_id=o.pk)
                    ),
                }
            )
        not_sent = [
            (e.actor_id, e.object_repr, e.data)
            for e in Event.objects.filter(
                object_type="ticket", object_id=ticket.pk, action="email_not_sent"
            )
        ]
        found[role] = {"mails": mails, "not_sent": not_sent}
    received = []
    for sent in smtp.messages[first_mail:]:
        msg = sent["message"]
        body = msg.get_body(preferencelist=("plain",)).get_content()
        received.append(
            (sent["to"], msg["Subject"], msg["In-Reply-To"], msg["X-Kefu-Ticket"], body)
        )
    found["received"] = sorted(received)
    return found


def test_batch_replies_queue_and_send_what_replies_one_by_one_do(
    mailbox_factory: Any, smtp_tls: Any, centre: Any, connections: list[int]
) -> None:
    # given e-mail work orders whose mailbox, address and thread are each found another way
    mailbox = mailbox_factory(smtp=smtp_tls, send_acknowledgement=False)
    tickets = _work_orders(centre, mailbox)
    lead = centre["supervisor"]
    # when they are answered through the batch path (then undone) ...
    with transaction.atomic():
        result = reply_and_resolve_many(list(tickets.values()), actor=lead, body=REPLY)
        assert len(result.done) == len(tickets)
        batch = _outcome(tickets, smtp_tls, 0)
        batch_connections = len(connections)
        transaction.set_rollback(True)
    # ... and one by one
    first = len(smtp_tls.messages)
    connections.clear()
    for ticket in tickets.values():
        transition_ticket(actor=lead, ticket=ticket, to="resolved", reply=REPLY)
    single = _outcome(tickets, smtp_tls, first)
    # then the same messages were queued, logged and received, with the same events
    assert batch == single
    assert [m["to"] for m in single["threaded"]["mails"]] == ["zhangzk@163.com"]
    assert single["threaded"]["mails"][0]["in_reply_to"] == "<202611230915021234567@163.com>"
    assert single["by_contact_point"]["mails"][0]["to"] == "john@example.com"
    assert single["by_contact_point"]["mails"][0]["subject"].endswith("No power")
    assert single["by_contact_point"]["mails"][0]["body"].startswith("Dear John Smith,")
    assert single["no_address"]["mails"] == []
    assert single["no_address"]["not_sent"] == [
        (lead.pk, tickets["no_address"].number, {"kind": "reply", "reason": "no e-mail address"})
    ]
    assert single["phone"] == {"mails": [], "not_sent": []}
    assert len(single["received"]) == 3
    # the batch sent its three mails over one connection, one by one opened one each
    assert (batch_connections, len(connections)) == (1, 3)


def _queue(tickets: list[Ticket], centre: Any) -> list[int]:
    """Answer the work orders in a batch, without sending (as before the job runs)."""
    from kefu.email.tasks import send_outbound_many_task

    jobs: list[Any] = []

    def hold(task: Any, *args: Any, **kw: Any) -> None:
        if task is send_outbound_many_task:
            jobs.append(args)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("kefu.core.jobs.enqueue", hold)
        reply_and_resolve_many(tickets, actor=centre["supervisor"], body=REPLY)
    [(ids,)] = jobs
    return list(ids)


def _email_orders(centre: Any, prefix: str, n: int) -> list[Any]:
    """``n`` open e-mail work orders of the first line, from {prefix}0@example.com on."""
    return [
        make_ticket(
            actor=centre["agent"],
            title="停电",
            channel="email",
            contact_email=f"{prefix}{i}@example.com",
            team=centre["front"],
        )
        for i in range(n)
    ]


def test_sending_many_logs_and_retries_each_and_never_sends_twice(
    mailbox_factory: Any, smtp_tls: Any, centre: Any, connections: list[int]
) -> None:
    # given five queued replies: one address is busy for now, one does not exist
    mailbox_factory(smtp=smtp_tls, send_acknowledgement=False)
    tickets = _email_orders(centre, "c", 5)
    ids = _queue(tickets, centre)
    assert OutboundEmail.objects.filter(pk__in=ids, state="pending").count() == 5
    smtp_tls.refuse["c1@example.com"] = "451 4.3.0 Mailbox busy, try later"
    smtp_tls.refuse["c3@example.com"] = "550 5.1.1 No such user"
    before = timezone.now()
    # when the job sends them (in chunks of two)
    states = outbound_service.send_outbound_many(ids, chunk=2)
    # then each has its own outcome, log row and event, over one connection
    by_to = {o.to_address: o for o in OutboundEmail.objects.filter(pk__in=ids)}
    assert {o.to_address: states[o.pk] for o in by_to.values()} == {
        "c0@example.com": "sent",
        "c1@example.com": "pending",
        "c2@example.com": "sent",
        "c3@example.com": "failed",
        "c4@example.com": "sent",
    }
    assert len(connections) == 1
    assert sorted(m["to"][0] for m in smtp_tls.messages) == [
        "c0@example.com",
        "c2@example.com",
        "c4@example.com",
    ]
    busy, gone = by_to["c1@example.com"], by_to["c3@example.com"]
    assert (busy.attempts, busy.last_error) == (1, "451 4.3.0 Mailbox busy, try later")
    assert busy.next_attempt_at is not None
    assert 60 <= (busy.next_attempt_at - before).total_seconds() < 65
    assert (gone.state, gone.next_attempt_at, gone.last_error) == (
        "failed",
        None,
        "550 5.1.1 No such user",
    )
    for o in by_to.values():
        assert list(o.log.values_list("attempt", "ok")) == [(1, o.state == "sent")]
    actions = dict(
        Event.objects.filter(object_type="outboundemail", object_id__in=ids).values_list(
            "object_id", "action"
        )
    )
    assert actions == {
        o.pk: {"sent": "email_sent", "pending": "email_retry_scheduled", "failed": "email_failed"}[
            o.state
        ]
        for o in by_to.values()
    }
    sent_at = {o.pk: o.sent_at for o in by_to.values()}
    # when the job runs again (a retry of the job) nothing goes out twice
    assert outbound_service.send_outbound_many(ids) == {}
    assert len(smtp_tls.messages) == 3
    # and when the busy address accepts and its time has come, only it is sent
    del smtp_tls.refuse["c1@example.com"]
    OutboundEmail.objects.filter(pk=busy.pk).update(
        next_attempt_at=timezone.now() - dt.timedelta(seconds=1)
    )
    assert services.send_due() == 1
    busy.refresh_from_db()
    assert (busy.state, busy.attempts) == ("sent", 2)
    assert len(smtp_tls.messages) == 4
    assert {o.pk: o.sent_at for o in OutboundEmail.objects.filter(pk__in=ids)} == {
        **sent_at,
        busy.pk: busy.sent_at,
    }


def test_a_message_claimed_by_a_job_that_died_waits_for_its_claim_to_run_out(
    mailbox_factory: Any, smtp_tls: Any, centre: Any
) -> None:
    # given two queued replies, claimed by a sending job that then died before sending
    mailbox_factory(smtp=smtp_tls, send_acknowledgement=False)
    tickets = _email_orders(centre, "d", 2)
    ids = _queue(tickets, centre)
    claimed = outbound_service._claim(ids)
    assert [o.attempts for o in claimed] == [1, 1]
    # when another job tries them while the claim holds
    assert outbound_service.send_outbound_many(ids) == {}
    assert services.send_due() == 0
    assert smtp_tls.messages == []
    # then once the claim has run out, the periodic sweep sends each once
    OutboundEmail.objects.filter(pk__in=ids).update(
        next_attempt_at=timezone.now() - dt.timedelta(seconds=1)
    )
    assert services.send_due() == 2
    assert sorted(m["to"][0] for m in smtp_tls.messages) == ["d0@example.com", "d1@example.com"]
    assert set(OutboundEmail.objects.filter(pk__in=ids).values_list("state", "attempts")) == {
        ("sent", 2)
    }
