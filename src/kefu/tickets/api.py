"""/api/v1: work orders — list, get, create (idempotent), update, transitions, assignment,
replies and notes, attachments, links, merge, transfers, bulk; and webhooks."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any, Literal

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import File, Form, Query, Router, Schema, Status, UploadedFile
from ninja.errors import HttpError
from pydantic import Field

from kefu.accounts.models import Team, User
from kefu.core.api_base import Input, Out
from kefu.core.pagination import paginate
from kefu.core.permissions import Role, require_perm
from kefu.core.validation import BodyId, PathId, parse_id
from kefu.tickets import selectors, services
from kefu.tickets.access import (
    access_attachment,
    access_ticket,
    access_transfer,
    can_see_internal,
    visible_tickets,
)
from kefu.tickets.models import (
    Attachment,
    Category,
    IdempotentRequest,
    Ticket,
    TicketType,
    Transfer,
    Webhook,
    WebhookDelivery,
)
from kefu.tickets.services import webhooks as hooks

router = Router(tags=["work orders"])

StatusName = Literal[
    "new",
    "assigned",
    "in_progress",
    "waiting_customer",
    "waiting_third_party",
    "resolved",
    "followed_up",
    "closed",
    "cancelled",
    "merged",
]
ViewName = Literal[
    "mine",
    "team",
    "unassigned",
    "waiting",
    "transferred",
    "due_soon",
    "overdue",
    "sensitive",
    "recent",
    "all",
]


class Ref(Out):
    id: int
    name: str


class TicketOut(Out):
    id: int
    number: str
    title: str
    description: str
    type: str
    type_name: str
    category: Ref | None
    subject: str
    channel: str
    priority: int
    severity: str
    status: str
    is_open: bool
    customer: Ref | None
    contact_name: str
    contact_phone: str
    contact_email: str
    place: str
    area: str
    staff_concerned: str
    sensitive: bool
    tags: list[str]
    custom_fields: dict[str, Any]
    team: Ref | None
    assignee: Ref | None
    line: int
    parent: str | None
    merged_into: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    first_response_at: dt.datetime | None
    resolved_at: dt.datetime | None
    closed_at: dt.datetime | None
    sla_due_at: dt.datetime | None = Field(
        description="The nearest running SLA deadline (see GET /tickets/{ref}/sla)"
    )
    sla_metric: str
    sla_paused: bool
    sla_breached: bool
    version: int


def _ref(obj: Any, name: str) -> dict[str, Any] | None:
    return {"id": obj.pk, "name": getattr(obj, name)} if obj is not None else None


def ticket_out(t: Ticket, *, internal: bool = True) -> dict[str, Any]:
    return {
        "id": t.pk,
        "number": t.number,
        "title": t.title,
        "description": t.description,
        "type": t.ticket_type.code,
        "type_name": t.ticket_type.label,
        "category": {"id": t.category.pk, "name": t.category.label} if t.category else None,
        "subject": t.subject,
        "channel": t.channel,
        "priority": t.priority,
        "severity": t.severity,
        "status": t.status,
        "is_open": t.is_open,
        "customer": _ref(t.customer, "name"),
        "contact_name": t.contact_name,
        "contact_phone": t.contact_phone,
        "contact_email": t.contact_email,
        "place": t.place,
        "area": t.area,
        "staff_concerned": t.staff_concerned if internal else "",
        "sensitive": t.sensitive if internal else False,
        "tags": [tag.name for tag in t.tags.all()] if internal else [],
        "custom_fields": t.custom_fields,
        "team": _ref(t.team, "name") if internal else None,
        "assignee": {"id": t.assignee.pk, "name": t.assignee.display_label}
        if internal and t.assignee
        else None,
        "line": t.line,
        "parent": t.parent.number if t.parent_id and t.parent else None,
        "merged_into": t.merged_into.number if t.merged_into_id and t.merged_into else None,
        "created_at": t.created_at,
        "updated_at": t.updated_at,
        "first_response_at": t.first_response_at,
        "resolved_at": t.resolved_at,
        "closed_at": t.closed_at,
        "sla_due_at": t.sla_due_at if internal else None,
        "sla_metric": t.sla_metric if internal else "",
        "sla_paused": internal and t.sla_paused_left is not None,
        "sla_breached": internal and t.sla_breached,
        "version": t.version,
    }


def _detail(user: Any, ref: Any) -> dict[str, Any]:
    ticket = access_ticket(user, ref)
    fresh = (
        Ticket.objects.select_related(
            "ticket_type", "category", "customer", "assignee", "team", "parent", "merged_into"
        )
        .prefetch_related("tags")
        .get(pk=ticket.pk)
    )
    return ticket_out(fresh, internal=can_see_internal(user))


class TicketPage(Out):
    items: list[TicketOut]
    next_cursor: str | None


class TicketFilterIn(Schema):
    view: ViewName = Field(
        "all", description="A workspace view; 'all' is everything the caller may see"
    )
    status: list[StatusName] = Field([], description="One or more statuses")
    type: str | None = Field(None, max_length=30, description="Type code or id")
    category: PathId | None = Field(
        None, description="Category id (its sub-categories are included)"
    )
    channel: str | None = Field(None, max_length=16)
    priority: int | None = Field(None, ge=1, le=4)
    severity: str | None = Field(None, max_length=8)
    subject: str | None = Field(None, max_length=10)
    team: PathId | None = None
    assignee: str | None = Field(
        None, max_length=12, description="User id, or 'none' for unassigned"
    )
    customer: PathId | None = None
    tag: str | None = Field(None, max_length=40)
    sensitive: bool | None = None
    line: int | None = Field(None, ge=1, le=2)
    number: str | None = Field(None, max_length=24)
    q: str | None = Field(None, max_length=100)
    created_after: dt.datetime | None = None
    created_before: dt.datetime | None = None
    updated_after: dt.datetime | None = None
    updated_before: dt.datetime | None = None
    sort: str = Field(
        "-updated_at",
        description="updated_at, created_at, priority, id, or sla_due_at (in the due_soon and "
        "overdue views); prefix - for descending",
    )
    cursor: str | None = None
    limit: int = Field(50, ge=1, le=200)


@router.get("/tickets", response=TicketPage, summary="List work orders")
def list_tickets(request: HttpRequest, f: Query[TicketFilterIn]) -> dict[str, Any]:
    user = request.user
    if user.role != Role.CUSTOMER:  # type: ignore[union-attr]
        require_perm(user, "tickets.view")
    type_id = None
    if f.type:
        type_pk = parse_id(f.type)
        found = (
            TicketType.objects.filter(pk=type_pk).first()
            if type_pk is not None
            else TicketType.objects.filter(code=f.type).first()
        )
        if found is None:
            raise HttpError(422, _("Unknown work-order type “%(v)s”.") % {"v": f.type})
        type_id = found.pk
    assignee: int | None = None
    if f.assignee == "none":
        assignee = 0
    elif f.assignee:
        assignee = parse_id(f.assignee)
        if assignee is None:
            raise HttpError(422, _("assignee must be a user id or 'none'."))
    filters = selectors.TicketFilters(
        status=list(f.status),
        ticket_type=type_id,
        category=f.category,
        channel=f.channel or "",
        priority=f.priority,
        severity=f.severity or "",
        subject=f.subject or "",
        team=f.team,
        assignee=assignee,
        customer=f.customer,
        tag=f.tag or "",
        sensitive=f.sensitive,
        line=f.line,
        number=f.number or "",
        q=f.q or "",
        created_after=f.created_after,
        created_before=f.created_before,
        updated_after=f.updated_after,
        updated_before=f.updated_before,
    )
    view = f.view if user.role != Role.CUSTOMER else "all"  # type: ignore[union-attr]
    if f.sort.lstrip("-") == "sla_due_at" and view not in ("due_soon", "overdue"):
        raise HttpError(422, _("Sorting by SLA deadline works in the due_soon and overdue views."))
    page = selectors.ticket_page(user, view, filters, sort=f.sort, cursor=f.cursor, limit=f.limit)  # type: ignore[arg-type]
    internal = can_see_internal(user)
    return {
        "items": [ticket_out(t, internal=internal) for t in page.items],
        "next_cursor": page.next_cursor,
    }


class BulkIn(Input):
    ids: list[BodyId] = Field(..., min_length=1, max_length=500)
    action: Literal["assign", "team", "transition", "add_tag", "remove_tag", "priority"]
    value: str | int | None = None
    reason: str = Field("", max_length=2000)


class BulkOut(Out):
    done: list[str]
    failed: dict[str, str]


@router.post("/tickets/bulk", response=BulkOut, summary="Apply one action to many work orders")
def bulk(request: HttpRequest, payload: BulkIn) -> dict[str, Any]:
    user = request.user
    assert isinstance(user, User)
    require_perm(user, "tickets.bulk")
    tickets = list(visible_tickets(user).filter(pk__in=payload.ids))
    missing = set(payload.ids) - {t.pk for t in tickets}
    value: Any = payload.value
    if (
        payload.action in ("assign", "team")
        and payload.value not in (None, "", "none")
        and parse_id(payload.value) is None
    ):
        raise HttpError(422, _("value must be a user or team id."))
    if payload.action == "assign":
        value = (
            get_object_or_404(User, pk=parse_id(payload.value))
            if payload.value not in (None, "", "none")
            else None
        )
    elif payload.action == "team":
        value = get_object_or_404(Team, pk=parse_id(payload.value) or 0)
    result = services.bulk_apply(
        actor=user, tickets=tickets, action=payload.action, value=value, reason=payload.reason
    )
    failed = dict(result.failed)
    for pk in sorted(missing):
        failed[str(pk)] = _("Not found.")
    return {"done": result.done, "failed": failed}


@router.get("/tickets/{ref}", response=TicketOut, summary="One work order (by id or number)")
def get_ticket(request: HttpRequest, ref: str) -> dict[str, Any]:
    return _detail(request.user, ref)


class TicketCreate(Input):
    title: str = Field(..., min_length=1, max_length=200)
    description: str = Field("", max_length=20000)
    type: str = Field(..., max_length=30, description="Type code (e.g. fault, complaint) or id")
    category_id: BodyId | None = None
    subject: Literal["", "staff", "equipment", "policy"] = ""
    channel: str = Field("api", max_length=16)
    priority: int | None = Field(None, ge=1, le=4)
    severity: Literal["", "general", "minor", "severe", "down"] = ""
    customer_id: BodyId | None = None
    contact_name: str = Field("", max_length=100)
    contact_phone: str = Field("", max_length=32)
    contact_email: str = Field("", max_length=254)
    place: str = Field("", max_length=200)
    area: Literal["", "urban", "rural", "remote"] = ""
    staff_concerned: str = Field("", max_length=100)
    sensitive: bool = False
    tags: list[str] = Field([], max_length=20)
    custom_fields: dict[str, Any] = {}
    team_id: BodyId | None = None
    assignee_id: BodyId | None = None


def _create(user: User, payload: TicketCreate) -> dict[str, Any]:
    team = get_object_or_404(Team, pk=payload.team_id) if payload.team_id else None
    assignee = get_object_or_404(User, pk=payload.assignee_id) if payload.assignee_id else None
    if user.role == Role.CUSTOMER and (
        team or assignee or payload.sensitive or payload.staff_concerned or payload.area
    ):
        raise HttpError(403, _("Customers cannot set internal fields."))
    ticket = services.create_ticket(
        actor=user,
        title=payload.title,
        description=payload.description,
        ticket_type=payload.type,
        category=payload.category_id,
        subject=payload.subject,
        channel=payload.channel if user.role != Role.CUSTOMER else "portal",
        priority=payload.priority,
        severity=payload.severity,
        customer=payload.customer_id,
        contact_name=payload.contact_name,
        contact_phone=payload.contact_phone,
        contact_email=payload.contact_email,
        place=payload.place,
        area=payload.area,
        staff_concerned=payload.staff_concerned,
        sensitive=payload.sensitive,
        tags=payload.tags,
        custom_fields=payload.custom_fields,
        team=team,
        assignee=assignee,
    )
    return ticket_out(ticket, internal=can_see_internal(user))


@router.post(
    "/tickets",
    response={201: TicketOut, 200: TicketOut},
    summary="Open a work order (send Idempotency-Key to make retries safe)",
)
def create_ticket(request: HttpRequest, payload: TicketCreate) -> Status[Any]:
    user = request.user
    assert isinstance(user, User)
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key:
        return Status(201, _create(user, payload))
    if len(key) > 100:
        raise HttpError(422, _("Idempotency-Key must be at most 100 characters."))
    fingerprint = hashlib.sha256(request.body).hexdigest()
    try:
        with transaction.atomic():
            record = IdempotentRequest.objects.create(user=user, key=key, fingerprint=fingerprint)
    except IntegrityError:
        earlier = IdempotentRequest.objects.get(user=user, key=key)
        if earlier.fingerprint != fingerprint:
            raise HttpError(
                422, _("This Idempotency-Key was used with a different request.")
            ) from None
        if earlier.status_code is None:
            raise HttpError(
                409,
                _("A request with this Idempotency-Key is still being processed; retry shortly."),
            ) from None
        return Status(earlier.status_code, earlier.body)
    try:
        body = _create(user, payload)
    except Exception:
        record.delete()  # nothing was created: the client may retry with the same key
        raise
    record.status_code = 201
    record.body = json.loads(
        json.dumps(TicketOut.model_validate(body).model_dump(), cls=DjangoJSONEncoder)
    )
    record.save(update_fields=["status_code", "body"])
    return Status(201, body)


class TicketUpdate(Input):
    version: int | None = Field(
        None, description="The version you read; a stale one gets 409 Conflict"
    )
    title: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=20000)
    type: str | None = Field(None, max_length=30)
    category_id: BodyId | None = None
    subject: Literal["", "staff", "equipment", "policy"] | None = None
    channel: str | None = Field(None, max_length=16)
    priority: int | None = Field(None, ge=1, le=4)
    severity: Literal["", "general", "minor", "severe", "down"] | None = None
    customer_id: BodyId | None = None
    contact_name: str | None = Field(None, max_length=100)
    contact_phone: str | None = Field(None, max_length=32)
    contact_email: str | None = Field(None, max_length=254)
    place: str | None = Field(None, max_length=200)
    area: Literal["", "urban", "rural", "remote"] | None = None
    staff_concerned: str | None = Field(None, max_length=100)
    sensitive: bool | None = None
    tags: list[str] | None = Field(None, max_length=20)
    custom_fields: dict[str, Any] | None = None


_RENAMES = {"type": "ticket_type", "category_id": "category", "customer_id": "customer"}


@router.patch("/tickets/{ref}", response=TicketOut, summary="Change a work order's fields")
def update_ticket(request: HttpRequest, ref: str, payload: TicketUpdate) -> dict[str, Any]:
    user = request.user
    assert isinstance(user, User)
    ticket = access_ticket(user, ref, perm="tickets.edit")
    data = payload.model_dump(exclude_unset=True, exclude={"version"})
    nullable = {"category_id", "customer_id"}
    changes = {_RENAMES.get(k, k): v for k, v in data.items() if v is not None or k in nullable}
    services.update_ticket(
        actor=user, ticket=ticket, changes=changes, expected_version=payload.version
    )
    return _detail(user, ticket.pk)


class TransitionIn(Input):
    to: StatusName
    reason: str = Field("", max_length=2000)
    reply: str | None = Field(
        None, max_length=20000, description="A reply to the customer sent with the move"
    )
    followup_result: Literal["", "satisfied", "dissatisfied", "unreachable"] = ""
    close_children: bool = False
    version: int | None = None


@router.post(
    "/tickets/{ref}/transitions",
    response=TicketOut,
    summary="Move a work order through its lifecycle",
)
def transition(request: HttpRequest, ref: str, payload: TransitionIn) -> dict[str, Any]:
    user = request.user
    assert isinstance(user, User)
    ticket = access_ticket(
        user, ref, perm="tickets.view" if user.role == Role.CUSTOMER else "tickets.transition"
    )
    services.transition_ticket(
        actor=user,
        ticket=ticket,
        to=payload.to,
        reason=payload.reason,
        reply=payload.reply,
        followup_result=payload.followup_result,
        close_children=payload.close_children,
        expected_version=payload.version,
    )
    return _detail(user, ticket.pk)


class AssignIn(Input):
    assignee_id: BodyId | None = Field(None, description="Null returns it to the team's pool")
    team_id: BodyId | None = None
    version: int | None = None


@router.post("/tickets/{ref}/assign", response=TicketOut, summary="Assign a work order")
def assign(request: HttpRequest, ref: str, payload: AssignIn) -> dict[str, Any]:
    user = request.user
    assert isinstance(user, User)
    ticket = access_ticket(user, ref, perm="tickets.assign")
    assignee = get_object_or_404(User, pk=payload.assignee_id) if payload.assignee_id else None
    team = get_object_or_404(Team, pk=payload.team_id) if payload.team_id else None
    services.assign_ticket(
        actor=user, ticket=ticket, assignee=assignee, team=team, expected_version=payload.version
    )
    return _detail(user, ticket.pk)


class EscalateIn(Input):
    reason: str = Field(..., min_length=1, max_length=2000)
    team_id: BodyId | None = None
    assignee_id: BodyId | None = None


@router.post("/tickets/{ref}/escalate", response=TicketOut, summary="Escalate to the second line")
def escalate(request: HttpRequest, ref: str, payload: EscalateIn) -> dict[str, Any]:
    user = request.user
    assert isinstance(user, User)
    ticket = access_ticket(user, ref, perm="tickets.escalate")
    team = get_object_or_404(Team, pk=payload.team_id) if payload.team_id else None
    assignee = get_object_or_404(User, pk=payload.assignee_id) if payload.assignee_id else None
    services.escalate_ticket(
        actor=user, ticket=ticket, reason=payload.reason, team=team, assignee=assignee
    )
    return _detail(user, ticket.pk)


class MessageIn(Input):
    body: str = Field(..., min_length=1, max_length=20000)


class MessageOut(Out):
    id: int
    kind: str
    author: str
    body: str
    created_at: dt.datetime
    attachments: list[dict[str, Any]]


def message_out(message: Any, attachments: list[Attachment] | None = None) -> dict[str, Any]:
    return {
        "id": message.pk,
        "kind": message.kind,
        "author": message.author_name,
        "body": message.body,
        "created_at": message.created_at,
        "attachments": [
            {"id": a.pk, "filename": a.filename, "size": a.size, "content_type": a.content_type}
            for a in (attachments or [])
        ],
    }


@router.post(
    "/tickets/{ref}/replies",
    response={201: MessageOut},
    summary="Reply to the customer (customers: write to the centre)",
)
def add_reply(request: HttpRequest, ref: str, payload: MessageIn) -> Status[Any]:
    user = request.user
    assert isinstance(user, User)
    ticket = access_ticket(user, ref, perm="tickets.reply")
    if user.role == Role.CUSTOMER:
        message = services.add_customer_message(actor=user, ticket=ticket, body=payload.body)
    else:
        message = services.add_reply(actor=user, ticket=ticket, body=payload.body)
    return Status(201, message_out(message))


@router.post(
    "/tickets/{ref}/notes",
    response={201: MessageOut},
    summary="Add an internal note (@mentions notify)",
)
def add_note(request: HttpRequest, ref: str, payload: MessageIn) -> Status[Any]:
    user = request.user
    assert isinstance(user, User)
    ticket = access_ticket(user, ref, perm="tickets.note")
    return Status(201, message_out(services.add_note(actor=user, ticket=ticket, body=payload.body)))


class TimelineEntry(Out):
    id: int
    at: dt.datetime
    actor: str
    action: str
    changes: dict[str, Any]
    data: dict[str, Any]
    message: MessageOut | None


@router.get(
    "/tickets/{ref}/timeline",
    response=list[TimelineEntry],
    summary="Every change and message (customers: the public ones)",
)
def timeline(request: HttpRequest, ref: str) -> list[dict[str, Any]]:
    user = request.user
    ticket = access_ticket(user, ref)
    internal = can_see_internal(user)
    return [
        {
            "id": item.event.pk,
            "at": item.event.at,
            "actor": item.event.actor_label,
            "action": item.event.action,
            "changes": item.event.changes
            if internal
            else {k: v for k, v in item.event.changes.items() if k == "status"},
            "data": item.event.data if internal else {},
            "message": message_out(item.message, item.attachments) if item.message else None,
        }
        for item in selectors.timeline(ticket, internal=internal)
    ]


class AttachmentOut(Out):
    id: int
    filename: str
    content_type: str
    size: int
    is_public: bool
    url: str
    created_at: dt.datetime


def attachment_out(a: Attachment) -> dict[str, Any]:
    from django.urls import reverse

    return {
        "id": a.pk,
        "filename": a.filename,
        "content_type": a.content_type,
        "size": a.size,
        "is_public": a.is_public,
        "url": reverse("tickets:attachment", args=[a.pk]),
        "created_at": a.created_at,
    }


@router.get(
    "/tickets/{ref}/attachments", response=list[AttachmentOut], summary="Files of a work order"
)
def list_attachments(request: HttpRequest, ref: str) -> list[dict[str, Any]]:
    user = request.user
    ticket = access_ticket(user, ref)
    return [
        attachment_out(a) for a in selectors.ticket_files(ticket, internal=can_see_internal(user))
    ]


@router.post(
    "/tickets/{ref}/attachments",
    response={201: AttachmentOut},
    summary="Attach a file (multipart field 'file')",
)
def add_attachment(
    request: HttpRequest, ref: str, file: File[UploadedFile], public: Form[bool] = True
) -> Status[Any]:
    user = request.user
    assert isinstance(user, User)
    ticket = access_ticket(
        user, ref, perm="tickets.reply" if user.role == Role.CUSTOMER else "tickets.note"
    )
    with transaction.atomic():
        attachment = services.add_attachment(
            actor=user, ticket=ticket, upload=file, public=public or user.role == Role.CUSTOMER
        )
    return Status(201, attachment_out(attachment))


@router.get(
    "/attachments/{attachment_id}",
    response=AttachmentOut,
    summary="An attachment's details (download at its url)",
)
def get_attachment(request: HttpRequest, attachment_id: PathId) -> dict[str, Any]:
    return attachment_out(access_attachment(request.user, attachment_id))


class LinkIn(Input):
    ticket: str = Field(..., max_length=24, description="The other work order's number or id")
    kind: Literal["related", "parent"] = "related"


def _other(user: Any, ref: str) -> Ticket:
    return access_ticket(user, ref)


@router.post(
    "/tickets/{ref}/links",
    response=TicketOut,
    summary="Link a related work order, or set the parent",
)
def add_link(request: HttpRequest, ref: str, payload: LinkIn) -> dict[str, Any]:
    user = request.user
    assert isinstance(user, User)
    ticket = access_ticket(user, ref, perm="tickets.link")
    other = _other(user, payload.ticket)
    if payload.kind == "parent":
        services.set_parent(actor=user, ticket=ticket, parent=other)
    else:
        services.link_tickets(actor=user, ticket=ticket, other=other)
    return _detail(user, ticket.pk)


@router.delete("/tickets/{ref}/links/{other}", response=TicketOut, summary="Remove a link")
def remove_link(request: HttpRequest, ref: str, other: str) -> dict[str, Any]:
    user = request.user
    assert isinstance(user, User)
    ticket = access_ticket(user, ref, perm="tickets.link")
    services.unlink_tickets(actor=user, ticket=ticket, other=_other(user, other))
    return _detail(user, ticket.pk)


@router.delete("/tickets/{ref}/parent", response=TicketOut, summary="Remove the parent")
def remove_parent(request: HttpRequest, ref: str) -> dict[str, Any]:
    user = request.user
    assert isinstance(user, User)
    ticket = access_ticket(user, ref, perm="tickets.link")
    services.set_parent(actor=user, ticket=ticket, parent=None)
    return _detail(user, ticket.pk)


class MergeIn(Input):
    into: str = Field(..., max_length=24, description="Number or id of the work order to keep")
    reason: str = Field("", max_length=2000)


@router.post(
    "/tickets/{ref}/merge",
    response=TicketOut,
    summary="Merge this duplicate into another work order",
)
def merge(request: HttpRequest, ref: str, payload: MergeIn) -> dict[str, Any]:
    user = request.user
    assert isinstance(user, User)
    source = access_ticket(user, ref, perm="tickets.merge")
    target = _other(user, payload.into)
    services.merge_tickets(actor=user, source=source, target=target, reason=payload.reason)
    return _detail(user, target.pk)


class TransferIn(Input):
    department_id: BodyId
    instructions: str = Field(..., min_length=1, max_length=4000)
    due_at: dt.datetime | None = None


class TransferOut(Out):
    id: int
    ticket: str
    department: Ref
    state: str
    instructions: str
    due_at: dt.datetime
    reply: str
    replied_at: dt.datetime | None
    review_note: str


def transfer_out(t: Transfer) -> dict[str, Any]:
    return {
        "id": t.pk,
        "ticket": t.ticket.number,
        "department": {"id": t.department.pk, "name": t.department.name},
        "state": t.state,
        "instructions": t.instructions,
        "due_at": t.due_at,
        "reply": t.reply,
        "replied_at": t.replied_at,
        "review_note": t.review_note,
    }


@router.post(
    "/tickets/{ref}/transfers",
    response={201: TransferOut},
    summary="Transfer to a responsible department",
)
def create_transfer(request: HttpRequest, ref: str, payload: TransferIn) -> Status[Any]:
    user = request.user
    assert isinstance(user, User)
    ticket = access_ticket(user, ref, perm="tickets.transfer")
    department = get_object_or_404(Team, pk=payload.department_id)
    transfer = services.transfer_ticket(
        actor=user,
        ticket=ticket,
        department=department,
        instructions=payload.instructions,
        due_at=payload.due_at,
    )
    return Status(201, transfer_out(transfer))


@router.get(
    "/transfers", response=list[TransferOut], summary="Transfers to my departments (liaisons)"
)
def list_transfers(
    request: HttpRequest,
    state: Literal["open", "replied", "returned", "accepted", "rejected", "withdrawn"]
    | None = None,
) -> list[dict[str, Any]]:
    from kefu.tickets.access import department_transfers

    require_perm(request.user, "transfers.reply")
    qs = (
        department_transfers(request.user).select_related("ticket", "department").order_by("due_at")
    )
    if state:
        qs = qs.filter(state=state)
    return [transfer_out(t) for t in qs[:500]]


class TransferAnswer(Input):
    text: str = Field(..., min_length=1, max_length=10000)


@router.post(
    "/transfers/{transfer_id}/reply", response=TransferOut, summary="The department's reply"
)
def reply_transfer(
    request: HttpRequest, transfer_id: PathId, payload: TransferAnswer
) -> dict[str, Any]:
    user = request.user
    assert isinstance(user, User)
    return transfer_out(
        services.reply_to_transfer(
            actor=user, transfer=access_transfer(user, transfer_id), reply=payload.text
        )
    )


@router.post(
    "/transfers/{transfer_id}/return",
    response=TransferOut,
    summary="Send it back as not the department's",
)
def return_transfer(
    request: HttpRequest, transfer_id: PathId, payload: TransferAnswer
) -> dict[str, Any]:
    user = request.user
    assert isinstance(user, User)
    return transfer_out(
        services.return_transfer(
            actor=user, transfer=access_transfer(user, transfer_id), reason=payload.text
        )
    )


class ReviewIn(Input):
    accept: bool
    note: str = Field("", max_length=4000)


@router.post(
    "/transfers/{transfer_id}/review",
    response=TransferOut,
    summary="Accept or reject the department's reply",
)
def review_transfer(request: HttpRequest, transfer_id: PathId, payload: ReviewIn) -> dict[str, Any]:
    user = request.user
    assert isinstance(user, User)
    transfer = access_transfer(user, transfer_id)
    access_ticket(user, transfer.ticket_id, perm="tickets.transfer")
    return transfer_out(
        services.review_transfer(
            actor=user, transfer=transfer, accept=payload.accept, note=payload.note
        )
    )


class TypeOut(Out):
    id: int
    code: str
    name: str
    name_en: str
    default_priority: int
    portal_visible: bool


@router.get("/ticket-types", response=list[TypeOut], summary="Work-order types")
def list_types(request: HttpRequest) -> list[TicketType]:
    return list(TicketType.objects.filter(is_active=True))


class CategoryOut(Out):
    id: int
    parent_id: int | None
    name: str
    name_en: str
    path: str
    level: int


@router.get("/categories", response=list[CategoryOut], summary="The category tree, flattened")
def list_categories(request: HttpRequest) -> list[Category]:
    return list(Category.objects.filter(is_active=True).order_by("path"))


# --- webhooks (administrators) ------------------------------------------------------------------


class WebhookOut(Out):
    id: int
    name: str
    url: str
    events: list[str]
    is_active: bool
    allow_private: bool
    secret: str
    created_at: dt.datetime


class WebhookIn(Input):
    name: str = Field(..., min_length=1, max_length=80)
    url: str = Field(..., max_length=500)
    events: list[str] = []
    allow_private: bool = False


class WebhookUpdate(Input):
    name: str | None = Field(None, min_length=1, max_length=80)
    url: str | None = Field(None, max_length=500)
    events: list[str] | None = None
    is_active: bool | None = None
    allow_private: bool | None = None
    rotate_secret: bool = False


class DeliveryOut(Out):
    id: int
    event_type: str
    state: str
    attempts: int
    last_status: int | None
    last_error: str
    next_attempt_at: dt.datetime | None
    created_at: dt.datetime
    delivered_at: dt.datetime | None


@router.get("/webhooks", response=list[WebhookOut], tags=["webhooks"], summary="Webhooks")
def list_webhooks(request: HttpRequest) -> list[Webhook]:
    require_perm(request.user, "webhooks.manage")
    return list(Webhook.objects.all())


@router.post("/webhooks", response={201: WebhookOut}, tags=["webhooks"], summary="Create a webhook")
def create_webhook(request: HttpRequest, payload: WebhookIn) -> Status[Any]:
    user = request.user
    assert isinstance(user, User)
    return Status(
        201,
        hooks.create_webhook(
            actor=user,
            name=payload.name,
            url=payload.url,
            events_=payload.events,
            allow_private=payload.allow_private,
        ),
    )


@router.patch(
    "/webhooks/{webhook_id}", response=WebhookOut, tags=["webhooks"], summary="Change a webhook"
)
def update_webhook(request: HttpRequest, webhook_id: PathId, payload: WebhookUpdate) -> Webhook:
    user = request.user
    assert isinstance(user, User)
    require_perm(user, "webhooks.manage")
    webhook = get_object_or_404(Webhook, pk=webhook_id)
    changes = payload.model_dump(exclude_unset=True, exclude={"rotate_secret"})
    return hooks.update_webhook(
        actor=user,
        webhook=webhook,
        changes={k: v for k, v in changes.items() if v is not None},
        rotate_secret=payload.rotate_secret,
    )


@router.delete(
    "/webhooks/{webhook_id}", response={204: None}, tags=["webhooks"], summary="Delete a webhook"
)
def delete_webhook(request: HttpRequest, webhook_id: PathId) -> Status[Any]:
    user = request.user
    assert isinstance(user, User)
    require_perm(user, "webhooks.manage")
    hooks.delete_webhook(actor=user, webhook=get_object_or_404(Webhook, pk=webhook_id))
    return Status(204, None)


@router.get(
    "/webhooks/{webhook_id}/deliveries",
    response=list[DeliveryOut],
    tags=["webhooks"],
    summary="The delivery log",
)
def list_deliveries(
    request: HttpRequest, webhook_id: PathId, cursor: str | None = None
) -> list[WebhookDelivery]:
    require_perm(request.user, "webhooks.manage")
    webhook = get_object_or_404(Webhook, pk=webhook_id)
    page = paginate(
        webhook.deliveries.all(),
        sort="-id",
        keys={"id": selectors.SORT_KEYS["id"]},
        cursor=cursor,
        limit=200,
    )
    return page.items
