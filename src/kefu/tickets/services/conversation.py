"""The conversation on a work order: replies to the customer, internal notes with @mentions,
the customer's own messages, attachments and standard replies with variables."""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import unicodedata
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.models import User
from kefu.core.permissions import STAFF_ROLES, Role, require_perm
from kefu.core.validation import clean_text
from kefu.tickets.models import Attachment, CannedResponse, Message, Ticket
from kefu.tickets.services.common import lock, record, touch
from kefu.tickets.services.lifecycle import _set_status
from kefu.tickets.states import DONE_STATES, FINAL_STATES, Status

MAX_BODY = 20000
# extension -> (content type, accepted leading bytes, shown inline)
FILE_TYPES: dict[str, tuple[str, tuple[bytes, ...], bool]] = {
    ".png": ("image/png", (b"\x89PNG\r\n\x1a\n",), True),
    ".jpg": ("image/jpeg", (b"\xff\xd8\xff",), True),
    ".jpeg": ("image/jpeg", (b"\xff\xd8\xff",), True),
    ".gif": ("image/gif", (b"GIF87a", b"GIF89a"), True),
    ".webp": ("image/webp", (b"RIFF",), True),
    ".bmp": ("image/bmp", (b"BM",), False),
    ".pdf": ("application/pdf", (b"%PDF-",), False),
    ".doc": ("application/msword", (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",), False),
    ".xls": ("application/vnd.ms-excel", (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",), False),
    ".ppt": ("application/vnd.ms-powerpoint", (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",), False),
    ".docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        (b"PK\x03\x04",),
        False,
    ),
    ".xlsx": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        (b"PK\x03\x04",),
        False,
    ),
    ".pptx": (
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        (b"PK\x03\x04",),
        False,
    ),
    ".ofd": ("application/ofd", (b"PK\x03\x04",), False),
    ".zip": ("application/zip", (b"PK\x03\x04", b"PK\x05\x06"), False),
    ".txt": ("text/plain; charset=utf-8", (), False),
    ".csv": ("text/csv; charset=utf-8", (), False),
    ".log": ("text/plain; charset=utf-8", (), False),
    ".mp3": ("audio/mpeg", (b"ID3", b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"), False),
    ".wav": ("audio/wav", (b"RIFF",), False),
    ".amr": ("audio/amr", (b"#!AMR",), False),
    ".m4a": ("audio/mp4", (), False),
    ".mp4": ("video/mp4", (), False),
}
_MENTION = re.compile(r"@([A-Za-z0-9_.\-]{2,30})")
_UNSAFE_NAME = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]')


def max_attachment_bytes() -> int:
    return int(getattr(settings, "KEFU_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024))


def safe_filename(raw: str) -> str:
    """A display name without paths, control characters or shell/HTML specials."""
    name = unicodedata.normalize("NFKC", raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE_NAME.sub("_", name).strip(" .")
    stem, ext = os.path.splitext(name)
    stem = stem[:120] or "file"
    return f"{stem}{ext.lower()[:10]}"


def check_upload(upload: UploadedFile[Any]) -> tuple[str, str, bool]:
    """(safe name, content type, inline) — or a ValidationError naming the problem."""
    name = safe_filename(upload.name or "")
    ext = os.path.splitext(name)[1].lower()
    if ext not in FILE_TYPES:
        allowed = " ".join(sorted(FILE_TYPES))
        raise ValidationError(
            {
                "attachments": [
                    _("“%(n)s”: this kind of file is not accepted. Accepted: %(a)s")
                    % {"n": name, "a": allowed}
                ]
            }
        )
    size = upload.size or 0
    if size > max_attachment_bytes():
        raise ValidationError(
            {
                "attachments": [
                    _("“%(n)s” is %(s).1f MB; the limit is %(m)d MB.")
                    % {"n": name, "s": size / 1048576, "m": max_attachment_bytes() // 1048576}
                ]
            }
        )
    if size == 0:
        raise ValidationError({"attachments": [_("“%(n)s” is empty.") % {"n": name}]})
    content_type, magics, inline = FILE_TYPES[ext]
    upload.seek(0)
    head = upload.read(4096)
    upload.seek(0)
    if magics and not any(head.startswith(m) for m in magics):
        raise ValidationError(
            {
                "attachments": [
                    _("“%(n)s” does not contain what its name says (%(e)s).")
                    % {"n": name, "e": ext}
                ]
            }
        )
    if ext in (".m4a", ".mp4") and head[4:8] != b"ftyp":
        raise ValidationError(
            {
                "attachments": [
                    _("“%(n)s” does not contain what its name says (%(e)s).")
                    % {"n": name, "e": ext}
                ]
            }
        )
    if ext == ".webp" and head[8:12] != b"WEBP":
        raise ValidationError(
            {
                "attachments": [
                    _("“%(n)s” does not contain what its name says (%(e)s).")
                    % {"n": name, "e": ext}
                ]
            }
        )
    if content_type.startswith("text/") and b"\x00" in head:
        raise ValidationError({"attachments": [_("“%(n)s” is not a text file.") % {"n": name}]})
    return name, content_type, inline


def add_attachment(
    *,
    actor: User | None,
    ticket: Ticket,
    upload: UploadedFile[Any],
    message: Message | None = None,
    public: bool = True,
    record_event: bool = True,
) -> Attachment:
    name, content_type, _inline = check_upload(upload)
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    attachment = Attachment(
        ticket=ticket,
        message=message,
        storage_key=secrets.token_hex(16),
        filename=name,
        content_type=content_type,
        size=upload.size or 0,
        sha256=digest.hexdigest(),
        is_public=public,
        uploaded_by=actor if actor is not None and actor.pk else None,
    )
    attachment.file.save(attachment.storage_key, upload, save=False)
    attachment.save()
    # If the transaction rolls back, the stored file has no row; tasks.sweep_orphan_files removes it.
    if record_event:
        record(
            "ticket_attachment_added",
            ticket,
            actor=actor,
            data={
                "attachment": attachment.pk,
                "filename": name,
                "size": attachment.size,
                "public": public,
            },
        )
    return attachment


def _body(text: str) -> str:
    return clean_text(text, field="body", max_length=MAX_BODY, required=True)


def _store(
    ticket: Ticket,
    kind: str,
    actor: User | None,
    body: str,
    attachments: Iterable[UploadedFile[Any]],
    public_files: bool,
    author_name: str = "",
) -> Message:
    message = Message.objects.create(
        ticket=ticket,
        kind=kind,
        author=actor if actor is not None and actor.pk else None,
        author_name=actor.display_label if actor is not None else author_name[:100],
        body=body,
        channel=ticket.channel if kind == Message.Kind.REPLY else "",
    )
    for upload in attachments:
        add_attachment(
            actor=actor,
            ticket=ticket,
            upload=upload,
            message=message,
            public=public_files,
            record_event=False,
        )
    return message


@transaction.atomic
def add_reply(
    *,
    actor: User,
    ticket: Ticket,
    body: str,
    attachments: Iterable[UploadedFile[Any]] = (),
    locked: bool = False,
) -> Message:
    """A reply the customer sees (in the portal; by the ticket's channel once that channel is
    connected). Replying to a new work order starts its handling."""
    require_perm(actor, "tickets.reply")
    text = _body(body)
    files = list(attachments)
    for upload in files:
        check_upload(upload)
    if not locked:
        ticket = lock(ticket)
    if ticket.status in FINAL_STATES or ticket.status == Status.CLOSED:
        raise ValidationError(_("This work order is finished; reopen it to reply."))
    message = _store(ticket, Message.Kind.REPLY, actor, text, files, public_files=True)
    now = timezone.now()
    fields = ["last_public_reply_at", "status", "first_response_at"]
    if ticket.first_response_at is None:
        ticket.first_response_at = now
    ticket.last_public_reply_at = now
    before = ticket.status
    if ticket.status in (Status.NEW, Status.ASSIGNED):
        _set_status(ticket, Status.IN_PROGRESS)
    touch(ticket, fields)
    record(
        "ticket_replied",
        ticket,
        actor=actor,
        changes={"status": [before, ticket.status]} if before != ticket.status else {},
        data={"message": message.pk, "excerpt": text[:200], "attachments": len(files)},
    )
    return message


@transaction.atomic
def add_note(
    *, actor: User, ticket: Ticket, body: str, attachments: Iterable[UploadedFile[Any]] = ()
) -> Message:
    """An internal note; @user-name or @employee-number mentions notify the people named."""
    require_perm(actor, "tickets.note")
    text = _body(body)
    files = list(attachments)
    for upload in files:
        check_upload(upload)
    ticket = lock(ticket)
    message = _store(ticket, Message.Kind.NOTE, actor, text, files, public_files=False)
    mentioned = _mentioned_users(text, ticket)
    if mentioned:
        message.mentions.set(mentioned)
    touch(ticket)
    record(
        "ticket_note_added",
        ticket,
        actor=actor,
        data={"message": message.pk, "excerpt": text[:200], "mentions": [u.pk for u in mentioned]},
    )
    if mentioned:
        from kefu.tickets.services.notify import tell_mentioned

        tell_mentioned(ticket, actor, mentioned, text)
    return message


def _mentioned_users(text: str, ticket: Ticket) -> list[User]:
    names = {m.group(1) for m in _MENTION.finditer(text)}
    if not names:
        return []
    from kefu.tickets.access import visible_tickets

    candidates = User.objects.filter(
        Q(username__in=names) | Q(employee_no__in=names), role__in=STAFF_ROLES, is_active=True
    )
    return [u for u in candidates if visible_tickets(u).filter(pk=ticket.pk).exists()]


@transaction.atomic
def add_customer_message(
    *,
    actor: User | None,
    ticket: Ticket,
    body: str,
    attachments: Iterable[UploadedFile[Any]] = (),
    author_name: str = "",
) -> Message:
    """The customer's own words (portal now; e-mail and chat later). Waiting work orders wake up;
    a finished one is reopened, since the customer says it is not done."""
    if actor is not None and (
        actor.role != Role.CUSTOMER or actor.customer_id != ticket.customer_id
    ):
        raise PermissionDenied(_("Only the customer can add a customer message."))
    text = _body(body)
    files = list(attachments)
    for upload in files:
        check_upload(upload)
    ticket = lock(ticket)
    if ticket.status in FINAL_STATES:
        raise ValidationError(_("This work order was cancelled or merged; please open a new one."))
    message = _store(
        ticket,
        Message.Kind.CUSTOMER,
        actor,
        text,
        files,
        public_files=True,
        author_name=author_name,
    )
    ticket.last_customer_message_at = timezone.now()
    before = ticket.status
    move = ""
    if (
        ticket.status in (Status.WAITING_CUSTOMER, Status.WAITING_THIRD_PARTY)
        or ticket.status in DONE_STATES
    ):
        move = _set_status(ticket, Status.IN_PROGRESS)
    touch(
        ticket,
        [
            "last_customer_message_at",
            "status",
            "reopen_count",
            "last_reopened_at",
            "resolved_at",
            "followed_up_at",
            "closed_at",
            "followup_result",
        ],
    )
    record(
        "customer_replied",
        ticket,
        actor=actor,
        changes={"status": [before, ticket.status]} if before != ticket.status else {},
        data={
            "message": message.pk,
            "excerpt": text[:200],
            "move": move,
            "attachments": len(files),
        },
    )
    if ticket.assignee_id:
        from kefu.tickets.services.notify import tell_customer_replied

        tell_customer_replied(ticket)
    return message


class _Vars(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def render_canned(canned: CannedResponse, ticket: Ticket, actor: User) -> str:
    """A standard reply with its variables filled in; unknown variables are left as written."""
    customer_name = ticket.contact_name or (ticket.customer.name if ticket.customer else "")
    values = _Vars(
        customer_name=customer_name,
        ticket_number=ticket.number,
        ticket_title=ticket.title,
        agent_name=actor.display_name,
        agent_number=actor.employee_no or actor.username,
        today=timezone.localdate().isoformat(),
    )
    try:
        return canned.body.format_map(values)
    except (ValueError, IndexError, AttributeError):
        return canned.body


def canned_for(user: User, ticket: Ticket | None = None) -> list[CannedResponse]:
    qs = CannedResponse.objects.filter(is_active=True).filter(Q(owner__isnull=True) | Q(owner=user))
    if ticket is not None:
        qs = qs.filter(Q(ticket_type__isnull=True) | Q(ticket_type=ticket.ticket_type_id))
    return list(qs.order_by("title"))
