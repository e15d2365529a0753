"""Demo staff of 江城供电公司客户服务中心: teams, skills and one account per role."""

from __future__ import annotations

from kefu.accounts.models import AgentProfile, AgentSkill, Membership, Skill, Team, User
from kefu.core import events
from kefu.core.demo import DEMO_PASSWORD, DemoContext, seeder
from kefu.core.permissions import Role

SKILLS = [
    ("billing", "电费账单", "电费、账单、缴费与退费"),
    ("fault", "故障报修", "停电、电压异常、线路故障"),
    ("connection", "业扩报装", "新装、增容、过户、销户"),
    ("metering", "计量", "电能表、抄表、示数异常"),
    ("complaint", "投诉处理", "服务投诉与举报"),
    ("new-energy", "新能源", "分布式光伏、充电桩"),
    ("outage-info", "停电信息", "计划停电与抢修进度"),
    ("english", "英语服务", "Service in English"),
    ("cantonese", "粤语服务", "粤语来电"),
]

TEAMS = [
    ("一线客服组", "frontline", Team.Kind.FRONTLINE, "受理各渠道来电、在线咨询与工单，首问负责。"),
    (
        "二线技术支持组",
        "second-line",
        Team.Kind.SECOND_LINE,
        "处理一线升级的复杂问题，远程诊断与现场协调。",
    ),
    ("质检组", "qa", Team.Kind.QA, "抽检录音、会话与工单，评分与辅导。"),
    ("排班组", "planning", Team.Kind.PLANNING, "话务预测、人力测算与排班。"),
    ("营销部", "dept-marketing", Team.Kind.DEPARTMENT, "电费、业扩报装、营业厅业务的责任部门。"),
    ("运维检修部", "dept-maintenance", Team.Kind.DEPARTMENT, "配网抢修、设备运维的责任部门。"),
    ("计量中心", "dept-metering", Team.Kind.DEPARTMENT, "电能计量装置与采集的责任部门。"),
]

L1_NAMES = [
    "李娜",
    "张敏",
    "刘洋",
    "陈静",
    "杨帆",
    "黄丽",
    "赵倩",
    "吴婷",
    "周杰",
    "徐莉",
    "孙悦",
    "马骏",
    "朱琳",
    "胡晓燕",
]
L2_NAMES = ["郭建华", "何志强", "高鹏", "林海", "罗斌", "郑伟"]


def _user(
    ctx: DemoContext, *, username: str, name: str, role: str, employee_no: str = "", email: str = ""
) -> User:
    user = User(
        username=username,
        display_name=name,
        role=role,
        employee_no=employee_no,
        email=email or f"{username}@kefu.example.com",
        language="zh-hans",
    )
    user.set_password(DEMO_PASSWORD)
    user.save()
    events.record(
        "user_created",
        user,
        actor=None,
        changes=events.diff(
            {}, events.snapshot(user, ("username", "display_name", "role", "employee_no", "email"))
        ),
        data={"demo": True},
    )
    return user


@seeder(10)
def seed_staff(ctx: DemoContext) -> None:
    rng = ctx.rng
    skills = {
        code: Skill.objects.create(code=code, name=name, description=desc)
        for code, name, desc in SKILLS
    }
    teams = {
        code: Team.objects.create(
            name=name, code=code, kind=kind, description=desc, email=f"{code}@kefu.example.com"
        )
        for name, code, kind, desc in TEAMS
    }
    for team in teams.values():
        events.record("team_created", team, actor=None, data={"demo": True})

    admin = _user(ctx, username="admin", name="王建国", role=Role.ADMIN, employee_no="M0001")
    supervisor = _user(
        ctx, username="supervisor", name="刘芳", role=Role.SUPERVISOR, employee_no="S0101"
    )
    Membership.objects.create(team=teams["frontline"], user=supervisor, is_lead=True)
    Membership.objects.create(team=teams["second-line"], user=supervisor)
    AgentProfile.objects.create(
        user=supervisor, capacity={"voice": 1, "chat": 2, "email": 5, "ticket": 30}
    )

    agents: list[User] = []
    for i, name in enumerate(L1_NAMES, start=1):
        user = _user(
            ctx, username=f"agent{i:02d}", name=name, role=Role.AGENT_L1, employee_no=f"A{1000 + i}"
        )
        Membership.objects.create(team=teams["frontline"], user=user, is_lead=(i == 1))
        langs = ["zh"] + (["en"] if i in (3, 9) else []) + (["yue"] if i == 5 else [])
        profile = AgentProfile.objects.create(user=user, languages=langs, extension=f"8{100 + i}")
        chosen = ["billing", "outage-info", "fault"] + rng.sample(
            ["connection", "metering", "new-energy", "complaint"], 2
        )
        if "en" in langs:
            chosen.append("english")
        if "yue" in langs:
            chosen.append("cantonese")
        for code in chosen:
            AgentSkill.objects.create(profile=profile, skill=skills[code], level=rng.randint(2, 5))
        agents.append(user)
    for j, name in enumerate(L2_NAMES, start=1):
        i = len(L1_NAMES) + j
        user = _user(
            ctx, username=f"agent{i:02d}", name=name, role=Role.AGENT_L2, employee_no=f"B{2000 + j}"
        )
        Membership.objects.create(team=teams["second-line"], user=user, is_lead=(j == 1))
        profile = AgentProfile.objects.create(
            user=user,
            channels=["voice", "email", "ticket"],
            capacity={"voice": 1, "chat": 0, "email": 8, "ticket": 25},
            extension=f"8{200 + j}",
        )
        for code in ("fault", "metering", "connection", "new-energy", "complaint"):
            AgentSkill.objects.create(profile=profile, skill=skills[code], level=rng.randint(3, 5))
        agents.append(user)

    qa = _user(ctx, username="qa", name="陈雪梅", role=Role.QA, employee_no="Q0301")
    Membership.objects.create(team=teams["qa"], user=qa, is_lead=True)
    planner = _user(ctx, username="planner", name="赵磊", role=Role.PLANNER, employee_no="P0401")
    Membership.objects.create(team=teams["planning"], user=planner, is_lead=True)
    liaisons = []
    for n, (code, name) in enumerate(
        [("dept-marketing", "孙立新"), ("dept-maintenance", "冯国庆"), ("dept-metering", "邓春梅")],
        start=1,
    ):
        user = _user(
            ctx, username=f"liaison{n}", name=name, role=Role.LIAISON, employee_no=f"D050{n}"
        )
        Membership.objects.create(team=teams[code], user=user, is_lead=True)
        liaisons.append(user)

    ctx.data.update(
        {
            "skills": skills,
            "teams": teams,
            "admin": admin,
            "supervisor": supervisor,
            "agents": agents,
            "qa": qa,
            "planner": planner,
            "liaisons": liaisons,
        }
    )
    ctx.accounts.extend(
        [
            (str(Role.ADMIN.label), "admin", DEMO_PASSWORD),
            (str(Role.SUPERVISOR.label), "supervisor", DEMO_PASSWORD),
            (str(Role.AGENT_L1.label), "agent01 … agent14", DEMO_PASSWORD),
            (str(Role.AGENT_L2.label), "agent15 … agent20", DEMO_PASSWORD),
            (str(Role.QA.label), "qa", DEMO_PASSWORD),
            (str(Role.PLANNER.label), "planner", DEMO_PASSWORD),
            (
                str(Role.LIAISON.label),
                "liaison1 (营销部), liaison2 (运维检修部), liaison3 (计量中心)",
                DEMO_PASSWORD,
            ),
        ]
    )
