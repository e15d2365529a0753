"""Template helpers for reports: a metric's label, a formatted cell, drill-down links."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from django import template

from kefu.reports.facts import Scope
from kefu.reports.metrics import METRICS, format_value
from kefu.reports.report import Row
from kefu.reports.report import metric_label as _metric_label
from kefu.reports.selectors import scope_query

register = template.Library()

_SCOPE_FIELD = {"type": "ticket_type"}


@register.filter
def metric_label(metric_id: str) -> str:
    return _metric_label(metric_id)


@register.simple_tag
def metric_cell(row: Row, metric_id: str) -> str:
    return format_value(row.values.get(metric_id), METRICS[metric_id].unit)


@register.simple_tag
def drill_query(scope: Scope, dimension: str, key: Any) -> str:
    field = _SCOPE_FIELD.get(dimension, dimension)
    if key in (None, ""):
        return scope_query(scope)
    return scope_query(replace(scope, **{field: key}))
