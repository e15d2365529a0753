"""Outgoing mail: replies to e-mail work orders and acknowledgements of new ones, from editable
templates (Chinese and English), with the work-order number in the subject and threading
headers; sent after commit, retried with back-off, every try written to the delivery log."""

from __future__ import annotations

import contextlib
import datetime as dt
import secrets
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kefu.accounts.models import User
from kefu.core import events, jobs
from kefu.core.choices import Channel
from kefu.core.models import Event
from kefu.core.permissions import require_perm
from kefu.core.validation import clean_text
from kefu.customers.models import ContactPoint
from kefu.email.backoff import MAX_ATTEMPTS, retry_delay
from kefu.email.models import (
    DeliveryAttempt,
    EmailTemplate,
    InboundEmail,
    Mailbox,
    OutboundEmail,
)
from kefu.tickets.models import Attachment, Message, Ticket

Kind = OutboundEmail.Kind

DEFAULT_TEMPLATES: dict[tuple[str, str], tuple[str, str]] = {
    (Kind.REPLY, "zh-hans"): (
        "[#{ticket_number}] {ticket_title}",
        "{customer_name}，您好：\n\n{body}\n\n{agent_name}\n{mailbox_name}\n\n"
        "如需补充，请直接回复本邮件，并保留主题中的工单号 {ticket_number}。",
    ),
    (Kind.REPLY, "en"): (
        "[#{ticket_number}] {ticket_title}",
        "Dear {customer_name},\n\n{body}\n\n{agent_name}\n{mailbox_name}\n\n"
        "To add anything, reply to this e-mail and keep the number {ticket_number} in the subject.",
    ),
    (Kind.ACKNOWLEDGEMENT, "zh-hans"): (
        "[#{ticket_number}] 已受理：{ticket_title}",
        "{customer_name}，您好：\n\n我们已收到您的邮件，并登记为工单 {ticket_number}。"
        "工作人员会尽快处理并答复您。\n\n{mailbox_name}\n\n"
        "如需补充，请直接回复本邮件，并保留主题中的工单号。",
    ),
    (Kind.ACKNOWLEDGEMENT, "en"): (
        "[#{ticket_number}] Received: {ticket_title}",
        "Dear {customer_name},\n\nWe have received your e-mail and registered it as work order "
        "{ticket_number}. We will answer you as soon as we can.\n\n{mailbox_name}\n\n"
        "To add anything, reply to this e-mail and keep the number in the subject.",
    ),
}
VARIABLES = (
    "ticket_number",
    "ticket_title",
    "customer_name",
    "agent_name",
    "mailbox_name",
    "body",
)


class _Vars(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def template_text(kind: str, language: str) -> tuple[str, str]:
    """(subject, body) of a template: the administrator's version, else the built-in one."""
    row = EmailTemplate.objects.filter(kind=kind, language=language).first()
    if row is not None:
        return row.subject, row.body
    return DEFAULT_TEMPLATES[(kind, language)]


def render(
    kind: str,
    language: str,
    values: dict[str, str],
    templates: dict[tuple[str, str], tuple[str, str]] | None = None,
) -> tuple[str, str]:
    """Subject and body of a message from its template; ``templates`` keeps the templates read
    (a batch reads each once)."""
    key = (kind, language if language == "en" else "zh-hans")
    if templates is None:
        subject, body = template_text(*key)
    else:
        if key not in templates:
            templates[key] = template_text(*key)
        subject, body = templates[key]
    mapping = _Vars(values)
    try:
        subject = subject.format_map(mapping)
        body = body.format_map(mapping)
    except (ValueError, IndexError, AttributeError):
        subject, body = DEFAULT_TEMPLATES[(kind, language if language == "en" else "zh-hans")]
        subject, body = subject.format_map(mapping), body.format_map(mapping)
    tag = f"[#{values['ticket_number']}]"
    if values["ticket_number"] not in subject:
        subject = f"{tag} {subject}"
    return " ".join(subject.split())[:500], body


@transaction.atomic
def save_template(
    *, actor: User, kind: str, language: str, subject: str, body: str
) -> EmailTemplate:
    require_perm(actor, "email.manage")
    errors: dict[str, list[str]] = {}
    if (kind, language) not in DEFAULT_TEMPLATES:
        errors["kind"] = [_("Unknown template.")]
    try:
        subject = clean_text(subject, field="subject", max_length=200, required=True)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        body = clean_text(body, field="body", max_length=4000, required=True)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    for field_name, text in (("subject", subject), ("body", body)):
        try:
            text.format_map(_Vars({v: "" for v in VARIABLES}))
        except (ValueError, IndexError, AttributeError):
            errors.setdefault(field_name, []).append(
                _("Braces must enclose a variable name such as {ticket_number}.")
            )
    if kind == Kind.REPLY and "{body}" not in body:
        errors.setdefault("body", []).append(_("A reply template must contain {body}."))
    if errors:
        raise ValidationError(errors)
    row, _created = EmailTemplate.objects.get_or_create(
        kind=kind,
        language=language,
        defaults={"subject": subject, "body": body},
    )
    before = {"subject": row.subject, "body": row.body} if not _created else {}
    row.subject, row.body, row.updated_at = subject, body, timezone.now()
    row.save()
    events.record(
        "email_template_changed",
        row,
        actor=actor,
        changes=events.diff(before, {"subject": subject, "body": body}),
    )
    return row


# --- queueing --------------------------------------------------------------------------------------


def mailbox_for(ticket: Ticket) -> Mailbox | None:
    """The mailbox the customer wrote to, else the ticket team's, else the first active one."""
    first = (
        InboundEmail.objects.filter(ticket=ticket, mailbox__is_active=True)
        .order_by("received_at", "id")
        .select_related("mailbox")
        .first()
    )
    if first is not None and first.mailbox is not None:
        return first.mailbox
    active = Mailbox.objects.filter(is_active=True)
    own = active.filter(team_id=ticket.team_id).order_by("id").first() if ticket.team_id else None
    return own or active.order_by("id").first()


def recipient_for(ticket: Ticket) -> str:
    if ticket.contact_email:
        return ticket.contact_email
    if ticket.customer_id is None:
        return ""
    point = (
        ContactPoint.objects.filter(customer_id=ticket.customer_id, kind=ContactPoint.Kind.EMAIL)
        .order_by("-is_primary", "id")
        .first()
    )
    return point.value if point else ""


def _thread_headers(ticket: Ticket) -> tuple[str, str]:
    """In-Reply-To (the customer's latest mail) and References (the thread, oldest first)."""
    inbound = list(
        InboundEmail.objects.filter(ticket=ticket)
        .exclude(message_id="")
        .order_by("received_at", "id")
        .values_list("received_at", "message_id")
    )
    outbound = list(
        OutboundEmail.objects.filter(ticket=ticket)
        .order_by("created_at", "id")
        .values_list("created_at", "message_id")
    )
    return _headers_of(inbound, outbound)


def _headers_of(
    inbound: list[tuple[dt.datetime, str]], outbound: list[tuple[dt.datetime, str]]
) -> tuple[str, str]:
    chain = [mid for _at, mid in sorted(inbound + outbound, key=lambda pair: pair[0])]
    in_reply_to = inbound[-1][1] if inbound else (outbound[-1][1] if outbound else "")
    return in_reply_to, " ".join(chain[-20:])


def _message_id(mailbox: Mailbox, ticket: Ticket) -> str:
    domain = mailbox.address.rpartition("@")[2]
    return f"<kefu.{ticket.number}.{secrets.token_hex(8)}@{domain}>"


def _language(ticket: Ticket) -> str:
    language = ticket.customer.language if ticket.customer_id and ticket.customer else ""
    return "en" if str(language).startswith("en") else "zh-hans"


def with_notices(text: str, language: str) -> str:
    """An acknowledgement followed by what the centre publishes for e-mail right now (an
    outage, a holiday timetable), most severe first, in the customer's language."""
    from kefu.core.interactions import current_notices

    notices = current_notices(Channel.EMAIL)
    if not notices:
        return text
    with translation.override("en" if language == "en" else "zh-hans"):
        heading = _("Service notices")
    lines = [text.rstrip(), "", f"—— {heading} ——"]
    for notice in notices:
        title = " ".join(notice.title.split())
        lines.append("")
        if title:
            lines.append(f"【{title}】")
        lines.append(notice.text.strip())
    return "\n".join(lines).rstrip() + "\n"


@dataclass
class _Lookups:
    """What queueing a message reads besides the work order: read per work order by
    :func:`_queue`, and for a whole batch at once by :func:`on_ticket_events`."""

    mailbox: Mailbox | None
    to_address: str
    in_reply_to: str
    references: str


def _lookups(ticket: Ticket) -> _Lookups:
    mailbox = mailbox_for(ticket)
    to_address = recipient_for(ticket)
    if mailbox is None or not to_address:
        return _Lookups(mailbox, to_address, "", "")
    return _Lookups(mailbox, to_address, *_thread_headers(ticket))


def _draft(
    *,
    ticket: Ticket,
    kind: str,
    actor: User | None,
    found: _Lookups,
    body: str = "",
    message: Message | None = None,
    attachment_ids: list[int] | None = None,
    templates: dict[tuple[str, str], tuple[str, str]] | None = None,
) -> OutboundEmail:
    """The unsaved message for ``ticket`` (its mailbox and address are known)."""
    assert found.mailbox is not None
    mailbox = found.mailbox
    customer_name = ticket.contact_name or (ticket.customer.name if ticket.customer else "")
    subject, text = render(
        kind,
        _language(ticket),
        {
            "ticket_number": ticket.number,
            "ticket_title": ticket.title,
            "customer_name": customer_name,
            "agent_name": actor.display_name if actor is not None else "",
            "mailbox_name": mailbox.name,
            "body": body,
        },
        templates,
    )
    if kind == Kind.ACKNOWLEDGEMENT:
        text = with_notices(text, _language(ticket))
    return OutboundEmail(
        mailbox=mailbox,
        ticket=ticket,
        ticket_message=message,
        kind=kind,
        message_id=_message_id(mailbox, ticket),
        in_reply_to=found.in_reply_to,
        references=found.references,
        to_address=found.to_address,
        subject=subject,
        body=text,
        attachment_ids=attachment_ids or [],
        next_attempt_at=timezone.now(),
    )


def _not_sent_data(kind: str, found: _Lookups) -> dict[str, str]:
    return {"kind": kind, "reason": "no mailbox" if found.mailbox is None else "no e-mail address"}


def _queued_data(outbound: OutboundEmail, ticket: Ticket) -> dict[str, str]:
    return {"kind": outbound.kind, "to": outbound.to_address, "ticket": ticket.number}


def _queue(
    *,
    ticket: Ticket,
    kind: str,
    actor: User | None,
    body: str = "",
    message: Message | None = None,
    attachment_ids: list[int] | None = None,
) -> OutboundEmail | None:
    found = _lookups(ticket)
    if found.mailbox is None or not found.to_address:
        events.record(
            "email_not_sent",
            ticket,
            actor=actor,
            object_repr=ticket.number,
            data=_not_sent_data(kind, found),
        )
        return None
    outbound = _draft(
        ticket=ticket,
        kind=kind,
        actor=actor,
        found=found,
        body=body,
        message=message,
        attachment_ids=attachment_ids,
    )
    outbound.save(force_insert=True)
    events.record(
        "email_queued",
        outbound,
        actor=actor,
        object_repr=ticket.number,
        data=_queued_data(outbound, ticket),
    )
    from kefu.email.tasks import send_outbound_task

    jobs.enqueue(send_outbound_task, outbound.pk)
    return outbound


def queue_acknowledgement(
    *, ticket: Ticket, inbound: InboundEmail, mailbox: Mailbox
) -> OutboundEmail | None:
    """Tell a customer whose mail opened a work order its number (never for automatic mail)."""
    if inbound.kind != InboundEmail.Kind.NORMAL:
        return None
    return _queue(ticket=ticket, kind=Kind.ACKNOWLEDGEMENT, actor=None)


def _batch_lookups(tickets: list[Ticket]) -> dict[int, _Lookups]:
    """:func:`_lookups` for many work orders with a few queries in all: the mailbox each
    customer wrote to (else the team's, else the first active one), the address, the thread."""
    ids = [t.pk for t in tickets]
    wrote_to: dict[int, Mailbox] = {}
    for first in (
        InboundEmail.objects.filter(ticket_id__in=ids, mailbox__is_active=True)
        .order_by("ticket_id", "received_at", "id")
        .select_related("mailbox")
    ):
        if first.ticket_id and first.mailbox is not None:
            wrote_to.setdefault(first.ticket_id, first.mailbox)
    active = list(Mailbox.objects.filter(is_active=True).order_by("id"))
    by_team: dict[int, Mailbox] = {}
    for box in active:
        if box.team_id is not None:
            by_team.setdefault(box.team_id, box)
    lacking = {t.customer_id for t in tickets if not t.contact_email and t.customer_id}
    points: dict[int, str] = {}
    for customer_id, value in (
        ContactPoint.objects.filter(customer_id__in=lacking, kind=ContactPoint.Kind.EMAIL)
        .order_by("customer_id", "-is_primary", "id")
        .values_list("customer_id", "value")
    ):
        points.setdefault(customer_id, value)
    inbound_ids: dict[int, list[tuple[dt.datetime, str]]] = {}
    for ticket_id, at, mid in (
        InboundEmail.objects.filter(ticket_id__in=ids)
        .exclude(message_id="")
        .order_by("received_at", "id")
        .values_list("ticket_id", "received_at", "message_id")
    ):
        inbound_ids.setdefault(ticket_id, []).append((at, mid))
    outbound_ids: dict[int, list[tuple[dt.datetime, str]]] = {}
    for ticket_id, at, mid in (
        OutboundEmail.objects.filter(ticket_id__in=ids)
        .order_by("created_at", "id")
        .values_list("ticket_id", "created_at", "message_id")
    ):
        outbound_ids.setdefault(ticket_id, []).append((at, mid))
    found: dict[int, _Lookups] = {}
    for ticket in tickets:
        mailbox = wrote_to.get(ticket.pk)
        if mailbox is None:
            own = by_team.get(ticket.team_id) if ticket.team_id else None
            mailbox = own or (active[0] if active else None)
        to_address = ticket.contact_email or points.get(ticket.customer_id or 0, "")
        inbound = inbound_ids.get(ticket.pk, [])
        outbound = outbound_ids.get(ticket.pk, [])
        found[ticket.pk] = _Lookups(mailbox, to_address, *_headers_of(inbound, outbound))
    return found


def on_ticket_events(tickets: list[Ticket], events_: list[Event]) -> None:
    """Batch version of :func:`on_ticket_event` (one reply to many work orders): each reply on
    an e-mail work order is queued as :func:`on_ticket_event` queues it — the same messages,
    delivery rows and events — reading and writing with a few statements for the batch, and
    one job, after the batch commits, sends them all."""
    by_pk = {t.pk: t for t in tickets if t.channel == Channel.EMAIL}
    replies = [
        e
        for e in events_
        if e.action == "ticket_replied"
        and e.object_id in by_pk
        and isinstance((e.data or {}).get("message"), int)
    ]
    if not replies:
        return
    messages = {
        m.pk: m
        for m in Message.objects.filter(
            pk__in=[e.data["message"] for e in replies], ticket_id__in=list(by_pk)
        ).select_related("author")
    }
    files: dict[int, list[int]] = {}
    for message_id, pk in (
        Attachment.objects.filter(message_id__in=list(messages), is_public=True)
        .order_by("id")
        .values_list("message_id", "pk")
    ):
        files.setdefault(message_id, []).append(pk)
    work = [
        (by_pk[e.object_id], messages[e.data["message"]])
        for e in replies
        if (m := messages.get(e.data["message"])) is not None and m.ticket_id == e.object_id
    ]
    found = _batch_lookups(list({t.pk: t for t, _m in work}.values()))
    templates: dict[tuple[str, str], tuple[str, str]] = {}
    builders: dict[int | None, Any] = {}
    drafts: list[tuple[Ticket, OutboundEmail, Any]] = []
    not_sent: list[Event] = []
    now = timezone.now()
    for ticket, message in work:
        actor = message.author
        build = builders.setdefault(actor.pk if actor else None, events._builder(actor))
        lookups = found[ticket.pk]
        if lookups.mailbox is None or not lookups.to_address:
            not_sent.append(
                build(
                    "email_not_sent",
                    object_type="ticket",
                    object_id=ticket.pk,
                    object_repr=ticket.number,
                    changes=None,
                    data=_not_sent_data(Kind.REPLY, lookups),
                    at=now,
                )
            )
            continue
        draft = _draft(
            ticket=ticket,
            kind=Kind.REPLY,
            actor=actor,
            found=lookups,
            body=message.body,
            message=message,
            attachment_ids=files.get(message.pk, []),
            templates=templates,
        )
        drafts.append((ticket, draft, build))
    written = OutboundEmail.objects.bulk_create([d for _t, d, _b in drafts])
    queued = [
        build(
            "email_queued",
            object_type=OutboundEmail._meta.model_name or "",
            object_id=outbound.pk,
            object_repr=ticket.number,
            changes=None,
            data=_queued_data(outbound, ticket),
            at=now,
        )
        for (ticket, _unsaved, build), outbound in zip(drafts, written, strict=True)
    ]
    if not_sent or queued:
        Event.objects.bulk_create([*not_sent, *queued])
    if written:
        from kefu.email.tasks import send_outbound_many_task

        jobs.enqueue(send_outbound_many_task, [o.pk for o in written])


def on_ticket_event(ticket: Ticket, event: Event) -> None:
    """Ticket hook: an agent's reply on an e-mail work order goes out by e-mail."""
    if event.action != "ticket_replied" or ticket.channel != Channel.EMAIL:
        return
    message_id = (event.data or {}).get("message")
    if not isinstance(message_id, int):
        return
    message = Message.objects.filter(pk=message_id, ticket=ticket).first()
    if message is None:
        return
    files = list(
        Attachment.objects.filter(message=message, is_public=True).values_list("pk", flat=True)
    )
    _queue(
        ticket=ticket,
        kind=Kind.REPLY,
        actor=message.author,
        body=message.body,
        message=message,
        attachment_ids=files,
    )


# --- sending ---------------------------------------------------------------------------------------


def build_message(outbound: OutboundEmail) -> EmailMessage:
    mailbox = outbound.mailbox
    assert mailbox is not None
    msg = EmailMessage()
    msg["From"] = formataddr((mailbox.name, mailbox.address))
    msg["To"] = outbound.to_address
    msg["Subject"] = outbound.subject
    msg["Date"] = format_datetime(timezone.now())
    msg["Message-ID"] = outbound.message_id
    if outbound.in_reply_to:
        msg["In-Reply-To"] = outbound.in_reply_to
    if outbound.references:
        msg["References"] = outbound.references
    msg["X-Kefu-Mailbox"] = mailbox.address
    if outbound.ticket is not None:
        msg["X-Kefu-Ticket"] = outbound.ticket.number
    if outbound.kind == Kind.ACKNOWLEDGEMENT:
        msg["Auto-Submitted"] = "auto-replied"
        msg["X-Auto-Response-Suppress"] = "All"
    msg.set_content(outbound.body, charset="utf-8")
    for attachment in Attachment.objects.filter(pk__in=outbound.attachment_ids).order_by("id"):
        with attachment.file.open("rb") as handle:
            data = handle.read()
        maintype, _slash, subtype = attachment.content_type.split(";")[0].partition("/")
        msg.add_attachment(
            data,
            maintype=maintype or "application",
            subtype=subtype or "octet-stream",
            filename=attachment.filename,
        )
    return msg


@dataclass
class _Tried:
    """The outcome of one try to hand a message to the SMTP server."""

    outbound_id: int
    attempt: int
    ok: bool
    detail: str
    code: int | None = None
    permanent: bool = False


def _failure(outbound_id: int, attempt: int, exc: Exception) -> _Tried:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, text = next(iter(exc.recipients.values()))
        detail = f"{code} {text.decode('utf-8', 'replace') if isinstance(text, bytes) else text}"
        return _Tried(outbound_id, attempt, False, detail, code, 500 <= code < 600)
    if isinstance(exc, smtplib.SMTPResponseException):
        code, error = exc.smtp_code, exc.smtp_error
        detail = f"{code} {error.decode('utf-8', 'replace') if isinstance(error, bytes) else error}"
        return _Tried(outbound_id, attempt, False, detail, code, 500 <= code < 600)
    from kefu.email.services.mailboxes import describe_error

    return _Tried(outbound_id, attempt, False, describe_error(exc))


_SMTP_ERRORS = (OSError, smtplib.SMTPException, ValueError)


def _claim(ids: list[int]) -> list[OutboundEmail]:
    """Lock the pending messages among ``ids`` whose time has come, count a try for each and
    keep everyone else off them while it runs (five minutes, then ``send_due`` takes them)."""
    now = timezone.now()
    with transaction.atomic():
        rows = list(
            OutboundEmail.objects.select_for_update(of=("self",))
            .select_related("mailbox", "ticket")
            .filter(pk__in=ids, state=OutboundEmail.State.PENDING)
            .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
            .order_by("pk")
        )
        if not rows:
            return []
        hold = now + dt.timedelta(minutes=5)
        OutboundEmail.objects.filter(pk__in=[o.pk for o in rows]).update(
            attempts=F("attempts") + 1, next_attempt_at=hold
        )
        for outbound in rows:
            outbound.attempts += 1
            outbound.next_attempt_at = hold
    return rows


def _write_results(tried: list[_Tried]) -> dict[int, str]:
    """Write each try to the delivery log and its message, with one event each: sent, failed
    for good, or retried after a back-off. Returns each message's new state."""
    if not tried:
        return {}
    with transaction.atomic():
        rows = {
            o.pk: o
            for o in OutboundEmail.objects.select_for_update(of=("self",))
            .select_related("ticket")
            .filter(pk__in=[t.outbound_id for t in tried])
        }
        now = timezone.now()
        build = events._builder(None)
        log: list[DeliveryAttempt] = []
        written: list[Event] = []
        sent: list[int] = []
        states: dict[int, str] = {}
        for t in tried:
            outbound = rows.get(t.outbound_id)
            if outbound is None:
                continue
            log.append(
                DeliveryAttempt(
                    outbound=outbound,
                    attempt=t.attempt,
                    ok=t.ok,
                    code=t.code,
                    detail=t.detail[:500],
                )
            )
            if t.ok:
                action = "email_sent"
                outbound.state = OutboundEmail.State.SENT
                sent.append(outbound.pk)
            else:
                if t.permanent or t.attempt >= MAX_ATTEMPTS:
                    action = "email_failed"
                    outbound.state = OutboundEmail.State.FAILED
                    outbound.next_attempt_at = None
                else:
                    action = "email_retry_scheduled"
                    delay = retry_delay(t.attempt)
                    outbound.next_attempt_at = now + dt.timedelta(seconds=delay)
                    from kefu.email.tasks import send_outbound_task

                    jobs.enqueue(send_outbound_task, outbound.pk, countdown=delay)
                outbound.last_error = t.detail[:500]
                outbound.save(update_fields=["state", "next_attempt_at", "last_error"])
            states[outbound.pk] = str(outbound.state)
            written.append(
                build(
                    action,
                    object_type=OutboundEmail._meta.model_name or "",
                    object_id=outbound.pk,
                    object_repr=outbound.ticket.number if outbound.ticket else outbound.to_address,
                    changes=None,
                    data={
                        "attempt": t.attempt,
                        "detail": t.detail[:300],
                        "to": outbound.to_address,
                    },
                    at=now,
                )
            )
        if sent:
            OutboundEmail.objects.filter(pk__in=sent).update(
                state=OutboundEmail.State.SENT, sent_at=now, next_attempt_at=None, last_error=""
            )
        DeliveryAttempt.objects.bulk_create(log)
        Event.objects.bulk_create(written)
    return states


def send_outbound(outbound_id: int) -> str:
    """Try to send one queued message: claim it, talk to SMTP outside any transaction, then
    write the result. Returns the new state. Safe to run twice: a sent message is not resent."""
    claimed = _claim([outbound_id])
    if not claimed:
        return str(
            OutboundEmail.objects.filter(pk=outbound_id).values_list("state", flat=True).first()
            or ""
        )
    outbound = claimed[0]
    try:
        if outbound.mailbox is None:
            raise ValueError("the mailbox was deleted")  # noqa: TRY301
        from kefu.email.connectors import smtp_send
        from kefu.email.services.mailboxes import server_out

        detail = smtp_send(
            server_out(outbound.mailbox),
            build_message(outbound),
            outbound.mailbox.address,
            [outbound.to_address],
        )
        tried = _Tried(outbound.pk, outbound.attempts, True, detail)
    except _SMTP_ERRORS as exc:
        tried = _failure(outbound.pk, outbound.attempts, exc)
    return _write_results([tried])[outbound.pk]


SEND_CHUNK = 100
"""Messages claimed, sent and written together by :func:`send_outbound_many`."""


class _Connections:
    """One open SMTP connection per mailbox, reused for every message a job sends through it;
    one that breaks is closed and opened again for the next message."""

    def __init__(self) -> None:
        self._open: dict[int, smtplib.SMTP] = {}

    def send(self, mailbox: Mailbox, message: EmailMessage, to_address: str) -> str:
        from kefu.email.connectors import smtp_connect
        from kefu.email.services.mailboxes import server_out

        reused = mailbox.pk in self._open
        for _try in range(2):
            conn = self._open.get(mailbox.pk)
            if conn is None:
                conn = self._open[mailbox.pk] = smtp_connect(server_out(mailbox))
            try:
                refused = conn.send_message(
                    message, from_addr=mailbox.address, to_addrs=[to_address]
                )
                if refused:
                    raise smtplib.SMTPRecipientsRefused(refused)
                code, text = conn.noop()
            except smtplib.SMTPServerDisconnected:
                self.drop(mailbox.pk)
                if reused:
                    # the server closed an idle connection before taking this message: once
                    # more on a new one
                    reused = False
                    continue
                raise
            except smtplib.SMTPResponseException as exc:
                if exc.smtp_code == 421:
                    self.drop(mailbox.pk)  # the server is closing the connection
                raise
            except smtplib.SMTPException:
                raise  # a refused recipient: the connection is reset and stays usable
            except OSError:
                self.drop(mailbox.pk)  # a network error: the connection is unusable
                raise
            return f"{code} {text.decode('utf-8', 'replace') if isinstance(text, bytes) else text}"
        raise smtplib.SMTPServerDisconnected("connection closed")  # pragma: no cover

    def drop(self, mailbox_id: int) -> None:
        conn = self._open.pop(mailbox_id, None)
        if conn is not None:
            with contextlib.suppress(OSError):
                conn.close()

    def close(self) -> None:
        for mailbox_id, conn in list(self._open.items()):
            try:
                conn.quit()
            except (OSError, smtplib.SMTPException):
                self.drop(mailbox_id)
        self._open.clear()


def send_outbound_many(outbound_ids: list[int], *, chunk: int = SEND_CHUNK) -> dict[int, str]:
    """Send many queued messages (a batch of replies) the way :func:`send_outbound` sends one
    — claimed, each try in the delivery log, retried on its own, never resent once sent — but
    over one SMTP connection per mailbox, with the claims and results written a chunk at a
    time. Returns each tried message's new state."""
    states: dict[int, str] = {}
    connections = _Connections()
    try:
        for start in range(0, len(outbound_ids), max(1, chunk)):
            tried: list[_Tried] = []
            for outbound in _claim(outbound_ids[start : start + chunk]):
                try:
                    if outbound.mailbox is None:
                        raise ValueError("the mailbox was deleted")  # noqa: TRY301
                    detail = connections.send(
                        outbound.mailbox, build_message(outbound), outbound.to_address
                    )
                    tried.append(_Tried(outbound.pk, outbound.attempts, True, detail))
                except _SMTP_ERRORS as exc:
                    tried.append(_failure(outbound.pk, outbound.attempts, exc))
            states.update(_write_results(tried))
    finally:
        connections.close()
    return states


def send_due(limit: int = 200) -> int:
    """Send every pending message whose time has come (after a restart, or a lost job)."""
    due = list(
        OutboundEmail.objects.filter(
            state=OutboundEmail.State.PENDING, next_attempt_at__lte=timezone.now()
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    send_outbound_many(due)
    return len(due)


def retry_now(*, actor: User, outbound: OutboundEmail) -> OutboundEmail:
    """An administrator sends a failed or bounced message again (after fixing the address or
    the server)."""
    require_perm(actor, "email.manage")
    with transaction.atomic():
        outbound = OutboundEmail.objects.select_for_update().get(pk=outbound.pk)
        if outbound.state == OutboundEmail.State.SENT:
            raise ValidationError({"state": [_("This message was already sent.")]})
        outbound.state = OutboundEmail.State.PENDING
        outbound.attempts = 0
        outbound.next_attempt_at = timezone.now()
        outbound.save(update_fields=["state", "attempts", "next_attempt_at"])
        events.record("email_resend", outbound, actor=actor, data={"to": outbound.to_address})
        from kefu.email.tasks import send_outbound_task

        jobs.enqueue(send_outbound_task, outbound.pk)
    return outbound
