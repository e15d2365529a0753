"""Builders for the plan tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

from kefu.plans.services.setup import create_checklist, create_plan

ITEMS = [
    {"section": "配电房", "text": "变压器温度正常"},
    {"section": "配电房", "text": "消防器材在位", "photo_required": False},
    {"section": "配电房", "text": "应急照明可用"},
]


def checklist(name: str = "配电房月度巡检表", items: list[dict[str, Any]] | None = None) -> Any:
    return create_checklist(actor=None, name=name, kind="inspection", items=items or ITEMS)


def inspection_plan(**fields: Any) -> Any:
    fields.setdefault("name", "配电房月度巡检")
    fields.setdefault("kind", "inspection")
    fields.setdefault("frequency", "monthly")
    fields.setdefault("day_of_month", 1)
    fields.setdefault("starts_on", dt.date(2026, 1, 1))
    if "checklist" not in fields:
        fields["checklist"] = checklist()
    return create_plan(actor=None, **fields)
