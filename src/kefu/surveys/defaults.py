"""The standard survey, policies and follow-up plans a new centre starts with."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from kefu.surveys import services
from kefu.surveys.models import (
    Delivery,
    FollowUpPlan,
    OnDissatisfied,
    SurveyPolicy,
    SurveyTemplate,
    Trigger,
)

STANDARD_QUESTIONS: list[dict[str, Any]] = [
    {
        "key": "csat",
        "kind": "level4",
        "text": "您对本次服务满意吗？",
        "text_en": "How satisfied are you with our service?",
    },
    {
        "key": "why",
        "kind": "text",
        "text": "请告诉我们哪里做得不好：",
        "text_en": "Please tell us what went wrong:",
        "required": False,
        "show_if": {"key": "csat", "values": [1, 2]},
    },
    {
        "key": "nps",
        "kind": "nps",
        "text": "您有多大可能向亲友推荐我们的服务？（0–10）",
        "text_en": "How likely are you to recommend us to a friend? (0–10)",
    },
]
FOLLOWUP_SCRIPT = (
    "您好，我是客服中心回访专员，工号____。您前几天反映的问题（工单号____）已经处理完毕，"
    "想占用您一分钟了解处理结果和您的满意程度。\n"
    "1. 问题是否已经解决？\n2. 您对处理结果和服务态度是否满意？\n"
    "3. 不满意时请客户说明原因，记录在备注中。\n感谢您的支持，再见。"
)


@transaction.atomic
def install() -> SurveyTemplate:
    """Create the standard survey and, when none exist, the standard policies and plans."""
    from kefu.tickets.models import TicketType

    template, _created = SurveyTemplate.objects.get_or_create(
        code="csat", defaults={"name": "服务满意度", "name_en": "Service satisfaction"}
    )
    if template.current() is None:
        services.create_version(
            actor=None,
            template=template,
            questions=STANDARD_QUESTIONS,
            intro="感谢您联系我们。请花一分钟评价本次服务。",
            intro_en="Thank you for contacting us. Please take a minute to rate our service.",
        )
    if not SurveyPolicy.objects.exists():
        for sort, (name, trigger, delivery) in enumerate(
            (
                ("工单解决后邮件调查", Trigger.TICKET_RESOLVED, Delivery.EMAIL),
                ("在线交谈结束后调查", Trigger.CHAT_ENDED, Delivery.CHAT),
                ("来电结束后短信调查", Trigger.CALL_ENDED, Delivery.SMS),
            )
        ):
            SurveyPolicy.objects.create(
                name=name,
                trigger=trigger,
                template=template,
                delivery=delivery,
                sort=sort * 10,
                on_dissatisfied=OnDissatisfied.REOPEN,
            )
    if not FollowUpPlan.objects.exists():
        types = {t.code: t for t in TicketType.objects.filter(code__in=("complaint", "fault"))}
        for sort, (name, code, vip, percent) in enumerate(
            (
                ("全部投诉回访", "complaint", False, 100),
                ("VIP客户全部回访", None, True, 100),
                ("故障报修抽样10%回访", "fault", False, 10),
            )
        ):
            FollowUpPlan.objects.create(
                name=name,
                ticket_type=types.get(code) if code else None,
                vip_only=vip,
                sample_percent=percent,
                template=template,
                script=FOLLOWUP_SCRIPT,
                sort=sort * 10,
            )
    return template
