"""Template helpers used across Kefu's screens."""

from __future__ import annotations

from typing import Any

from django import template
from django.forms import BoundField

from kefu.core.labels import FIELD_LABELS, action_label, event_summary, value_label
from kefu.core.permissions import Role, has_perm
from kefu.core.validation import display_phone

register = template.Library()


@register.filter
def phone(value: str) -> str:
    return display_phone(value or "")


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    """``{{ row.cells|get_item:metric }}``: a dictionary value by a variable key."""
    try:
        return mapping.get(key)
    except AttributeError:
        return None


@register.filter(name="event_summary")
def event_summary_filter(event: Any) -> str:
    return event_summary(event)


@register.filter(name="action_label")
def action_label_filter(action: str) -> Any:
    return action_label(action)


@register.filter
def field_label(name: str) -> Any:
    return FIELD_LABELS.get(name, name)


@register.filter
def role_label(value: str) -> Any:
    try:
        return Role(value).label
    except ValueError:
        return value


@register.filter
def can(user: Any, perm: str) -> bool:
    return has_perm(user, perm)


@register.filter
def change_rows(changes: dict[str, Any] | None) -> list[tuple[str, Any, Any]]:
    if not changes:
        return []
    rows = []
    for key, pair in changes.items():
        if isinstance(pair, list | tuple) and len(pair) == 2:
            rows.append((key, pair[0], pair[1]))
    return rows


@register.filter
def change_value(value: Any, field: str) -> Any:
    """A before/after value in words (a status label rather than its code)."""
    return value_label(field, value)


@register.filter
def show_value(value: Any) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return "✓" if value else "✗"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


@register.inclusion_tag("kefu/_field.html")
def field(bound: BoundField, *, inline: bool = False) -> dict[str, Any]:
    return {"f": bound, "inline": inline}


@register.simple_tag(takes_context=True)
def nonce(context: template.Context) -> str:
    request = context.get("request")
    return getattr(request, "csp_nonce", "")


@register.simple_tag
def options(items: Any, value_attr: str, label_attr: str, selected: Any = None) -> str:
    """<option> elements for a long list, built in Python (a template loop per option is the
    slowest part of a page with several agent lists)."""
    from django.utils.html import format_html_join
    from django.utils.safestring import mark_safe

    chosen = (
        {str(v) for v in selected}
        if isinstance(selected, list | tuple | set)
        else {str(selected)}
        if selected not in (None, "")
        else set()
    )
    rows = []
    for item in items:
        if isinstance(item, tuple | list):  # (value, label) choices
            value, label = item[int(value_attr)], item[int(label_attr)]
        else:
            value, label = getattr(item, value_attr), getattr(item, label_attr)
        rows.append((value, mark_safe(" selected") if str(value) in chosen else "", label))  # noqa: S308 - a constant
    return format_html_join("", '<option value="{}"{}>{}</option>', rows) or mark_safe("")  # noqa: S308


@register.simple_tag
def vip_badge(tier: Any) -> str:
    from django.utils.html import format_html

    if not tier:
        return ""
    return format_html(
        '<span class="kefu-vip" style="background: {}" title="VIP">{}</span>', tier.color, tier.name
    )


@register.filter
def duration_short(seconds: Any) -> str:
    """A waiting time to the second: "45 s", "12 min 5 s", "3 h 20 min"."""
    from django.utils.translation import gettext

    from kefu.core.durations import clock_parts

    try:
        total = max(int(seconds), 0)
    except (TypeError, ValueError):
        total = 0
    parts = clock_parts(total, with_seconds=True)[:2]
    return " ".join(parts) if parts else gettext("%(n)d s") % {"n": 0}


@register.filter
def split(value: str) -> list[str]:
    return str(value).split()
