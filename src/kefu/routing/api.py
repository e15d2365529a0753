"""The unified queue in the API: presence, queues, items (calls, chats, e-mails and callbacks
from the telephony or chat system), offers and supervisor actions."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Query, Router, Schema, Status
from pydantic import Field

from kefu.accounts.models import User
from kefu.core.api_base import Input, Out
from kefu.core.permissions import AGENT_ROLES, has_perm, require_perm, require_staff
from kefu.core.validation import BodyId, PathId
from kefu.customers.models import Customer
from kefu.routing import services
from kefu.routing.models import Kind, Presence, QueueItem
from kefu.routing.selectors import agents_overview, visible_item, visible_queues

router = Router(tags=["routing"])


def _user(request: HttpRequest) -> User:
    user = request.user
    require_staff(user)
    assert isinstance(user, User)
    return user


class PresenceOut(Out):
    user: int
    state: str
    reason: str
    since: dt.datetime


class PresenceIn(Input):
    state: Literal["available", "busy", "after_call", "break", "offline"]
    reason: Literal["", "meal", "training", "meeting", "coaching", "rest"] = ""


def _presence_out(p: Presence) -> dict[str, Any]:
    return {"user": p.user_id, "state": p.state, "reason": p.reason, "since": p.since}


@router.get("/routing/presence", response=PresenceOut, summary="My presence")
def my_presence(request: HttpRequest) -> dict[str, Any]:
    return _presence_out(services.presence_of(_user(request)))


@router.put("/routing/presence", response=PresenceOut, summary="Set my presence")
def put_presence(request: HttpRequest, payload: PresenceIn) -> dict[str, Any]:
    user = _user(request)
    return _presence_out(
        services.set_presence(actor=user, user=user, state=payload.state, reason=payload.reason)
    )


class QueueOut(Out):
    id: int
    code: str
    name: str
    strategy: str
    waiting: int
    offered: int
    longest_wait_seconds: int


@router.get(
    "/routing/queues", response=list[QueueOut], summary="Queues I serve (all, for supervisors)"
)
def list_queues(request: HttpRequest) -> list[dict[str, Any]]:
    queues = list(visible_queues(_user(request)))
    summary = services.waiting_summary(queues, timezone.now())
    return [
        {
            "id": q.pk,
            "code": q.code,
            "name": q.name,
            "strategy": q.strategy,
            "waiting": summary[q.pk]["waiting"],
            "offered": summary[q.pk]["offered"],
            "longest_wait_seconds": summary[q.pk]["longest_wait"],
        }
        for q in queues
    ]


class ItemOut(Out):
    id: int
    queue: str
    queue_name: str
    kind: str
    kind_label: str
    title: str
    state: str
    ticket: int | None
    customer: int | None
    phone: str
    required_skills: list[str]
    preferred_skills: list[str]
    language: str
    bonus_seconds: int
    arrived_at: dt.datetime
    not_before: dt.datetime | None
    agent: int | None
    offer_expires_at: dt.datetime | None


def _item_out(i: QueueItem) -> dict[str, Any]:
    return {
        "id": i.pk,
        "queue": i.queue.code,
        "queue_name": i.queue.name,
        "kind": i.kind,
        "kind_label": str(Kind(i.kind).label),
        "title": i.title,
        "state": i.state,
        "ticket": i.ticket_id,
        "customer": i.customer_id,
        "phone": i.phone,
        "required_skills": i.required_skills,
        "preferred_skills": i.preferred_skills,
        "language": i.language,
        "bonus_seconds": i.bonus,
        "arrived_at": i.arrived_at,
        "not_before": i.not_before,
        "agent": i.agent_id,
        "offer_expires_at": i.offer_expires_at,
    }


class ItemsQuery(Schema):
    queue: str | None = Field(None, max_length=30)
    state: Literal["waiting", "offered", "assigned", "done", "cancelled"] = "waiting"
    limit: int = Field(100, ge=1, le=500)


@router.get(
    "/routing/items",
    response=list[ItemOut],
    summary="Items, most urgent first",
    url_name="routing_items",
)
def list_items(request: HttpRequest, q: Query[ItemsQuery]) -> list[dict[str, Any]]:
    user = _user(request)
    items = QueueItem.objects.filter(queue__in=visible_queues(user), state=q.state)
    if q.queue:
        items = items.filter(queue__code=q.queue)
    if not has_perm(user, "routing.supervise") and q.state != "waiting":
        items = items.filter(agent=user)
    return [
        _item_out(i) for i in items.select_related("queue").order_by("rank_at", "pk")[: q.limit]
    ]


class ItemIn(Input):
    queue: str = Field(..., max_length=30, description="Queue code")
    kind: Literal["call", "chat", "email", "callback"]
    title: str = Field(..., min_length=1, max_length=200)
    customer: BodyId | None = None
    phone: str = Field("", max_length=32)
    business_type: str = Field("", max_length=30)
    required_skills: list[str] = Field([], max_length=20)
    preferred_skills: list[str] = Field([], max_length=20)
    language: str = Field("", max_length=10)
    not_before: dt.datetime | None = Field(None, description="For callbacks: the booked time")


@router.post(
    "/routing/items",
    response={201: ItemOut},
    summary="Put a call, chat, e-mail or callback in a queue",
)
def add_item(request: HttpRequest, payload: ItemIn) -> Status[Any]:
    user = _user(request)
    require_perm(user, "routing.enqueue")
    queue = get_object_or_404(visible_queues(user), code=payload.queue)
    customer = (
        get_object_or_404(Customer.objects.select_related("vip_tier"), pk=payload.customer)
        if payload.customer
        else None
    )
    item = services.add_item(
        actor=user,
        queue=queue,
        kind=payload.kind,
        title=payload.title,
        customer=customer,
        phone=payload.phone,
        business_type=payload.business_type,
        required_skills=payload.required_skills,
        preferred_skills=payload.preferred_skills,
        language=payload.language,
        not_before=payload.not_before,
    )
    item.refresh_from_db()
    return Status(201, _item_out(item))


class ActionIn(Input):
    reason: str = Field("", max_length=200)
    agent: BodyId | None = Field(None, description="For reassign: the agent's user id")


@router.post(
    "/routing/items/{item_id}/{action}",
    response=ItemOut,
    summary="accept, decline, pick, finish, or (supervisors) reassign",
)
def act(
    request: HttpRequest,
    item_id: PathId,
    action: Literal["accept", "decline", "pick", "finish", "reassign"],
    payload: ActionIn,
) -> dict[str, Any]:
    user = _user(request)
    item = visible_item(user, item_id)
    agent = None
    if action == "reassign":
        agent = get_object_or_404(User, pk=payload.agent or 0, role__in=AGENT_ROLES)
    item = services.act(actor=user, item=item, action=action, reason=payload.reason, agent=agent)
    item.refresh_from_db()
    return _item_out(item)


class AgentOut(Out):
    id: int
    name: str
    state: str
    reason: str
    since: dt.datetime | None
    load: dict[str, list[int]]


@router.get(
    "/routing/agents", response=list[AgentOut], summary="Agents' presence and load (supervisors)"
)
def list_agents(request: HttpRequest) -> list[dict[str, Any]]:
    require_perm(_user(request), "routing.supervise")
    return [
        {
            "id": row["user"].pk,
            "name": row["user"].display_label,
            "state": row["state"],
            "reason": row["reason"],
            "since": row["since"],
            "load": {channel: list(pair) for channel, pair in row["loads"].items()},
        }
        for row in agents_overview()
    ]
