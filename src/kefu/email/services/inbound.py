"""Incoming mail: store the original bytes → deduplicate by Message-ID → recognise automatic
mail → thread onto a work order → match or create the customer → add the message or open a
work order → attachments. A fetched batch is one transaction, each message in it a savepoint."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Count, Q
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

log = logging.getLogger(__name__)
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


@dataclass
class _Prepared:
    """One message read before the batch touches the database."""

    uid: str
    raw: bytes
    peeked: str
    parsed: parsing.ParsedMail | None = None
    key: str = ""
    problem: str = ""  # why it goes straight to quarantine


@dataclass
class _Batch:
    """What the messages of one batch share, read once for all of them and kept up to date as
    each message is filed: the stored messages by key, the work orders that Message-IDs belong
    to, recent mail per sender (loop detection) and customers per address."""

    mailbox: Mailbox
    stored: dict[str, InboundEmail] = field(default_factory=dict)
    threads: dict[str, int] = field(default_factory=dict)
    recent: dict[str, int] = field(default_factory=dict)
    customers: dict[str, Customer | None] = field(default_factory=dict)
    events: dict[str, list[tuple[InboundEmail, dict[str, Any]]]] = field(default_factory=dict)
    """Each filed message's event (received or ignored), written together at the end."""


def ingest(mailbox: Mailbox, raw: bytes, *, uid: str = "") -> Ingested:
    """Take one fetched message. Safe to call again with the same bytes or uid: the second call
    changes nothing and answers the stored message."""
    return ingest_batch(mailbox, [(uid, raw)])[0]


def ingest_batch(mailbox: Mailbox, items: Sequence[tuple[str, bytes]]) -> list[Ingested]:
    """Take a fetched batch of ``(uid, raw bytes)`` in one transaction, in order. Each message
    is filed in its own savepoint: one that fails is put in quarantine with the reason and the
    batch goes on. The fetched UIDs are written in the same transaction, so a fetch killed
    before the commit leaves nothing behind and the next one takes the whole batch again (the
    mail stays on the server). Safe to call again with the same bytes or uids.

    Before the transaction, the messages are parsed and what they will ask is read once for
    all (see :func:`_preload`), and the work-order numbers they will probably need are
    reserved, so concurrent batches do not wait for each other's hold on the day's counter."""
    from kefu.tickets.services import reserved_numbers

    prepared = [_prepare(mailbox, uid, raw) for uid, raw in items]
    results: list[Ingested] = []
    batch = _Batch(mailbox)
    taken = _taken(mailbox, [p.uid for p in prepared if p.uid])
    fresh = [p for p in prepared if p.uid not in taken]
    _preload(batch, fresh)
    outermost = not connection.in_atomic_block
    with reserved_numbers(_new_work_orders(batch, fresh)), transaction.atomic():
        if outermost:
            _relax_commit()
        new_uids: dict[str, FetchedUid] = {}
        for item in prepared:
            known = taken.get(item.uid) if item.uid else None
            if known is None and item.uid in new_uids:
                known = new_uids[item.uid].inbound
            if known is not None:
                results.append(Ingested(known, True))
                continue
            result = _ingest_one(batch, item)
            results.append(result)
            if item.uid:
                new_uids[item.uid] = FetchedUid(
                    mailbox=mailbox, uid=item.uid, inbound=result.inbound
                )
        for action, filed in batch.events.items():
            events.record_many(action, filed, actor=None)
        if new_uids:
            # Records whose message an administrator deleted are replaced. A concurrent fetch
            # of the same UIDs fails here and rolls back whole; the next finds them by key.
            FetchedUid.objects.filter(
                mailbox=mailbox, uid__in=list(new_uids), inbound__isnull=True
            ).delete()
            FetchedUid.objects.bulk_create(new_uids.values())
    return results


def _relax_commit() -> None:
    """The batch's commit need not wait for the disk: if the database server crashes in the
    fraction of a second before it writes the commit, the fetched UIDs are lost with the
    messages, and the next fetch takes them again from the mail server. (Only for a batch that
    is its own transaction, never for a caller's.)"""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")


def _taken(mailbox: Mailbox, uids: list[str]) -> dict[str, InboundEmail]:
    if not uids:
        return {}
    rows = FetchedUid.objects.filter(mailbox=mailbox, uid__in=uids, inbound__isnull=False)
    return {
        row.uid: row.inbound
        for row in rows.select_related("inbound").defer("inbound__raw")
        if row.inbound is not None
    }


def _prepare(mailbox: Mailbox, uid: str, raw: bytes) -> _Prepared:
    """Read a message (no database): its key, its parsed form, or why it cannot be filed."""
    size = len(raw)
    peeked = parsing.message_key(parsing.peek_message_id(raw), raw)
    item = _Prepared(uid=uid, raw=raw, peeked=peeked, key=peeked)
    if size > mailbox.max_message_bytes:
        item.problem = _("Too large: %(s)d bytes; this mailbox takes at most %(m)d.") % {
            "s": size,
            "m": mailbox.max_message_bytes,
        }
        return item
    try:
        item.parsed = parsing.parse_message(raw)
    except parsing.MailParseError as exc:
        item.problem = _("Cannot be read: %(e)s") % {"e": exc}
        return item
    item.key = parsing.message_key(item.parsed.message_id, raw)
    return item


def _preload(batch: _Batch, items: list[_Prepared]) -> None:
    """Read at once what the batch's messages will ask: which are stored already, which work
    orders their Message-IDs belong to, how much each sender wrote lately, who the senders are."""
    keys = {k for item in items for k in (item.peeked, item.key)}
    if keys:
        for row in InboundEmail.objects.filter(key__in=keys).defer("raw"):
            batch.stored[row.key] = row
    parsed = [item.parsed for item in items if item.parsed is not None and not item.problem]
    ids = {mid for p in parsed for mid in p.thread_ids}
    if ids:
        for model in (OutboundEmail, InboundEmail):
            for mid, tid in model.objects.filter(
                message_id__in=ids, ticket__isnull=False
            ).values_list("message_id", "ticket_id"):
                batch.threads.setdefault(mid, tid)
    senders = {p.from_address for p in parsed if p.from_address}
    if senders:
        batch.recent = dict.fromkeys(senders, 0)
        since = timezone.now() - LOOP_WINDOW
        for address, n in (
            InboundEmail.objects.filter(from_address__in=senders, received_at__gte=since)
            .values_list("from_address")
            .annotate(n=Count("id"))
            .order_by()
        ):
            batch.recent[address] = n
        lowered = {a.lower() for a in senders}
        batch.customers = dict.fromkeys(lowered)
        points = (
            ContactPoint.objects.filter(kind=ContactPoint.Kind.EMAIL, normalized__in=lowered)
            .filter(customer__merged_into__isnull=True)
            .select_related("customer")
            .order_by("-customer_id")
        )
        for point in points:  # the oldest customer last, so it wins
            batch.customers[point.normalized.lower()] = point.customer


def _new_work_orders(batch: _Batch, items: list[_Prepared]) -> int:
    """How many of the batch's messages will probably open a work order: mail from people
    that answers nothing known (the rest thread onto one, or are automatic)."""
    own = own_addresses()
    ids = set(batch.threads)
    count = 0
    for item in items:
        parsed = item.parsed
        if parsed is None or item.problem or item.key in batch.stored:
            continue
        threads = any(mid in ids for mid in parsed.thread_ids)
        if parsed.message_id:
            ids.add(parsed.message_id)
        if threads or parsing.ticket_number_in(parsed.subject):
            continue
        if parsing.classify(parsed, own)[0] == "normal":
            count += 1
    return count


def _ingest_one(batch: _Batch, item: _Prepared) -> Ingested:
    """File one message in its own savepoint; whatever goes wrong puts it in quarantine."""
    mailbox = batch.mailbox
    for key in (item.peeked, item.key):
        if key in batch.stored:
            return Ingested(batch.stored[key], True)
    if item.problem or item.parsed is None:
        return _quarantine_new(batch, item, item.problem)
    parsed = item.parsed
    inbound = InboundEmail(
        mailbox=mailbox,
        key=item.key,
        message_id=parsed.message_id,
        raw=item.raw,
        size=len(item.raw),
        state=InboundEmail.State.QUARANTINED,
        **_headers(parsed),
    )
    try:
        with transaction.atomic():
            action, data = _route(inbound, parsed, mailbox, batch)
    except IntegrityError:
        # The same message was stored by another fetch at the same moment.
        existing = InboundEmail.objects.filter(key=item.key).defer("raw").first()
        if existing is not None:
            batch.stored[item.key] = existing
            return Ingested(existing, True)
        log.exception("filing a message from %s failed", parsed.from_address)
        return _quarantine_new(batch, item, _("Could not be filed: a database conflict."))
    except (ValidationError, PermissionDenied, ValueError, LookupError) as exc:
        reason = "; ".join(getattr(exc, "messages", None) or [str(exc)])
        return _quarantine_new(batch, item, _("Could not be filed: %(e)s") % {"e": reason})
    except DatabaseError:
        raise  # the connection or the transaction is gone: the whole batch is taken again
    except Exception as exc:  # noqa: BLE001 - one message must not stop the batch
        log.exception("filing a message from %s failed", parsed.from_address)
        return _quarantine_new(
            batch, item, _("Could not be filed: %(e)s") % {"e": f"{type(exc).__name__}: {exc}"}
        )
    batch.stored[item.key] = inbound
    batch.events.setdefault(action, []).append((inbound, data))
    if inbound.message_id and inbound.ticket_id:
        batch.threads[inbound.message_id] = inbound.ticket_id
    if parsed.from_address:
        batch.recent[parsed.from_address] = batch.recent.get(parsed.from_address, 0) + 1
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


def _quarantine_new(batch: _Batch, item: _Prepared, reason: str) -> Ingested:
    """Keep a message that cannot be filed, with the reason, for an administrator."""
    parsed = item.parsed
    with transaction.atomic():
        inbound = InboundEmail.objects.create(
            mailbox=batch.mailbox,
            key=item.key,
            message_id=item.key if item.key.startswith("<") else "",
            raw=item.raw,
            size=len(item.raw),
            state=InboundEmail.State.QUARANTINED,
            quarantine_reason=reason[:500],
            **(_headers(parsed) if parsed is not None else {}),
        )
        events.record(
            "email_quarantined",
            inbound,
            actor=None,
            data={"reason": reason, "size": len(item.raw)},
        )
    batch.stored[item.key] = inbound
    return Ingested(inbound, False)


def _file(inbound: InboundEmail, parsed: parsing.ParsedMail, mailbox: Mailbox) -> None:
    """Put a stored message where it belongs (processing again from quarantine); a message the
    rules refuse (a work-order field it cannot fill) stays in quarantine with the reason."""
    try:
        with transaction.atomic():
            action, data = _route(inbound, parsed, mailbox, None)
            events.record(action, inbound, actor=None, data=data)
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


def _route(
    inbound: InboundEmail, parsed: parsing.ParsedMail, mailbox: Mailbox, batch: _Batch | None
) -> tuple[str, dict[str, Any]]:
    """Classify, thread and file ``inbound`` (stored by the caller, or saved here when new).
    Returns the event the caller records for the message: its action and data."""
    kind, reason = parsing.classify(parsed, own_addresses())
    if kind == "normal":
        if batch is not None and parsed.from_address in batch.recent:
            recent = batch.recent[parsed.from_address]
        else:
            since = timezone.now() - LOOP_WINDOW
            recent = (
                InboundEmail.objects.filter(
                    from_address=parsed.from_address, received_at__gte=since
                )
                .exclude(pk=inbound.pk)
                .count()
            )
        if recent >= LOOP_LIMIT:
            kind = "loop"
            reason = _("%(n)d messages from this address in ten minutes") % {"n": recent + 1}
    ticket = find_thread(parsed, batch.threads if batch is not None else None)
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
        _save(inbound)
        return "email_ignored", {
            "kind": kind,
            "reason": reason,
            "ticket": ticket.pk if ticket else None,
        }
    customer = match_customer(
        parsed.from_address, parsed.from_name, batch.customers if batch is not None else None
    )
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
            customer=customer,
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
    _save(inbound)
    if inbound.created_ticket and mailbox.send_acknowledgement:
        from kefu.email.services.outbound import queue_acknowledgement

        queue_acknowledgement(ticket=ticket, inbound=inbound, mailbox=mailbox)
    return "email_received", {
        "ticket": ticket.number,
        "created": inbound.created_ticket,
        "kind": kind,
    }


def _save(inbound: InboundEmail) -> None:
    if inbound.pk is None:
        inbound.save(force_insert=True)
    else:
        inbound.save(update_fields=FILED_FIELDS)


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


def find_thread(parsed: parsing.ParsedMail, known: dict[str, int] | None = None) -> Ticket | None:
    """The work order a message continues: by the Message-IDs it answers (ours or the
    customer's earlier mail), else by the number in the subject — but only when the sender is
    that work order's contact, so a guessed number cannot write into someone else's case.
    ``known`` maps Message-IDs to work orders when the caller has read them already."""
    ticket: Ticket | None = None
    ids = parsed.thread_ids
    if ids:
        found: dict[str, int] = {}
        if known is not None:
            found = {mid: known[mid] for mid in ids if mid in known}
        else:
            for model in (OutboundEmail, InboundEmail):
                for mid, tid in model.objects.filter(
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


def match_customer(
    address: str, name: str, known: dict[str, Customer | None] | None = None
) -> Customer:
    """The customer who owns this address (the oldest active one), or a new customer.
    ``known`` holds the answers the caller read already (None: nobody has the address); a
    customer created here is added to it."""
    lowered = address.lower()
    if known is not None and lowered in known:
        found = known[lowered]
    else:
        point = (
            ContactPoint.objects.filter(kind=ContactPoint.Kind.EMAIL, normalized__iexact=address)
            .filter(Q(customer__merged_into__isnull=True))
            .select_related("customer")
            .order_by("customer_id")
            .first()
        )
        found = point.customer if point is not None else None
    if found is not None:
        return found
    from kefu.customers.services import ContactInput, create_customer

    display = (name or address.split("@", 1)[0]).strip()[:100] or address[:100]
    customer = create_customer(
        actor=None,
        name=display,
        contacts=[ContactInput(ContactPoint.Kind.EMAIL, address, is_primary=True)],
        check_permission=False,
    )
    if known is not None:
        known[lowered] = customer
    return customer


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
