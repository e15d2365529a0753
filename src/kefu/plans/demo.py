"""Demo service plans: a customer's monthly switch-room inspection, the centre's quarterly
fire-safety check and its drill, a go-live training with sessions, care before the Spring
Festival and after an upgrade — with past rounds, ticked checklists, a finding being rectified
and one overdue and escalated."""

from __future__ import annotations

import datetime as dt

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from kefu.accounts.models import User
from kefu.core.demo import DemoContext, seeder
from kefu.core.permissions import Role
from kefu.customers.models import Customer, VipTier
from kefu.plans import defaults, recurrence
from kefu.plans.models import ChecklistResult, Rectification, Result, ServicePlan
from kefu.plans.services import care, checklists, rectifications, schedule, setup, training
from kefu.sla.models import BusinessCalendar

SWITCH_ROOM = [
    ("环境", "配电房门窗完好、防小动物挡板在位", False),
    ("环境", "室内无积水、无杂物，照明正常", False),
    ("设备", "变压器油温、声音正常，无渗漏油", True),
    ("设备", "开关柜带电显示、分合闸指示正确", False),
    ("设备", "电缆头无过热变色（红外测温）", True),
    ("安全", "绝缘垫、绝缘手套、验电器在有效期内", False),
    ("安全", "灭火器压力正常、在有效期内", False),
]
FIRE_CHECK = [
    ("消防设施", "灭火器压力在绿区、铅封完好、在检验期内", False),
    ("消防设施", "消火栓箱内水带、水枪齐全", False),
    ("疏散", "疏散通道、安全出口畅通无堵塞", True),
    ("疏散", "应急照明和疏散指示标志有效", False),
    ("报警", "烟感探测器、手动报警按钮测试正常", False),
    ("机房", "UPS 机房气体灭火系统压力正常", False),
]
DRILL = [
    ("准备", "演练方案已审批，人员分工明确", False),
    ("过程", "报警后 3 分钟内全员完成疏散", False),
    ("过程", "话务切换至备用坐席区，热线不中断", False),
    ("总结", "清点人数无遗漏，形成演练总结", True),
]
INSTALL = [
    ("安装", "设备外观无损坏，型号与订单一致", False),
    ("安装", "接线正确牢固，接地可靠", True),
    ("调试", "通电试运行 30 分钟无异常", False),
    ("调试", "客户现场签字确认", True),
]


# a 1×1 transparent PNG, the "after" photo of the demo's signed-off rectification
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c63000100000500010d0a2db40000000049454e44ae426082"
)


def _photo(name: str = "现场照片.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PNG, content_type="image/png")


def _items(rows: list[tuple[str, str, bool]]) -> list[dict[str, object]]:
    return [{"section": s, "text": t, "photo_required": p} for s, t, p in rows]


@seeder(92)
def seed_plans(ctx: DemoContext) -> None:
    if ServicePlan.objects.exists():
        return
    defaults.install()
    rng = ctx.rng
    supervisor: User = ctx.data["supervisor"]
    agents: list[User] = ctx.data["agents"]
    engineers = [u for u in agents if u.role == Role.AGENT_L2] or agents
    first_line = [u for u in agents if u.role == Role.AGENT_L1] or agents
    safety_officer: User = ctx.data.get("qa") or supervisor
    workdays = BusinessCalendar.objects.filter(code="workdays").first()
    org = (
        Customer.objects.filter(kind=Customer.Kind.ORGANIZATION, is_active=True)
        .order_by("pk")
        .first()
    )
    today = timezone.localdate()
    with transaction.atomic():
        switch_list = setup.create_checklist(
            actor=None, name="配电房巡检表", kind="inspection", items=_items(SWITCH_ROOM)
        )
        fire_list = setup.create_checklist(
            actor=None, name="消防设施检查表", kind="fire_safety", items=_items(FIRE_CHECK)
        )
        drill_list = setup.create_checklist(
            actor=None, name="消防演练记录表", kind="drill", items=_items(DRILL)
        )
        install_list = setup.create_checklist(
            actor=None, name="设备安装调试表", kind="installation", items=_items(INSTALL)
        )
        start = today.replace(day=1) - dt.timedelta(days=200)
        switch = setup.create_plan(
            actor=None, name="配电房月度巡检", kind="inspection", customer=org,
            site="1号配电房", checklist=switch_list, frequency="monthly", day_of_month=1,
            starts_on=start, lead_days=3, calendar=workdays, shift="next",
            assignee=engineers[0], inspector=supervisor, rectify_days=5,
            description="按月巡视高低压配电设备，发现隐患当场拍照并发起整改。",
        )  # fmt: skip
        fire = setup.create_plan(
            actor=None, name="消防设施季度检查", kind="fire_safety", site="客服中心大楼 1–5 层",
            checklist=fire_list, frequency="quarterly", day_of_month=10,
            starts_on=start, lead_days=5, calendar=workdays, shift="next",
            assignee=first_line[0], inspector=safety_officer, rectify_days=7,
        )  # fmt: skip
        meters = setup.create_plan(
            actor=None, name="智能电表季度预防性维护", kind="maintenance", customer=org,
            site="园区计量柜", checklist=switch_list, frequency="quarterly", day_of_month=15,
            starts_on=start, lead_days=5, calendar=workdays, shift="next",
            assignee=engineers[-1], inspector=supervisor, rectify_days=10,
            description="每季度校验计量柜接线、封印与通信模块，清洁散热通道。",
        )  # fmt: skip
        commissioning = setup.create_plan(
            actor=None, name="新建充电站设备安装调试", kind="installation", customer=org,
            site="东湖充电站", checklist=install_list, frequency="once",
            starts_on=today - dt.timedelta(days=6), assignee=engineers[0], inspector=supervisor,
            description="充电桩及配套配电设备的安装、通电调试与验收。",
        )  # fmt: skip
        drill = setup.create_plan(
            actor=None, name="消防演练", kind="drill", site="客服中心大楼",
            checklist=drill_list, frequency="yearly", month=11, day_of_month=9,
            starts_on=start, lead_days=14, calendar=workdays, shift="next",
            assignee=supervisor, inspector=safety_officer,
            description="11月9日全国消防日前后，全员疏散与热线切换演练。",
        )  # fmt: skip
        trainees = setup.create_plan(
            actor=None, name="新系统上线培训", kind="training", frequency="weekly",
            weekdays=[2], starts_on=today - dt.timedelta(days=21), ends_on=today + dt.timedelta(days=35),
            site="三楼培训室", session_time=dt.time(14, 0), session_minutes=90,
            description="新版客服系统操作培训：工单、知识库、回访。",
        )  # fmt: skip
        for user in agents[:6]:
            setup.add_trainee(actor=None, plan=trainees, user=user)
        if org is not None:
            setup.add_trainee(actor=None, plan=trainees, customer=org)
        vip = VipTier.objects.order_by("-rank").first()
        if vip is not None:
            setup.create_plan(
                actor=None, name="春节前VIP客户关怀", kind="care", frequency="yearly", month=2,
                day_of_month=1, starts_on=today, lead_days=7, audience_tier=vip,
                care_action="both", notice_channel="sms", assignee=first_line[-1],
                notice_text="{name}您好：春节将至，供电服务中心提醒您节日期间安全用电，"
                            "如需服务请拨打热线。祝新春快乐！",
                description="春节前一周向特级重要用户发送安全用电提醒，并由坐席回访确认保供电需求。",
            )  # fmt: skip
        setup.create_plan(
            actor=None, name="系统升级后三天回访", kind="care", frequency="once",
            starts_on=today - dt.timedelta(days=60), care_action="callback",
            care_trigger="after_tag", trigger_tag="系统升级", delay_days=3,
            assignee=first_line[-1],
        )  # fmt: skip

    # past rounds, made as the scheduler made them
    for plan in (switch, fire):
        for nominal in recurrence.nominal_dates(setup.rule_of(plan), today, since=start):
            due = recurrence.shift(nominal, schedule.is_working_for(plan), plan.shift)
            schedule.make_round(plan, recurrence.Occurrence(nominal, due, due))
    for plan in (meters, commissioning):
        for nominal in recurrence.nominal_dates(setup.rule_of(plan), today, since=start):
            due = recurrence.shift(nominal, schedule.is_working_for(plan), plan.shift)
            schedule.make_round(plan, recurrence.Occurrence(nominal, due, due))
    # this year's drill around 9 November (last year's while that date is still to come)
    year = today.year if (today.month, today.day) >= (11, 9) else today.year - 1
    drill_day = dt.date(year, 11, 9)
    schedule.make_round(drill, recurrence.Occurrence(drill_day, drill_day, drill_day))
    for nominal in recurrence.nominal_dates(setup.rule_of(trainees), today):
        schedule.make_round(trainees, recurrence.Occurrence(nominal, nominal, nominal))
    schedule.generate_due(today)

    # tick the checklists of past rounds; a few findings
    finding_made = 0
    for made in switch.rounds.select_related("ticket").order_by("period_start"):
        owner = switch.assignee
        assert owner is not None
        rows = ChecklistResult.objects.filter(run__ticket=made.ticket).select_related("item")
        last = made.due_on >= today - dt.timedelta(days=3)
        for row in rows:
            if last and row.item.position > 3:
                break
            fail = row.item.position == 3 and finding_made < 2 and rng.random() < 0.6
            checklists.check_item(
                actor=owner, result=row,
                value=Result.FAIL if fail else Result.PASS,
                note="油位偏低，有轻微渗油" if fail else "",
                photo=_photo() if row.item.photo_required else None,
            )  # fmt: skip
            finding_made += int(fail)
    for made in fire.rounds.select_related("ticket").order_by("period_start")[:1]:
        for row in ChecklistResult.objects.filter(run__ticket=made.ticket).select_related("item"):
            fail = row.item.position == 3
            checklists.check_item(
                actor=fire.assignee or supervisor, result=row,
                value=Result.FAIL if fail else Result.PASS,
                note="二层东侧安全出口堆放纸箱" if fail else "",
                photo=_photo() if row.item.photo_required else None,
            )  # fmt: skip
    # one rectification done and signed off, one overdue and escalated
    rects = list(Rectification.objects.select_related("owner", "inspector").order_by("pk"))
    if rects:
        first = rects[0]
        rectifications.transition_rectification(actor=first.owner, rect=first, to="rectifying")
        rectifications.transition_rectification(
            actor=first.owner, rect=first, to="submitted",
            note="已更换密封垫并补油，复测正常。", evidence=_photo("整改后.png"),
        )  # fmt: skip
        rectifications.transition_rectification(actor=first.inspector, rect=first, to="signed_off")
    if len(rects) > 1:
        late = rects[-1]
        Rectification.objects.filter(pk=late.pk).update(
            deadline=timezone.now() - dt.timedelta(days=2),
            next_escalation_at=timezone.now() - dt.timedelta(days=2),
        )
        rectifications.escalate_overdue()
    # a system upgrade a few customers were told about: their care callbacks are due
    from kefu.tickets.models import Ticket
    from kefu.tickets.services import update_ticket

    upgraded = Ticket.objects.filter(
        customer__isnull=False, resolved_at__lte=timezone.now() - dt.timedelta(days=4)
    ).order_by("-resolved_at")[:3]
    for ticket in upgraded:
        names = sorted({*ticket.tags.values_list("name", flat=True), "系统升级"})
        update_ticket(actor=None, ticket=ticket, changes={"tags": names})
    care.run_care()
    # attendance for sessions already held
    now = timezone.now()
    for session in trainees.sessions.filter(starts_at__lt=now).prefetch_related("attendance"):
        for attendance in session.attendance.all():
            status = "present" if rng.random() < 0.85 else "absent"
            training.mark_attendance(actor=supervisor, attendance=attendance, status=status)
