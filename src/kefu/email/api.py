"""/api/v1/email: mailboxes (never their passwords), testing and fetching them, incoming mail
and quarantine, outgoing mail with its delivery log."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Status
from pydantic import EmailStr, Field

from kefu.accounts.models import User
from kefu.core.api_base import ErrorOut, Input, Out
from kefu.core.permissions import require_perm
from kefu.core.validation import BodyId, PathId
from kefu.email import selectors, services
from kefu.email.access import access_inbound, access_mailbox, access_outbound, visible_mailboxes
from kefu.email.models import InboundEmail, Mailbox, OutboundEmail

router = Router(tags=["e-mail"])


def _user(request: HttpRequest) -> User:
    """The signed-in user (the decorators and the API's auth refuse anonymous requests)."""
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied
    return user


SecurityName = Literal["ssl", "starttls", "none"]


class MailboxOut(Out):
    id: int
    name: str
    address: str
    team_id: int
    ticket_type_id: int
    protocol: str
    in_host: str
    in_port: int
    in_security: str
    in_username: str
    in_password_set: bool
    folder: str
    out_host: str
    out_port: int
    out_security: str
    out_username: str
    out_password_set: bool
    max_message_bytes: int
    poll_seconds: int
    use_idle: bool
    send_acknowledgement: bool
    is_active: bool
    last_fetch_at: dt.datetime | None
    last_error: str


def _mailbox(m: Mailbox) -> dict[str, Any]:
    from kefu.email.services.mailboxes import FIELDS

    data = {name: getattr(m, name) for name in FIELDS if name not in ("team", "ticket_type")}
    return {
        **data,
        "id": m.pk,
        "team_id": m.team_id,
        "ticket_type_id": m.ticket_type_id,
        "in_password_set": bool(m.in_password),
        "out_password_set": bool(m.out_password),
        "last_fetch_at": m.last_fetch_at,
        "last_error": m.last_error,
    }


class MailboxIn(Input):
    name: str = Field(..., max_length=80)
    address: EmailStr
    team: BodyId
    ticket_type: BodyId
    protocol: Literal["imap", "pop3"] = "imap"
    in_host: str = Field(..., max_length=200)
    in_port: int = Field(993, ge=1, le=65535)
    in_security: SecurityName = "ssl"
    in_username: str = Field(..., max_length=200)
    in_password: str = Field("", max_length=500)
    folder: str = Field("INBOX", max_length=100)
    out_host: str = Field(..., max_length=200)
    out_port: int = Field(465, ge=1, le=65535)
    out_security: SecurityName = "ssl"
    out_username: str = Field("", max_length=200)
    out_password: str = Field("", max_length=500)
    max_message_bytes: int = Field(25 * 1024 * 1024, ge=1024, le=200 * 1024 * 1024)
    poll_seconds: int = Field(60, ge=10, le=86400)
    use_idle: bool = True
    send_acknowledgement: bool = True
    is_active: bool = True


class MailboxPatch(Input):
    name: str | None = Field(None, max_length=80)
    address: EmailStr | None = None
    team: BodyId | None = None
    ticket_type: BodyId | None = None
    protocol: Literal["imap", "pop3"] | None = None
    in_host: str | None = Field(None, max_length=200)
    in_port: int | None = Field(None, ge=1, le=65535)
    in_security: SecurityName | None = None
    in_username: str | None = Field(None, max_length=200)
    in_password: str | None = Field(None, max_length=500)
    folder: str | None = Field(None, max_length=100)
    out_host: str | None = Field(None, max_length=200)
    out_port: int | None = Field(None, ge=1, le=65535)
    out_security: SecurityName | None = None
    out_username: str | None = Field(None, max_length=200)
    out_password: str | None = Field(None, max_length=500)
    max_message_bytes: int | None = Field(None, ge=1024, le=200 * 1024 * 1024)
    poll_seconds: int | None = Field(None, ge=10, le=86400)
    use_idle: bool | None = None
    send_acknowledgement: bool | None = None
    is_active: bool | None = None


@router.get("/email/mailboxes", response=list[MailboxOut], summary="Mailboxes")
def list_mailboxes(request: HttpRequest) -> list[dict[str, Any]]:
    return [_mailbox(m) for m in visible_mailboxes(request.user).order_by("name", "id")]


@router.post("/email/mailboxes", response={201: MailboxOut}, summary="Add a mailbox")
def create_mailbox(request: HttpRequest, payload: MailboxIn) -> Status[Any]:
    require_perm(request.user, "email.manage")
    mailbox = services.create_mailbox(actor=_user(request), data=payload.model_dump())
    return Status(201, _mailbox(mailbox))


@router.get("/email/mailboxes/{mailbox_id}", response=MailboxOut, summary="One mailbox")
def get_mailbox(request: HttpRequest, mailbox_id: PathId) -> dict[str, Any]:
    return _mailbox(access_mailbox(request.user, mailbox_id))


@router.patch("/email/mailboxes/{mailbox_id}", response=MailboxOut, summary="Change a mailbox")
def update_mailbox(
    request: HttpRequest, mailbox_id: PathId, payload: MailboxPatch
) -> dict[str, Any]:
    mailbox = access_mailbox(request.user, mailbox_id)
    data = payload.model_dump(exclude_unset=True)
    mailbox = services.update_mailbox(actor=_user(request), mailbox=mailbox, data=data)
    return _mailbox(mailbox)


class CheckOut(Out):
    part: str
    ok: bool
    detail: str


@router.post(
    "/email/mailboxes/{mailbox_id}/test",
    response=list[CheckOut],
    summary="Sign in to the incoming and outgoing servers",
)
def test_mailbox(request: HttpRequest, mailbox_id: PathId) -> list[dict[str, Any]]:
    mailbox = access_mailbox(request.user, mailbox_id)
    return [c.__dict__ for c in services.test_mailbox(actor=_user(request), mailbox=mailbox)]


class FetchOut(Out):
    on_server: int
    new: int
    duplicates: int
    quarantined: int


@router.post(
    "/email/mailboxes/{mailbox_id}/fetch",
    response={200: FetchOut, 409: ErrorOut, 502: ErrorOut},
    summary="Fetch new mail now",
)
def fetch_mailbox(request: HttpRequest, mailbox_id: PathId) -> Any:
    from kefu.core.api_base import error_response

    mailbox = access_mailbox(request.user, mailbox_id)
    try:
        result = services.fetch_mailbox(mailbox)
    except services.FetchBusy:
        return error_response(409, _("This mailbox is being fetched right now."))
    except Exception as exc:  # noqa: BLE001 - the mail server's answer is the error to report
        from kefu.email.services.mailboxes import describe_error

        return error_response(502, _("The mail server failed: %(e)s") % {"e": describe_error(exc)})
    return {
        "on_server": result.on_server,
        "new": result.new,
        "duplicates": result.duplicates,
        "quarantined": result.quarantined,
    }


class InboundOut(Out):
    id: int
    mailbox_id: int | None
    state: str
    kind: str
    kind_reason: str
    quarantine_reason: str
    message_id: str
    subject: str
    from_address: str
    from_name: str
    size: int
    received_at: dt.datetime
    ticket: str | None


class InboundDetailOut(InboundOut):
    to: str
    sent_at: dt.datetime | None
    visible_text: str
    folded_text: str
    html_safe: str
    attachments: list[dict[str, Any]]
    defects: list[str]


def _inbound(m: InboundEmail, detail: bool = False) -> dict[str, Any]:
    data = {
        "id": m.pk,
        "mailbox_id": m.mailbox_id,
        "state": m.state,
        "kind": m.kind,
        "kind_reason": m.kind_reason,
        "quarantine_reason": m.quarantine_reason,
        "message_id": m.message_id,
        "subject": m.subject,
        "from_address": m.from_address,
        "from_name": m.from_name,
        "size": m.size,
        "received_at": m.received_at,
        "ticket": m.ticket.number if m.ticket_id and m.ticket else None,
    }
    if detail:
        data.update(
            to=m.to,
            sent_at=m.sent_at,
            visible_text=m.visible_text,
            folded_text=m.folded_text,
            html_safe=m.html_safe,
            attachments=m.attachments,
            defects=m.defects,
        )
    return data


class InboundFilter(Input):
    state: Literal["quarantined", "ignored"] = "quarantined"
    limit: int = Field(50, ge=1, le=200)


@router.get("/email/messages", response=list[InboundOut], summary="Quarantine and automatic mail")
def list_messages(request: HttpRequest, f: Query[InboundFilter]) -> list[dict[str, Any]]:
    require_perm(request.user, "email.manage")
    return [_inbound(m) for m in selectors.list_inbound(state=f.state, limit=f.limit)]


@router.get("/email/messages/{inbound_id}", response=InboundDetailOut, summary="One message")
def get_message(request: HttpRequest, inbound_id: PathId) -> dict[str, Any]:
    return _inbound(access_inbound(request.user, inbound_id), detail=True)


@router.post(
    "/email/messages/{inbound_id}/reprocess",
    response=InboundDetailOut,
    summary="Process a quarantined message again",
)
def reprocess_message(request: HttpRequest, inbound_id: PathId) -> dict[str, Any]:
    require_perm(request.user, "email.manage")
    inbound = access_inbound(request.user, inbound_id)
    done = services.reprocess(actor=_user(request), inbound=inbound)
    return _inbound(access_inbound(request.user, done.pk), detail=True)


class AttemptOut(Out):
    attempt: int
    at: dt.datetime
    ok: bool
    code: int | None
    detail: str


class OutboundOut(Out):
    id: int
    ticket: str | None
    kind: str
    state: str
    to_address: str
    subject: str
    message_id: str
    attempts: int
    next_attempt_at: dt.datetime | None
    last_error: str
    sent_at: dt.datetime | None
    log: list[AttemptOut]


def _outbound(m: OutboundEmail) -> dict[str, Any]:
    return {
        "id": m.pk,
        "ticket": m.ticket.number if m.ticket_id and m.ticket else None,
        "kind": m.kind,
        "state": m.state,
        "to_address": m.to_address,
        "subject": m.subject,
        "message_id": m.message_id,
        "attempts": m.attempts,
        "next_attempt_at": m.next_attempt_at,
        "last_error": m.last_error,
        "sent_at": m.sent_at,
        "log": [
            {"attempt": a.attempt, "at": a.at, "ok": a.ok, "code": a.code, "detail": a.detail}
            for a in m.log.all()
        ],
    }


@router.get(
    "/email/outbound/{outbound_id}",
    response=OutboundOut,
    summary="One outgoing message with its delivery log",
)
def get_outbound(request: HttpRequest, outbound_id: PathId) -> dict[str, Any]:
    return _outbound(access_outbound(request.user, outbound_id))
