"""Demo e-mail: a mailbox (switched off: the demo has no mail server), a few customers' mails
in the encodings Chinese clients use, a reply in the thread, an out-of-office and a message in
quarantine — all through the real incoming pipeline."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from kefu.accounts.models import Team, User
from kefu.core.demo import DemoContext, seeder
from kefu.core.permissions import Role
from kefu.customers.models import ContactPoint
from kefu.email.models import Mailbox
from kefu.tickets.models import TicketType
from kefu.tickets.services import assign_ticket

MAILS = [
    (
        "刘洋",
        "liuyang@example.org",
        "gb18030",
        "电费发票申请",
        "请开具十月和十一月的电子发票，谢谢。\n\n发自我的iPhone",
    ),
    (
        "陳大文",
        "chan.taiman@example.hk",
        "big5",
        "查詢帳單",
        "您好，我想查詢本月的帳單明細，謝謝。",
    ),
    (
        "赵磊",
        "zhaolei@example.cn",
        "gb2312",
        "水表读数异常",
        "上个月用水只有5吨，账单却是50吨，请核实。\n\n-- \n赵磊 13900139000",
    ),
]


def _mail(
    name: str, address: str, charset: str, subject: str, body: str, when: dt.datetime
) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"{name} <{address}>"
    msg["To"] = "service@kefu.example.cn"
    msg["Subject"] = subject
    msg["Date"] = format_datetime(when)
    msg["Message-ID"] = make_msgid(domain=address.split("@")[1])
    msg.set_content(body, charset=charset)
    return msg.as_bytes()


@seeder(70)
def seed_email(ctx: DemoContext) -> None:
    if Mailbox.objects.exists():
        return
    team = Team.objects.filter(kind=Team.Kind.FRONTLINE, is_active=True).order_by("id").first()
    kind = TicketType.objects.filter(code="consultation").first() or TicketType.objects.first()
    admin = User.objects.filter(role=Role.ADMIN, is_active=True).order_by("id").first()
    if team is None or kind is None or admin is None:
        return
    from kefu.email import services

    mailbox = services.create_mailbox(
        actor=admin,
        data={
            "name": "客服邮箱",
            "address": "service@kefu.example.cn",
            "team": team.pk,
            "ticket_type": kind.pk,
            "in_host": "imap.kefu.example.cn",
            "in_username": "service",
            "out_host": "smtp.kefu.example.cn",
            "out_username": "service",
            "send_acknowledgement": False,
            "is_active": False,  # no mail server in the demo: switch on after entering yours
        },
    )
    # The demo's own customers write in, so they are matched by address, not created.
    points = list(
        ContactPoint.objects.filter(kind=ContactPoint.Kind.EMAIL, customer__kind="person")
        .select_related("customer")
        .order_by("id")[: len(MAILS)]
    )
    senders = [(p.customer.name, p.value) for p in points]
    senders += [(name, address) for name, address, *_rest in MAILS[len(senders) :]]
    agents = list(
        User.objects.filter(role=Role.AGENT_L1, is_active=True, memberships__team=team).order_by(
            "id"
        )[:3]
    )
    when = ctx.now - dt.timedelta(hours=6)
    first = None
    for i, ((name, address), (_n, _a, charset, subject, body)) in enumerate(
        zip(senders, MAILS, strict=True)
    ):
        raw = _mail(name, address, charset, subject, body, when + dt.timedelta(minutes=37 * i))
        done = services.ingest(mailbox, raw).inbound
        first = first or done
        if done.ticket is not None and agents:
            # Taken by an agent of the team (demo work orders do not wait in the queues).
            assign_ticket(actor=admin, ticket=done.ticket, assignee=agents[i % len(agents)])
    if first is not None and first.ticket is not None:
        number = first.ticket.number
        reply = _mail(
            *senders[0], "utf-8", f"回复：[#{number}] 电费发票申请",
            "发票抬头写公司名称：某某科技有限公司。\n\n在 2026年11月30日，客服中心 写道：\n> 请提供发票抬头",
            when + dt.timedelta(hours=2),
        )  # fmt: skip
        services.ingest(mailbox, reply)
    ooo = _mail(*senders[2], "utf-8", "自动回复：水表读数异常", "我正在休假。", ctx.now)
    services.ingest(
        mailbox, ooo.replace(b"\nSubject:", b"\nAuto-Submitted: auto-replied\nSubject:", 1)
    )
    services.ingest(mailbox, b"\x00\x01 this is not an e-mail \xff\xfe\r\n")
