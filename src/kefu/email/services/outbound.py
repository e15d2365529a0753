"""Outgoing mail: replies to e-mail work orders and acknowledgements of new ones, from editable
templates (Chinese and English), with the work-order number in the subject and threading
headers; sent after commit, retried with back-off, every try written to the delivery log."""

from __future__ import annotations

import datetime as dt
import secrets
import smtplib
from contextvars import ContextVar
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

from django.core.exceptions import ValidationError
from django.db import transaction
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


def render(kind: str, language: str, values: dict[str, str]) -> tuple[str, str]:
    subject, body = template_text(kind, language if language == "en" else "zh-hans")
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


def _queue(
    *,
    ticket: Ticket,
    kind: str,
    actor: User | None,
    body: str = "",
    message: Message | None = None,
    attachment_ids: list[int] | None = None,
) -> OutboundEmail | None:
    mailbox = mailbox_for(ticket)
    to_address = recipient_for(ticket)
    if mailbox is None or not to_address:
        events.record(
            "email_not_sent",
            ticket,
            actor=actor,
            object_repr=ticket.number,
            data={
                "kind": kind,
                "reason": "no mailbox" if mailbox is None else "no e-mail address",
            },
        )
        return None
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
    )
    if kind == Kind.ACKNOWLEDGEMENT:
        text = with_notices(text, _language(ticket))
    in_reply_to, references = _thread_headers(ticket)
    outbound = OutboundEmail.objects.create(
        mailbox=mailbox,
        ticket=ticket,
        ticket_message=message,
        kind=kind,
        message_id=_message_id(mailbox, ticket),
        in_reply_to=in_reply_to,
        references=references,
        to_address=to_address,
        subject=subject,
        body=text,
        attachment_ids=attachment_ids or [],
        next_attempt_at=timezone.now(),
    )
    events.record(
        "email_queued",
        outbound,
        actor=actor,
        object_repr=ticket.number,
        data={"kind": kind, "to": to_address, "ticket": ticket.number},
    )
    collected = _COLLECT.get()
    if collected is not None:
        collected.append(outbound.pk)  # a batch sends them with one job
        return outbound
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


_COLLECT: ContextVar[list[int] | None] = ContextVar("email_outbound_batch", default=None)


def on_ticket_events(tickets: list[Ticket], events: list[Event]) -> None:
    """Batch version of :func:`on_ticket_event` (one reply to many work orders): each reply on
    an e-mail work order is queued as it would be one by one, and one job, after the batch
    commits, sends them all."""
    by_pk = {t.pk: t for t in tickets if t.channel == Channel.EMAIL}
    if not by_pk:
        return
    collected: list[int] = []
    token = _COLLECT.set(collected)
    try:
        for event in events:
            ticket = by_pk.get(event.object_id)
            if ticket is not None:
                on_ticket_event(ticket, event)
    finally:
        _COLLECT.reset(token)
    if collected:
        from kefu.email.tasks import send_outbound_many_task

        jobs.enqueue(send_outbound_many_task, collected)


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


def send_outbound(outbound_id: int) -> str:
    """Try to send one queued message: claim it, talk to SMTP outside any transaction, then
    write the result. Returns the new state. Safe to run twice: a sent message is not resent."""
    now = timezone.now()
    with transaction.atomic():
        outbound = (
            OutboundEmail.objects.select_for_update(of=("self",))
            .select_related("mailbox", "ticket")
            .filter(pk=outbound_id)
            .first()
        )
        if outbound is None or outbound.state != OutboundEmail.State.PENDING:
            return outbound.state if outbound else ""
        if outbound.next_attempt_at is not None and outbound.next_attempt_at > now:
            return outbound.state
        outbound.attempts += 1
        # While this try runs, nobody else picks the message up.
        outbound.next_attempt_at = now + dt.timedelta(minutes=5)
        outbound.save(update_fields=["attempts", "next_attempt_at"])
    attempt = outbound.attempts
    code: int | None = None
    permanent = False
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
        ok = True
    except smtplib.SMTPRecipientsRefused as exc:
        ok = False
        code, text = next(iter(exc.recipients.values()))
        permanent = 500 <= code < 600
        detail = f"{code} {text.decode('utf-8', 'replace') if isinstance(text, bytes) else text}"
    except smtplib.SMTPResponseException as exc:
        ok = False
        code = exc.smtp_code
        permanent = 500 <= code < 600
        error = exc.smtp_error
        detail = f"{code} {error.decode('utf-8', 'replace') if isinstance(error, bytes) else error}"
    except (OSError, smtplib.SMTPException, ValueError) as exc:
        ok = False
        from kefu.email.services.mailboxes import describe_error

        detail = describe_error(exc)
    with transaction.atomic():
        outbound = OutboundEmail.objects.select_for_update().get(pk=outbound_id)
        DeliveryAttempt.objects.create(
            outbound=outbound, attempt=attempt, ok=ok, code=code, detail=detail[:500]
        )
        if ok:
            outbound.state = OutboundEmail.State.SENT
            outbound.sent_at = timezone.now()
            outbound.next_attempt_at = None
            outbound.last_error = ""
            action = "email_sent"
        elif permanent or attempt >= MAX_ATTEMPTS:
            outbound.state = OutboundEmail.State.FAILED
            outbound.next_attempt_at = None
            outbound.last_error = detail[:500]
            action = "email_failed"
        else:
            delay = retry_delay(attempt)
            outbound.next_attempt_at = timezone.now() + dt.timedelta(seconds=delay)
            outbound.last_error = detail[:500]
            action = "email_retry_scheduled"
            from kefu.email.tasks import send_outbound_task

            jobs.enqueue(send_outbound_task, outbound.pk, countdown=delay)
        outbound.save(update_fields=["state", "sent_at", "next_attempt_at", "last_error"])
        events.record(
            action,
            outbound,
            actor=None,
            object_repr=outbound.ticket.number if outbound.ticket else outbound.to_address,
            data={"attempt": attempt, "detail": detail[:300], "to": outbound.to_address},
        )
        return str(outbound.state)


def send_due(limit: int = 200) -> int:
    """Send every pending message whose time has come (after a restart, or a lost job)."""
    due = list(
        OutboundEmail.objects.filter(
            state=OutboundEmail.State.PENDING, next_attempt_at__lte=timezone.now()
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    for pk in due:
        send_outbound(pk)
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
