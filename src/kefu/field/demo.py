"""Demo field service: service levels, stock locations (a central warehouse, a district store
and each engineer's van), a parts catalogue with stock and a little history, customer assets
(配电终端, 智能电表, 服务器 …) and visits in every state, with remote sessions."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from kefu.core.demo import DemoContext, seeder
from kefu.core.permissions import Role
from kefu.field import services, stock
from kefu.field.models import Asset, Location, Part, ServiceLevel, Visit
from kefu.sla.models import BusinessCalendar
from kefu.tickets.models import Ticket

LEVELS = [
    # name, calendar code (None: 7×24), arrival, workaround, resolution (minutes)
    ("金牌 7×24：2小时到场，4小时临时恢复，8小时修复", None, 120, 240, 480, "重要客户与主干设备"),
    (
        "标准：4个工作小时到场，8小时临时恢复，24小时修复",
        "workdays",
        240,
        480,
        1440,
        "一般商业客户",
    ),
    ("基础：1个工作日到场，3个工作日修复", "workdays", 480, None, 1440, "保修期内的一般设备"),
]

PARTS = [
    ("DTU-MB-3000", "配电终端 DTU 主板", "块", 21, 2),
    ("DTU-PS-48", "配电终端 电源模块 48V", "个", 14, 3),
    ("DTU-COM-4G", "配电终端 4G 通信模块", "个", 10, 4),
    ("MTR-MOD-1P", "智能电表 单相计量模块", "个", 7, 10),
    ("MTR-RELAY-60", "智能电表 60A 负荷开关", "个", 7, 8),
    ("MTR-HPLC", "智能电表 HPLC 载波模块", "个", 10, 10),
    ("SRV-HDD-2T4", "服务器 2.4TB SAS 硬盘", "块", 5, 4),
    ("SRV-RAM-32G", "服务器 32GB DDR4 内存", "条", 5, 4),
    ("SRV-PSU-800", "服务器 800W 冗余电源", "个", 7, 2),
    ("NET-SFP-10G", "光模块 SFP+ 10G 多模", "个", 5, 6),
    ("BAT-12V100", "蓄电池 12V 100Ah", "节", 15, 6),
    ("CT-200-5", "电流互感器 200/5A", "只", 20, 4),
]

ASSETS = [
    # product, model, serial prefix, level index, site suffix
    ("配电终端", "DTU-3000", "DTU", 0, "10kV 开闭所"),
    ("智能电表", "DDZY-1型", "MTR", 2, "计量箱"),
    ("服务器", "PowerEdge R740", "SRV", 1, "机房 A 排 3 柜"),
    ("环网柜", "XGN15-12", "RMU", 1, "小区配电室"),
    ("UPS 电源", "UPS-20kVA", "UPS", 1, "弱电间"),
]

ROADS = ["解放大道", "中山路", "建设大道", "长江路", "光谷大道", "和平大道", "友谊路", "民族路"]


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=timezone.get_current_timezone())


@seeder(85)
def seed_field(ctx: DemoContext) -> None:
    rng = ctx.rng
    supervisor = ctx.data["supervisor"]
    engineers = [u for u in ctx.data["agents"] if u.role == Role.AGENT_L2]
    dispatcher = next(u for u in ctx.data["agents"] if u.role == Role.AGENT_L1)
    calendars = {c.code: c for c in BusinessCalendar.objects.all()}
    levels = [
        ServiceLevel.objects.create(
            name=name,
            calendar=calendars.get(code) if code else None,
            arrival_minutes=arrival,
            workaround_minutes=workaround,
            resolution_minutes=resolution,
            description=text,
        )
        for name, code, arrival, workaround, resolution, text in LEVELS
    ]

    # stock: a central warehouse, a district store, one van per engineer
    central = Location.objects.create(
        name="中心备件库",
        kind=Location.Kind.WAREHOUSE,
        keeper=supervisor,
        address="武汉市洪山区关山大道 1 号",
    )
    district = Location.objects.create(
        name="城东备件库", kind=Location.Kind.WAREHOUSE, address="武汉市青山区和平大道 88 号"
    )
    vans = [
        Location.objects.create(name=f"服务车 · {e.display_name}", kind=Location.Kind.VAN, keeper=e)
        for e in engineers
    ]
    parts = [
        Part.objects.create(code=code, name=name, unit=unit, lead_time_days=lead)
        for code, name, unit, lead, _min in PARTS
    ]
    for part, (_c, _n, _u, _l, minimum) in zip(parts, PARTS, strict=True):
        stock.receive(
            actor=supervisor,
            part=part,
            location=central,
            qty=minimum * rng.randint(2, 5),
            note="年度框架采购 第一批",
        )
        stock.set_minimum(actor=supervisor, part=part, location=central, min_qty=minimum)
        if rng.random() < 0.6:
            stock.receive(
                actor=supervisor, part=part, location=district, qty=rng.randint(1, minimum + 2)
            )
            stock.set_minimum(
                actor=supervisor, part=part, location=district, min_qty=max(1, minimum // 2)
            )
        for van in vans:
            if rng.random() < 0.4:
                stock.transfer(
                    actor=supervisor, part=part, source=central, target=van, qty=1, note="随车备件"
                )
                stock.set_minimum(actor=supervisor, part=part, location=van, min_qty=1)

    # customer assets, on the customers of open work orders first
    tickets = list(
        Ticket.objects.filter(is_open=True, customer__isnull=False)
        .select_related("customer")
        .order_by("-created_at")[: max(24, int(40 * ctx.scale))]
    )
    today = timezone.localdate()
    assets: dict[int, Asset] = {}
    serial = 100000
    for ticket in tickets:
        assert ticket.customer_id is not None
        if ticket.customer_id in assets:
            continue
        product, model, prefix, level_index, site = rng.choice(ASSETS)
        serial += rng.randint(1, 999)
        installed = today - dt.timedelta(days=rng.randint(60, 2000))
        warranty = installed + dt.timedelta(days=3 * 365)
        has_contract = rng.random() < 0.7
        assets[ticket.customer_id] = services.create_asset(
            actor=supervisor,
            customer=ticket.customer,
            values={
                "product": product,
                "model": model,
                "serial": f"{prefix}{installed:%Y}{serial}",
                "installed_on": installed,
                "address": f"武汉市{rng.choice(ROADS)}{rng.randint(1, 400)}号 {site}",
                "warranty_until": warranty,
                "contract_number": f"FW-{installed:%Y}-{serial % 10000:04d}"
                if has_contract
                else "",
                "contract_until": today + dt.timedelta(days=rng.randint(-30, 700))
                if has_contract
                else None,
                "service_level": levels[level_index],
            },
        )

    # visits: today's for every engineer, some finished, some on their way
    if not engineers:
        return
    plans = ["scheduled", "scheduled", "en_route", "on_site", "done", "confirmed", "cancelled"]
    for n, ticket in enumerate(tickets[: len(plans) * 2]):
        engineer = engineers[n % len(engineers)]
        asset = assets.get(ticket.customer_id or 0)
        start = max(_at(today, 9 + n % 8), timezone.now() - dt.timedelta(hours=1))
        visit = services.dispatch_visit(
            actor=dispatcher,
            ticket=ticket,
            engineer=engineer,
            window_start=start,
            window_end=start + dt.timedelta(hours=2),
            asset=asset,
            address="" if asset else f"武汉市{rng.choice(ROADS)}{rng.randint(1, 400)}号",
            instructions="携带备用电源模块；进站前联系值班员。" if n % 3 == 0 else "",
        )
        _play(visit, plans[n % len(plans)], engineer, dispatcher, ctx)
    for ticket in tickets[len(plans) * 2 : len(plans) * 2 + 4]:
        engineer = rng.choice(engineers)
        services.log_remote_session(
            actor=engineer,
            ticket=ticket,
            tool=rng.choice(["phone", "desktop", "video"]),
            tool_detail="向日葵远程" if rng.random() < 0.5 else "",
            started_at=timezone.now() - dt.timedelta(minutes=50),
            ended_at=timezone.now() - dt.timedelta(minutes=10),
            outcome=rng.choice(["resolved", "workaround", "onsite"]),
            notes="指导客户重启通信模块并核对参数，远程查看日志。",
        )


def _play(visit: Visit, plan: str, engineer: Any, dispatcher: Any, ctx: DemoContext) -> None:
    S = Visit.State
    if plan == "scheduled":
        return
    if plan == "cancelled":
        services.transition_visit(
            actor=dispatcher, visit=visit, to=S.CANCELLED, reason="客户改约下周"
        )
        return
    services.transition_visit(actor=engineer, visit=visit, to=S.EN_ROUTE)
    if plan == "en_route":
        return
    services.transition_visit(
        actor=engineer,
        visit=visit,
        to=S.ON_SITE,
        lat=f"30.5{ctx.rng.randint(0, 9999):04d}",
        lng=f"114.3{ctx.rng.randint(0, 9999):04d}",
        accuracy=ctx.rng.randint(5, 40),
    )
    if plan == "on_site":
        return
    services.transition_visit(
        actor=engineer,
        visit=visit,
        to=S.DONE,
        report="现场检查发现通信模块接触不良，已重新插拔并紧固，设备恢复在线，观察 30 分钟运行正常。",
        outcome=Visit.Outcome.RESOLVED if ctx.rng.random() < 0.7 else Visit.Outcome.WORKAROUND,
    )
    if plan == "confirmed":
        services.transition_visit(
            actor=engineer,
            visit=visit,
            to=S.CONFIRMED,
            name=visit.contact_name or "值班员",
            comment="服务及时，满意。",
        )
