"""The work-order types and visibility rules every installation starts with. The data migration
installs them; tests that empty the database between runs put them back with ``install``."""

from __future__ import annotations

from typing import Any

TYPES = [
    ("consultation", "咨询", "Consultation", 3),
    ("query", "查询", "Information query", 4),
    ("fault", "故障报修", "Fault repair", 2),
    ("complaint", "投诉", "Complaint", 2),
    ("report", "举报", "Report (whistle-blowing)", 2),
    ("suggestion", "建议", "Suggestion", 4),
    ("praise", "表扬", "Praise", 4),
    ("service", "服务申请", "Service request", 3),
    ("requirement", "需求", "Customer requirement", 3),
]

VISIBILITY = [
    ("admin", "all"),
    ("supervisor", "all"),
    ("agent_l1", "teams"),
    ("agent_l2", "teams"),
    ("qa", "all"),
    ("planner", "none"),
    ("liaison", "none"),
]


def install(ticket_type: Any = None, visibility_rule: Any = None) -> None:
    """Create what is missing (models may be historical ones from a migration)."""
    if ticket_type is None or visibility_rule is None:
        from kefu.tickets.models import TicketType, VisibilityRule

        ticket_type, visibility_rule = TicketType, VisibilityRule
    for sort, (code, name, name_en, priority) in enumerate(TYPES, start=1):
        ticket_type.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "name_en": name_en,
                "default_priority": priority,
                "sort": sort * 10,
            },
        )
    for role, scope in VISIBILITY:
        visibility_rule.objects.get_or_create(role=role, defaults={"scope": scope})
