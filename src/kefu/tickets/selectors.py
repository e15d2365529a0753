"""Read queries for work orders: workspace views and filters, the timeline, the customer card."""

from __future__ import annotations

import datetime as dt
import functools
import operator
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from django.core.cache import cache
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kefu.accounts.models import Team, User
from kefu.core.choices import Channel
from kefu.core.models import Event
from kefu.core.pagination import Page, SortKey, paginate
from kefu.core.permissions import AGENT_ROLES, Role
from kefu.core.validation import parse_id
from kefu.tickets.access import team_ids, visible_tickets
from kefu.tickets.models import (
    Attachment,
    Category,
    CustomField,
    Message,
    Severity,
    Subject,
    Ticket,
    TicketLink,
    TicketType,
    Transfer,
)
from kefu.tickets.states import Status

SORT_KEYS = {
    "updated_at": SortKey("updated_at", "datetime"),
    "created_at": SortKey("created_at", "datetime"),
    "priority": SortKey("priority", "int"),
    "id": SortKey("id", "int"),
    "sla_due_at": SortKey("sla_due_at", "datetime"),
}
SORTS = [
    ("-updated_at", _("Recently updated")),
    ("updated_at", _("Least recently updated")),
    ("-created_at", _("Newest")),
    ("created_at", _("Oldest")),
    ("priority", _("Priority, urgent first")),
]

DUE_SOON = dt.timedelta(hours=4)
"""A running SLA deadline this close (in clock time) puts a work order in the "due soon" view."""

DEADLINE_BADGES: list[Callable[[Ticket], str]] = []
"""The SLA app's renderer of a work order's deadline badge (HTML, escaped)."""

OPEN_TRANSFER = [Transfer.State.OPEN, Transfer.State.REPLIED, Transfer.State.RETURNED]


@dataclass(frozen=True)
class View:
    key: str
    label: Any
    sort: str = "-updated_at"


VIEWS = [
    View("mine", _("Mine")),
    View("team", _("My teams")),
    View("unassigned", _("Unassigned"), "created_at"),
    View("waiting", _("Waiting on customer")),
    View("transferred", _("Transferred out")),
    View("due_soon", _("Due soon"), "sla_due_at"),
    View("overdue", _("Overdue"), "sla_due_at"),
    View("sensitive", _("Sensitive")),
    View("recent", _("Recently updated")),
    View("all", _("All")),
]
VIEW_KEYS = {v.key: v for v in VIEWS}


def view_filter(user: User, key: str) -> Q:
    if key == "mine":
        return Q(assignee_id=user.pk, is_open=True)
    if key == "team":
        return Q(team_id__in=team_ids(user), is_open=True)
    if key == "unassigned":
        return Q(assignee__isnull=True, is_open=True)
    if key == "waiting":
        return Q(status=Status.WAITING_CUSTOMER)
    if key == "transferred":
        return Q(
            Exists(Transfer.objects.filter(ticket_id=OuterRef("pk"), state__in=OPEN_TRANSFER)),
            is_open=True,
        )
    if key == "sensitive":
        return Q(sensitive=True, is_open=True)
    if key == "due_soon":
        now = timezone.now()
        return Q(is_open=True, sla_due_at__gt=now, sla_due_at__lte=now + DUE_SOON)
    if key == "overdue":
        return Q(is_open=True, sla_due_at__lte=timezone.now())
    return Q()


def default_view(user: User) -> str:
    return "mine" if user.role in AGENT_ROLES else "recent"


@dataclass
class TicketFilters:
    status: list[str] = field(default_factory=list)
    ticket_type: int | None = None
    category: int | None = None
    channel: str = ""
    priority: int | None = None
    severity: str = ""
    subject: str = ""
    team: int | None = None
    assignee: int | None = None  # 0 = unassigned
    customer: int | None = None
    tag: str = ""
    sensitive: bool | None = None
    line: int | None = None
    number: str = ""
    q: str = ""
    created_after: dt.datetime | None = None
    created_before: dt.datetime | None = None
    updated_after: dt.datetime | None = None
    updated_before: dt.datetime | None = None

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> TicketFilters:
        """From query-string values; unknown or malformed values are ignored (for screens)."""

        def num(name: str) -> int | None:
            value = str(params.get(name) or "")
            return parse_id(value)

        def date(name: str) -> dt.datetime | None:
            from django.utils import timezone

            try:
                day = dt.date.fromisoformat(str(params.get(name) or ""))
            except ValueError:
                return None
            return dt.datetime.combine(day, dt.time(), tzinfo=timezone.get_current_timezone())

        getlist = (
            params.getlist
            if hasattr(params, "getlist")
            else (lambda k: [params[k]] if k in params else [])
        )
        statuses = [s for s in getlist("status") if s in Status.values]
        sensitive = params.get("sensitive")
        before = date("created_before")
        updated_before = date("updated_before")
        return cls(
            status=statuses,
            ticket_type=num("type"),
            category=num("category"),
            channel=str(params.get("channel") or "")
            if params.get("channel") in Channel.values
            else "",
            priority=num("priority"),
            severity=str(params.get("severity") or "")
            if params.get("severity") in Severity.values
            else "",
            subject=str(params.get("subject") or "")
            if params.get("subject") in Subject.values
            else "",
            team=num("team"),
            assignee=num("assignee"),
            customer=num("customer"),
            tag=str(params.get("tag") or "")[:40],
            sensitive=True if sensitive == "1" else False if sensitive == "0" else None,
            line=num("line"),
            number=str(params.get("number") or "").strip()[:24],
            q=str(params.get("q") or "").strip()[:100],
            created_after=date("created_after"),
            created_before=before + dt.timedelta(days=1) if before else None,
            updated_after=date("updated_after"),
            updated_before=updated_before + dt.timedelta(days=1) if updated_before else None,
        )


def category_and_below(category_id: int) -> list[int]:
    ids = [category_id]
    frontier = [category_id]
    while frontier:
        frontier = list(
            Category.objects.filter(parent_id__in=frontier).values_list("pk", flat=True)
        )
        ids.extend(frontier)
    return ids


def apply_filters(qs: QuerySet[Ticket], f: TicketFilters) -> QuerySet[Ticket]:
    parts: list[Q] = []
    if f.status:
        parts.append(Q(status__in=f.status))
    if f.ticket_type:
        parts.append(Q(ticket_type_id=f.ticket_type))
    if f.category:
        parts.append(Q(category_id__in=category_and_below(f.category)))
    for name in ("channel", "severity", "subject"):
        if getattr(f, name):
            parts.append(Q(**{name: getattr(f, name)}))
    if f.priority:
        parts.append(Q(priority=f.priority))
    if f.team:
        parts.append(Q(team_id=f.team))
    if f.assignee is not None:
        parts.append(Q(assignee__isnull=True) if f.assignee == 0 else Q(assignee_id=f.assignee))
    if f.customer:
        parts.append(Q(customer_id=f.customer))
    if f.tag:
        parts.append(Q(tags__name=f.tag))
    if f.sensitive is not None:
        parts.append(Q(sensitive=f.sensitive))
    if f.line:
        parts.append(Q(line=f.line))
    if f.number:
        parts.append(Q(number=f.number.upper()))
    if f.q:
        parts.append(_text_q(f.q))
    if f.created_after:
        parts.append(Q(created_at__gte=f.created_after))
    if f.created_before:
        parts.append(Q(created_at__lt=f.created_before))
    if f.updated_after:
        parts.append(Q(updated_at__gte=f.updated_after))
    if f.updated_before:
        parts.append(Q(updated_at__lt=f.updated_before))
    return qs.filter(functools.reduce(operator.and_, parts)) if parts else qs


TEXT_QUERY_HOOK: list[Callable[[str], Q]] = []
"""The search app replaces plain substring matching with its index (see kefu.search)."""


def _text_q(text: str) -> Q:
    for hook in TEXT_QUERY_HOOK:
        return hook(text)
    if text.upper().startswith("GD") and "-" in text:
        return Q(number=text.upper())
    return Q(title__icontains=text) | Q(contact_phone__contains=text)


def list_queryset(user: User, view: str, filters: TicketFilters) -> QuerySet[Ticket]:
    qs = visible_tickets(user).filter(view_filter(user, view))
    return apply_filters(qs, filters)


def ticket_page(
    user: User, view: str, filters: TicketFilters, *, sort: str, cursor: str | None, limit: int = 50
) -> Page[Ticket]:
    qs = list_queryset(user, view, filters)
    page = paginate(
        qs.only("id", sort.lstrip("-") if sort.lstrip("-") in SORT_KEYS else "updated_at"),
        sort=sort,
        keys=SORT_KEYS,
        cursor=cursor,
        limit=limit,
    )
    ids = [t.pk for t in page.items]
    rows = {
        t.pk: t
        for t in Ticket.objects.filter(pk__in=ids)
        .select_related("ticket_type", "category", "customer__vip_tier", "assignee", "team")
        .prefetch_related("tags")
    }
    page.items = [rows[pk] for pk in ids if pk in rows]
    return page


def view_counts(user: User, cap: int = 999) -> dict[str, int]:
    """How many work orders each view holds, counted up to ``cap`` (shown as 999+)."""
    base = visible_tickets(user)
    counts = {}
    for view in VIEWS:
        if view.key in ("recent", "all"):
            continue
        counts[view.key] = base.filter(view_filter(user, view.key)).order_by()[: cap + 1].count()
    return counts


# --- cached option lists for forms and filters ----------------------------------------------------

OPTIONS_TTL = 60
T = TypeVar("T")


_LOCAL: dict[str, tuple[float, Any]] = {}


def _cached(key: str, build: Callable[[], T]) -> T:
    """Option lists (types, categories, teams, agents) are kept in this process for a minute:
    read on every page, changed a few times a year. A change made here clears them at once;
    other processes pick it up within OPTIONS_TTL."""
    now = time.monotonic()
    hit = _LOCAL.get(key)
    if hit is not None and hit[0] > now:
        return cast(T, hit[1])
    value = build()
    _LOCAL[key] = (now + OPTIONS_TTL, value)
    return value


def forget_options() -> None:
    _LOCAL.clear()
    cache.delete("tickets:default_team")


def type_options() -> list[TicketType]:
    return _cached("tickets:types", lambda: list(TicketType.objects.filter(is_active=True)))


def custom_field_options(ticket_type_id: int) -> list[CustomField]:
    """The active administrator-defined fields of one type, in their display order."""
    by_type = _cached(
        "tickets:custom_fields",
        lambda: _group_by_type(CustomField.objects.filter(is_active=True)),
    )
    return by_type.get(ticket_type_id, [])


def _group_by_type(fields: Iterable[CustomField]) -> dict[int, list[CustomField]]:
    grouped: dict[int, list[CustomField]] = {}
    for custom in fields:
        grouped.setdefault(custom.ticket_type_id, []).append(custom)
    return grouped


def category_options() -> list[Category]:
    return _cached(
        "tickets:categories",
        lambda: list(Category.objects.filter(is_active=True).select_related("parent__parent")),
    )


def team_options() -> list[Team]:
    return _cached(
        "tickets:teams",
        lambda: list(Team.objects.filter(is_active=True).exclude(kind=Team.Kind.DEPARTMENT)),
    )


def department_options() -> list[Team]:
    return _cached(
        "tickets:departments",
        lambda: list(Team.objects.filter(is_active=True, kind=Team.Kind.DEPARTMENT)),
    )


def agent_options() -> list[User]:
    return _cached(
        "tickets:agents",
        lambda: list(
            User.objects.filter(
                is_active=True, role__in=[Role.AGENT_L1, Role.AGENT_L2, Role.SUPERVISOR]
            )
            .order_by("employee_no", "display_name")
            .only("id", "display_name", "employee_no", "username", "role")
        ),
    )


# --- the ticket page ----------------------------------------------------------------------------

MESSAGE_ACTIONS = {"ticket_replied", "ticket_note_added", "customer_replied"}
PUBLIC_ACTIONS = {
    "ticket_created",
    "ticket_status_changed",
    "ticket_replied",
    "customer_replied",
    "ticket_merged_into",
}


@dataclass
class TimelineItem:
    event: Event
    message: Message | None = None
    attachments: list[Attachment] = field(default_factory=list)
    ticket_number: str = ""  # set for entries of merged work orders


def timeline(ticket: Ticket, *, internal: bool) -> list[TimelineItem]:
    """Every change and message, oldest first; customers see only the public entries. The
    timelines of work orders merged into this one are woven in."""
    numbers = {ticket.pk: ""}
    for pk, number in Ticket.objects.filter(merged_into=ticket).values_list("pk", "number"):
        numbers[pk] = number
    qs = (
        Event.objects.filter(object_type="ticket", object_id__in=list(numbers))
        .select_related("actor")
        .order_by("at", "id")
    )
    if not internal:
        qs = qs.filter(action__in=PUBLIC_ACTIONS)
    event_list = list(qs)
    message_ids = [
        e.data.get("message")
        for e in event_list
        if e.action in MESSAGE_ACTIONS and e.data.get("message")
    ]
    messages = {m.pk: m for m in Message.objects.filter(pk__in=message_ids)}
    attachments: dict[int, list[Attachment]] = {}
    files = Attachment.objects.filter(message_id__in=message_ids)
    if not internal:
        files = files.filter(is_public=True)
    for attachment in files:
        attachments.setdefault(attachment.message_id or 0, []).append(attachment)
    items = []
    for event in event_list:
        message = (
            messages.get(event.data.get("message")) if event.action in MESSAGE_ACTIONS else None
        )
        if message is not None and not internal and not message.is_public:
            continue
        items.append(
            TimelineItem(
                event=event,
                message=message,
                attachments=attachments.get(message.pk, []) if message else [],
                ticket_number=numbers.get(event.object_id, ""),
            )
        )
    return items


def ticket_files(ticket: Ticket, *, internal: bool) -> list[Attachment]:
    qs = Attachment.objects.filter(ticket=ticket)
    if not internal:
        qs = qs.filter(is_public=True)
    return list(qs.select_related("uploaded_by"))


def related(ticket: Ticket, user: User) -> dict[str, Any]:
    """Parent, children, linked and merged work orders the user may see."""
    visible = visible_tickets(user)
    link_ids = set()
    for source_id, target_id in TicketLink.objects.filter(
        Q(source=ticket) | Q(target=ticket)
    ).values_list("source_id", "target_id"):
        link_ids.add(target_id if source_id == ticket.pk else source_id)
    rows = list(
        visible.filter(
            Q(pk__in=link_ids)
            | Q(parent=ticket)
            | Q(merged_into=ticket)
            | Q(pk=ticket.parent_id or 0)
        )
        .only("id", "number", "title", "status", "parent_id", "merged_into_id")
        .order_by("created_at")
    )
    return {
        "parent": next((t for t in rows if t.pk == ticket.parent_id), None),
        "children": [t for t in rows if t.parent_id == ticket.pk],
        "linked": [t for t in rows if t.pk in link_ids],
        "merged": [t for t in rows if t.merged_into_id == ticket.pk],
    }


def customer_card(ticket: Ticket, user: User) -> dict[str, Any]:
    customer = ticket.customer
    if customer is None:
        return {}
    visible = visible_tickets(user).filter(customer=customer).exclude(pk=ticket.pk)
    recent = list(visible.select_related("ticket_type").order_by("-created_at")[:8])
    return {
        "customer": customer,
        "contacts": list(customer.contacts.all()[:6]),
        "accounts": list(customer.accounts.all()[:4]),
        "recent": recent,
        "open_count": sum(1 for t in recent if t.is_open),
    }
