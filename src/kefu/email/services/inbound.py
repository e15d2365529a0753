"""Incoming mail, one message at a time: store the original bytes → deduplicate by Message-ID
→ recognise automatic mail → thread onto a work order → match or create the customer → add the
message or open a work order → attachments. Each message is one transaction."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.models import User
from kefu.core import events
from kefu.core.choices import Channel
from kefu.core.permissions import require_perm
from kefu.customers.models import ContactPoint, Customer
from kefu.email import parsing
from kefu.email.models import FetchedUid, InboundEmail, Mailbox, OutboundEmail
from kefu.tickets.models import Attachment, Ticket
from kefu.tickets.states import FINAL_STATES

LOOP_WINDOW = dt.timedelta(minutes=10)
LOOP_LIMIT = 20
"""More messages than this from one address within the window is a mail loop."""
MAX_TEXT = 20000
FILED_FIELDS = [
    "kind",
    "kind_reason",
    "text",
    "visible_text",
    "folded_text",
    "processed_at",
    "quarantine_reason",
    "ticket",
    "ticket_message",
    "created_ticket",
    "state",
    "html_safe",
    "attachments",
]


@dataclass(frozen=True)
class Ingested:
    inbound: InboundEmail
    duplicate: bool


def ingest(mailbox: Mailbox, raw: bytes, *, uid: str = "") -> Ingested:
    """Take one fetched message. Safe to call again with the same bytes or uid: the second call
    changes nothing and answers the stored message."""
    with transaction.atomic():
        if uid:
            seen = FetchedUid.objects.filter(mailbox=mailbox, uid=uid).select_related("inbound")
            known = seen.first()
            if known is not None and known.inbound is not None:
                return Ingested(known.inbound, True)
        result = _ingest(mailbox, raw)
        if uid:
            # Not there a moment ago; a concurrent fetch of the same UID fails here and rolls
            # back whole, and the next fetch finds the message by its key.
            FetchedUid.objects.create(mailbox=mailbox, uid=uid, inbound=result.inbound)
        return result


def _ingest(mailbox: Mailbox, raw: bytes) -> Ingested:
    size = len(raw)
    if size > mailbox.max_message_bytes:
        return _quarantine_new(
            mailbox,
            raw,
            _("Too large: %(s)d bytes; this mailbox takes at most %(m)d.")
            % {"s": size, "m": mailbox.max_message_bytes},
        )
    # A message seen before is recognised from its header alone, without reading it whole.
    peeked = parsing.message_key(parsing.peek_message_id(raw), raw)
    known = InboundEmail.objects.filter(key=peeked).first()
    if known is not None:
        return Ingested(known, True)
    try:
        parsed = parsing.parse_message(raw)
    except parsing.MailParseError as exc:
        return _quarantine_new(mailbox, raw, _("Cannot be read: %(e)s") % {"e": exc})
    key = parsing.message_key(parsed.message_id, raw)
    existing = InboundEmail.objects.filter(key=key).first() if key != peeked else None
    if existing is not None:
        return Ingested(existing, True)
    try:
        with transaction.atomic():
            inbound = InboundEmail.objects.create(
                mailbox=mailbox,
                key=key,
                message_id=parsed.message_id,
                raw=raw,
                size=size,
                state=InboundEmail.State.QUARANTINED,
                **_headers(parsed),
            )
    except IntegrityError:
        # The same message arrived through another fetch at the same moment.
        return Ingested(InboundEmail.objects.get(key=key), True)
    _file(inbound, parsed, mailbox)
    return Ingested(inbound, False)


def _headers(parsed: parsing.ParsedMail) -> dict[str, Any]:
    return {
        "subject": parsed.subject[:500],
        "from_address": parsed.from_address[:254],
        "from_name": parsed.from_name[:200],
        "to": ", ".join(parsed.to + parsed.cc)[:1000],
        "sent_at": parsed.date,
        "thread_ids": parsed.thread_ids[:50],
        "defects": parsed.defects[:20],
    }


def _quarantine_new(mailbox: Mailbox, raw: bytes, reason: str) -> Ingested:
    key = parsing.message_key(parsing.peek_message_id(raw), raw)
    existing = InboundEmail.objects.filter(key=key).first()
    if existing is not None:
        return Ingested(existing, True)
    with transaction.atomic():
        inbound = InboundEmail.objects.create(
            mailbox=mailbox,
            key=key,
            message_id=key if key.startswith("<") else "",
            raw=raw,
            size=len(raw),
            state=InboundEmail.State.QUARANTINED,
            quarantine_reason=reason[:500],
        )
        events.record(
            "email_quarantined", inbound, actor=None, data={"reason": reason, "size": len(raw)}
        )
    return Ingested(inbound, False)


def _file(inbound: InboundEmail, parsed: parsing.ParsedMail, mailbox: Mailbox) -> None:
    """Put a stored message where it belongs; a message the rules refuse (a work-order field
    it cannot fill) goes to quarantine with the reason, never lost."""
    try:
        with transaction.atomic():
            _route(inbound, parsed, mailbox)
    except (ValidationError, PermissionDenied, ValueError, LookupError) as exc:
        reason = "; ".join(getattr(exc, "messages", None) or [str(exc)])
        inbound.state = InboundEmail.State.QUARANTINED
        inbound.quarantine_reason = (_("Could not be filed: %(e)s") % {"e": reason})[:500]
        inbound.save(update_fields=["state", "quarantine_reason"])
        events.record("email_quarantined", inbound, actor=None, data={"reason": reason})


_OWN: dict[str, Any] = {"at": 0.0, "addresses": frozenset()}
OWN_TTL = 30.0


def own_addresses() -> frozenset[str]:
    """Our mailboxes' addresses (mail from them is a loop), read at most every 30 seconds."""
    now = time.monotonic()
    if now - _OWN["at"] > OWN_TTL:
        _OWN["addresses"] = frozenset(
            a.lower() for a in Mailbox.objects.values_list("address", flat=True)
        )
        _OWN["at"] = now
    return _OWN["addresses"]  # type: ignore[no-any-return]


def forget_addresses() -> None:
    _OWN["at"] = 0.0


def _route(inbound: InboundEmail, parsed: parsing.ParsedMail, mailbox: Mailbox) -> None:
    kind, reason = parsing.classify(parsed, own_addresses())
    if kind == "normal":
        since = timezone.now() - LOOP_WINDOW
        recent = (
            InboundEmail.objects.filter(from_address=parsed.from_address, received_at__gte=since)
            .exclude(pk=inbound.pk)
            .count()
        )
        if recent >= LOOP_LIMIT:
            kind = "loop"
            reason = _("%(n)d messages from this address in ten minutes") % {"n": recent + 1}
    ticket = find_thread(parsed)
    visible, folded = parsing.fold_quoted(parsed.text)
    inbound.kind = kind
    inbound.kind_reason = reason[:200]
    inbound.text = parsed.text[:200000]
    inbound.visible_text = visible[:MAX_TEXT]
    inbound.folded_text = folded[:200000]
    inbound.processed_at = timezone.now()
    inbound.quarantine_reason = ""
    if kind != "normal":
        if kind == "bounce":
            _mark_bounced(parsed)
        inbound.ticket = ticket
        inbound.state = InboundEmail.State.IGNORED
        inbound.html_safe = parsing.sanitize_html(parsed.html)
        inbound.attachments = [
            {"filename": p.filename, "size": len(p.data), "refused": ""} for p in parsed.attachments
        ]
        inbound.save(update_fields=FILED_FIELDS)
        events.record(
            "email_ignored",
            inbound,
            actor=None,
            data={"kind": kind, "reason": reason, "ticket": ticket.pk if ticket else None},
        )
        return
    customer = match_customer(parsed.from_address, parsed.from_name)
    uploads, listing = _uploads(parsed)
    body = visible or (_("(attachments only)") if uploads else _("(empty message)"))
    if len(body) > MAX_TEXT:
        body = body[: MAX_TEXT - 1] + "…"
    author = parsed.from_name or parsed.from_address
    from kefu.tickets import services as tickets

    if ticket is not None:
        message = tickets.add_customer_message(
            actor=None,
            ticket=ticket,
            body=body,
            attachments=[u for u, _entry in uploads],
            author_name=author,
        )
        inbound.ticket_message = message
        stored = list(Attachment.objects.filter(message=message).order_by("id")) if uploads else []
    else:
        title = parsing.clean_subject(parsed.subject) or _("(no subject)")
        ticket = tickets.create_ticket(
            actor=None,
            title=title[:200],
            ticket_type=mailbox.ticket_type_id,
            description=body,
            channel=Channel.EMAIL,
            customer=customer.pk,
            contact_name=(parsed.from_name or customer.name)[:100],
            contact_email=parsed.from_address,
            team=mailbox.team,
            attachments=[u for u, _entry in uploads],
        )
        inbound.created_ticket = True
        stored = list(Attachment.objects.filter(ticket=ticket).order_by("id")) if uploads else []
    cid_urls: dict[str, str] = {}
    for (_upload, entry), attachment in zip(uploads, stored, strict=False):
        entry["attachment"] = attachment.pk
        if entry.get("cid"):
            cid_urls[entry["cid"]] = reverse("tickets:attachment", args=[attachment.pk])
    inbound.attachments = listing
    inbound.ticket = ticket
    inbound.state = InboundEmail.State.PROCESSED
    inbound.html_safe = parsing.sanitize_html(parsed.html, cid_urls)
    inbound.save(update_fields=FILED_FIELDS)
    events.record(
        "email_received",
        inbound,
        actor=None,
        data={"ticket": ticket.number, "created": inbound.created_ticket, "kind": kind},
    )
    if inbound.created_ticket and mailbox.send_acknowledgement:
        from kefu.email.services.outbound import queue_acknowledgement

        queue_acknowledgement(ticket=ticket, inbound=inbound, mailbox=mailbox)


def _uploads(
    parsed: parsing.ParsedMail,
) -> tuple[list[tuple[SimpleUploadedFile, dict[str, Any]]], list[dict[str, Any]]]:
    """Attachments the work order accepts, and a listing of all (refused ones with the reason;
    their bytes stay in the stored original)."""
    from kefu.tickets.services import check_upload

    accepted: list[tuple[SimpleUploadedFile, dict[str, Any]]] = []
    listing: list[dict[str, Any]] = []
    for part in parsed.attachments:
        entry: dict[str, Any] = {
            "filename": part.filename[:200],
            "size": len(part.data),
            "cid": part.content_id[:200],
            "refused": "",
        }
        listing.append(entry)
        upload = SimpleUploadedFile(part.filename or "file", part.data, part.content_type)
        try:
            check_upload(upload)
        except ValidationError as exc:
            entry["refused"] = "; ".join(exc.messages)[:300]
            continue
        accepted.append((upload, entry))
    return accepted, listing


def find_thread(parsed: parsing.ParsedMail) -> Ticket | None:
    """The work order a message continues: by the Message-IDs it answers (ours or the
    customer's earlier mail), else by the number in the subject — but only when the sender is
    that work order's contact, so a guessed number cannot write into someone else's case."""
    ticket: Ticket | None = None
    ids = parsed.thread_ids
    if ids:
        found: dict[str, int] = {}
        for mid, tid in OutboundEmail.objects.filter(
            message_id__in=ids, ticket__isnull=False
        ).values_list("message_id", "ticket_id"):
            found.setdefault(mid, tid)
        for mid, tid in InboundEmail.objects.filter(
            message_id__in=ids, ticket__isnull=False
        ).values_list("message_id", "ticket_id"):
            found.setdefault(mid, tid)
        for mid in ids:
            if mid in found:
                ticket = Ticket.objects.filter(pk=found[mid]).first()
                break
    if ticket is None:
        number = parsing.ticket_number_in(parsed.subject)
        if number:
            candidate = Ticket.objects.filter(number=number).first()
            if candidate is not None and _is_contact(candidate, parsed.from_address):
                ticket = candidate
    seen = 0
    while ticket is not None and ticket.merged_into_id and seen < 10:
        ticket = Ticket.objects.filter(pk=ticket.merged_into_id).first()
        seen += 1
    if ticket is not None and ticket.status in FINAL_STATES:
        return None
    return ticket


def _is_contact(ticket: Ticket, address: str) -> bool:
    if ticket.contact_email and ticket.contact_email.lower() == address.lower():
        return True
    if ticket.customer_id is None:
        return False
    return ContactPoint.objects.filter(
        customer_id=ticket.customer_id,
        kind=ContactPoint.Kind.EMAIL,
        normalized__iexact=address,
    ).exists()


def match_customer(address: str, name: str) -> Customer:
    """The customer who owns this address (the oldest active one), or a new customer."""
    point = (
        ContactPoint.objects.filter(kind=ContactPoint.Kind.EMAIL, normalized__iexact=address)
        .filter(Q(customer__merged_into__isnull=True))
        .select_related("customer")
        .order_by("customer_id")
        .first()
    )
    if point is not None:
        return point.customer
    from kefu.customers.services import ContactInput, create_customer

    display = (name or address.split("@", 1)[0]).strip()[:100] or address[:100]
    return create_customer(
        actor=None,
        name=display,
        contacts=[ContactInput(ContactPoint.Kind.EMAIL, address, is_primary=True)],
        check_permission=False,
    )


def _mark_bounced(parsed: parsing.ParsedMail) -> None:
    ids = set(parsed.thread_ids) | {f"<{m}>" for m in parsing._ANGLE_ID.findall(parsed.text)}
    for outbound in OutboundEmail.objects.filter(message_id__in=ids).exclude(
        state=OutboundEmail.State.BOUNCED
    ):
        outbound.state = OutboundEmail.State.BOUNCED
        outbound.last_error = (parsed.subject or "bounce")[:500]
        outbound.save(update_fields=["state", "last_error"])
        events.record("email_bounced", outbound, actor=None, data={"to": outbound.to_address})


def reprocess(*, actor: User, inbound: InboundEmail) -> InboundEmail:
    """Try a quarantined message again (after the cause was fixed: a larger limit, a new work-
    order type, a parser update). The size limit does not apply: an administrator chose it."""
    require_perm(actor, "email.manage")
    with transaction.atomic():
        inbound = InboundEmail.objects.select_for_update().get(pk=inbound.pk)
        if inbound.state != InboundEmail.State.QUARANTINED:
            raise ValidationError({"state": [_("Only quarantined mail can be processed again.")]})
        mailbox = inbound.mailbox or Mailbox.objects.filter(is_active=True).order_by("id").first()
        if mailbox is None:
            raise ValidationError({"mailbox": [_("There is no mailbox to file the message in.")]})
        raw = bytes(inbound.raw)
        try:
            parsed = parsing.parse_message(raw)
        except parsing.MailParseError as exc:
            inbound.quarantine_reason = (_("Cannot be read: %(e)s") % {"e": exc})[:500]
            inbound.save(update_fields=["quarantine_reason"])
            events.record("email_reprocessed", inbound, actor=actor, data={"ok": False})
            return inbound
        key = parsing.message_key(parsed.message_id, raw)
        if key != inbound.key and InboundEmail.objects.filter(key=key).exists():
            inbound.state = InboundEmail.State.IGNORED
            inbound.quarantine_reason = _("The same message was already filed.")
            inbound.save(update_fields=["state", "quarantine_reason"])
            events.record("email_reprocessed", inbound, actor=actor, data={"duplicate": True})
            return inbound
        inbound.key = key
        inbound.message_id = parsed.message_id
        for name, value in _headers(parsed).items():
            setattr(inbound, name, value)
        inbound.save()
        events.record("email_reprocessed", inbound, actor=actor, data={"ok": True})
        _file(inbound, parsed, mailbox)
    inbound.refresh_from_db()
    return inbound
