"""The calendars and SLA policies a new centre starts with, in the spirit of the 95598 service
promises. Administrators edit them under SLA setup; ``install`` only adds what is missing."""

from __future__ import annotations

from typing import Any

WORKDAY_HOURS = {str(d): [["08:30", "12:00"], ["13:30", "17:30"]] for d in range(5)}
SERVICE_HOURS = {str(d): [["08:00", "20:00"]] for d in range(7)}

CALENDARS = [
    # code, name, kind, hours
    ("always", "7×24 全天候", "always", {}),
    ("workdays", "工作日（法定节假日与调休）", "china", WORKDAY_HOURS),
    ("service-hours", "服务时间 每天 08:00–20:00", "weekly", SERVICE_HOURS),
]

# Escalations every target gets unless it says otherwise: a word to the assignee at 75 %, the
# team lead at 90 %, the lead and the supervisors when the deadline passes.
STANDARD_ESCALATIONS = [
    (75, "notify_assignee"),
    (90, "notify_lead"),
    (100, "notify_lead"),
    (100, "notify_supervisors"),
]

# name, order, description, conditions, pause statuses, targets
# target: (metric, amount, unit, calendar code, extra escalations)
POLICIES: list[dict[str, Any]] = [
    {
        "name": "故障报修·城区",
        "order": 10,
        "description": "城区抢修人员 45 分钟内到达现场（7×24）。",
        "types": ["fault"],
        "areas": ["urban"],
        "pause": ["waiting_customer"],
        "targets": [
            ("first_response", 15, "minutes", "always", []),
            ("onsite_arrival", 45, "minutes", "always", [(100, "raise_priority")]),
            ("resolution", 24, "hours", "always", []),
            ("transfer_reply", 24, "hours", "always", []),
        ],
    },
    {
        "name": "故障报修·农村",
        "order": 11,
        "description": "农村地区抢修人员 90 分钟内到达现场（7×24）。",
        "types": ["fault"],
        "areas": ["rural"],
        "pause": ["waiting_customer"],
        "targets": [
            ("first_response", 15, "minutes", "always", []),
            ("onsite_arrival", 90, "minutes", "always", [(100, "raise_priority")]),
            ("resolution", 24, "hours", "always", []),
            ("transfer_reply", 24, "hours", "always", []),
        ],
    },
    {
        "name": "故障报修·偏远",
        "order": 12,
        "description": "特殊边远地区抢修人员 120 分钟内到达现场（7×24）。",
        "types": ["fault"],
        "areas": ["remote"],
        "pause": ["waiting_customer"],
        "targets": [
            ("first_response", 15, "minutes", "always", []),
            ("onsite_arrival", 120, "minutes", "always", [(100, "raise_priority")]),
            ("resolution", 48, "hours", "always", []),
            ("transfer_reply", 24, "hours", "always", []),
        ],
    },
    {
        "name": "故障报修（未填区域）",
        "order": 13,
        "description": "未填写区域的报修按城区 45 分钟到达计时；填写区域后按对应承诺重新计算。",
        "types": ["fault"],
        "pause": ["waiting_customer"],
        "targets": [
            ("first_response", 15, "minutes", "always", []),
            ("onsite_arrival", 45, "minutes", "always", [(100, "raise_priority")]),
            ("resolution", 24, "hours", "always", []),
            ("transfer_reply", 24, "hours", "always", []),
        ],
    },
    {
        "name": "投诉",
        "order": 20,
        "description": "24 小时内联系客户，4 个工作日内答复处理结果。",
        "types": ["complaint"],
        "pause": [],
        "targets": [
            ("first_response", 24, "hours", "always", []),
            ("resolution", 4, "working_days", "workdays", [(100, "raise_priority")]),
            ("next_response", 1, "working_days", "workdays", []),
            ("transfer_reply", 2, "working_days", "workdays", []),
        ],
    },
    {
        "name": "举报",
        "order": 30,
        "description": "9 个工作日内答复处理结果。",
        "types": ["report"],
        "pause": [],
        "targets": [
            ("first_response", 24, "hours", "always", []),
            ("resolution", 9, "working_days", "workdays", []),
            ("transfer_reply", 5, "working_days", "workdays", []),
        ],
    },
    {
        "name": "售后·系统瘫痪",
        "order": 40,
        "description": "30 分钟内远程响应，4 小时内到场，8 小时内恢复（7×24）。",
        "severities": ["down"],
        "pause": ["waiting_customer", "waiting_third_party"],
        "targets": [
            ("first_response", 15, "minutes", "always", []),
            ("remote_response", 30, "minutes", "always", [(100, "raise_priority")]),
            ("onsite_arrival", 4, "hours", "always", []),
            ("resolution", 8, "hours", "always", [(100, "mark_sensitive")]),
            ("next_response", 2, "hours", "always", []),
        ],
    },
    {
        "name": "售后·严重故障",
        "order": 41,
        "description": "2 小时内远程响应（服务时间），1 个工作日内到场，2 个工作日内解决。",
        "severities": ["severe"],
        "pause": ["waiting_customer", "waiting_third_party"],
        "targets": [
            ("first_response", 1, "hours", "service-hours", []),
            ("remote_response", 2, "hours", "service-hours", []),
            ("onsite_arrival", 1, "working_days", "workdays", []),
            ("resolution", 2, "working_days", "workdays", []),
            ("next_response", 4, "hours", "service-hours", []),
        ],
    },
    {
        "name": "售后·轻微故障与咨询",
        "order": 42,
        "description": "4 小时内响应（服务时间），5 个工作日内解决。",
        "severities": ["minor", "general"],
        "pause": ["waiting_customer", "waiting_third_party"],
        "targets": [
            ("first_response", 4, "hours", "service-hours", []),
            ("resolution", 5, "working_days", "workdays", []),
            ("next_response", 1, "working_days", "workdays", []),
        ],
    },
    {
        "name": "默认",
        "order": 100,
        "description": "其他工单：4 个工作小时内首次响应，5 个工作日内办结。",
        "pause": ["waiting_customer", "waiting_third_party"],
        "targets": [
            ("first_response", 4, "hours", "workdays", []),
            ("resolution", 5, "working_days", "workdays", []),
            ("next_response", 1, "working_days", "workdays", []),
            ("transfer_reply", 3, "working_days", "workdays", []),
        ],
    },
]


def install(models: dict[str, Any] | None = None) -> None:
    """Create the default calendars and policies that are missing (models may be historical
    ones from a migration)."""
    if models is None:
        from kefu.sla import models as m
        from kefu.tickets.models import TicketType

        models = {
            "BusinessCalendar": m.BusinessCalendar,
            "SlaPolicy": m.SlaPolicy,
            "SlaTarget": m.SlaTarget,
            "Escalation": m.Escalation,
            "TicketType": TicketType,
        }
    calendar_model = models["BusinessCalendar"]
    by_code = {}
    for code, name, kind, hours in CALENDARS:
        by_code[code], _created = calendar_model.objects.get_or_create(
            code=code, defaults={"name": name, "kind": kind, "hours": hours}
        )
    types = {t.code: t for t in models["TicketType"].objects.all()}
    for spec in POLICIES:
        policy, created = models["SlaPolicy"].objects.get_or_create(
            name=spec["name"],
            defaults={
                "order": spec["order"],
                "description": spec["description"],
                "areas": spec.get("areas", []),
                "severities": spec.get("severities", []),
                "pause_statuses": spec["pause"],
            },
        )
        if not created:
            continue
        policy.ticket_types.set([types[c] for c in spec.get("types", []) if c in types])
        for metric, amount, unit, calendar, extra in spec["targets"]:
            target = models["SlaTarget"].objects.create(
                policy=policy,
                metric=metric,
                amount=amount,
                unit=unit,
                calendar=by_code[calendar],
                warn_at=[75, 90],
            )
            for level, action in [*STANDARD_ESCALATIONS, *extra]:
                models["Escalation"].objects.create(target=target, level=level, action=action)
