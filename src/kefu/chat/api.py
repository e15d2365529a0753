"""Live chat in the API, for staff: chats and their transcripts, the supervisors' live queue,
and ending, transferring and work orders through the chat services.

Every chat is loaded through ``chat.access``: ``access_chat`` for one, ``visible_chats`` for
lists (the same rule for many). A guest's chat token is not an API token, so guests never
reach these.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import prefetch_related_objects
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Status
from pydantic import Field

from kefu.accounts.models import Team, User
from kefu.chat import services
from kefu.chat.access import access_chat, chat_right, visible_chats
from kefu.chat.models import Conversation, Message, WrapUpCode
from kefu.core.api_base import Input, Out
from kefu.core.exports import SafeCsvWriter
from kefu.core.pagination import SortKey, paginate
from kefu.core.permissions import has_perm, require_perm
from kefu.core.validation import BodyId, PathId

router = Router(tags=["Live chat"])

TRANSCRIPT_LIMIT = 5000
"""Messages in one transcript, as on the transcript screen."""


# --- who sees which chats --------------------------------------------------------------------------


def _require_chat_staff(user: Any) -> None:
    if not any(has_perm(user, p) for p in ("chat.view", "chat.work", "chat.supervise")):
        raise PermissionDenied(_("You do not have permission to do this."))


def _sees_whispers(user: Any, right: str) -> bool:
    """Whispers are for the chat's staff (its agent, supervisors), not for transcript readers;
    the same rule as the transcript screen."""
    return right != "read" or has_perm(user, "chat.supervise")


# --- shapes ---------------------------------------------------------------------------------------


class ChatOut(Out):
    id: int
    state: str
    widget: int
    widget_name: str
    guest_name: str
    guest_contact: str
    topic: str
    language: str
    origin: str
    customer: int | None
    agent: int | None
    agent_name: str
    team: int | None
    ticket: str | None
    wrap_up: str | None
    wrap_up_note: str
    rating: int | None
    rating_comment: str
    last_seq: int
    created_at: dt.datetime
    accepted_at: dt.datetime | None
    ended_at: dt.datetime | None


class ChatPage(Out):
    items: list[ChatOut]
    next_cursor: str | None


class ChatFileOut(Out):
    id: int
    name: str
    content_type: str
    size: int
    url: str


class ChatMessageOut(Out):
    seq: int
    sender: str
    author: int | None
    author_name: str
    body: str
    file: ChatFileOut | None
    created_at: dt.datetime


class ChatDetailOut(ChatOut):
    right: str
    whispers_shown: bool
    messages: list[ChatMessageOut]


class QueuedChatOut(Out):
    chat: ChatOut
    queue: int
    queue_name: str
    position: int
    waited_s: int
    estimated_wait_s: int
    offered_to: int | None


class ChatQueueOut(Out):
    items: list[QueuedChatOut]


def _customer_shown(user: Any) -> Any:
    from kefu.customers.access import customer_check

    return customer_check(user)


def _out(c: Conversation, shown: Any) -> dict[str, Any]:
    return {
        "id": c.pk,
        "state": c.state,
        "widget": c.widget_id,
        "widget_name": c.widget.name,
        "guest_name": c.guest_name,
        "guest_contact": c.guest_contact,
        "topic": c.topic,
        "language": c.language,
        "origin": c.origin,
        "customer": c.customer_id if shown(c.customer_id) else None,
        "agent": c.agent_id,
        "agent_name": c.agent.display_name if c.agent_id and c.agent else "",
        "team": c.team_id,
        "ticket": c.ticket.number if c.ticket_id and c.ticket else None,
        "wrap_up": c.wrap_up.code if c.wrap_up_id and c.wrap_up else None,
        "wrap_up_note": c.wrap_up_note,
        "rating": c.rating,
        "rating_comment": c.rating_comment,
        "last_seq": c.last_seq,
        "created_at": c.created_at,
        "accepted_at": c.accepted_at,
        "ended_at": c.ended_at,
    }


def _message(m: Message) -> dict[str, Any]:
    return {
        "seq": m.seq,
        "sender": m.sender,
        "author": m.author_id,
        "author_name": m.author.display_name if m.author_id and m.author else "",
        "body": m.body,
        "file": {
            "id": m.pk,
            "name": m.file_name,
            "content_type": m.content_type,
            "size": m.size,
            "url": reverse("chat:file", args=[m.pk]),
        }
        if m.file
        else None,
        "created_at": m.created_at,
    }


def _chat(request: HttpRequest, pk: int) -> dict[str, Any]:
    return _out(access_chat(request.user, pk), _customer_shown(request.user))


# --- reading --------------------------------------------------------------------------------------

STATES = [s.value for s in Conversation.State]
SORT = {"created": SortKey("created_at", "datetime")}


class ChatFilter(Input):
    status: str = Field("", max_length=10, description="waiting, active or ended")
    agent: PathId | None = None
    team: PathId | None = None
    widget: PathId | None = None
    start: dt.date | None = Field(None, alias="from", description="First day (local), started")
    end: dt.date | None = Field(None, alias="to", description="Last day (local), inclusive")
    cursor: str | None = Field(None, max_length=200)
    limit: int = Field(50, ge=1, le=200)


@router.get("/chats", response=ChatPage, summary="Chats, newest first")
def list_chats(request: HttpRequest, f: Query[ChatFilter]) -> dict[str, Any]:
    """The chats the caller may open: a supervisor's all, an agent's own and those of
    customers they may see (as the chat screens allow)."""
    user = request.user
    _require_chat_staff(user)
    if f.status and f.status not in STATES:
        raise ValidationError({"status": [_("Choose one of: %(s)s.") % {"s": ", ".join(STATES)}]})
    if f.start and f.end and f.end < f.start:
        raise ValidationError({"to": [_("“to” is before “from”.")]})
    qs = visible_chats(user).select_related("widget", "agent", "ticket", "wrap_up")
    if f.status:
        qs = qs.filter(state=f.status)
    if f.agent:
        qs = qs.filter(agent_id=f.agent)
    if f.team:
        qs = qs.filter(team_id=f.team)
    if f.widget:
        qs = qs.filter(widget_id=f.widget)
    tz = ZoneInfo(settings.TIME_ZONE)
    if f.start:
        qs = qs.filter(created_at__gte=dt.datetime.combine(f.start, dt.time.min, tzinfo=tz))
    if f.end:
        after = f.end + dt.timedelta(days=1)
        qs = qs.filter(created_at__lt=dt.datetime.combine(after, dt.time.min, tzinfo=tz))
    page = paginate(qs, sort="-created", keys=SORT, cursor=f.cursor, limit=f.limit)
    shown = _customer_shown(user)
    return {"items": [_out(c, shown) for c in page.items], "next_cursor": page.next_cursor}


@router.get("/chats/queue", response=ChatQueueOut, summary="Chats waiting now (supervisors)")
def chat_queue(request: HttpRequest) -> dict[str, Any]:
    """Every waiting chat, first in line first, with its place in its queue, how long it has
    waited there and the estimate the customer is shown."""
    require_perm(request.user, "chat.supervise")
    shown = _customer_shown(request.user)
    queued = services.live_queue()
    # a transferred chat may carry its work order already
    prefetch_related_objects([row.conversation for row in queued], "ticket")
    items = []
    for row in queued:
        item = row.conversation.queue_item
        assert item is not None
        items.append(
            {
                "chat": _out(row.conversation, shown),
                "queue": item.queue_id,
                "queue_name": item.queue.name,
                "position": row.position,
                "waited_s": row.waited_seconds,
                "estimated_wait_s": row.estimated_wait_seconds,
                "offered_to": item.agent_id,
            }
        )
    return {"items": items}


@router.get("/chats/{chat_id}", response=ChatDetailOut, summary="One chat with its transcript")
def get_chat(request: HttpRequest, chat_id: PathId) -> dict[str, Any]:
    """Messages in order; whispers only for the chat's agent and supervisors."""
    data = _chat(request, chat_id)
    right = chat_right(request.user, chat_id)
    whispers = _sees_whispers(request.user, right)
    rows = services.messages_after(chat_id, 0, for_staff=whispers, limit=TRANSCRIPT_LIMIT)
    return {
        **data,
        "right": right,
        "whispers_shown": whispers,
        "messages": [_message(m) for m in rows],
    }


@router.get(
    "/chats/{chat_id}/transcript.csv",
    summary="A chat's transcript as CSV",
    openapi_extra={"responses": {200: {"description": "CSV", "content": {"text/csv": {}}}}},
)
def export_transcript(request: HttpRequest, chat_id: PathId) -> HttpResponse:
    """One row per message (whispers as in the chat's view); cells that a spreadsheet would
    read as a formula are written as text."""
    conversation = access_chat(request.user, chat_id)
    whispers = _sees_whispers(request.user, chat_right(request.user, chat_id))
    rows = services.messages_after(chat_id, 0, for_staff=whispers, limit=TRANSCRIPT_LIMIT)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="chat-{conversation.pk}.csv"'
    response.write("\ufeff")
    writer = SafeCsvWriter(response)
    writer.writerow([_("No."), _("Time"), _("Sender"), _("Name"), _("Content"), _("File")])
    senders = dict(Message.Sender.choices)
    for m in rows:
        if m.sender == Message.Sender.GUEST:
            name = conversation.guest_name
        else:
            name = m.author.display_name if m.author_id and m.author else ""
        at = timezone.localtime(m.created_at).strftime("%Y-%m-%d %H:%M:%S")
        writer.writerow([m.seq, at, str(senders[m.sender]), name, m.body, m.file_name])
    return response


# --- acting ---------------------------------------------------------------------------------------


def _writable(request: HttpRequest, pk: int) -> Conversation:
    """The chat for the serving agent or a supervisor; 404 for anyone else (as the screens)."""
    return access_chat(request.user, pk, write=True)


def _actor(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied
    return user


class ChatEndIn(Input):
    wrap_up: str | None = Field(None, max_length=30, description="A wrap-up code")
    note: str = Field("", max_length=500)


@router.post("/chats/{chat_id}/end", response=ChatOut, summary="End a chat with a wrap-up code")
def end_chat(request: HttpRequest, chat_id: PathId, payload: ChatEndIn) -> dict[str, Any]:
    conversation = _writable(request, chat_id)
    code = None
    if payload.wrap_up:
        code = WrapUpCode.objects.filter(code=payload.wrap_up).first()
        if code is None:
            raise ValidationError(
                {"wrap_up": [_("Unknown wrap-up code “%(c)s”.") % {"c": payload.wrap_up}]}
            )
    ended = services.end_chat(
        actor=_actor(request), conversation=conversation, wrap_up=code, note=payload.note
    )
    # the chat as it now is: an agent who may work on chats but not read ended ones (a
    # chat:write token) may no longer open it, and must still learn that it ended
    ended = Conversation.objects.select_related("widget", "agent", "ticket", "wrap_up").get(
        pk=ended.pk
    )
    return _out(ended, _customer_shown(request.user))


class ChatTransferIn(Input):
    agent: BodyId | None = None
    team: BodyId | None = None
    note: str = Field("", max_length=500)


@router.post("/chats/{chat_id}/transfer", response=ChatOut, summary="Transfer a chat")
def transfer_chat(request: HttpRequest, chat_id: PathId, payload: ChatTransferIn) -> dict[str, Any]:
    """To an agent or to a team (its first active queue that takes chats), with a note the
    next agent reads as a whisper."""
    conversation = _writable(request, chat_id)
    agent = team = None
    if payload.agent is not None:
        agent = User.objects.filter(pk=payload.agent, is_active=True).first()
        if agent is None:
            raise ValidationError({"agent": [_("No active user has this id.")]})
    if payload.team is not None:
        team = Team.objects.filter(pk=payload.team).first()
        if team is None:
            raise ValidationError({"team": [_("No team has this id.")]})
    moved = services.transfer_chat(
        actor=_actor(request), conversation=conversation, agent=agent, team=team,
        note=payload.note,
    )  # fmt: skip
    # the chat as it now is: the agent who handed it on may no longer open it
    return _out(moved, _customer_shown(request.user))


class ChatTicketIn(Input):
    type: str = Field(..., min_length=1, max_length=30, description="Type code or id")
    title: str = Field(..., min_length=1, max_length=200)


@router.post(
    "/chats/{chat_id}/ticket",
    response={201: ChatOut},
    summary="Open a work order from a chat (its transcript is the description)",
)
def create_ticket(
    request: HttpRequest, chat_id: PathId, payload: ChatTicketIn
) -> Status[dict[str, Any]]:
    conversation = _writable(request, chat_id)
    services.create_ticket_from_chat(
        actor=_actor(request), conversation=conversation, ticket_type=payload.type,
        title=payload.title,
    )  # fmt: skip
    return Status(201, _chat(request, chat_id))


class ChatLinkIn(Input):
    ticket: str = Field(..., min_length=1, max_length=40, description="Work-order number")


@router.post(
    "/chats/{chat_id}/link",
    response=ChatOut,
    summary="Link an existing work order to a chat (the transcript goes in as a note)",
)
def link_ticket(request: HttpRequest, chat_id: PathId, payload: ChatLinkIn) -> dict[str, Any]:
    from kefu.tickets.access import access_ticket

    conversation = _writable(request, chat_id)
    try:
        ticket = access_ticket(request.user, payload.ticket)
    except Http404:
        raise ValidationError(
            {"ticket": [_("No work order %(n)s.") % {"n": payload.ticket}]}
        ) from None
    with transaction.atomic():
        services.link_ticket(actor=_actor(request), conversation=conversation, ticket=ticket)
    return _chat(request, chat_id)
