"""Creating a work order (from any channel) and numbering it."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.models import Team, User
from kefu.core.choices import Channel
from kefu.core.models import SiteSetting
from kefu.core.permissions import Role, require_perm
from kefu.tickets.models import Ticket, TicketCounter
from kefu.tickets.services.common import record, snapshot
from kefu.tickets.services.fields import clean_fields
from kefu.tickets.states import Status

CREATE_FIELDS = (
    "title",
    "ticket_type",
    "category",
    "subject",
    "channel",
    "priority",
    "severity",
    "customer",
    "contact_name",
    "contact_phone",
    "place",
    "area",
    "staff_concerned",
    "sensitive",
)


def allocate_number(now: dt.datetime | None = None) -> str:
    """The next number of the centre's local day, e.g. GD20261123-00042 (readable over the
    phone). Outside a transaction it runs as one autocommitted statement, so the counter's row
    lock is held for microseconds, not for the whole creating transaction; a failed create
    leaves a gap, never a duplicate. Numbers reserved by :func:`reserved_numbers` are used
    first."""
    day = timezone.localdate(now or timezone.now())
    reserved: list[int] = _reserved.numbers.get(day, []) if hasattr(_reserved, "numbers") else []
    if reserved:
        return f"GD{day:%Y%m%d}-{reserved.pop(0):05d}"
    last = _take_numbers(day, 1)
    return f"GD{day:%Y%m%d}-{last:05d}"


_reserved = threading.local()


def _take_numbers(day: dt.date, count: int) -> int:
    table = TicketCounter._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (day, last) VALUES (%s, %s) "  # noqa: S608 - table name is ours
            f"ON CONFLICT (day) DO UPDATE SET last = {table}.last + %s RETURNING last",
            [day, count, count],
        )
        (last,) = cursor.fetchone()
    return int(last)


@contextmanager
def reserved_numbers(count: int) -> Iterator[None]:
    """Take ``count`` of today's numbers in one autocommitted statement, for work orders about
    to be created together in one long transaction (a fetched batch of mail): inside the block
    they are handed out in order without touching the counter, so concurrent batches do not
    queue behind each other's counter lock. Call it outside a transaction; numbers left over
    are gaps, as after a failed create."""
    if count <= 0 or connection.in_atomic_block:
        yield
        return
    day = timezone.localdate()
    last = _take_numbers(day, count)
    _reserved.numbers = {day: list(range(last - count + 1, last + 1))}
    try:
        yield
    finally:
        _reserved.numbers = {}


def resync_counter(day: dt.date) -> bool:
    """Raise a day's counter to the highest number already stored for it (work orders that
    arrived by import or migration carry numbers the counter never handed out). True when the
    counter was behind."""
    prefix = f"GD{day:%Y%m%d}-"
    numbers = Ticket.objects.filter(number__startswith=prefix).values_list("number", flat=True)
    highest = max((int(n[len(prefix) :]) for n in numbers if n[len(prefix) :].isdigit()), default=0)
    with transaction.atomic():
        counter, _created = TicketCounter.objects.select_for_update().get_or_create(day=day)
        if counter.last >= highest:
            return False
        counter.last = highest
        counter.save(update_fields=["last"])
        return True


def default_team() -> Team | None:
    """Where new work orders land: the configured team, else the first active first-line team
    (looked up once a minute)."""
    cached = cache.get("tickets:default_team")
    if cached is not None:
        return cached if cached != "none" else None
    team = _default_team()
    cache.set("tickets:default_team", team if team is not None else "none", 60)
    return team


def _default_team() -> Team | None:
    setting = SiteSetting.objects.filter(key="tickets.default_team").first()
    if setting and setting.value.get("team_id"):
        team = Team.objects.filter(pk=setting.value["team_id"], is_active=True).first()
        if team:
            return team
    return Team.objects.filter(kind=Team.Kind.FRONTLINE, is_active=True).order_by("id").first()


def create_ticket(
    *,
    actor: User | None,
    title: str,
    ticket_type: Any,
    description: str = "",
    channel: str = Channel.PHONE,
    category: Any = None,
    subject: str = "",
    priority: int | None = None,
    severity: str = "",
    customer: Any = None,
    contact_name: str = "",
    contact_phone: str = "",
    contact_email: str = "",
    place: str = "",
    area: str = "",
    staff_concerned: str = "",
    sensitive: bool = False,
    tags: Sequence[str] = (),
    custom_fields: Mapping[str, Any] | None = None,
    team: Team | None = None,
    assignee: User | None = None,
    parent: Ticket | None = None,
    attachments: Iterable[UploadedFile[Any]] = (),
    created_at: dt.datetime | None = None,
) -> Ticket:
    """Open a work order. Staff need ``tickets.create``; a customer (portal) may only open one
    for themselves, through the portal channel, with the types offered there."""
    if actor is not None and actor.role == Role.CUSTOMER:
        if customer not in (None, actor.customer_id) or channel not in (
            Channel.PORTAL,
            Channel.API,
        ):
            raise PermissionDenied(
                _("Customers open work orders for themselves through the portal.")
            )
        staff_only = {
            "priority": priority is not None,
            "severity": bool(severity),
            "tags": bool(tags),
            "sensitive": bool(sensitive),
            "team": team is not None,
            "assignee": assignee is not None,
            "parent": parent is not None,
        }
        refused = [name for name, given in staff_only.items() if given]
        if refused:
            raise ValidationError(
                {name: [_("Set by the service centre, not by the customer.")] for name in refused}
            )
        customer = actor.customer_id
    elif actor is not None:
        require_perm(actor, "tickets.create")
    data = clean_fields(
        {
            "title": title,
            "description": description,
            "ticket_type": ticket_type,
            "category": category,
            "subject": subject,
            "channel": channel,
            "severity": severity,
            "customer": customer,
            "contact_name": contact_name,
            "contact_phone": contact_phone,
            "contact_email": contact_email,
            "place": place,
            "area": area,
            "staff_concerned": staff_concerned,
            "sensitive": sensitive,
            "tags": list(tags),
            "custom_fields": dict(custom_fields or {}),
            **({"priority": priority} if priority is not None else {}),
        },
        instance=None,
    )
    if actor is not None and actor.role == Role.CUSTOMER and not data["ticket_type"].portal_visible:
        raise ValidationError({"ticket_type": [_("This type cannot be chosen in the portal.")]})
    if "priority" not in data:
        data["priority"] = data["ticket_type"].default_priority
    if assignee is not None and (
        assignee.role not in (Role.AGENT_L1, Role.AGENT_L2, Role.SUPERVISOR, Role.ADMIN)
        or not assignee.is_active
    ):
        raise ValidationError(
            {"assignee": [_("Work orders can only be assigned to active agents.")]}
        )
    attachments = list(attachments)
    from kefu.tickets.services.conversation import check_upload

    for upload in attachments:
        check_upload(upload)
    try:
        return _insert(actor, data, created_at, team, assignee, parent, attachments)
    except IntegrityError:
        # Numbers imported from another system may collide with the counter: raise the counter
        # past them and try once more (any other integrity error is raised again).
        day = timezone.localdate(created_at or timezone.now())
        if not resync_counter(day):
            raise
        return _insert(actor, data, created_at, team, assignee, parent, attachments)


def _insert(
    actor: User | None,
    data: dict[str, Any],
    created_at: dt.datetime | None,
    team: Team | None,
    assignee: User | None,
    parent: Ticket | None,
    attachments: list[UploadedFile[Any]],
) -> Ticket:
    data = dict(data)
    number = allocate_number(created_at)
    with transaction.atomic():
        tags_objs = data.pop("tags")
        now = created_at or timezone.now()
        ticket = Ticket(
            number=number,
            created_by=actor if actor is not None and actor.pk else None,
            created_at=now,
            updated_at=now,
            team=team or (assignee_team(assignee) if assignee else None) or default_team(),
            assignee=assignee,
            parent=parent,
            line=2 if team is not None and team.kind == Team.Kind.SECOND_LINE else 1,
            status=Status.ASSIGNED if assignee else Status.NEW,
            **data,
        )
        if ticket.contact_name == "" and ticket.customer is not None:
            ticket.contact_name = ticket.customer.name
        ticket.save()
        if tags_objs:
            ticket.tags.set(tags_objs)
        after = snapshot(
            ticket,
            # a work order assigned as it is created starts in "assigned": the event says so,
            # so its history always ends in its current status
            (*CREATE_FIELDS, "team", "assignee", "tags")
            + (("status",) if ticket.status != Status.NEW else ()),
            tags=[tag.name for tag in tags_objs],
        )
        # The new work order's tags are known: answer ticket.tags.all() without a query.
        ticket._prefetched_objects_cache = {"tags": _tag_queryset(ticket, tags_objs)}  # type: ignore[attr-defined]
        from kefu.core.events import diff

        record(
            "ticket_created", ticket, actor=actor, changes=diff({}, after), data={"number": number}
        )
        if attachments:
            from kefu.tickets.services.conversation import add_attachment

            for upload in attachments:
                add_attachment(
                    actor=actor, ticket=ticket, upload=upload, public=True, record_event=False
                )
        if ticket.sensitive:
            from kefu.tickets.services.notify import alert_sensitive

            alert_sensitive(ticket, actor)
        if assignee is not None and actor is not None and assignee.pk != actor.pk:
            from kefu.tickets.services.notify import tell_assignee

            tell_assignee(ticket, actor)
    return ticket


def _tag_queryset(ticket: Ticket, tags: list[Any]) -> Any:
    queryset = ticket.tags.all()
    queryset._result_cache = sorted(tags, key=lambda tag: tag.name)
    queryset._prefetch_done = True  # type: ignore[attr-defined]
    return queryset


def assignee_team(user: User | None) -> Team | None:
    if user is None:
        return None
    membership = (
        user.memberships.select_related("team")
        .filter(team__is_active=True)
        .exclude(team__kind=Team.Kind.DEPARTMENT)
        .first()
    )
    return membership.team if membership else None
