from typing import Any

from django import template

from kefu.calls.kpi import RATES

register = template.Library()


@register.filter
def kpi_value(kpis: Any, key: str) -> str:
    """A KPI as shown in tables: rates in per cent, seconds with one decimal, "—" if unknown."""
    value = getattr(kpis, key)
    if value is None:
        return "—"
    if key in RATES:
        return f"{value * 100:.1f}%"
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)
