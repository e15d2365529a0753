"""Demo queues of the hotline: calls, chats, e-mails, callbacks and new work orders, a morning of
agent presence, and customers waiting right now (some of them VIPs, callers with their numbers,
one callback booked)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from kefu.accounts.models import User
from kefu.core.demo import DemoContext, seeder
from kefu.core.validation import display_phone
from kefu.customers.models import ContactPoint
from kefu.routing import services
from kefu.routing.models import (
    KIND_CHANNEL,
    AgentLoad,
    Kind,
    Presence,
    PresenceChange,
    QueueItem,
    RoutingQueue,
    Strategy,
)
from kefu.tickets.models import TicketType

QUEUES = [
    # code, name, strategy, kinds, ticket types, offer timeout, overflow after
    ("hotline", "95598 热线", Strategy.SKILLS, [Kind.CALL, Kind.CALLBACK], [], 20, 120),
    ("chat", "在线客服", Strategy.LEAST_LOADED, [Kind.CHAT], [], 30, 180),
    ("email", "邮件与信件", Strategy.ROUND_ROBIN, [Kind.EMAIL], [], 60, 0),
    ("complaints", "投诉举报工单", Strategy.MANUAL, [Kind.TICKET], ["complaint", "report"], 0, 0),
    ("tickets", "一线工单", Strategy.LEAST_LOADED, [Kind.TICKET], [], 0, 0),
]

WAITING = [
    # kind, title, skills, preferred, minutes ago, VIP (waiting chats are started by the chat
    # demo, through the widget)
    (Kind.CALL, "停电咨询", ["fault"], [], 3, False),
    (Kind.CALL, "电费账单异常", ["billing"], [], 2, True),
    (Kind.CALL, "充电桩报装", ["new-energy"], [], 2, False),
    (
        Kind.CALL,
        "English caller, bill question",
        ["billing"],
        ["english"],
        1,
        False,
    ),
    (Kind.EMAIL, "邮件：发票抬头更正", [], [], 35, False),
    (Kind.EMAIL, "邮件：小区计划停电时间询问", [], [], 18, False),
]

CALL_TOPICS = ["停电报修", "电费查询", "电表故障", "业扩报装进度", "光伏并网咨询", "投诉处理进度"]

MORNING = [
    # minutes after 08:00 → state, reason
    (0, "available", ""),
    (95, "break", "rest"),
    (110, "available", ""),
    (150, "break", "training"),
    (210, "available", ""),
]
SHIFT_SO_FAR = dt.timedelta(hours=5)
"""Longer than the morning above plus the agents' staggered starts (at most 51 minutes)."""


@seeder(50)
def seed_routing(ctx: DemoContext) -> None:
    if RoutingQueue.objects.exists():
        return
    teams = ctx.data["teams"]
    front = teams["frontline"]
    second = teams["second-line"]
    types = {t.code: t for t in TicketType.objects.all()}
    queues = {}
    for order, (code, name, strategy, kinds, type_codes, timeout, overflow) in enumerate(QUEUES):
        queue = RoutingQueue.objects.create(
            code=code,
            name=name,
            strategy=strategy,
            kinds=[k.value for k in kinds],
            order=(order + 1) * 10,
            offer_timeout=timeout,
            overflow_after=overflow,
        )
        queue.teams.set([front])
        if overflow:
            queue.overflow_teams.set([second])
        queue.ticket_types.set([types[c] for c in type_codes if c in types])
        queues[code] = queue
    _presence(ctx, queues["hotline"])
    _waiting(ctx, queues)


def _presence(ctx: DemoContext, hotline: RoutingQueue) -> None:
    """Today's presence history of the agents. Right now they are busy, on a break or signed
    out, so the waiting customers stay on the board until someone signs in (and is available)."""
    agents: list[User] = ctx.data["agents"]
    # The shift began at 08:00, or (early in the day, or on a night shift) five hours ago, so
    # the whole morning pattern lies in the past whatever the hour the demo is loaded at.
    today = min(
        timezone.localtime(ctx.now).replace(hour=8, minute=0, second=0, microsecond=0),
        timezone.localtime(ctx.now - SHIFT_SO_FAR).replace(second=0, microsecond=0),
    )
    rows = []
    for n, agent in enumerate(agents):
        services.sync_capacity(agent)
        start = today + dt.timedelta(minutes=15 * (n % 4) + n % 7)
        history = [
            (start + dt.timedelta(minutes=m), state, reason)
            for m, state, reason in MORNING
            if start + dt.timedelta(minutes=m) < ctx.now
        ]
        if history and history[-1][1] == "available":
            # a third have signed out for now; signing in makes them available again
            state = "offline" if n % 3 == 0 else "busy"
            history.append((ctx.now - dt.timedelta(minutes=n % 9), state, ""))
        if not history:
            history = [(ctx.now, "offline", "")]
        for i, (at, state, reason) in enumerate(history):
            end = history[i + 1][0] if i + 1 < len(history) else None
            rows.append(
                PresenceChange(user=agent, state=state, reason=reason, started_at=at, ended_at=end)
            )
        at, state, reason = history[-1]
        Presence.objects.create(
            user=agent, state=state, reason=reason, since=at, auto=state == "busy"
        )
        if state == "busy":  # on a call right now
            QueueItem.objects.create(
                queue=hotline,
                kind=Kind.CALL,
                channel=KIND_CHANNEL[Kind.CALL].value,
                title=f"通话中：{ctx.rng.choice(CALL_TOPICS)}",
                arrived_at=at - dt.timedelta(seconds=40),
                rank_at=at - dt.timedelta(seconds=40),
                state=QueueItem.State.ASSIGNED,
                agent=agent,
                offered_at=at,
                assigned_at=at,
            )
            AgentLoad.objects.filter(user=agent, channel="voice").update(active=1)
    PresenceChange.objects.bulk_create(rows)


def _waiting(ctx: DemoContext, queues: dict[str, RoutingQueue]) -> None:
    customers = [c for c in ctx.data["customers"] if c.is_active]
    vips = [c for c in customers if c.vip_tier_id]
    regular = [c for c in customers if not c.vip_tier_id]
    by_kind = {Kind.CALL: "hotline", Kind.CHAT: "chat", Kind.EMAIL: "email"}
    for kind, title, skills, preferred, minutes, vip in WAITING:
        customer = ctx.rng.choice(vips if vip and vips else regular)
        arrived = ctx.now - dt.timedelta(minutes=minutes, seconds=ctx.rng.randint(0, 50))
        bonus = customer.vip_tier.priority_weight if customer.vip_tier_id else 0
        phone = ""
        if kind == Kind.CALL:  # the caller's number, as the switch reports it
            phone = (
                customer.contacts.filter(kind=ContactPoint.Kind.PHONE)
                .values_list("normalized", flat=True)
                .first()
                or ""
            )
            shown = display_phone(phone)
            title = f"来电 {shown[:3]}****{shown[-4:]} {title}" if phone else f"来电 {title}"
        QueueItem.objects.create(
            queue=queues[by_kind[kind]],
            kind=kind,
            channel=KIND_CHANNEL[kind].value,
            title=title,
            customer=customer,
            phone=phone,
            required_skills=skills,
            preferred_skills=preferred,
            bonus=bonus,
            arrived_at=arrived,
            rank_at=arrived - dt.timedelta(seconds=bonus),
        )
    customer = ctx.rng.choice(regular)
    later = ctx.now + dt.timedelta(hours=1)
    QueueItem.objects.create(
        queue=queues["hotline"],
        kind=Kind.CALLBACK,
        channel=KIND_CHANNEL[Kind.CALLBACK].value,
        title="预约回电：核实上月电费退费结果",
        customer=customer,
        required_skills=["billing"],
        arrived_at=ctx.now - dt.timedelta(minutes=40),
        rank_at=ctx.now - dt.timedelta(minutes=40),
        not_before=later,
    )
