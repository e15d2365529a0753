"""Work-order badges and list rows, rendered in Python: they appear on every row of every list,
and as template tags they were most of a workspace page's time."""

from __future__ import annotations

import functools
from html import escape
from typing import Any

from django import template
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.translation import gettext

from kefu.tickets.models import Priority
from kefu.tickets.states import Status

register = template.Library()


def _status_html(status: str) -> str:
    label = escape(str(Status(status).label))
    return f'<span class="badge kefu-status kefu-status-{status}" data-status="{status}">{label}</span>'


def _priority_html(priority: int) -> str:
    return f'<span class="badge kefu-prio kefu-prio-{priority}" title="{escape(str(Priority(priority).label))}">P{priority}</span>'


@register.simple_tag
def status_badge(ticket: Any) -> str:
    return SafeString(_status_html(ticket.status))


@register.simple_tag
def priority_badge(ticket: Any) -> str:
    return SafeString(_priority_html(ticket.priority))


@register.simple_tag
def deadline_badge(ticket: Any) -> str:
    """The work order's nearest SLA deadline as a countdown badge (empty when none)."""
    from kefu.tickets.selectors import DEADLINE_BADGES

    return SafeString(DEADLINE_BADGES[0](ticket)) if DEADLINE_BADGES else ""


@functools.lru_cache(maxsize=1)
def _detail_prefix() -> str:
    from django.urls import reverse

    return reverse("tickets:detail", args=["X"])[:-2]


@register.filter
def ticket_url(number: str) -> str:
    """The ticket page's address, without a URL reverse per row."""
    return _detail_prefix() + number + "/"


def _vip_html(tier: Any) -> str:
    if not tier:
        return ""
    return f'<span class="kefu-vip" style="background: {escape(tier.color)}" title="VIP">{escape(tier.name)}</span>'


def _short(text: str, length: int) -> str:
    return text if len(text) <= length else text[: length - 1] + "…"


@register.simple_tag
def ticket_rows(tickets: Any, selectable: bool) -> str:
    sensitive_title = escape(gettext("Sensitive"))
    prefix = _detail_prefix()
    zone = timezone.get_current_timezone()
    from kefu.tickets.selectors import DEADLINE_BADGES

    deadline = DEADLINE_BADGES[0] if DEADLINE_BADGES else (lambda _t: "")
    statuses: dict[str, str] = {}
    priorities: dict[int, str] = {}
    out = []
    for t in tickets:
        link = escape(prefix + t.number + "/")
        number = escape(t.number)
        if t.customer_id:
            who = f"{escape(t.customer.name)} {_vip_html(t.customer.vip_tier)}"
        else:
            who = escape(t.contact_name or "—")
        tags = "".join(f'<span class="kefu-tag">{escape(tag.name)}</span>' for tag in t.tags.all())
        category = (
            f'<div class="text-muted">{escape(_short(t.category.label, 22))}</div>'
            if t.category_id
            else ""
        )
        if t.status not in statuses:
            statuses[t.status] = _status_html(t.status)
        if t.priority not in priorities:
            priorities[t.priority] = _priority_html(t.priority)
        updated = timezone.localtime(t.updated_at, zone)
        check = (
            f'<td><input type="checkbox" class="form-check-input" name="ids" value="{t.pk}" @change="update()" aria-label="{number}"></td>'
            if selectable
            else ""
        )
        flag = (
            f'<i class="bi bi-exclamation-octagon-fill text-danger" title="{sensitive_title}"></i> '
            if t.sensitive
            else ""
        )
        row_class = ' class="kefu-sensitive"' if t.sensitive else ""
        out.append(
            f'<tr data-href="{link}"{row_class}>{check}'
            f'<td class="kefu-mono small text-nowrap"><a href="{link}">{number}</a></td>'
            f"<td>{flag}{escape(_short(t.title, 60))} {tags}</td>"
            f'<td class="small">{who}</td>'
            f'<td class="small text-nowrap">{escape(t.ticket_type.label)}{category}</td>'
            f"<td>{statuses[t.status]}</td><td>{priorities[t.priority]}</td>"
            f'<td class="small text-nowrap">{deadline(t)}</td>'
            f'<td class="small text-nowrap">{escape(t.assignee.display_name) if t.assignee_id else "—"}'
            f'<div class="text-muted">{escape(t.team.name) if t.team_id else ""}</div></td>'
            f'<td class="small text-nowrap" title="{updated:%Y-%m-%d %H:%M}">{updated:%m-%d %H:%M}</td></tr>'
        )
    return SafeString("".join(out))


@register.filter
def change_lines(event: Any, ticket: Any = None) -> list[Any]:
    """``{% for line in e|change_lines:ticket %}``: an event's changes in words."""
    from kefu.tickets.history import change_lines as lines

    return lines(event, ticket)
