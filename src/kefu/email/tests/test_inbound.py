"""The incoming pipeline on captured mail: work orders, threading, customers, attachments,
deduplication, automatic mail, quarantine and processing again."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from kefu.core.models import Event
from kefu.customers.models import ContactPoint, Customer
from kefu.email import services
from kefu.email.models import InboundEmail, OutboundEmail
from kefu.email.tests.conftest import corpus
from kefu.tickets.models import Attachment, Message, Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def mailbox(mailbox_factory: Any) -> Any:
    return mailbox_factory(send_acknowledgement=False)


def test_new_mail_opens_a_work_order_for_a_new_customer(mailbox: Any, centre: Any) -> None:
    # when
    done = services.ingest(mailbox, corpus("foxmail_gb2312.eml"))
    # then
    inbound = done.inbound
    assert done.duplicate is False
    assert (inbound.state, inbound.quarantine_reason) == (InboundEmail.State.PROCESSED, "")
    ticket = inbound.ticket
    assert ticket.title == "停电报修：家中停电（喆）"
    assert ticket.channel == "email"
    assert ticket.team == centre["front"]
    assert ticket.ticket_type == mailbox.ticket_type
    assert ticket.contact_email == "zhangzk@163.com"
    assert ticket.description == (
        "您好：\n\n我家（户号 1002003004）从今天早上8点开始停电，请尽快派人检修。联系人：张喆堃。\n\n谢谢！"
    )
    assert inbound.folded_text == "--\n张喆堃\n电话 13800138000"
    customer = ticket.customer
    assert customer.name == "张喆堃"
    assert list(customer.contacts.values_list("kind", "value")) == [("email", "zhangzk@163.com")]
    assert bytes(InboundEmail.objects.get(pk=inbound.pk).raw) == corpus("foxmail_gb2312.eml")
    assert Event.objects.filter(action="email_received", object_id=inbound.pk).count() == 1


def test_known_address_matches_the_customer(mailbox: Any) -> None:
    from kefu.testing.factories import make_customer

    customer = make_customer(name="王芳")
    ContactPoint.objects.create(
        customer=customer, kind="email", value="wangfang@corp.example.com",
        normalized="wangfang@corp.example.com",
    )  # fmt: skip
    before = Customer.objects.count()
    inbound = services.ingest(mailbox, corpus("outlook_gbk_related.eml")).inbound
    assert inbound.ticket.customer_id == customer.pk
    assert Customer.objects.count() == before


def test_attachments_and_inline_images_become_work_order_files(mailbox: Any) -> None:
    inbound = services.ingest(mailbox, corpus("outlook_gbk_related.eml")).inbound
    files = list(Attachment.objects.filter(ticket=inbound.ticket).order_by("id"))
    assert [(f.filename, f.content_type, f.size) for f in files] == [
        ("image001.png", "image/png", 66),
        ("十一月电费单.pdf", "application/pdf", 45),
    ]
    assert inbound.html_safe == (
        "<p>您好，</p><p>附件是<b>电费账单</b>截图：</p>"
        f'<img src="/tickets/files/{files[0].pk}/"><p>王芳</p>'
    )


def test_refused_attachment_is_listed_with_the_reason(mailbox: Any) -> None:
    inbound = services.ingest(mailbox, corpus("forwarded_chain.eml")).inbound
    assert inbound.state == InboundEmail.State.PROCESSED
    assert len(inbound.attachments) == 1
    entry = inbound.attachments[0]
    assert entry["filename"] == "停水通知.eml"
    assert "this kind of file is not accepted" in entry["refused"]
    assert Attachment.objects.filter(ticket=inbound.ticket).count() == 0


def test_reply_threads_by_our_message_id(mailbox: Any) -> None:
    # given a work order we answered with a known Message-ID
    first = services.ingest(mailbox, corpus("foxmail_gb2312.eml")).inbound
    OutboundEmail.objects.create(
        mailbox=mailbox, ticket=first.ticket, kind="reply", to_address="zhangzk@163.com",
        message_id="<kefu.GD20261123-00042.1@kefu.example.cn>", subject="s", body="b",
        state="sent",
    )  # fmt: skip
    # when the customer answers from another address (QQ), quoting it
    reply = services.ingest(mailbox, corpus("qqmail_reply_utf8.eml")).inbound
    # then it joins that work order as the customer's message, history folded away
    assert reply.ticket_id == first.ticket_id
    assert reply.created_ticket is False
    message = Message.objects.get(pk=reply.ticket_message_id)
    assert (message.kind, message.body) == ("customer", "好的，明天上午在家，师傅几点到？")
    assert Ticket.objects.count() == 1


def test_subject_number_threads_only_for_the_contact(mailbox: Any) -> None:
    first = services.ingest(mailbox, corpus("foxmail_gb2312.eml")).inbound
    number = first.ticket.number
    same = (
        f"From: zhangzk@163.com\r\nSubject: Re: [#{number}] more\r\nMessage-ID: <s1@163.com>\r\n"
        "\r\nstill no power\r\n"
    ).encode()
    stranger = (
        f"From: mallory@evil.example\r\nSubject: Re: [#{number}] more\r\nMessage-ID: <s2@e>\r\n"
        "\r\ninjected\r\n"
    ).encode()
    assert services.ingest(mailbox, same).inbound.ticket_id == first.ticket_id
    other = services.ingest(mailbox, stranger).inbound
    assert other.ticket_id != first.ticket_id
    assert other.created_ticket is True


def test_same_message_twice_is_stored_once(mailbox: Any) -> None:
    raw = corpus("foxmail_gb2312.eml")
    first = services.ingest(mailbox, raw)
    again = services.ingest(mailbox, raw)
    assert (again.duplicate, again.inbound.pk) == (True, first.inbound.pk)
    assert InboundEmail.objects.count() == 1
    assert Ticket.objects.count() == 1


def test_message_without_message_id_is_deduplicated_by_its_bytes(mailbox: Any) -> None:
    raw = corpus("no_message_id.eml")
    services.ingest(mailbox, raw)
    assert services.ingest(mailbox, raw).duplicate is True
    assert Ticket.objects.count() == 1


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("auto_reply_ooo.eml", "auto_reply"),
        ("bounce_dsn.eml", "bounce"),
        ("newsletter_bulk.eml", "auto_reply"),
    ],
)
def test_automatic_mail_opens_nothing_and_is_never_answered(
    mailbox_factory: Any, smtp_tls: Any, name: str, kind: str
) -> None:
    mailbox = mailbox_factory(smtp=smtp_tls)  # acknowledgements on
    inbound = services.ingest(mailbox, corpus(name)).inbound
    assert (inbound.state, inbound.kind) == ("ignored", kind)
    assert Ticket.objects.count() == 0
    assert OutboundEmail.objects.count() == 0
    assert smtp_tls.messages == []


def test_bounce_marks_our_message_bounced(mailbox: Any) -> None:
    first = services.ingest(mailbox, corpus("foxmail_gb2312.eml")).inbound
    sent = OutboundEmail.objects.create(
        mailbox=mailbox, ticket=first.ticket, kind="reply", to_address="nobody@example.net",
        message_id="<kefu.GD20261124-00007.2@kefu.example.cn>", subject="s", body="b",
        state="sent",
    )  # fmt: skip
    services.ingest(mailbox, corpus("bounce_dsn.eml"))
    sent.refresh_from_db()
    assert sent.state == "bounced"
    assert sent.last_error == "Undelivered Mail Returned to Sender"


def test_a_sender_flooding_us_is_a_loop(mailbox: Any) -> None:
    from kefu.email.services import inbound as pipeline

    for i in range(pipeline.LOOP_LIMIT):
        raw = f"From: robot@example.com\r\nMessage-ID: <r{i}@x>\r\nSubject: n{i}\r\n\r\nx\r\n"
        services.ingest(mailbox, raw.encode())
    last = services.ingest(
        mailbox, b"From: robot@example.com\r\nMessage-ID: <last@x>\r\nSubject: n\r\n\r\nx\r\n"
    ).inbound
    assert (last.state, last.kind) == ("ignored", "loop")
    assert last.kind_reason == "21 messages from this address in ten minutes"
    assert Ticket.objects.count() == pipeline.LOOP_LIMIT


def test_unreadable_mail_is_quarantined_and_kept(mailbox: Any) -> None:
    raw = corpus("unparseable.eml")
    inbound = services.ingest(mailbox, raw).inbound
    assert inbound.state == "quarantined"
    assert inbound.quarantine_reason == "Cannot be read: no header lines"
    assert bytes(InboundEmail.objects.get(pk=inbound.pk).raw) == raw
    assert services.ingest(mailbox, raw).duplicate is True


def test_too_large_mail_is_quarantined_then_processed_by_an_administrator(
    mailbox_factory: Any, centre: Any
) -> None:
    # given a mailbox that takes at most 1 KB
    mailbox = mailbox_factory(max_message_bytes=1024, send_acknowledgement=False)
    raw = corpus("outlook_gbk_related.eml")
    inbound = services.ingest(mailbox, raw).inbound
    assert inbound.state == "quarantined"
    assert inbound.quarantine_reason == (
        f"Too large: {len(raw)} bytes; this mailbox takes at most 1024."
    )
    assert Ticket.objects.count() == 0
    # an agent may not process it again
    with pytest.raises(PermissionDenied):
        services.reprocess(actor=centre["agent"], inbound=inbound)
    assert InboundEmail.objects.get(pk=inbound.pk).state == "quarantined"
    # when the administrator does
    done = services.reprocess(actor=centre["admin"], inbound=inbound)
    # then it is filed, with the original's Message-ID as its key
    assert done.state == "processed"
    assert done.key == "<SG2PR06MB3456ABCD@SG2PR06MB3456.apcprd06.prod.outlook.com>"
    assert done.ticket.title == "电费账单异常"
    # and the same mail fetched again is a duplicate
    assert services.ingest(mailbox, raw).duplicate is True
    with pytest.raises(ValidationError):
        services.reprocess(actor=centre["admin"], inbound=done)


def test_mail_the_rules_refuse_is_quarantined_with_the_reason(mailbox: Any) -> None:
    # a work order on a cancelled type cannot be created: the message waits in quarantine
    mailbox.ticket_type.is_active = False
    mailbox.ticket_type.save()
    inbound = services.ingest(mailbox, corpus("big5_traditional.eml")).inbound
    assert inbound.state == "quarantined"
    assert inbound.quarantine_reason.startswith("Could not be filed:")
    assert Ticket.objects.count() == 0


def test_new_work_order_is_acknowledged_over_tls(mailbox_factory: Any, smtp_tls: Any) -> None:
    mailbox = mailbox_factory(smtp=smtp_tls)
    inbound = services.ingest(mailbox, corpus("foxmail_gb2312.eml")).inbound
    number = inbound.ticket.number
    [sent] = smtp_tls.messages
    msg = sent["message"]
    assert sent["tls"] is True
    assert sent["to"] == ["zhangzk@163.com"]
    assert msg["Subject"] == f"[#{number}] 已受理：停电报修：家中停电（喆）"
    assert msg["In-Reply-To"] == "<202611230915021234567@163.com>"
    assert msg["References"] == "<202611230915021234567@163.com>"
    assert msg["Auto-Submitted"] == "auto-replied"
    assert f"登记为工单 {number}" in msg.get_content()
    outbound = OutboundEmail.objects.get()
    assert (outbound.state, outbound.attempts) == ("sent", 1)
    assert msg["Message-ID"] == outbound.message_id
    assert [(a.attempt, a.ok) for a in outbound.log.all()] == [(1, True)]


def test_a_message_failing_in_a_batch_is_quarantined_and_the_rest_filed(
    mailbox: Any, monkeypatch: Any, centre: Any
) -> None:
    from kefu.email.models import FetchedUid
    from kefu.email.services import inbound as pipeline

    real_route = pipeline._route

    def fails_on_big5(inbound: Any, parsed: Any, *args: Any) -> Any:
        filed = real_route(inbound, parsed, *args)  # the work order is written...
        if parsed.subject == "查詢帳單":
            raise RuntimeError("disk full")  # ...and then something breaks
        return filed

    monkeypatch.setattr(pipeline, "_route", fails_on_big5)
    # when a batch of three is taken and the second fails
    done = services.ingest_batch(
        mailbox,
        [
            ("imap:1:1", corpus("foxmail_gb2312.eml")),
            ("imap:1:2", corpus("big5_traditional.eml")),
            ("imap:1:3", corpus("rfc2231_attachments.eml")),
        ],
    )
    # then the other two are filed, the second waits in quarantine with the reason, and
    # nothing it wrote before failing is left
    assert [d.inbound.state for d in done] == ["processed", "quarantined", "processed"]
    failed = InboundEmail.objects.get(pk=done[1].inbound.pk)
    assert failed.quarantine_reason == "Could not be filed: RuntimeError: disk full"
    assert failed.subject == "查詢帳單"
    assert sorted(Ticket.objects.values_list("title", flat=True)) == [
        "停电报修：家中停电（喆）",
        "发票申请",
    ]
    assert FetchedUid.objects.count() == 3
    # each filed message has its event, written with the batch; the failed one only its own
    logged = Event.objects.filter(object_type="inboundemail").values_list("action", "object_id")
    assert sorted(logged) == sorted(
        [
            ("email_received", done[0].inbound.pk),
            ("email_quarantined", done[1].inbound.pk),
            ("email_received", done[2].inbound.pk),
        ]
    )
    # when an administrator processes it again once the cause is gone
    monkeypatch.setattr(pipeline, "_route", real_route)
    again = services.reprocess(actor=centre["admin"], inbound=failed)
    assert again.state == "processed"
    assert again.ticket.title == "查詢帳單"


def test_a_batch_taken_again_is_recognised_whole(mailbox: Any) -> None:
    items = [
        ("imap:1:1", corpus("foxmail_gb2312.eml")),
        ("imap:1:2", corpus("no_message_id.eml")),
        ("imap:1:3", corpus("unparseable.eml")),
    ]
    first = services.ingest_batch(mailbox, items)
    # the same batch again, by UID, and by Message-ID or bytes under new UIDs
    by_uid = services.ingest_batch(mailbox, items)
    by_key = services.ingest_batch(
        mailbox, [(f"pop3:{i}", raw) for i, (_u, raw) in enumerate(items)]
    )
    assert [d.duplicate for d in first] == [False, False, False]
    assert [d.duplicate for d in by_uid + by_key] == [True] * 6
    assert [d.inbound.pk for d in by_uid] == [d.inbound.pk for d in first]
    assert [d.inbound.pk for d in by_key] == [d.inbound.pk for d in first]
    assert InboundEmail.objects.count() == 3
    assert Ticket.objects.count() == 2
