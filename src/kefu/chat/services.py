"""The rules of live chat: starting a chat, storing messages exactly once and in order, reading,
queueing through the unified queue, transfer, work orders, ending, rating, offline messages.

Delivery guarantees (see docs/chat.md):

- a message is committed before anyone hears of it: the sender's acknowledgement and the
  broadcast both happen after :func:`post_message` returns;
- per conversation, ``UPDATE … SET last_seq = last_seq + 1 … RETURNING`` hands out the next
  sequence number and holds the conversation's row lock until commit, so sequence numbers are
  gapless and committed in order (a committed N+1 means N is committed);
- a client message id is unique per conversation: a resend returns the stored message.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connection, transaction
from django.db.models import Avg, F
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.models import Team, User
from kefu.chat.models import Conversation, Message, Widget, WrapUpCode
from kefu.core import events
from kefu.core.permissions import has_perm, require_perm
from kefu.core.realtime import broadcast

log = logging.getLogger(__name__)

MAX_BODY = 4000
"""Characters in one chat message."""
MAX_FILE_BYTES = 10 * 1024 * 1024
FILE_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".pdf": "application/pdf",
    ".txt": "text/plain",
    ".doc": "application/msword",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xls": "application/vnd.ms-excel",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
_MAGIC = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "image/webp": (b"RIFF",),
    "application/pdf": (b"%PDF",),
}
TOKEN_SALT = "kefu.chat.guest"  # noqa: S105 - a signing salt, not a secret
TOKEN_MAX_AGE = 7 * 24 * 3600
MAX_CLIENT_ID = 64


def staff_group(conversation_id: int) -> str:
    """Agents and supervisors of one chat (whispers go here only)."""
    return f"chatstaff-{conversation_id}"


def chat_group(conversation_id: int) -> str:
    """Everyone in one chat, the customer included."""
    return f"chat-{conversation_id}"


# --- origins and guest tokens ---------------------------------------------------------------------


def normalize_origin(value: str) -> str:
    """``scheme://host[:port]`` in lower case, or "" when ``value`` is not an origin."""
    parts = urlsplit((value or "").strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname.lower()}{port}"


def origin_allowed(widget: Widget, origin: str) -> bool:
    wanted = normalize_origin(origin)
    return bool(wanted) and wanted in {normalize_origin(o) for o in widget.allowed_origins}


def guest_token(conversation: Conversation) -> str:
    """The signed token that lets one browser read and write this one conversation."""
    return signing.dumps(
        {"c": conversation.pk, "n": conversation.token_nonce}, salt=TOKEN_SALT, compress=False
    )


def conversation_for_token(token: Any) -> Conversation:
    """The conversation a guest token is bound to; PermissionDenied for anything else."""
    if not isinstance(token, str) or len(token) > 300:
        raise PermissionDenied(_("This chat link is not valid."))
    try:
        data = signing.loads(token, salt=TOKEN_SALT, max_age=TOKEN_MAX_AGE)
    except signing.BadSignature:
        raise PermissionDenied(_("This chat link is not valid or has expired.")) from None
    if not isinstance(data, dict) or not isinstance(data.get("c"), int):
        raise PermissionDenied(_("This chat link is not valid."))
    conversation = (
        Conversation.objects.select_related("widget", "agent").filter(pk=data["c"]).first()
    )
    if conversation is None or not secrets.compare_digest(
        conversation.token_nonce, str(data.get("n", ""))
    ):
        raise PermissionDenied(_("This chat link is not valid."))
    return conversation


# --- queueing --------------------------------------------------------------------------------------


def queue_for(widget: Widget) -> Any:
    from kefu.routing.models import Kind, RoutingQueue

    if widget.queue_id is not None and widget.queue and widget.queue.active:
        return widget.queue
    for queue in RoutingQueue.objects.filter(active=True):
        if not queue.kinds or Kind.CHAT in queue.kinds:
            return queue
    return None


def agents_available(widget: Widget) -> bool:
    """Someone could take a chat now: an available agent of the queue's teams with room for
    one more chat (the widget shows the offline form otherwise)."""
    from kefu.core.choices import WorkChannel
    from kefu.routing.models import AgentLoad, Presence

    queue = queue_for(widget)
    if queue is None:
        return False
    available = Presence.objects.filter(state=Presence.State.AVAILABLE).values("user_id")
    loads = AgentLoad.objects.filter(
        channel=WorkChannel.CHAT, user_id__in=available, capacity__gt=0
    )
    teams = list(queue.teams.values_list("pk", flat=True))
    if teams:
        loads = loads.filter(user__memberships__team_id__in=teams)
    if loads.exists():
        return True
    # an available agent whose load row is not written yet has the profile's capacity
    from kefu.accounts.models import AgentProfile

    profiles = AgentProfile.objects.filter(user_id__in=available, user__is_active=True)
    if teams:
        profiles = profiles.filter(user__memberships__team_id__in=teams)
    return any(p.capacity_for(WorkChannel.CHAT) > 0 for p in profiles)


@dataclass(frozen=True)
class QueueState:
    position: int  # 1 = next; 0 = not waiting
    wait_seconds: int


def queue_state(conversation: Conversation) -> QueueState:
    """Where a waiting chat stands and about how long it will wait: the chats ahead of it times
    the recent average wait per chat in its queue (60 s when there is no history yet)."""
    from kefu.routing.models import Kind, QueueItem

    item = conversation.queue_item
    if conversation.state != Conversation.State.WAITING or item is None:
        return QueueState(0, 0)
    if item.state not in (QueueItem.State.WAITING, QueueItem.State.OFFERED):
        return QueueState(0, 0)
    ahead = QueueItem.objects.filter(
        queue_id=item.queue_id,
        kind=Kind.CHAT,
        state__in=(QueueItem.State.WAITING, QueueItem.State.OFFERED),
        rank_at__lt=item.rank_at,
    ).count()
    since = timezone.now() - dt.timedelta(hours=2)
    recent = (
        QueueItem.objects.filter(
            queue_id=item.queue_id, kind=Kind.CHAT, assigned_at__gte=since
        ).aggregate(wait=Avg(F("assigned_at") - F("arrived_at")))["wait"]
        if connection.vendor == "postgresql"
        else None
    )
    if recent is None:
        rows = QueueItem.objects.filter(
            queue_id=item.queue_id, kind=Kind.CHAT, assigned_at__gte=since
        ).values_list("arrived_at", "assigned_at")[:200]
        waits = [(b - a).total_seconds() for a, b in rows if a and b]
        per_chat = sum(waits) / len(waits) if waits else 60.0
    else:
        per_chat = recent.total_seconds()
    per_chat = max(per_chat, 10.0)
    return QueueState(ahead + 1, int(per_chat * (ahead + 1)))


# --- starting ------------------------------------------------------------------------------------


def _clean(value: Any, field: str, limit: int, *, required: bool = False) -> str:
    text = str(value or "").strip()
    if "\x00" in text:
        raise ValidationError({field: [_("This field contains a character that is not allowed.")]})
    if required and not text:
        raise ValidationError({field: [_("This field is required.")]})
    if len(text) > limit:
        raise ValidationError({field: [_("At most %(n)d characters, please.") % {"n": limit}]})
    return text


def match_customer(contact: str) -> Any:
    """The one customer whose phone or e-mail is ``contact`` (a suggestion only), or None."""
    from kefu.customers.models import ContactPoint
    from kefu.customers.selectors import find_by_contact
    from kefu.customers.services import normalize_contact

    kind = ContactPoint.Kind.EMAIL if "@" in contact else ContactPoint.Kind.PHONE
    try:
        _display, normalized = normalize_contact(kind, contact)
    except ValidationError:
        return None
    found = find_by_contact(kind, normalized)
    return found[0] if len(found) == 1 else None


@transaction.atomic
def start_chat(
    *,
    widget: Widget,
    name: str,
    contact: str = "",
    topic: str = "",
    origin: str = "",
    language: str = "zh-hans",
    first_message: str = "",
) -> Conversation:
    """A guest fills in the pre-chat form: the chat is stored and queued as one unit."""
    from kefu.core.interactions import ContactReceived, contact_received
    from kefu.routing.models import Kind
    from kefu.routing.services import add_item

    if not widget.active:
        raise ValidationError({"widget": [_("This chat is closed.")]})
    name = _clean(name, "name", 60, required=True)
    contact = _clean(contact, "contact", 120)
    topic = _clean(topic, "topic", 80)
    first = _clean(first_message, "message", MAX_BODY)
    if widget.topics and topic and topic not in widget.topics:
        raise ValidationError({"topic": [_("Choose one of the topics offered.")]})
    queue = queue_for(widget)
    if queue is None:
        raise ValidationError({"widget": [_("No queue takes chats; leave a message instead.")]})
    # the typed phone or e-mail is the guest's claim, not proof: the agent sees a suggested
    # match (selectors.suggested_customer) and links it once the guest is confirmed
    customer = None
    conversation = Conversation.objects.create(
        widget=widget,
        guest_name=name,
        guest_contact=contact,
        topic=topic,
        origin=normalize_origin(origin),
        language="en" if language.startswith("en") else "zh-hans",
        customer=customer,
        token_nonce=secrets.token_urlsafe(12),
    )
    item = add_item(
        actor=None,
        queue=queue,
        kind=Kind.CHAT,
        title=(f"{name} · {topic}" if topic else name)[:200],
        customer=customer,
        language=conversation.language,
    )
    conversation.queue_item = item
    conversation.save(update_fields=["queue_item"])
    events.record(
        "chat_started", conversation, actor=None, data={"widget": widget.pk, "topic": topic}
    )
    if first:
        _insert_message(conversation.pk, Message.Sender.GUEST, first, None, None)
    contact_received(
        ContactReceived(channel="chat", obj=conversation, customer=customer, text=first or topic)
    )
    return conversation


# --- messages --------------------------------------------------------------------------------------


def _insert_message(
    conversation_id: int,
    sender: str,
    body: str,
    client_id: str | None,
    author: User | None,
    *,
    upload: UploadedFile[Any] | None = None,
    file_meta: tuple[str, str] | None = None,
) -> Message:
    public = 0 if sender == Message.Sender.WHISPER else 1
    # one statement hands out the next number and, for a public message, the public one before
    # it (every right-hand side reads the row as it was); only unindexed counters change, so
    # PostgreSQL updates the row in place without touching the chat's indexes (updated_at, which
    # is indexed, stays the time of the chat's own last change, not of its last message)
    counters = (
        "last_seq = last_seq + 1, "
        "public_prev_seq = CASE WHEN %s = 1 THEN public_seq ELSE public_prev_seq END, "
        "public_seq = CASE WHEN %s = 1 THEN last_seq + 1 ELSE public_seq END"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE chat_conversation SET {counters} "  # noqa: S608 - constant
            "WHERE id = %s AND state <> %s RETURNING last_seq, public_prev_seq",
            [public, public, conversation_id, Conversation.State.ENDED],
        )
        row = cursor.fetchone()
    if row is None and sender != Message.Sender.SYSTEM:
        raise ValidationError({"conversation": [_("This chat has ended.")]})
    if row is None:  # a system line after the end (wrap-up, rating): still in order
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE chat_conversation SET {counters} WHERE id = %s "  # noqa: S608
                "RETURNING last_seq, public_prev_seq",
                [public, public, conversation_id],
            )
            row = cursor.fetchone()
    message = Message(
        conversation_id=conversation_id,
        seq=row[0],
        client_id=client_id,
        sender=sender,
        author=author,
        body=body,
    )
    if upload is not None and file_meta is not None:
        message.file_name, message.content_type = file_meta
        message.size = upload.size or 0
        message.file.save(file_meta[0], upload, save=False)
    message.save(force_insert=True)
    message.prev_seq = row[1] if public else None  # type: ignore[attr-defined]
    return message


def clean_body(body: Any) -> str:
    if not isinstance(body, str):
        raise ValidationError({"body": [_("A message is text.")]})
    text = body.replace("\r\n", "\n").strip()
    if "\x00" in text:
        raise ValidationError(
            {"body": [_("This message contains a character that is not allowed.")]}
        )
    if not text:
        raise ValidationError({"body": [_("The message is empty.")]})
    if len(text) > MAX_BODY:
        raise ValidationError(
            {"body": [_("A message is at most %(n)d characters.") % {"n": MAX_BODY}]}
        )
    return text


def clean_client_id(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > MAX_CLIENT_ID or not value.isprintable():
        raise ValidationError({"cid": [_("A client message id is at most 64 plain characters.")]})
    return value


def post_message(
    *,
    conversation_id: int,
    sender: str,
    body: str,
    client_id: str | None = None,
    author: User | None = None,
    upload: UploadedFile[Any] | None = None,
) -> tuple[Message, bool]:
    """Store one message; (message, created). A client id seen before returns the stored
    message and writes nothing. Who may send is checked by the caller (token or
    :func:`require_chat_writer`)."""
    text = clean_body(body) if upload is None else _clean(body, "body", 200)
    cid = clean_client_id(client_id)
    meta = check_file(upload) if upload is not None else None
    if upload is None and sender != Message.Sender.SYSTEM and connection.vendor == "postgresql":
        stored = _store_text(conversation_id, sender, text, cid, author)
        if stored is not None:
            return stored, True
        # nothing written: a resend of a stored message, or a chat that has ended
    if cid is not None:
        found = Message.objects.filter(conversation_id=conversation_id, client_id=cid).first()
        if found is not None:
            return found, False
    try:
        with transaction.atomic():
            message = _insert_message(
                conversation_id, sender, text, cid, author, upload=upload, file_meta=meta
            )
    except IntegrityError:
        # the same client id committed by a concurrent resend while this one waited
        found = Message.objects.filter(conversation_id=conversation_id, client_id=cid).first()
        if cid is None or found is None:
            raise
        return found, False
    return message, True


_STORE_TEXT = (
    "WITH counter AS ("
    " UPDATE chat_conversation SET last_seq = last_seq + 1,"
    " public_prev_seq = CASE WHEN %(public)s THEN public_seq ELSE public_prev_seq END,"
    " public_seq = CASE WHEN %(public)s THEN last_seq + 1 ELSE public_seq END"
    " WHERE id = %(conv)s AND state <> %(ended)s AND NOT EXISTS (SELECT 1 FROM chat_message"
    " WHERE conversation_id = %(conv)s AND client_id = %(cid)s)"
    " RETURNING last_seq, public_prev_seq"
    "), stored AS ("
    " INSERT INTO chat_message (conversation_id, seq, client_id, sender, author_id, body, file,"
    " file_name, content_type, size, created_at)"
    " SELECT %(conv)s, last_seq, %(cid)s, %(sender)s, %(author)s, %(body)s, '', '', '', 0,"
    " %(now)s FROM counter RETURNING id, seq"
    ") SELECT stored.id, stored.seq, counter.public_prev_seq FROM stored, counter"
)


def _store_text(
    conversation_id: int, sender: str, text: str, cid: str | None, author: User | None
) -> Message | None:
    """A text message in one PostgreSQL statement (one round trip, no BEGIN or COMMIT of its
    own): the counter row's ``UPDATE … RETURNING`` hands out the number and holds the row lock
    until the ``INSERT`` of the same statement commits, exactly as :func:`_insert_message`
    does in two. None when nothing was written because the client id is stored already or the
    chat has ended (the statement's ``NOT EXISTS`` and ``state`` conditions); a resend racing
    its original fails on the unique client id and the whole statement, number included, is
    rolled back."""
    public = sender != Message.Sender.WHISPER
    now = timezone.now()
    params: dict[str, Any] = {
        "public": public,
        "now": now,
        "conv": conversation_id,
        "ended": Conversation.State.ENDED,
        "cid": cid,
        "sender": sender,
        "author": author.pk if author is not None else None,
        "body": text,
    }
    try:
        inside = transaction.atomic() if connection.in_atomic_block else contextlib.nullcontext()
        with inside, connection.cursor() as cursor:
            cursor.execute(_STORE_TEXT, params)
            row = cursor.fetchone()
    except IntegrityError:
        if cid is None:
            raise
        return None
    if row is None:
        return None
    message = Message(
        pk=row[0],
        conversation_id=conversation_id,
        seq=row[1],
        client_id=cid,
        sender=sender,
        author=author,
        body=text,
        created_at=now,
    )
    message._state.adding = False
    message._state.db = connection.alias
    message.prev_seq = row[2] if public else None  # type: ignore[attr-defined]
    return message


def check_file(upload: UploadedFile[Any]) -> tuple[str, str]:
    """(safe name, content type) of an accepted file, or a ValidationError saying why not."""
    import os

    from django.utils.text import get_valid_filename

    raw = os.path.basename(upload.name or "file")
    ext = os.path.splitext(raw)[1].lower()
    if ext not in FILE_TYPES:
        raise ValidationError(
            {
                "file": [
                    _("This kind of file is not accepted. Accepted: %(a)s")
                    % {"a": " ".join(sorted(FILE_TYPES))}
                ]
            }
        )
    size = upload.size or 0
    if size == 0:
        raise ValidationError({"file": [_("The file is empty.")]})
    if size > MAX_FILE_BYTES:
        raise ValidationError(
            {"file": [_("Files are at most %(m)d MB.") % {"m": MAX_FILE_BYTES // 1048576}]}
        )
    content_type = FILE_TYPES[ext]
    head = upload.read(16)
    upload.seek(0)
    magic = _MAGIC.get(content_type)
    if magic and not head.startswith(magic):
        raise ValidationError({"file": [_("The file's content does not match its name.")]})
    try:
        name = get_valid_filename(raw)[:150] or f"file{ext}"
    except Exception:  # noqa: BLE001 - a name made only of symbols
        name = f"file{ext}"
    return name, content_type


def message_payload(message: Message, *, for_staff: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "type": "msg",
        "conv": message.conversation_id,
        "seq": message.seq,
        "cid": message.client_id,
        "from": message.sender,
        "body": message.body,
        "at": message.created_at.isoformat(),
    }
    prev = getattr(message, "prev_seq", None)
    if prev is not None:
        data["prev"] = prev  # the public message before this one (see Conversation.public_seq)
    if message.author_id is not None:
        data["author"] = message.author.display_name if message.author else ""
    if message.file:
        data["file"] = {
            "id": message.pk,
            "name": message.file_name,
            "type": message.content_type,
            "size": message.size,
            "image": message.is_image,
        }
    return data


def messages_after(
    conversation_id: int, after: int, *, for_staff: bool, limit: int = 500
) -> list[Message]:
    qs = Message.objects.filter(conversation_id=conversation_id, seq__gt=max(after, 0))
    if not for_staff:
        qs = qs.exclude(sender=Message.Sender.WHISPER)
    return list(qs.select_related("author").order_by("seq")[:limit])


def announce(message: Message) -> None:
    """Push a stored message from a request (uploads, system lines) once committed."""
    payload = message_payload(message)
    if message.sender != Message.Sender.WHISPER:
        broadcast(chat_group(message.conversation_id), payload)
    else:
        broadcast(staff_group(message.conversation_id), payload)


def mark_read(*, conversation_id: int, side: str, seq: int) -> int:
    """Move a read marker forward (never back); returns the marker."""
    field = "guest_read_seq" if side == "guest" else "agent_read_seq"
    seq = min(max(int(seq), 0), 2**63 - 1)  # a database integer; last_seq bounds it further
    Conversation.objects.filter(
        pk=conversation_id, **{f"{field}__lt": seq}, last_seq__gte=seq
    ).update(**{field: seq})
    return int(
        Conversation.objects.filter(pk=conversation_id).values_list(field, flat=True).first() or 0
    )


# --- agents ---------------------------------------------------------------------------------------


def is_chat_agent(user: Any, conversation: Conversation) -> bool:
    return bool(
        user.is_authenticated
        and conversation.agent_id == user.pk
        and conversation.state == Conversation.State.ACTIVE
        and has_perm(user, "chat.work")
    )


def require_chat_writer(user: Any, conversation: Conversation) -> None:
    if not is_chat_agent(user, conversation):
        raise PermissionDenied(_("Only the agent in this chat can write to the customer."))


def _system_line(conversation_id: int, text: str) -> Message:
    message = _insert_message(conversation_id, Message.Sender.SYSTEM, text, None, None)
    announce(message)
    return message


def _state_changed(conversation: Conversation) -> None:
    payload = state_payload(conversation)
    broadcast(chat_group(conversation.pk), payload)
    if conversation.agent_id:
        from kefu.core.realtime import user_group

        broadcast(user_group(conversation.agent_id), {"type": "chat.assigned", **payload})


def state_payload(conversation: Conversation) -> dict[str, Any]:
    return {
        "type": "state",
        "conv": conversation.pk,
        "state": conversation.state,
        "agent": conversation.agent.display_name if conversation.agent else "",
        "last_seq": conversation.last_seq,
    }


def sync_assignments() -> int:
    """Chats whose queue item an agent has taken (accepted from the tray, picked, given by a
    supervisor) become that agent's; the customer is told. Safe to run twice."""
    from kefu.routing.models import QueueItem

    due = list(
        Conversation.objects.filter(
            state=Conversation.State.WAITING, queue_item__state=QueueItem.State.ASSIGNED
        ).values_list("pk", flat=True)[:200]
    )
    for pk in due:
        _take_assignment(pk)
    return len(due)


@transaction.atomic
def _take_assignment(pk: int) -> Conversation | None:
    from kefu.routing.models import QueueItem

    conversation = (
        Conversation.objects.select_for_update(of=("self",))
        .select_related("queue_item")
        .filter(pk=pk)
        .first()
    )
    if conversation is None or conversation.queue_item is None:
        return None
    item = conversation.queue_item
    if item.state != QueueItem.State.ASSIGNED or item.agent_id is None:
        return None
    if conversation.agent_id == item.agent_id and conversation.state == Conversation.State.ACTIVE:
        return conversation
    agent = User.objects.get(pk=item.agent_id)
    conversation.agent = agent
    conversation.team = agent.teams.first()
    if conversation.state == Conversation.State.WAITING:
        conversation.state = Conversation.State.ACTIVE
        conversation.accepted_at = timezone.now()
    conversation.save(update_fields=["agent", "team", "state", "accepted_at", "updated_at"])
    events.record("chat_accepted", conversation, actor=agent, data={"agent": agent.pk})
    _system_line(conversation.pk, _("%(name)s is serving you.") % {"name": agent.display_name})
    conversation.refresh_from_db(fields=["last_seq"])
    _state_changed(conversation)
    return conversation


def accept_chat(*, actor: User, conversation: Conversation) -> Conversation:
    """The agent takes a chat offered to them (or picks a waiting one)."""
    from kefu.routing.models import QueueItem
    from kefu.routing.services import accept, pick

    require_perm(actor, "chat.work")
    item = conversation.queue_item
    if item is None:
        raise ValidationError({"conversation": [_("This chat is not waiting.")]})
    with transaction.atomic():
        if item.state == QueueItem.State.OFFERED and item.agent_id == actor.pk:
            accept(actor=actor, item=item)
        elif item.state == QueueItem.State.WAITING:
            pick(actor=actor, item=item)
        elif not (item.state == QueueItem.State.ASSIGNED and item.agent_id == actor.pk):
            raise ValidationError({"conversation": [_("Someone else has taken this chat.")]})
        taken = _take_assignment(conversation.pk)
    assert taken is not None
    return taken


@transaction.atomic
def transfer_chat(
    *,
    actor: User,
    conversation: Conversation,
    agent: User | None = None,
    team: Team | None = None,
    note: str = "",
) -> Conversation:
    """Hand the chat to another agent or team with a note; the customer keeps the same chat."""
    from kefu.routing.models import Kind, RoutingQueue
    from kefu.routing.services import add_item, finish, pick, reassign

    conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
    supervisor = has_perm(actor, "chat.supervise")
    if not supervisor:
        require_chat_writer(actor, conversation)
    if conversation.state == Conversation.State.ENDED:
        raise ValidationError({"conversation": [_("This chat has ended.")]})
    if (agent is None) == (team is None):
        raise ValidationError({"to": [_("Choose an agent or a team.")]})
    note = _clean(note, "note", 500)
    if agent is not None and agent.pk == conversation.agent_id:
        raise ValidationError({"agent": [_("This agent already has the chat.")]})
    old_item = conversation.queue_item
    if team is not None:
        queue = RoutingQueue.objects.filter(active=True, teams=team).order_by("order", "pk").first()
        if queue is None or (queue.kinds and Kind.CHAT not in queue.kinds):
            raise ValidationError({"team": [_("No active queue of this team takes chats.")]})
    else:
        queue = old_item.queue if old_item is not None else queue_for(conversation.widget)
        if queue is None:
            raise ValidationError({"agent": [_("No queue takes chats.")]})
    if old_item is not None:
        finish(actor=None, item=old_item, cancelled=True)
    item = add_item(
        actor=None,
        queue=queue,
        kind=Kind.CHAT,
        title=(f"{conversation.guest_name} · {conversation.topic}" if conversation.topic
               else conversation.guest_name)[:200],
        customer=conversation.customer,
        language=conversation.language,
    )  # fmt: skip
    if agent is not None:
        if agent.role not in ("agent_l1", "agent_l2", "supervisor") or not agent.is_active:
            raise ValidationError({"agent": [_("Chats go to active agents.")]})
        if supervisor and has_perm(actor, "routing.supervise"):
            reassign(actor=actor, item=item, agent=agent)
        else:
            pick(actor=agent, item=item)  # within the colleague's capacity and teams
    before = conversation.agent_id
    conversation.queue_item = item
    conversation.agent = None
    conversation.state = Conversation.State.WAITING
    conversation.save(update_fields=["queue_item", "agent", "state", "updated_at"])
    events.record(
        "chat_transferred",
        conversation,
        actor=actor,
        data={"from": before, "agent": agent.pk if agent else None,
              "team": team.pk if team else None, "note": note},
    )  # fmt: skip
    _system_line(conversation.pk, _("You are being transferred to a colleague; please wait."))
    if note:
        whisper = _insert_message(
            conversation.pk, Message.Sender.WHISPER, _("Transfer note: %(n)s") % {"n": note},
            None, actor,
        )  # fmt: skip
        announce(whisper)
    if agent is not None:
        _take_assignment(conversation.pk)
    conversation.refresh_from_db()
    _state_changed(conversation)
    return conversation


def transcript(conversation: Conversation, *, for_staff: bool = True) -> str:
    lines = [
        _("Chat #%(id)s with %(name)s, %(date)s")
        % {
            "id": conversation.pk,
            "name": conversation.guest_name,
            "date": timezone.localtime(conversation.created_at).strftime("%Y-%m-%d %H:%M"),
        }
    ]
    for message in messages_after(conversation.pk, 0, for_staff=for_staff, limit=5000):
        who = {
            Message.Sender.GUEST: conversation.guest_name,
            Message.Sender.AGENT: message.author.display_name if message.author else _("Agent"),
            Message.Sender.SYSTEM: _("System"),
            Message.Sender.WHISPER: _("Whisper"),
        }[Message.Sender(message.sender)]
        at = timezone.localtime(message.created_at).strftime("%H:%M:%S")
        body = message.body or ""
        if message.file:
            body = f"{body} [{message.file_name}]".strip()
        lines.append(f"[{at}] {who}: {body}")
    return "\n".join(lines)


@transaction.atomic
def create_ticket_from_chat(
    *, actor: User, conversation: Conversation, ticket_type: Any, title: str
) -> Any:
    """Open a work order from the chat; its description is the transcript."""
    from kefu.core.choices import Channel
    from kefu.tickets.services import create_ticket

    conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
    _require_staff_in(actor, conversation)
    if conversation.ticket_id is not None:
        raise ValidationError({"ticket": [_("This chat already has a work order.")]})
    contact = conversation.guest_contact
    ticket = create_ticket(
        actor=actor,
        title=_clean(title, "title", 200, required=True),
        ticket_type=str(getattr(ticket_type, "pk", ticket_type)),
        description=transcript(conversation, for_staff=False)[:20000],
        channel=Channel.CHAT,
        customer=conversation.customer,
        contact_name=conversation.guest_name,
        contact_phone="" if "@" in contact else contact,
        contact_email=contact if "@" in contact else "",
    )
    conversation.ticket = ticket
    conversation.save(update_fields=["ticket", "updated_at"])
    events.record("chat_ticket_linked", conversation, actor=actor, data={"ticket": ticket.number})
    return ticket


@transaction.atomic
@transaction.atomic
def confirm_customer(*, actor: User, conversation: Conversation, customer: Any) -> Conversation:
    """The agent has confirmed who the guest is (asked for details the customer record holds):
    the chat, its queue item and what follows from it belong to ``customer`` from now on."""
    from kefu.routing.models import QueueItem

    conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
    _require_staff_in(actor, conversation)
    conversation.customer = customer
    conversation.save(update_fields=["customer", "updated_at"])
    if conversation.queue_item_id:
        QueueItem.objects.filter(pk=conversation.queue_item_id).update(customer=customer)
    events.record("chat_customer_confirmed", conversation, actor=actor,
                  data={"customer": customer.pk})  # fmt: skip
    return conversation


def link_ticket(*, actor: User, conversation: Conversation, ticket: Any) -> Any:
    """Link an existing work order (as the actor may see it); the transcript goes in as a note."""
    from kefu.tickets.services import add_note

    conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
    _require_staff_in(actor, conversation)
    add_note(actor=actor, ticket=ticket, body=transcript(conversation, for_staff=False)[:20000])
    conversation.ticket = ticket
    conversation.save(update_fields=["ticket", "updated_at"])
    events.record("chat_ticket_linked", conversation, actor=actor, data={"ticket": ticket.number})
    return ticket


def _require_staff_in(actor: User, conversation: Conversation) -> None:
    if conversation.agent_id == actor.pk and has_perm(actor, "chat.work"):
        return
    require_perm(actor, "chat.supervise")


@transaction.atomic
def end_chat(
    *,
    actor: User | None,
    conversation: Conversation,
    wrap_up: WrapUpCode | None = None,
    note: str = "",
) -> Conversation:
    """End the chat (``actor`` None: the customer left). An agent names a wrap-up code; the
    survey app is told, and a chat-delivered survey's link goes to the customer."""
    from kefu.routing.services import finish

    conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
    if actor is not None:
        _require_staff_in(actor, conversation)
        if wrap_up is None:
            raise ValidationError({"wrap_up": [_("Choose a wrap-up code.")]})
    if wrap_up is not None and not wrap_up.active:
        raise ValidationError({"wrap_up": [_("This wrap-up code is no longer used.")]})
    note = _clean(note, "note", 500)
    if conversation.state == Conversation.State.ENDED:
        if actor is None or conversation.wrap_up_id is not None:
            return conversation
        conversation.wrap_up, conversation.wrap_up_note = wrap_up, note
        conversation.save(update_fields=["wrap_up", "wrap_up_note", "updated_at"])
        code = wrap_up.code if wrap_up else ""
        events.record("chat_wrapped_up", conversation, actor=actor, data={"code": code})
        return conversation
    if conversation.queue_item is not None:
        finish(actor=None, item=conversation.queue_item, cancelled=conversation.agent_id is None)
    conversation.state = Conversation.State.ENDED
    conversation.ended_at = timezone.now()
    conversation.wrap_up, conversation.wrap_up_note = wrap_up, note
    conversation.save(update_fields=["state", "ended_at", "wrap_up", "wrap_up_note", "updated_at"])
    events.record(
        "chat_ended",
        conversation,
        actor=actor,
        data={"by": "agent" if actor else "customer", "code": wrap_up.code if wrap_up else ""},
    )
    _system_line(
        conversation.pk,
        _("The chat has ended.") if actor else _("The customer left the chat."),
    )
    survey_url = ""
    if conversation.accepted_at is not None:
        from kefu.surveys.services import chat_ended

        found = chat_ended(
            chat_ref=f"chat:{conversation.pk}",
            customer=conversation.customer,
            agent=conversation.agent,
            team=conversation.team,
        )
        if found is not None:
            from django.urls import reverse

            try:
                survey_url = reverse("surveys:answer", args=[found[1]])
            except Exception:  # noqa: BLE001 - the survey app names its page otherwise
                survey_url = ""
    conversation.refresh_from_db()
    payload = state_payload(conversation)
    if survey_url:
        payload["survey_url"] = survey_url
    broadcast(chat_group(conversation.pk), payload)
    return conversation


@transaction.atomic
def rate_chat(*, conversation: Conversation, rating: Any, comment: str = "") -> Conversation:
    """The customer's rating at the end (1–5), once."""
    conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
    if conversation.state != Conversation.State.ENDED or conversation.accepted_at is None:
        raise ValidationError({"rating": [_("Rate the chat once it has ended.")]})
    if conversation.rating is not None:
        raise ValidationError({"rating": [_("This chat has been rated already.")]})
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise ValidationError({"rating": [_("Choose from 1 to 5 stars.")]})
    conversation.rating = rating
    conversation.rating_comment = _clean(comment, "comment", 500)
    conversation.save(update_fields=["rating", "rating_comment", "updated_at"])
    events.record("chat_rated", conversation, actor=None, data={"rating": rating})
    return conversation


@transaction.atomic
def leave_offline_message(
    *,
    widget: Widget,
    name: str,
    contact: str,
    topic: str = "",
    body: str,
) -> Any:
    """No agent is free: the offline form opens a work order (channel: live chat)."""
    from kefu.core.choices import Channel
    from kefu.tickets.models import TicketType
    from kefu.tickets.services import create_ticket

    if not widget.active:
        raise ValidationError({"widget": [_("This chat is closed.")]})
    name = _clean(name, "name", 60, required=True)
    contact = _clean(contact, "contact", 120, required=True)
    topic = _clean(topic, "topic", 80)
    text = clean_body(body)
    ticket_type = widget.offline_type or TicketType.objects.filter(code="consultation").first()
    if ticket_type is None:
        ticket_type = TicketType.objects.order_by("pk").first()
    if ticket_type is None:
        raise ValidationError({"widget": [_("Offline messages are not set up.")]})
    email = "@" in contact
    if email:
        from kefu.customers.services import normalize_contact

        normalize_contact("email", contact, field="contact")
    return create_ticket(
        actor=None,
        title=(_("Chat message: %(t)s") % {"t": topic or name})[:200],
        ticket_type=str(ticket_type.pk),
        description=text,
        channel=Channel.CHAT,
        customer=None,  # a typed contact proves nothing: the work order keeps it as contact
        contact_name=name,
        contact_phone="" if email else contact,
        contact_email=contact if email else "",
    )


# --- the supervisors' live queue -----------------------------------------------------------------


@dataclass(frozen=True)
class QueuedChat:
    conversation: Conversation
    position: int  # 1 = next in its queue
    waited_seconds: int  # since it joined the queue it waits in (a transfer joins anew)
    estimated_wait_seconds: int  # as :func:`queue_state` estimates it


def live_queue(*, now: dt.datetime | None = None, limit: int = 200) -> list[QueuedChat]:
    """Every chat waiting now, first in line first, with :func:`queue_state`'s position and
    estimate, read for all of them at once (three queries, not three per chat)."""
    from collections import defaultdict

    from kefu.routing.models import Kind, QueueItem

    now = now or timezone.now()
    queued = (QueueItem.State.WAITING, QueueItem.State.OFFERED)
    chats = list(
        Conversation.objects.filter(state=Conversation.State.WAITING, queue_item__state__in=queued)
        .select_related("queue_item", "queue_item__queue", "widget", "team")
        .order_by("queue_item__rank_at", "pk")[:limit]
    )
    queue_ids = {c.queue_item.queue_id for c in chats if c.queue_item is not None}
    ranks: dict[int, list[dt.datetime]] = defaultdict(list)
    for queue_id, rank_at in QueueItem.objects.filter(
        queue_id__in=queue_ids, kind=Kind.CHAT, state__in=queued
    ).values_list("queue_id", "rank_at"):
        ranks[queue_id].append(rank_at)
    since = now - dt.timedelta(hours=2)
    waits: dict[int, list[float]] = defaultdict(list)
    for queue_id, arrived, assigned in QueueItem.objects.filter(
        queue_id__in=queue_ids, kind=Kind.CHAT, assigned_at__gte=since
    ).values_list("queue_id", "arrived_at", "assigned_at"):
        if arrived and assigned:
            waits[queue_id].append((assigned - arrived).total_seconds())
    out = []
    for conversation in chats:
        item = conversation.queue_item
        assert item is not None  # the filter above names its state
        ahead = sum(1 for r in ranks[item.queue_id] if r < item.rank_at)
        recent = waits[item.queue_id]
        per_chat = max(sum(recent) / len(recent) if recent else 60.0, 10.0)
        out.append(
            QueuedChat(
                conversation=conversation,
                position=ahead + 1,
                waited_seconds=max(int((now - item.arrived_at).total_seconds()), 0),
                estimated_wait_seconds=int(per_chat * (ahead + 1)),
            )
        )
    return out
