"""Demo live chat: the website widget, wrap-up codes, and past chats with their transcripts."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction

from kefu.chat.models import Conversation, Message, Widget, WrapUpCode
from kefu.core.demo import DemoContext, seeder

CODES = [
    ("solved", "已解答"),
    ("ticket", "已转工单"),
    ("followup", "需回访"),
    ("invalid", "无效会话"),
]

TALKS = [
    ("电费", [("guest", "你好，这个月电费怎么比上个月高这么多？"),
              ("agent", "您好，请提供一下户号，我帮您查询。"),
              ("guest", "户号 3301 2345 678"),
              ("agent", "查到了，本月进入第二档阶梯电价，用电量 412 度。"),
              ("guest", "明白了，谢谢")]),
    ("停电", [("guest", "我们小区从早上开始停电了"),
              ("agent", "您好，您所在台区今天 8:00–16:00 计划检修，预计 16 点前恢复。"),
              ("guest", "好的")]),
    ("充电桩报装", [("guest", "想在车位装充电桩，需要什么材料？"),
                    ("agent", "需要身份证、车位产权或使用证明、物业同意书。我帮您建一个报装工单。"),
                    ("guest", "可以")]),
]  # fmt: skip


@seeder(88)
def seed_chat(ctx: DemoContext) -> None:
    if Widget.objects.exists():
        return
    from kefu.accounts.models import User
    from kefu.customers.models import Customer

    agents = list(User.objects.filter(role__in=["agent_l1", "agent_l2"], is_active=True)[:4])
    customers = list(Customer.objects.filter(is_active=True).order_by("pk")[:20])
    with transaction.atomic():
        Widget.objects.create(
            name="网上国网 官网",
            allowed_origins=["http://127.0.0.1:8000", "http://localhost:8000"],
            topics=["电费", "停电", "充电桩报装", "其他"],
            greeting="您好，欢迎咨询在线客服，工作时间 7×24 小时。",
        )
        codes = [WrapUpCode.objects.create(code=c, label=label) for c, label in CODES]
        widget = Widget.objects.get()
        if not agents:
            return
        for i in range(int(30 * ctx.scale) or 3):
            topic, lines = TALKS[i % len(TALKS)]
            agent = agents[i % len(agents)]
            customer = customers[i % len(customers)] if customers else None
            start = ctx.now - dt.timedelta(days=ctx.rng.randint(0, 20), hours=ctx.rng.randint(1, 9))
            chat = Conversation.objects.create(
                widget=widget, state=Conversation.State.ENDED,
                guest_name=customer.name if customer else f"访客{i}",
                topic=topic, customer=customer, agent=agent, created_at=start,
                accepted_at=start + dt.timedelta(seconds=ctx.rng.randint(5, 60)),
                ended_at=start + dt.timedelta(minutes=ctx.rng.randint(3, 15)),
                wrap_up=codes[0] if topic != "充电桩报装" else codes[1],
                rating=ctx.rng.choice([5, 5, 4, 4, 3, 2]), token_nonce=f"demo{i}",
                last_seq=len(lines), public_seq=len(lines), public_prev_seq=len(lines) - 1,
            )  # fmt: skip
            Message.objects.bulk_create(
                Message(conversation=chat, seq=n + 1, sender=sender, body=body,
                        author=agent if sender == "agent" else None,
                        created_at=start + dt.timedelta(seconds=40 * (n + 1)))
                for n, (sender, body) in enumerate(lines)
            )  # fmt: skip
    _waiting_chats(ctx, widget, customers)


# guests waiting in the chat queue when the demo opens: name, topic, first message, minutes
WAITING = [
    ("陈先生", "其他", "光伏并网申请提交两周了，进度在哪里查？", 4),
    ("刘女士", "停电", "欠费已经交清了，什么时候能恢复供电？", 2),
    ("访客", "电费", "电表示数突然跳了好几百度，是不是表坏了？", 1),
]


def _waiting_chats(ctx: DemoContext, widget: Widget, customers: list[Any]) -> None:
    """Real chats, started through the widget's service, so that the queue, the chat console
    and the wall board's chat figures agree."""
    from kefu.chat.services import start_chat
    from kefu.customers.models import ContactPoint
    from kefu.routing.models import QueueItem

    for i, (name, topic, text, minutes) in enumerate(WAITING):
        customer = customers[-1 - i] if len(customers) > i else None
        phone = ""
        if customer is not None:
            phone = (
                customer.contacts.filter(kind=ContactPoint.Kind.PHONE)
                .values_list("value", flat=True)
                .first()
                or ""
            )
        chat = start_chat(widget=widget, name=name, contact=phone, topic=topic, first_message=text)
        arrived = ctx.now - dt.timedelta(minutes=minutes, seconds=ctx.rng.randint(0, 50))
        Conversation.objects.filter(pk=chat.pk).update(created_at=arrived)
        Message.objects.filter(conversation=chat).update(created_at=arrived)
        if chat.queue_item_id is not None:
            QueueItem.objects.filter(pk=chat.queue_item_id).update(
                arrived_at=arrived, rank_at=arrived
            )
