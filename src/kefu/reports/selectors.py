"""Reading a report's filters from a request, the filter choices, and the drill-down to the
work orders behind a figure."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kefu.core.validation import parse_id
from kefu.reports.facts import Scope
from kefu.reports.report import SUMMARY

__all__ = ["SUMMARY", "scope_from"]

MAX_DAYS = 3 * 366
MIN_YEAR, MAX_YEAR = 2000, 2999
PAGE = 100
BASES = {
    "created": gettext_lazy("received in the period"),
    "resolved": gettext_lazy("resolved in the period"),
    "responded": gettext_lazy("first answered in the period"),
}
_BASIS_COLUMN = {
    "created": "created_at",
    "resolved": "resolved_at",
    "responded": "first_response_at",
}


def scope_from(params: Any, tz: dt.tzinfo | None = None) -> tuple[Scope, list[str]]:
    """The scope a query string asks for (default: this month so far), and what was wrong
    with it (each problem falls back to the default)."""
    tz = tz or timezone.get_current_timezone()
    today = timezone.localdate()
    problems: list[str] = []
    dates: dict[str, dt.date] = {}
    for name, default in (("from", today.replace(day=1)), ("to", today)):
        raw = str(params.get(name, "") or "")
        try:
            dates[name] = dt.date.fromisoformat(raw) if raw else default
            if not MIN_YEAR <= dates[name].year <= MAX_YEAR:
                raise ValueError(raw)
        except ValueError:
            problems.append(_("“%(v)s” is not a date (use YYYY-MM-DD).") % {"v": raw[:20]})
            dates[name] = default
    start, end = dates["from"], dates["to"]
    if end < start:
        problems.append(_("The end date is before the start date; showing the start date only."))
        end = start
    if (end - start).days > MAX_DAYS:
        problems.append(_("At most three years at a time; showing the last three years."))
        start = end - dt.timedelta(days=MAX_DAYS)
    ids: dict[str, int | None] = {}
    for name in ("type", "category", "team", "agent"):
        raw = params.get(name, "")
        ids[name] = parse_id(raw) if raw else None
        if raw and ids[name] is None:
            problems.append(_("“%(v)s” is not an id.") % {"v": str(raw)[:20]})
    texts = {
        name: str(params.get(name, "") or "")[:64]
        for name in ("channel", "subject", "area", "queue")
    }
    return (
        Scope(
            start=start,
            end=end,
            tz=tz,
            ticket_type=ids["type"],
            category=ids["category"],
            team=ids["team"],
            agent=ids["agent"],
            **texts,
        ),
        problems,
    )


def scope_query(scope: Scope, **extra: Any) -> str:
    """The query string that gives this scope (for links, exports and drill-down)."""
    pairs = {
        "from": scope.start.isoformat(),
        "to": scope.end.isoformat(),
        "type": scope.ticket_type or "",
        "channel": scope.channel,
        "category": scope.category or "",
        "subject": scope.subject,
        "area": scope.area,
        "team": scope.team or "",
        "agent": scope.agent or "",
        "queue": scope.queue,
        **extra,
    }
    return urlencode({k: v for k, v in pairs.items() if v not in ("", None)})


def filter_choices() -> dict[str, list[tuple[Any, str]]]:
    from kefu.accounts.models import Team, User
    from kefu.calls.selectors import queue_names
    from kefu.core.choices import Channel
    from kefu.core.permissions import AGENT_ROLES
    from kefu.tickets.models import Area, Category, Subject, TicketType

    return {
        "type": list(TicketType.objects.order_by("sort").values_list("pk", "name")),
        "channel": [(c.value, str(c.label)) for c in Channel],
        "category": [(c.pk, c.label) for c in Category.objects.filter(is_active=True)],
        "subject": [(c.value, str(c.label)) for c in Subject],
        "area": [(c.value, str(c.label)) for c in Area],
        "team": list(Team.objects.filter(is_active=True).values_list("pk", "name")),
        "agent": [
            (u.pk, u.display_label)
            for u in User.objects.filter(is_active=True, role__in=AGENT_ROLES).order_by(
                "employee_no", "username"
            )
        ],
        "queue": [(q, q) for q in queue_names()],
    }


def describe(scope: Scope) -> list[tuple[str, str]]:
    """The scope's filters as (name, value) for a heading."""
    choices = filter_choices()
    names = {
        "type": _("Type"), "channel": _("Channel"), "category": _("Category"),
        "subject": _("Subject"), "area": _("Region"), "team": _("Team"), "agent": _("Agent"),
    }  # fmt: skip
    out = []
    for key, label in names.items():
        value = getattr(scope, "ticket_type" if key == "type" else key)
        if value in (None, ""):
            continue
        shown = dict(choices[key]).get(value, str(value))
        out.append((str(label), str(shown)))
    return out


@dataclass
class RecordPage:
    rows: list[Any]
    total: int
    next_after: int | None


def records(user: Any, scope: Scope, basis: str, after: Any = None) -> RecordPage:
    """The work orders of the scope on one basis, newest first, that ``user`` may see."""
    from kefu.tickets.access import visible_tickets

    start, end = scope.bounds
    column = _BASIS_COLUMN[basis]
    qs = visible_tickets(user).filter(
        scope.ticket_q(), **{f"{column}__gte": start, f"{column}__lt": end}
    )
    total = qs.count()
    after_id = parse_id(after) if after else None
    if after_id is not None:
        qs = qs.filter(pk__lt=after_id)
    rows = list(
        qs.select_related("ticket_type", "assignee", "team", "category").order_by("-pk")[: PAGE + 1]
    )
    more = len(rows) > PAGE
    rows = rows[:PAGE]
    return RecordPage(rows, total, rows[-1].pk if more and rows else None)
