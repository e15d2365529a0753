"""The work-order types service plans make. A data migration installs them; tests that empty the
database between runs put them back with ``install``."""

from __future__ import annotations

from typing import Any

# (code, Chinese name, English name, default priority)
TYPES = [
    ("inspection", "巡检", "Inspection", 3),
    ("maintenance", "预防性维护", "Preventive maintenance", 3),
    ("installation", "安装调试", "Installation and commissioning", 3),
    ("fire_safety", "消防检查", "Fire-safety inspection", 2),
    ("drill", "演练", "Drill", 3),
    ("rectification", "隐患整改", "Hazard rectification", 2),
    ("care_callback", "关怀回访", "Care callback", 4),
]


def install(ticket_type: Any = None) -> None:
    """Create the types that are missing (``ticket_type`` may be a migration's historical model)."""
    if ticket_type is None:
        from kefu.tickets.models import TicketType

        ticket_type = TicketType
    for sort, (code, name, name_en, priority) in enumerate(TYPES, start=1):
        ticket_type.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "name_en": name_en,
                "default_priority": priority,
                "sort": 200 + sort * 10,
                "portal_visible": False,
            },
        )
