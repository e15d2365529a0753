"""Replies by e-mail through a real SMTP server (STARTTLS and login): templates, threading
headers, attachments, retries with back-off, permanent failures, the delivery log."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from kefu.core.models import Event
from kefu.email import services
from kefu.email.models import EmailTemplate, OutboundEmail
from kefu.email.tests.conftest import corpus
from kefu.tickets import services as tickets

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def mail_ticket(mailbox_factory: Any, smtp_tls: Any) -> tuple[Any, Any]:
    mailbox = mailbox_factory(smtp=smtp_tls, send_acknowledgement=False)
    inbound = services.ingest(mailbox, corpus("foxmail_gb2312.eml")).inbound
    return inbound.ticket, mailbox


def test_agent_reply_goes_out_by_email_in_the_thread(
    mail_ticket: Any, smtp_tls: Any, centre: Any
) -> None:
    ticket, _mailbox = mail_ticket
    agent = centre["agent"]
    # when
    tickets.add_reply(
        actor=agent,
        ticket=ticket,
        body="师傅今天下午三点前到。",
        attachments=[SimpleUploadedFile("检修单.pdf", PDF, "application/pdf")],
    )
    # then
    [sent] = smtp_tls.messages
    msg = sent["message"]
    assert sent["tls"] is True
    assert sent["to"] == ["zhangzk@163.com"]
    assert sent["from"] == "service@kefu.example.cn"
    assert msg["Subject"] == f"[#{ticket.number}] 停电报修：家中停电（喆）"
    assert msg["In-Reply-To"] == "<202611230915021234567@163.com>"
    assert msg["References"] == "<202611230915021234567@163.com>"
    assert msg["Auto-Submitted"] is None
    assert msg["X-Kefu-Ticket"] == ticket.number
    body = msg.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")
    assert body.startswith("张喆堃，您好：\n\n师傅今天下午三点前到。\n\n" + agent.display_name)
    [attachment] = list(msg.iter_attachments())
    assert attachment.get_filename() == "检修单.pdf"
    assert attachment.get_content() == PDF
    outbound = OutboundEmail.objects.get()
    assert (outbound.kind, outbound.state, outbound.attempts) == ("reply", "sent", 1)
    assert Event.objects.filter(action="email_sent", object_id=outbound.pk).count() == 1


def test_the_customer_answer_to_our_reply_threads_back(
    mail_ticket: Any, smtp_tls: Any, centre: Any, mailbox_factory: Any
) -> None:
    ticket, mailbox = mail_ticket
    tickets.add_reply(actor=centre["agent"], ticket=ticket, body="请提供户号。")
    ours = smtp_tls.messages[0]["message"]["Message-ID"]
    answer = (
        f"From: other-address@example.org\r\nSubject: Re: something else\r\n"
        f"Message-ID: <ans-1@example.org>\r\nIn-Reply-To: {ours}\r\n\r\n1002003004\r\n"
    ).encode()
    inbound = services.ingest(mailbox, answer).inbound
    assert inbound.ticket_id == ticket.pk
    assert inbound.ticket_message.body == "1002003004"


def test_replies_on_other_channels_send_no_mail(
    mailbox_factory: Any, smtp_tls: Any, centre: Any
) -> None:
    from kefu.testing.factories import make_ticket

    mailbox_factory(smtp=smtp_tls)
    ticket = make_ticket(actor=centre["agent"], contact_email="a@example.com")
    tickets.add_reply(actor=centre["agent"], ticket=ticket, body="已处理")
    assert OutboundEmail.objects.count() == 0
    assert smtp_tls.messages == []


def test_temporary_failure_is_retried_with_back_off(
    mail_ticket: Any, smtp_tls: Any, centre: Any
) -> None:
    ticket, _mailbox = mail_ticket
    smtp_tls.refuse["zhangzk@163.com"] = "451 4.3.0 Mailbox busy, try later"
    before = timezone.now()
    tickets.add_reply(actor=centre["agent"], ticket=ticket, body="稍后联系您")
    outbound = OutboundEmail.objects.get()
    assert (outbound.state, outbound.attempts) == ("pending", 1)
    assert outbound.last_error == "451 4.3.0 Mailbox busy, try later"
    wait = (outbound.next_attempt_at - before).total_seconds()
    assert 60 <= wait < 65
    # nothing is due yet
    assert services.send_due() == 0
    # when the server accepts again and the time has come
    del smtp_tls.refuse["zhangzk@163.com"]
    OutboundEmail.objects.filter(pk=outbound.pk).update(
        next_attempt_at=timezone.now() - dt.timedelta(seconds=1)
    )
    assert services.send_due() == 1
    outbound.refresh_from_db()
    assert (outbound.state, outbound.attempts) == ("sent", 2)
    assert [(a.attempt, a.ok, a.code) for a in outbound.log.all()] == [
        (1, False, 451),
        (2, True, None),
    ]
    assert len(smtp_tls.messages) == 1


def test_permanent_failure_stops_at_once_and_an_administrator_can_resend(
    mail_ticket: Any, smtp_tls: Any, centre: Any
) -> None:
    ticket, _mailbox = mail_ticket
    smtp_tls.refuse["zhangzk@163.com"] = "550 5.1.1 No such user"
    tickets.add_reply(actor=centre["agent"], ticket=ticket, body="您好")
    outbound = OutboundEmail.objects.get()
    assert (outbound.state, outbound.attempts, outbound.next_attempt_at) == ("failed", 1, None)
    assert outbound.last_error == "550 5.1.1 No such user"
    # an agent may not resend
    with pytest.raises(PermissionDenied):
        services.retry_now(actor=centre["agent"], outbound=outbound)
    assert OutboundEmail.objects.get().state == "failed"
    del smtp_tls.refuse["zhangzk@163.com"]
    services.retry_now(actor=centre["admin"], outbound=outbound)
    outbound.refresh_from_db()
    assert (outbound.state, outbound.attempts) == ("sent", 1)
    assert [(a.attempt, a.ok) for a in outbound.log.all()] == [(1, False), (1, True)]


def test_unreachable_server_gives_up_after_the_last_try(
    mail_ticket: Any, smtp_tls: Any, centre: Any
) -> None:
    ticket, mailbox = mail_ticket
    from kefu.email.tests.conftest import _free_port

    mailbox.out_port = _free_port()  # nothing listens there
    mailbox.save(update_fields=["out_port"])
    tickets.add_reply(actor=centre["agent"], ticket=ticket, body="您好")
    outbound = OutboundEmail.objects.get()
    for _ in range(10):
        OutboundEmail.objects.filter(pk=outbound.pk, state="pending").update(
            next_attempt_at=timezone.now() - dt.timedelta(seconds=1)
        )
        services.send_due()
    outbound.refresh_from_db()
    assert (outbound.state, outbound.attempts) == ("failed", 6)
    assert [a.ok for a in outbound.log.all()] == [False] * 6
    assert "ConnectionRefusedError" in outbound.last_error


def test_english_customers_get_the_english_template(
    mailbox_factory: Any, smtp_tls: Any, centre: Any
) -> None:
    from kefu.customers.models import Customer

    mailbox = mailbox_factory(smtp=smtp_tls, send_acknowledgement=False)
    inbound = services.ingest(mailbox, corpus("rfc2231_attachments.eml")).inbound
    Customer.objects.filter(pk=inbound.ticket.customer_id).update(language="en")
    ticket = inbound.ticket
    ticket.refresh_from_db()
    tickets.add_reply(actor=centre["agent"], ticket=ticket, body="Your invoices are attached.")
    msg = smtp_tls.messages[0]["message"]
    assert msg["Subject"] == f"[#{ticket.number}] 发票申请"
    text = msg.get_content().replace("\r\n", "\n")
    assert text.startswith("Dear Liu Yang,\n\nYour invoices are attached.")


def test_edited_template_is_used_and_keeps_the_number(
    mail_ticket: Any, smtp_tls: Any, centre: Any
) -> None:
    ticket, _mailbox = mail_ticket
    services.save_template(
        actor=centre["admin"],
        kind="reply",
        language="zh-hans",
        subject="供电服务答复",
        body="尊敬的{customer_name}：\n{body}",
    )
    tickets.add_reply(actor=centre["agent"], ticket=ticket, body="已恢复供电。")
    msg = smtp_tls.messages[0]["message"]
    assert msg["Subject"] == f"[#{ticket.number}] 供电服务答复"
    assert msg.get_content().replace("\r\n", "\n") == "尊敬的张喆堃：\n已恢复供电。\n"


def test_template_rules(centre: Any) -> None:
    with pytest.raises(ValidationError) as refused:
        services.save_template(
            actor=centre["admin"], kind="reply", language="en", subject="", body="no body {x"
        )
    assert refused.value.message_dict == {
        "subject": ["This field is required."],
        "body": [
            "Braces must enclose a variable name such as {ticket_number}.",
            "A reply template must contain {body}.",
        ],
    }
    with pytest.raises(PermissionDenied):
        services.save_template(
            actor=centre["agent"], kind="reply", language="en", subject="s", body="{body}"
        )
    assert EmailTemplate.objects.count() == 0


def test_acknowledgement_carries_the_published_notices(
    mailbox_factory: Any, smtp_tls: Any, monkeypatch: Any
) -> None:
    from kefu.core import interactions

    asked: list[str] = []

    def outage(channel: str) -> list[interactions.Notice]:
        asked.append(channel)
        return [
            interactions.Notice(key="t:1", title="计划停电", text="12月5日 8:00–12:00 东区检修。"),
            interactions.Notice(
                key="t:2",
                title="城区大面积停电",
                text="抢修中，预计 18:00 恢复。",
                severity="critical",
            ),
        ]

    monkeypatch.setattr(interactions, "NOTICE_PROVIDERS", [])
    interactions.register_notice_provider(outage)
    mailbox = mailbox_factory(smtp=smtp_tls)  # acknowledgements on
    # when a new customer writes in
    ticket = services.ingest(mailbox, corpus("foxmail_gb2312.eml")).inbound.ticket
    # then the acknowledgement tells them the number, then the notices, most severe first
    [sent] = smtp_tls.messages
    msg = sent["message"]
    assert msg["Auto-Submitted"] == "auto-replied"
    text = msg.get_content().replace("\r\n", "\n")
    assert ticket.number in text
    notices = text[text.index("—— 服务公告 ——") :]
    assert notices == (
        "—— 服务公告 ——\n\n【城区大面积停电】\n抢修中，预计 18:00 恢复。\n\n"
        "【计划停电】\n12月5日 8:00–12:00 东区检修。\n"
    )
    assert asked == ["email"]
    assert OutboundEmail.objects.get().body == text


def test_acknowledgement_without_notices_is_the_template_alone(
    mailbox_factory: Any, smtp_tls: Any, monkeypatch: Any
) -> None:
    from kefu.core import interactions

    monkeypatch.setattr(interactions, "NOTICE_PROVIDERS", [])
    mailbox = mailbox_factory(smtp=smtp_tls)
    services.ingest(mailbox, corpus("foxmail_gb2312.eml"))
    text = smtp_tls.messages[0]["message"].get_content()
    assert "服务公告" not in text
    assert text.replace("\r\n", "\n").endswith(
        "如需补充，请直接回复本邮件，并保留主题中的工单号。\n"
    )
