"""Demo work orders: 2,000 over the last 90 days, across every type, channel and state, each with
a realistic timeline (opened, assigned, replies, notes, transfers, resolution, follow-up)."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.utils import timezone

from kefu.accounts.models import Team, User
from kefu.core import demo_names as names
from kefu.core import events
from kefu.core.demo import DemoContext, seeder
from kefu.core.models import Event
from kefu.tickets.models import (
    CannedResponse,
    Category,
    CustomField,
    Message,
    Ticket,
    TicketCounter,
    TicketTag,
    TicketType,
    Transfer,
)
from kefu.tickets.states import OPEN_STATES, Status

CATEGORIES = {
    "电费": ("Billing", ["账单异常", "缴费渠道", "退费", "阶梯电价", "电费发票"]),
    "停电": ("Outages", ["计划停电", "故障停电", "欠费停电"]),
    "故障": ("Faults", ["电压异常", "线路故障", "电表故障", "户内故障"]),
    "业扩报装": ("Connections", ["新装", "增容", "过户", "销户"]),
    "计量": ("Metering", ["电表示数", "电表校验"]),
    "新能源": ("New energy", ["光伏并网", "充电桩报装"]),
    "服务": ("Service", ["服务态度", "抢修时效", "营业厅服务", "其他"]),
}

CANNED = [
    ("开头语", "您好，{customer_name}，我是江城供电客服中心{agent_number}号，很高兴为您服务。"),
    (
        "停电致歉",
        "{customer_name}您好，给您带来不便我们深表歉意。您反映的停电问题（工单号 {ticket_number}）已派抢修人员前往，城区一般 45 分钟内到达现场，请您耐心等待。",
    ),
    (
        "抢修进度",
        "{customer_name}您好，抢修人员已到达现场，正在排查故障，恢复供电后我们会第一时间通知您。工单号：{ticket_number}。",
    ),
    (
        "电费核查",
        "{customer_name}您好，您反映的电费问题我们已核实，本期电量与抄表示数一致，详细明细已发送至您的邮箱。如仍有疑问请回复本工单。",
    ),
    (
        "转办告知",
        "{customer_name}您好，您的诉求已转交相关部门处理，我们将在 4 个工作日内给您答复。工单号：{ticket_number}。",
    ),
    (
        "投诉受理",
        "{customer_name}您好，您的投诉我们已受理（工单号 {ticket_number}），将在 24 小时内与您联系，并在 4 个工作日内答复处理结果。",
    ),
    (
        "请补充信息",
        "{customer_name}您好，为尽快处理，请补充您的户号、详细地址以及现场照片，谢谢配合。",
    ),
    ("结束语", "感谢您的来电，{agent_name}（{agent_number}号）祝您生活愉快，再见。"),
]

# type code -> (weight, category names, [(title, description)]) — {vars} are filled in
TEMPLATES: dict[str, tuple[int, list[str], list[tuple[str, str]]]] = {
    "fault": (
        25,
        ["停电/故障停电", "故障/电压异常", "故障/线路故障", "故障/电表故障", "故障/户内故障"],
        [
            (
                "{community}{building}栋停电",
                "客户来电反映{district}{community}{building}栋从{time}起停电，{extent}，家中{concern}，请尽快安排抢修。",
            ),
            (
                "{community}电压不稳，灯光闪烁",
                "客户反映近{days}天晚上{time}前后电压偏低，灯光明暗闪烁，空调无法启动，担心烧坏电器。",
            ),
            (
                "{street}路边电线断落",
                "市民来电：{district}{street}{number}号附近有电线断落在人行道上，有安全隐患，请立即处理。",
            ),
            (
                "电表显示屏不亮",
                "客户反映户号{account}的电表显示屏不亮，无法查看示数，家中用电正常。",
            ),
            (
                "家中跳闸无法合上",
                "客户家中总闸频繁跳闸，合闸后立即跳开，已拔掉所有电器仍然跳闸，请派人上门检查。",
            ),
        ],
    ),
    "consultation": (
        22,
        ["电费/阶梯电价", "电费/缴费渠道", "新能源/光伏并网", "新能源/充电桩报装", "业扩报装/新装"],
        [
            (
                "咨询阶梯电价计算方式",
                "客户询问阶梯电价如何计算，本月用电{kwh}度，为什么单价比上月高。",
            ),
            (
                "咨询线上缴费方式",
                "客户年纪较大，询问除了营业厅外还能通过哪些渠道缴纳电费，是否可以让子女代缴。",
            ),
            (
                "咨询家庭光伏并网流程",
                "客户准备在自家屋顶安装{kw}千瓦光伏，咨询并网需要准备哪些材料、多长时间办完、余电上网如何结算。",
            ),
            (
                "咨询小区充电桩安装",
                "客户在{community}购买了车位，想安装私人充电桩，咨询报装流程和物业需要出具的证明。",
            ),
            ("咨询新房开户", "客户新购{community}住房，咨询新装电表需要的材料和办理时间。"),
        ],
    ),
    "query": (
        13,
        ["电费/账单异常", "计量/电表示数", "停电/计划停电", "电费/电费发票"],
        [
            ("查询{month}月电费明细", "客户要求查询户号{account}{month}月的用电量和电费明细。"),
            (
                "查询本周计划停电安排",
                "客户询问{district}{community}本周是否有计划停电，具体时间段是什么。",
            ),
            ("查询电表读数", "客户对本月抄表读数有疑问，要求提供抄表照片和示数。"),
            ("申请开具电费发票", "客户为个体商户，需要开具近{months}个月的电费增值税发票。"),
        ],
    ),
    "complaint": (
        10,
        ["服务/抢修时效", "服务/服务态度", "电费/账单异常", "服务/营业厅服务"],
        [
            (
                "投诉抢修人员到达超时",
                "客户{time}报修停电，抢修人员超过{hours}小时才到达现场，家中冰箱食物变质，对此非常不满，要求给予说法。",
            ),
            (
                "投诉营业厅工作人员态度差",
                "客户在{district}营业厅办理过户业务时，工作人员{staff}态度冷淡、多次让其重复排队，客户要求道歉。",
            ),
            (
                "投诉电费异常偏高",
                "客户户号{account}本月电费{amount}元，比往月高出一倍多，家中用电习惯未变，怀疑电表有问题，要求核查退费。",
            ),
            (
                "投诉计划停电未提前通知",
                "{community}{date}计划停电，但客户未收到任何通知，家中有老人使用制氧机，险些出事。",
            ),
        ],
    ),
    "report": (
        2,
        ["服务/其他"],
        [
            (
                "举报窃电行为",
                "群众举报{district}{street}某店铺疑似私拉电线绕过电表用电，要求核查。",
            ),
            ("举报工作人员收取好处费", "客户举报在办理增容时有人员暗示需要额外费用才能加快进度。"),
        ],
    ),
    "suggestion": (
        5,
        ["服务/其他", "电费/缴费渠道"],
        [
            (
                "建议停电通知增加短信提醒",
                "客户建议计划停电除了小区张贴公告外，增加短信或微信推送提醒。",
            ),
            (
                "建议营业厅延长周末营业时间",
                "客户上班族，建议{district}营业厅周六延长营业到下午五点。",
            ),
        ],
    ),
    "praise": (
        3,
        ["服务/抢修时效"],
        [
            (
                "表扬抢修班组冒雨抢修",
                "客户来电表扬{district}抢修班组昨晚冒雨抢修，一个小时就恢复供电，非常感谢。",
            ),
            ("表扬客服代表耐心解答", "客户表扬客服代表耐心解答电费问题，态度亲切。"),
        ],
    ),
    "service": (
        15,
        ["业扩报装/增容", "业扩报装/过户", "业扩报装/销户", "计量/电表校验", "电费/退费"],
        [
            ("申请居民用电增容", "客户家中新增空调和电采暖，申请将容量从{kw}千瓦增至{kw2}千瓦。"),
            (
                "申请办理过户",
                "客户购买二手房{community}{building}栋，申请将户号{account}过户到本人名下。",
            ),
            ("申请电表校验", "客户怀疑电表计量不准，申请对户号{account}电表进行校验。"),
            ("申请预存电费退费", "客户房屋已出售，申请退还户号{account}的预存电费{amount}元。"),
        ],
    ),
    "requirement": (
        3,
        ["新能源/充电桩报装", "服务/其他"],
        [
            ("希望开通电费账单英文版", "外籍客户希望电子账单提供英文版本。"),
            (
                "希望小区增设公共充电桩",
                "{community}业主代表希望在小区公共区域增设充电桩，约有{n}户有需求。",
            ),
        ],
    ),
}

CHANNELS = [
    ("phone", 52), ("portal", 13), ("chat", 9), ("im", 5), ("email", 5), ("walk_in", 5),
    ("letter", 2), ("message_board", 3), ("media", 1), ("transfer", 2), ("api", 3),
]  # fmt: skip

CONCERNS = ["有老人需要吸氧", "冰箱里有药品", "孩子明天要考试", "有人使用呼吸机", "正在办公"]
EXTENTS = ["整栋楼都停了", "只有他家停电", "整个小区都停了", "隔壁楼有电"]
AGENT_REPLIES = [
    "您好，您反映的问题已收到，正在为您核实处理，请保持电话畅通。",
    "您好，经核实，相关情况如下：已安排工作人员现场处理完毕，请您确认。",
    "您好，已为您查询，明细已通过短信发送，如有疑问请回复。",
    "您好，抢修人员已到场处理，现已恢复正常，感谢您的耐心等待。",
    "您好，您的申请已受理，预计 3 个工作日内完成，届时会短信通知您。",
]
CUSTOMER_MESSAGES = [
    "请问现在处理到哪一步了？",
    "已经补充了照片，请查看。",
    "好的，谢谢。",
    "还是没有解决，今天又出现了。",
]
NOTES = [
    "已联系{dept}核实，等待回复。",
    "客户情绪激动，回访时注意语气。",
    "与上周工单为同一问题，已关联。",
    "@agent15 麻烦看一下这个表计问题。",
    "已电话联系客户，约定明天上午上门。",
]
DEPT_REPLIES = {
    "dept-marketing": "经核查，该户电费计算无误，已向客户说明阶梯电价规则；另对营业厅人员进行了批评教育。",
    "dept-maintenance": "已安排抢修班组处理，故障原因为线路老化，已更换，供电恢复正常。",
    "dept-metering": "已现场校验电表，误差在允许范围内，计量准确，校验报告已留存。",
}


@dataclass
class Plan:
    ticket: Ticket
    events: list[Event] = field(default_factory=list)
    messages: list[tuple[Message, dict[str, Any]]] = field(default_factory=list)
    transfers: list[Transfer] = field(default_factory=list)


def _fill(text: str, rng: random.Random) -> str:
    district, _kind = rng.choice(names.DISTRICTS)
    values = {
        "district": district,
        "community": rng.choice(names.COMMUNITIES),
        "building": rng.randint(1, 30),
        "street": rng.choice(names.STREETS),
        "number": rng.randint(1, 300),
        "time": f"{rng.randint(6, 22)}:{rng.choice(['00', '15', '30', '45'])}",
        "extent": rng.choice(EXTENTS),
        "concern": rng.choice(CONCERNS),
        "days": rng.randint(2, 7),
        "account": "07" + "".join(rng.choice("0123456789") for _ in range(8)),
        "kwh": rng.randint(180, 900),
        "kw": rng.choice([4, 6, 8]),
        "kw2": rng.choice([10, 12, 16]),
        "month": rng.randint(1, 12),
        "months": rng.randint(2, 6),
        "hours": rng.randint(3, 6),
        "amount": rng.randint(280, 1600),
        "staff": f"{rng.choice('王李张刘陈')}某（工号{rng.randint(3000, 3999)}）",
        "date": f"{rng.randint(1, 12)}月{rng.randint(1, 28)}日",
        "n": rng.randint(20, 80),
        "dept": rng.choice(["营销部", "运维检修部", "计量中心"]),
    }
    return text.format(**values)


def _seed_config(ctx: DemoContext) -> dict[str, Any]:
    from kefu.tickets.defaults import install

    install()
    categories: dict[str, Category] = {}
    for sort, (top, (top_en, children)) in enumerate(CATEGORIES.items(), start=1):
        parent = Category.objects.create(name=top, name_en=top_en, sort=sort * 10)
        categories[top] = parent
        for child_sort, child in enumerate(children, start=1):
            categories[f"{top}/{child}"] = Category.objects.create(
                parent=parent, name=child, sort=child_sort * 10
            )
    types = {t.code: t for t in TicketType.objects.all()}
    CustomField.objects.create(
        ticket_type=types["fault"],
        key="extent",
        label="停电范围",
        label_en="Outage extent",
        kind=CustomField.Kind.CHOICE,
        choices=["单户", "整栋楼", "整个小区", "片区"],
        sort=10,
    )
    CustomField.objects.create(
        ticket_type=types["fault"], key="account", label="户号", label_en="Account number", sort=20
    )
    CustomField.objects.create(
        ticket_type=types["complaint"],
        key="expectation",
        label="期望处理结果",
        label_en="Expected outcome",
        sort=10,
    )
    CustomField.objects.create(
        ticket_type=types["service"],
        key="appointment",
        label="预约日期",
        label_en="Appointment date",
        kind=CustomField.Kind.DATE,
        sort=10,
    )
    CustomField.objects.create(
        ticket_type=types["query"],
        key="month",
        label="查询月份",
        label_en="Month",
        kind=CustomField.Kind.NUMBER,
        sort=10,
    )
    for title, body in CANNED:
        CannedResponse.objects.create(title=title, body=body)
    tags = {
        name: TicketTag.objects.create(name=name)
        for name in ["重复来电", "媒体关注", "老年客户", "紧急", "批量停电", "已回访"]
    }
    return {"categories": categories, "types": types, "tags": tags}


@seeder(30)
def seed_tickets(ctx: DemoContext) -> None:
    rng = ctx.rng
    config = _seed_config(ctx)
    types, categories = config["types"], config["categories"]
    agents: list[User] = ctx.data["agents"]
    l1 = [a for a in agents if a.role == "agent_l1"]
    l2 = [a for a in agents if a.role == "agent_l2"]
    teams: dict[str, Team] = ctx.data["teams"]
    liaisons = {u.memberships.first().team.code: u for u in ctx.data["liaisons"]}
    customers = [c for c in ctx.data["customers"] if c.is_active]
    now = ctx.now
    total = max(40, int(2000 * ctx.scale))
    type_codes = list(TEMPLATES)
    type_weights = [TEMPLATES[c][0] for c in type_codes]
    channel_names = [c for c, _w in CHANNELS]
    channel_weights = [w for _c, w in CHANNELS]
    counters: dict[dt.date, int] = {}
    plans: list[Plan] = []

    def number_for(when: dt.datetime) -> str:
        day = timezone.localdate(when)
        counters[day] = counters.get(day, 0) + 1
        return f"GD{day:%Y%m%d}-{counters[day]:05d}"

    def ev(
        plan: Plan,
        at: dt.datetime,
        action: str,
        actor: User | None,
        changes: dict[str, Any] | None = None,
        data: dict[str, Any] | None = None,
    ) -> Event:
        event = Event(
            at=at,
            actor=actor,
            actor_label=events.actor_label(actor),
            action=action,
            object_type="ticket",
            object_id=0,
            object_repr="",
            changes=changes or {},
            data=data or {},
            source="web" if actor else "system",
        )
        plan.events.append(event)
        return event

    def message(
        plan: Plan,
        at: dt.datetime,
        kind: str,
        author: User | None,
        body: str,
        author_name: str = "",
    ) -> None:
        msg = Message(
            kind=kind,
            author=author,
            author_name=author_name or (author.display_label if author else ""),
            body=body,
            created_at=at,
        )
        action = {
            "reply": "ticket_replied",
            "note": "ticket_note_added",
            "customer": "customer_replied",
        }[kind]
        event = ev(
            plan, at, action, author if kind != "customer" else None, data={"excerpt": body[:200]}
        )
        if kind == "customer":
            event.actor_label = author_name
            event.source = "portal"
        plan.messages.append((msg, event.data))

    def status_change(
        plan: Plan, at: dt.datetime, actor: User, before: str, after: str, move: str, **data: Any
    ) -> None:
        ev(
            plan,
            at,
            "ticket_status_changed",
            actor,
            {"status": [before, after]},
            {"move": move, **data},
        )

    for i in range(total):
        age_days = (i / total) * 90
        created = (
            now
            - dt.timedelta(days=90 - age_days, seconds=rng.randint(0, 3600 * 10))
            + dt.timedelta(hours=rng.choice([0, 1, 2, 3, 9, 10, 11, 14, 15, 19, 20]))
        )
        if created > now - dt.timedelta(minutes=20):
            created = now - dt.timedelta(minutes=rng.randint(20, 600))
        code = rng.choices(type_codes, type_weights)[0]
        _weight, cat_names, texts = TEMPLATES[code]
        title_tpl, body_tpl = rng.choice(texts)
        customer = rng.choice(customers) if rng.random() < 0.92 else None
        channel = rng.choices(channel_names, channel_weights)[0]
        agent = rng.choice(l1)
        line2 = code in ("fault", "service") and rng.random() < 0.15
        handler = rng.choice(l2) if line2 else agent
        ticket = Ticket(
            number=number_for(created),
            title=_fill(title_tpl, rng),
            description=_fill(body_tpl, rng),
            ticket_type=types[code],
            category=categories[rng.choice(cat_names)],
            subject={
                "complaint": rng.choice(["staff", "equipment", "policy"]),
                "report": "staff",
            }.get(code, ""),
            channel=channel,
            priority=1 if code == "fault" and rng.random() < 0.2 else types[code].default_priority,
            severity=rng.choice(["minor", "severe", "down"]) if code == "fault" else "",
            area=rng.choices(["urban", "rural", "remote"], [70, 25, 5])[0]
            if code == "fault"
            else "",
            customer=customer,
            contact_name=customer.name if customer else names.person_name(rng)[0],
            place=customer.address if customer and code in ("fault", "service") else "",
            staff_concerned=f"工号{rng.randint(3000, 3999)}"
            if code == "complaint" and rng.random() < 0.4
            else "",
            sensitive=(code in ("complaint", "report") and rng.random() < 0.12)
            or (channel == "media"),
            team=teams["second-line"] if line2 else teams["frontline"],
            line=2 if line2 else 1,
            created_at=created,
            updated_at=created,
            created_by=agent if channel in ("phone", "walk_in", "letter", "chat") else None,
        )
        if code == "fault" and rng.random() < 0.7:
            ticket.custom_fields = {"extent": rng.choice(["单户", "整栋楼", "整个小区", "片区"])}
        plan = Plan(ticket)
        creator = ticket.created_by
        ev(
            plan,
            created,
            "ticket_created",
            creator,
            {
                "title": [None, ticket.title],
                "ticket_type": [None, ticket.ticket_type_id],
                "channel": [None, channel],
            },
            {"number": ticket.number},
        )
        # How far the work order got depends on its age.
        hours_old = (now - created).total_seconds() / 3600
        roll = rng.random()
        if hours_old < 4:
            stage = rng.choice([0, 1, 1, 2])
        elif hours_old < 48:
            stage = rng.choice([1, 2, 2, 3, 4, 5])
        elif hours_old < 24 * 3 and code != "fault":
            stage = rng.choice([2, 3, 4, 5, 5, 6, 6, 7])
        elif hours_old < 24 * 10:
            stage = (
                rng.choice([4, 5, 5, 6, 6, 7, 7, 7]) if code != "fault" else rng.choice([5, 6, 7])
            )
        else:
            stage = 7 if roll < 0.85 else rng.choice([5, 6, 8])
        t = created
        status = Status.NEW

        def step(minutes_low: int, minutes_high: int) -> dt.datetime:
            nonlocal t
            t = min(
                now - dt.timedelta(minutes=1),
                t + dt.timedelta(minutes=rng.randint(minutes_low, minutes_high)),
            )
            return t

        if code == "praise":
            stage = min(stage, 7)
        if stage == 8:  # cancelled
            at = step(5, 120)
            status_change(
                plan,
                at,
                agent,
                status,
                Status.CANCELLED,
                "cancel",
                reason="客户来电撤销，问题已自行解决",
            )
            status = Status.CANCELLED
        urgent = code == "fault"  # repair: minutes count (15-minute first response, 24 h fix)
        if stage >= 1 and status != Status.CANCELLED:
            at = step(1, 5) if urgent else step(1, 30)
            ticket.assignee = handler
            ev(
                plan,
                at,
                "ticket_assigned",
                agent,
                {"assignee": [None, handler.pk], "status": [status, Status.ASSIGNED]},
                {"assignee_name": handler.display_label},
            )
            status = Status.ASSIGNED
        if stage >= 2 and status != Status.CANCELLED:
            at = step(1, 8) if urgent and rng.random() < 0.92 else step(2, 90)
            message(plan, at, "reply", handler, rng.choice(AGENT_REPLIES[:1]))
            ticket.first_response_at = ticket.first_response_at or at
            ticket.last_public_reply_at = at
            status_change(plan, at, handler, status, Status.IN_PROGRESS, "start")
            status = Status.IN_PROGRESS
            if code == "fault":
                # The repair crew reports arriving on site (most within the area's promise).
                promise = {"urban": 45, "rural": 90, "remote": 120}[ticket.area]
                minutes = (
                    rng.randint(15, promise - 5)
                    if rng.random() < 0.88
                    else promise + rng.randint(5, 40)
                )
                t = min(
                    now - dt.timedelta(minutes=1), max(t, created + dt.timedelta(minutes=minutes))
                )
                ev(plan, t, "ticket_onsite_arrived", handler)
            if rng.random() < 0.35:
                message(plan, step(10, 240), "note", handler, _fill(rng.choice(NOTES), rng))
            if code in ("complaint", "report", "service", "fault") and rng.random() < 0.35:
                dept_code = {
                    "complaint": "dept-marketing",
                    "report": "dept-marketing",
                    "service": "dept-marketing",
                    "fault": "dept-maintenance",
                }[code]
                if code == "service" and rng.random() < 0.5:
                    dept_code = "dept-metering"
                at = step(20, 180)
                transfer = Transfer(
                    department=teams[dept_code],
                    instructions="请核实客户反映情况并在规定时限内答复处理结果。",
                    due_at=at + dt.timedelta(days=4),
                    requested_by=handler,
                    created_at=at,
                )
                plan.transfers.append(transfer)
                ev(
                    plan,
                    at,
                    "ticket_transferred",
                    handler,
                    data={
                        "department": teams[dept_code].name,
                        "department_id": teams[dept_code].pk,
                        "instructions": transfer.instructions,
                    },
                )
                if stage >= 4 or (stage == 3 and rng.random() < 0.5):
                    reply_at = step(120, 60 * 48)
                    transfer.reply = DEPT_REPLIES[dept_code]
                    transfer.replied_by = liaisons[dept_code]
                    transfer.replied_at = reply_at
                    transfer.state = Transfer.State.REPLIED
                    ev(
                        plan,
                        reply_at,
                        "transfer_replied",
                        liaisons[dept_code],
                        data={"department": teams[dept_code].name, "excerpt": transfer.reply},
                    )
                    if stage >= 5:
                        review_at = step(10, 240)
                        transfer.state = Transfer.State.ACCEPTED
                        transfer.reviewed_by = handler
                        transfer.reviewed_at = review_at
                        ev(
                            plan,
                            review_at,
                            "transfer_accepted",
                            handler,
                            data={"department": teams[dept_code].name},
                        )
        if stage == 3 and status == Status.IN_PROGRESS and rng.random() < 0.6:
            at = step(10, 120)
            message(
                plan, at, "reply", handler, "您好，麻烦您补充户号和现场照片，以便我们进一步处理。"
            )
            ticket.last_public_reply_at = at
            status_change(plan, at, handler, status, Status.WAITING_CUSTOMER, "wait_customer")
            status = Status.WAITING_CUSTOMER
        if (
            stage >= 4
            and status == Status.IN_PROGRESS
            and customer is not None
            and rng.random() < 0.3
        ):
            message(
                plan,
                step(30, 600),
                "customer",
                None,
                rng.choice(CUSTOMER_MESSAGES),
                author_name=customer.name,
            )
        if stage >= 5 and status in (Status.IN_PROGRESS, Status.WAITING_CUSTOMER):
            at = step(30, 60 * 16) if urgent else step(30, 60 * 30)
            message(plan, at, "reply", handler, rng.choice(AGENT_REPLIES[1:]))
            ticket.last_public_reply_at = at
            status_change(plan, at, handler, status, Status.RESOLVED, "resolve")
            status = Status.RESOLVED
            ticket.resolved_at = at
        if stage >= 6 and status == Status.RESOLVED:
            at = step(60 * 4, 60 * 48)
            result = rng.choices(["satisfied", "dissatisfied", "unreachable"], [80, 8, 12])[0]
            status_change(
                plan, at, agent, status, Status.FOLLOWED_UP, "follow_up", followup_result=result
            )
            status = Status.FOLLOWED_UP
            ticket.followed_up_at = at
            ticket.followup_result = result
            if result == "dissatisfied":
                status_change(
                    plan, at, agent, status, Status.IN_PROGRESS, "reopen", reason="回访客户不满意"
                )
                status = Status.IN_PROGRESS
                ticket.reopen_count = 1
                ticket.last_reopened_at = at
                ticket.resolved_at = ticket.followed_up_at = None
                if hours_old > 24 * 7:
                    # Worked again and settled the second time.
                    at = step(60 * 3, 60 * 40)
                    message(
                        plan, at, "reply", handler, "您好，已再次上门核查并彻底处理，请您确认。"
                    )
                    ticket.last_public_reply_at = at
                    status_change(plan, at, handler, status, Status.RESOLVED, "resolve")
                    status = Status.RESOLVED
                    ticket.resolved_at = at
        if stage >= 7 and status in (Status.FOLLOWED_UP, Status.RESOLVED):
            at = step(30, 60 * 24)
            status_change(plan, at, agent, status, Status.CLOSED, "close")
            status = Status.CLOSED
            ticket.closed_at = at
        ticket.status = status
        ticket.updated_at = t
        plans.append(plan)

    # One outage, many calls: a parent work order with children from the same evening.
    outage_day = now - dt.timedelta(days=2, hours=3)
    parent_plan = Plan(
        Ticket(
            number=number_for(outage_day),
            title="东湖区阳光花园片区大面积停电",
            description="19:40 起东湖区阳光花园、锦绣家园一带大面积停电，初步判断为 10kV 线路故障，抢修班组已出发。",
            ticket_type=types["fault"],
            category=categories["停电/故障停电"],
            channel="phone",
            priority=1,
            severity="down",
            team=teams["second-line"],
            line=2,
            assignee=l2[0],
            status=Status.CLOSED,
            sensitive=True,
            created_at=outage_day,
            updated_at=outage_day + dt.timedelta(hours=5),
            first_response_at=outage_day + dt.timedelta(minutes=5),
            last_public_reply_at=outage_day + dt.timedelta(hours=2),
            resolved_at=outage_day + dt.timedelta(hours=2),
            closed_at=outage_day + dt.timedelta(hours=5),
            custom_fields={"extent": "片区"},
        )
    )
    ev(
        parent_plan,
        outage_day,
        "ticket_created",
        ctx.data["supervisor"],
        {"title": [None, parent_plan.ticket.title]},
        {"number": parent_plan.ticket.number},
    )
    message(
        parent_plan,
        outage_day + dt.timedelta(hours=2),
        "reply",
        l2[0],
        "线路故障已排除，22:05 全部恢复供电。给您带来不便深表歉意。",
    )
    status_change(
        parent_plan,
        outage_day + dt.timedelta(hours=2),
        l2[0],
        Status.IN_PROGRESS,
        Status.RESOLVED,
        "resolve",
    )
    status_change(
        parent_plan,
        outage_day + dt.timedelta(hours=5),
        ctx.data["supervisor"],
        Status.RESOLVED,
        Status.CLOSED,
        "close",
    )
    plans.append(parent_plan)
    for k in range(min(15, len(customers))):
        at = outage_day + dt.timedelta(minutes=3 + k * 4)
        customer = customers[k * 7 % len(customers)]
        child = Plan(
            Ticket(
                number=number_for(at),
                title=f"{rng.choice(['阳光花园', '锦绣家园'])}{rng.randint(1, 30)}栋停电",
                description="客户来电反映家中突然停电，周边楼栋也没有电。",
                ticket_type=types["fault"],
                category=categories["停电/故障停电"],
                channel="phone",
                priority=2,
                customer=customer,
                contact_name=customer.name,
                team=teams["frontline"],
                assignee=rng.choice(l1),
                status=Status.CLOSED,
                created_at=at,
                updated_at=outage_day + dt.timedelta(hours=5),
                first_response_at=at + dt.timedelta(minutes=1),
                last_public_reply_at=outage_day + dt.timedelta(hours=2),
                resolved_at=outage_day + dt.timedelta(hours=2),
                closed_at=outage_day + dt.timedelta(hours=5),
            )
        )
        child.ticket.parent_number = parent_plan.ticket.number  # type: ignore[attr-defined]
        ev(
            child,
            at,
            "ticket_created",
            child.ticket.assignee,
            {"title": [None, child.ticket.title]},
            {"number": child.ticket.number},
        )
        message(
            child,
            outage_day + dt.timedelta(hours=2),
            "reply",
            l2[0],
            "线路故障已排除，22:05 全部恢复供电。给您带来不便深表歉意。",
        )
        status_change(
            child,
            outage_day + dt.timedelta(hours=2),
            l2[0],
            Status.IN_PROGRESS,
            Status.RESOLVED,
            "resolve",
            reason="随父工单一并处理",
        )
        status_change(
            child,
            outage_day + dt.timedelta(hours=5),
            ctx.data["supervisor"],
            Status.RESOLVED,
            Status.CLOSED,
            "close",
        )
        plans.append(child)

    _portal_requests(ctx, plans, types, categories, number_for, ev, message, status_change)
    _save(plans, counters)
    tags = config["tags"]
    through = Ticket.tags.through
    links = []
    for plan in plans:
        ticket = plan.ticket
        if ticket.channel == "media":
            links.append(through(ticket_id=ticket.pk, tickettag_id=tags["媒体关注"].pk))
        if getattr(ticket, "parent_number", None):
            links.append(through(ticket_id=ticket.pk, tickettag_id=tags["批量停电"].pk))
        elif rng.random() < 0.05:
            links.append(through(ticket_id=ticket.pk, tickettag_id=tags["重复来电"].pk))
        if ticket.priority == 1 and rng.random() < 0.5:
            links.append(through(ticket_id=ticket.pk, tickettag_id=tags["紧急"].pk))
    through.objects.bulk_create(links)
    _this_morning(ctx, types, categories, rng)


LATE_CALLS = [
    ("fault", "故障/户内故障", "家里突然停电，邻居家有电", "户内突然停电，空开没有跳，邻居家正常，请派人查看。"),
    ("consultation", "电费/阶梯电价", "阶梯电价怎么计算", "想了解一下今年阶梯电价的分档标准和计算方法。"),
    ("complaint", "服务/抢修时效", "抢修人员迟迟未到", "报修两个小时了抢修人员还没到，家里有老人，很着急。"),
    ("fault", "故障/电表故障", "电表显示屏不亮", "电表显示屏黑屏，不知道还在不在计量。"),
    ("suggestion", "服务/营业厅服务", "建议营业厅延长营业时间", "上班族下班后办不了业务，建议周末或晚上延长营业时间。"),
    ("service", "业扩报装/新装", "申请新装一户一表", "新房装修完成，申请新装一户一表，请告知需要的材料。"),
]  # fmt: skip


def _this_morning(ctx: DemoContext, types: Any, categories: Any, rng: random.Random) -> None:
    """The last hour of the shift, through the real services: calls still waiting in the
    pool, cases waiting on a contractor, and duplicates merged into the first report."""
    from kefu.tickets import services

    agents: list[User] = ctx.data["agents"]
    customers = [c for c in ctx.data["customers"] if c.is_active]
    now = timezone.now()
    for k, (code, category, title, description) in enumerate(LATE_CALLS):
        customer = customers[(k * 11 + 3) % len(customers)]
        services.create_ticket(
            actor=agents[k % len(agents)],
            title=title,
            description=description,
            ticket_type=types[code].code,
            category=categories[category].pk,
            channel=rng.choice(["phone", "phone", "portal", "chat"]),
            customer=customer.pk,
            created_at=now - dt.timedelta(minutes=55 - k * 8),
        )
    working = list(
        Ticket.objects.filter(status=Status.IN_PROGRESS, assignee__isnull=False)
        .select_related("assignee")
        .order_by("-updated_at")[:4]
    )
    for ticket in working:
        assert ticket.assignee is not None
        services.transition_ticket(
            actor=ticket.assignee,
            ticket=ticket,
            to=Status.WAITING_THIRD_PARTY,
            reason=rng.choice(["等待施工单位上门勘察", "等待供应商更换表计", "等待物业配合开门"]),
        )
    # Two more calls about the same outage that an agent recognises as duplicates.
    first = (
        Ticket.objects.filter(is_open=True, customer__isnull=False, assignee__isnull=False)
        .select_related("assignee", "customer")
        .order_by("-created_at")
        .first()
    )
    if first is None or first.assignee is None:
        return
    for minutes in (20, 12):
        duplicate = services.create_ticket(
            actor=first.assignee,
            title=f"{first.title}（再次来电）",
            description="客户再次来电催促处理进度。",
            ticket_type=first.ticket_type.code,
            category=first.category_id,
            channel="phone",
            customer=first.customer_id,
            created_at=now - dt.timedelta(minutes=minutes),
        )
        services.merge_tickets(
            actor=first.assignee, source=duplicate, target=first, reason="同一客户重复来电"
        )


def _portal_requests(
    ctx: DemoContext,
    plans: list[Plan],
    types: Any,
    categories: Any,
    number_for: Any,
    ev: Any,
    message: Any,
    status_change: Any,
) -> None:
    """The demo portal customer's own requests: one resolved awaiting confirmation, one open."""
    customer = ctx.data["portal_customer"]
    agent = ctx.data["agents"][0]
    now = ctx.now
    at = now - dt.timedelta(days=3)
    done = Plan(
        Ticket(
            number=number_for(at),
            title="本月电费比上月高很多",
            description="我家本月电费 486 元，上月才 210 元，家里没有新增电器，请帮忙核查。",
            ticket_type=types["query"],
            category=categories["电费/账单异常"],
            channel="portal",
            priority=3,
            customer=customer,
            contact_name=customer.name,
            team=ctx.data["teams"]["frontline"],
            assignee=agent,
            status=Status.RESOLVED,
            created_at=at,
            updated_at=at + dt.timedelta(days=1),
            first_response_at=at + dt.timedelta(hours=1),
            last_public_reply_at=at + dt.timedelta(days=1),
            resolved_at=at + dt.timedelta(days=1),
        )
    )
    ev(
        done,
        at,
        "ticket_created",
        None,
        {"title": [None, done.ticket.title]},
        {"number": done.ticket.number},
    )
    message(
        done,
        at + dt.timedelta(hours=1),
        "reply",
        agent,
        f"{customer.name}您好，已收到您的问题，我们正在核对抄表数据。",
    )
    message(
        done,
        at + dt.timedelta(days=1),
        "reply",
        agent,
        "经核实，本月进入第二档阶梯电价，且抄表周期比上月多 6 天，电费计算无误。明细已发送至您的邮箱。",
    )
    status_change(
        done, at + dt.timedelta(days=1), agent, Status.IN_PROGRESS, Status.RESOLVED, "resolve"
    )
    plans.append(done)
    at = now - dt.timedelta(hours=5)
    open_plan = Plan(
        Ticket(
            number=number_for(at),
            title="小区路灯旁电线下垂",
            description="小区 3 栋旁边的电线下垂得很低，下雨天担心有危险，请派人看看。",
            ticket_type=types["fault"],
            category=categories["故障/线路故障"],
            channel="portal",
            priority=2,
            customer=customer,
            contact_name=customer.name,
            place=customer.address,
            team=ctx.data["teams"]["frontline"],
            assignee=agent,
            status=Status.IN_PROGRESS,
            created_at=at,
            updated_at=at + dt.timedelta(hours=1),
            first_response_at=at + dt.timedelta(hours=1),
            last_public_reply_at=at + dt.timedelta(hours=1),
        )
    )
    ev(
        open_plan,
        at,
        "ticket_created",
        None,
        {"title": [None, open_plan.ticket.title]},
        {"number": open_plan.ticket.number},
    )
    message(
        open_plan,
        at + dt.timedelta(hours=1),
        "reply",
        agent,
        "您好，已安排运维人员今天下午到现场查看，请保持电话畅通。",
    )
    status_change(
        open_plan, at + dt.timedelta(hours=1), agent, Status.ASSIGNED, Status.IN_PROGRESS, "start"
    )
    plans.append(open_plan)


def _save(plans: list[Plan], counters: dict[dt.date, int]) -> None:
    tickets = Ticket.objects.bulk_create([p.ticket for p in plans], batch_size=500)
    by_number = {t.number: t for t in tickets}
    children = []
    for plan in plans:
        parent_number = getattr(plan.ticket, "parent_number", None)
        if parent_number:
            plan.ticket.parent = by_number[parent_number]
            children.append(plan.ticket)
        plan.ticket.is_open = plan.ticket.status in OPEN_STATES
    Ticket.objects.bulk_update(children, ["parent"])
    Ticket.objects.filter(status__in=[s for s in Status.values if s not in OPEN_STATES]).update(
        is_open=False
    )
    messages: list[Message] = []
    for plan in plans:
        for msg, _data in plan.messages:
            msg.ticket = plan.ticket
            messages.append(msg)
    Message.objects.bulk_create(messages, batch_size=1000)
    message_iter = iter(messages)
    for plan in plans:
        for _msg, data in plan.messages:
            data["message"] = next(message_iter).pk
        for transfer in plan.transfers:
            transfer.ticket = plan.ticket
    Transfer.objects.bulk_create([t for p in plans for t in p.transfers])
    all_events = []
    for plan in plans:
        for event in plan.events:
            event.object_id = plan.ticket.pk
            event.object_repr = plan.ticket.number
            if event.action in (
                "ticket_transferred",
                "transfer_replied",
                "transfer_accepted",
                "transfer_rejected",
            ):
                sent = next(
                    (
                        t
                        for t in plan.transfers
                        if t.department.name == event.data.get("department")
                    ),
                    None,
                )
                if sent is not None:
                    event.data["transfer"] = sent.pk
            all_events.append(event)
    Event.objects.bulk_create(all_events, batch_size=2000)
    for day, last in counters.items():
        TicketCounter.objects.update_or_create(day=day, defaults={"last": last})
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE tickets_ticket")
