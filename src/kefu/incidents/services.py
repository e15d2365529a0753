"""Major-incident rules: declare, publish updates, link contacts, resolve, reply to every
linked work order once, close. Views, the API, hooks and jobs call these."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.models import User
from kefu.core import events
from kefu.core.jobs import enqueue
from kefu.core.permissions import require_perm
from kefu.core.validation import Conflict, clean_text
from kefu.incidents import matching
from kefu.incidents.models import (
    ACTIVE_STATES,
    ClosingReply,
    Incident,
    Link,
    Severity,
    Status,
    Update,
)
from kefu.tickets.models import Ticket

log = logging.getLogger(__name__)

CACHE_KEY = "incidents:active:v1"
CACHE_SECONDS = 60
BATCH = 200
LINK_CHUNK = 2000
LOOKBACK = dt.timedelta(hours=2)
"""Matching at declaration also takes open work orders opened this long before the incident
began: customers call before anyone knows the time the fault started."""

# (from, to) -> the name of the move
TRANSITIONS: dict[tuple[str, str], str] = {
    (Status.DECLARED, Status.MONITORING): "update",
    (Status.DECLARED, Status.RESOLVED): "resolve",
    (Status.MONITORING, Status.RESOLVED): "resolve",
    (Status.RESOLVED, Status.MONITORING): "recur",
    (Status.RESOLVED, Status.CLOSED): "close",
}


def move_name(current: str, target: str) -> str:
    name = TRANSITIONS.get((current, target))
    if name is None:
        raise ValidationError(
            {
                "status": [
                    _("An incident that is “%(current)s” cannot become “%(target)s”.")
                    % {
                        "current": Status(current).label,
                        "target": Status(target).label if target in Status.values else target,
                    }
                ]
            }
        )
    return name


# --- what the channels read --------------------------------------------------------------------


@dataclass(frozen=True)
class ActiveIncident:
    """What the hooks and the channels need of an active incident, kept in the cache."""

    pk: int
    title: str
    severity: str
    areas: tuple[str, ...]
    keywords: tuple[str, ...]
    auto_link: bool
    started_at: dt.datetime
    public_text: str
    ivr_text: str


def active_incidents() -> list[ActiveIncident]:
    """The incidents being handled now (read once a minute at most, and again after a change)."""
    found = cache.get(CACHE_KEY)
    if found is None:
        found = [
            ActiveIncident(
                pk=i.pk,
                title=i.title,
                severity=i.severity,
                areas=tuple(i.areas),
                keywords=tuple(i.keywords),
                auto_link=i.auto_link,
                started_at=i.started_at,
                public_text=i.public_text,
                ivr_text=i.ivr_text,
            )
            for i in Incident.objects.filter(status__in=ACTIVE_STATES).order_by("declared_at")
        ]
        cache.set(CACHE_KEY, found, CACHE_SECONDS)
    return list(found)


def _forget_active() -> None:
    transaction.on_commit(lambda: cache.delete(CACHE_KEY), robust=True)


NOTICE_CHANNELS = ("portal", "chat", "email", "phone")
NOTICE_SEVERITY = {Severity.CRITICAL: "critical", Severity.MAJOR: "warning"}


def notices(channel: str) -> list[Any]:
    """Notice provider: every active incident's latest published text, for every channel."""
    from kefu.core.interactions import Notice

    if channel not in NOTICE_CHANNELS:
        return []
    return [
        Notice(
            key=f"incident:{i.pk}",
            title=i.title,
            text=i.public_text,
            severity=NOTICE_SEVERITY.get(i.severity, "info"),  # type: ignore[call-overload]
            ivr_text=i.ivr_text,
        )
        for i in active_incidents()
    ]


def ivr_announcement() -> str:
    """The text the IVR reads before the menu: every active incident, most severe first."""
    from kefu.core.interactions import current_notices

    return "".join(
        f"{(n.ivr_text or n.text).strip().rstrip('。')}。" for n in current_notices("phone")
    )


# --- validation --------------------------------------------------------------------------------


def _terms(raw: Iterable[str] | str, field: str) -> list[str]:
    terms = matching.clean_terms(raw)
    if len(terms) > matching.MAX_TERMS:
        raise ValidationError({field: [_("At most %(n)d entries.") % {"n": matching.MAX_TERMS}]})
    for term in terms:
        if len(term) > matching.MAX_TERM_LENGTH:
            raise ValidationError(
                {
                    field: [
                        _("“%(t)s” is longer than %(n)d characters.")
                        % {"t": term[:20], "n": matching.MAX_TERM_LENGTH}
                    ]
                }
            )
    return terms


def _public(text: str, ivr_text: str) -> tuple[str, str]:
    return (
        clean_text(text, field="public_text", max_length=2000, required=True),
        clean_text(ivr_text, field="ivr_text", max_length=500, single_line=True),
    )


def _lock(incident: Incident, expected_version: int | None = None) -> Incident:
    locked = Incident.objects.select_for_update().get(pk=incident.pk)
    if expected_version is not None and locked.version != expected_version:
        raise Conflict(
            _(
                "This incident was changed by someone else since you opened it. Reload and try again."
            ),
            current_version=locked.version,
        )
    return locked


def _touch(incident: Incident, fields: Sequence[str]) -> None:
    incident.version += 1
    incident.save(update_fields=["version", *fields])


def _record(action: str, incident: Incident, actor: User | None, **kwargs: Any) -> None:
    events.record(action, incident, actor=actor, object_repr=str(incident), **kwargs)


# --- the lifecycle -----------------------------------------------------------------------------


@transaction.atomic
def declare_incident(
    *,
    actor: User,
    title: str,
    public_text: str,
    severity: str = Severity.MAJOR,
    areas: Iterable[str] | str = (),
    keywords: Iterable[str] | str = (),
    ivr_text: str = "",
    description: str = "",
    started_at: dt.datetime | None = None,
    expected_end_at: dt.datetime | None = None,
    auto_link: bool = True,
    link_existing: bool = True,
) -> Incident:
    """Declare an incident and publish its first text to every channel. With
    ``link_existing`` the open work orders since it began that match are linked at once."""
    require_perm(actor, "incidents.manage")
    title = clean_text(title, field="title", max_length=120, required=True, single_line=True)
    text, ivr = _public(public_text, ivr_text)
    if severity not in Severity.values:
        raise ValidationError({"severity": [_("Choose a severity.")]})
    area_list = _terms(areas, "areas")
    keyword_list = _terms(keywords, "keywords")
    if auto_link and not area_list and not keyword_list:
        raise ValidationError(
            {"areas": [_("Name the areas or keywords that identify its contacts.")]}
        )
    now = timezone.now()
    started = started_at or now
    if started > now + dt.timedelta(minutes=5):
        raise ValidationError({"started_at": [_("An incident cannot begin in the future.")]})
    if expected_end_at is not None and expected_end_at <= started:
        raise ValidationError(
            {"expected_end_at": [_("The expected restoration must come after it began.")]}
        )
    incident = Incident.objects.create(
        title=title,
        description=clean_text(description, field="description", max_length=4000),
        severity=severity,
        areas=area_list,
        keywords=keyword_list,
        auto_link=auto_link,
        public_text=text,
        ivr_text=ivr,
        started_at=started,
        expected_end_at=expected_end_at,
        declared_at=now,
        declared_by=actor,
    )
    Update.objects.create(
        incident=incident, text=text, ivr_text=ivr, status=Status.DECLARED, author=actor
    )
    _record(
        "incident_declared",
        incident,
        actor,
        data={"severity": severity, "areas": area_list, "keywords": keyword_list, "text": text},
    )
    _forget_active()
    if link_existing and (area_list or keyword_list):
        link_matching(actor=actor, incident=incident)
    return incident


@transaction.atomic
def change_scope(
    *,
    actor: User,
    incident: Incident,
    areas: Iterable[str] | str,
    keywords: Iterable[str] | str,
    auto_link: bool,
    severity: str | None = None,
    expected_version: int | None = None,
) -> Incident:
    """Change what the incident covers (areas, keywords, automatic linking, severity)."""
    require_perm(actor, "incidents.manage")
    incident = _lock(incident, expected_version)
    if incident.status == Status.CLOSED:
        raise ValidationError(_("A closed incident cannot be changed."))
    before = events.snapshot(incident, ("areas", "keywords", "auto_link", "severity"))
    incident.areas = _terms(areas, "areas")
    incident.keywords = _terms(keywords, "keywords")
    incident.auto_link = auto_link
    if severity is not None:
        if severity not in Severity.values:
            raise ValidationError({"severity": [_("Choose a severity.")]})
        incident.severity = severity
    changes = events.diff(before, events.snapshot(incident, tuple(before)))
    if not changes:
        return incident
    _touch(incident, ["areas", "keywords", "auto_link", "severity"])
    _record("incident_changed", incident, actor, changes=changes)
    _forget_active()
    return incident


def _move(incident: Incident, to: str, now: dt.datetime) -> str:
    name = move_name(incident.status, to)
    if to == Status.RESOLVED:
        incident.resolved_at = now
    elif to == Status.CLOSED:
        incident.closed_at = now
    elif name == "recur":
        incident.resolved_at = None
    incident.status = to
    return name


@transaction.atomic
def publish_update(
    *,
    actor: User,
    incident: Incident,
    text: str,
    ivr_text: str = "",
    expected_end_at: dt.datetime | None = None,
    expected_version: int | None = None,
) -> Update:
    """Publish one update to every channel (portal banner, chat greeting, e-mail auto-reply,
    IVR). A declared incident becomes 'being handled'; a resolved one that recurs comes back."""
    require_perm(actor, "incidents.manage")
    incident = _lock(incident, expected_version)
    body, ivr = _public(text, ivr_text)
    if incident.status == Status.CLOSED:
        raise ValidationError(_("A closed incident cannot be updated."))
    now = timezone.now()
    before = incident.status
    if incident.status != Status.MONITORING:
        _move(incident, Status.MONITORING, now)
    incident.public_text = body
    incident.ivr_text = ivr
    if expected_end_at is not None:
        incident.expected_end_at = expected_end_at
    _touch(incident, ["status", "public_text", "ivr_text", "expected_end_at", "resolved_at"])
    update = Update.objects.create(
        incident=incident, text=body, ivr_text=ivr, status=incident.status, author=actor
    )
    _record(
        "incident_update_published",
        incident,
        actor,
        changes={"status": [before, incident.status]} if before != incident.status else {},
        data={"update": update.pk, "text": body, "ivr_text": ivr},
    )
    _forget_active()
    return update


@transaction.atomic
def resolve_incident(
    *,
    actor: User,
    incident: Incident,
    text: str,
    closing_reply: str = "",
    expected_version: int | None = None,
) -> Incident:
    """The incident is over: publish the last text and, with ``closing_reply``, start replying
    to every linked open work order and resolving it (a background job with progress)."""
    require_perm(actor, "incidents.manage")
    incident = _lock(incident, expected_version)
    body = clean_text(text, field="text", max_length=2000, required=True)
    reply = clean_text(closing_reply, field="closing_reply", max_length=4000)
    now = timezone.now()
    before = incident.status
    _move(incident, Status.RESOLVED, now)
    incident.public_text = body
    _touch(incident, ["status", "resolved_at", "public_text"])
    update = Update.objects.create(
        incident=incident, text=body, status=Status.RESOLVED, author=actor
    )
    _record(
        "incident_resolved",
        incident,
        actor,
        changes={"status": [before, Status.RESOLVED]},
        data={"update": update.pk, "text": body},
    )
    _forget_active()
    if reply:
        _start_closing(actor, incident, reply)
    return incident


@transaction.atomic
def start_closing(
    *, actor: User, incident: Incident, reply: str, expected_version: int | None = None
) -> Incident:
    """Reply once to every linked open work order and resolve it (again for work orders linked
    since the last run: those already answered are left alone)."""
    require_perm(actor, "incidents.manage")
    incident = _lock(incident, expected_version)
    text = clean_text(reply, field="closing_reply", max_length=4000, required=True)
    if incident.status != Status.RESOLVED:
        raise ValidationError(
            _("Resolve the incident first: work orders are answered when it is over.")
        )
    _start_closing(actor, incident, text)
    return incident


STALE = dt.timedelta(minutes=15)


def _start_closing(actor: User, incident: Incident, reply: str) -> None:
    started = incident.closing_started_at
    if incident.closing_running and started and timezone.now() - started < STALE:
        raise ValidationError(_("The work orders are being answered already."))
    require_perm(actor, "tickets.reply")
    require_perm(actor, "tickets.transition")
    incident.closing_reply = reply
    incident.closing_by = actor
    incident.closing_started_at = timezone.now()
    incident.closing_finished_at = None
    incident.closing_total = open_linked_tickets(incident).count()
    _touch(
        incident,
        [
            "closing_reply",
            "closing_by",
            "closing_started_at",
            "closing_finished_at",
            "closing_total",
        ],
    )
    _record(
        "incident_closing_started",
        incident,
        actor,
        data={"reply": reply, "work_orders": incident.closing_total},
    )
    transaction.on_commit(lambda: start_parts(incident.pk), robust=True)


@transaction.atomic
def close_incident(
    *, actor: User, incident: Incident, expected_version: int | None = None
) -> Incident:
    require_perm(actor, "incidents.manage")
    incident = _lock(incident, expected_version)
    if incident.closing_running:
        raise ValidationError(_("Wait until every linked work order has been answered."))
    before = incident.status
    _move(incident, Status.CLOSED, timezone.now())
    _touch(incident, ["status", "closed_at"])
    _record("incident_closed", incident, actor, changes={"status": [before, Status.CLOSED]})
    _forget_active()
    return incident


# --- linking contacts --------------------------------------------------------------------------


def _customer_id(obj: Any, customer: Any) -> int | None:
    if customer is not None:
        return int(customer.pk) if hasattr(customer, "pk") else int(customer)
    value = getattr(obj, "customer_id", None)
    return int(value) if value else None


def link_contact(
    *,
    incident: Incident | ActiveIncident,
    channel: str,
    obj: models.Model,
    how: str,
    actor: User | None = None,
    label: str = "",
    customer: Any = None,
    ticket: Ticket | None = None,
) -> Link | None:
    """Link one contact (any record) to the incident; None if it was linked already."""
    if ticket is None and isinstance(obj, Ticket):
        ticket = obj
    content_type = ContentType.objects.get_for_model(obj)
    text = label or (f"{ticket.number} {ticket.title}" if ticket is obj and ticket else str(obj))
    with transaction.atomic():
        try:
            with transaction.atomic():
                link = Link.objects.create(
                    incident_id=incident.pk,
                    channel=channel,
                    content_type=content_type,
                    object_id=obj.pk,
                    label=text[:200],
                    ticket=ticket,
                    customer_id=_customer_id(obj, customer),
                    how=how,
                    linked_by=actor if actor is not None and actor.pk else None,
                )
        except IntegrityError:
            return None
        events.record(
            "incident_contact_linked",
            actor=actor,
            object_type="incident",
            object_id=incident.pk,
            object_repr=incident.title if isinstance(incident, ActiveIncident) else str(incident),
            data={"channel": channel, "contact": text[:200], "how": how, "link": link.pk},
        )
    return link


def link_ticket(*, actor: User, incident: Incident, ticket: Ticket) -> Link:
    """Link a work order by hand (from its page, or by number on the incident's page)."""
    require_perm(actor, "incidents.link")
    if incident.status == Status.CLOSED:
        raise ValidationError(_("A closed incident takes no more contacts."))
    link = link_contact(
        incident=incident, channel=ticket.channel, obj=ticket, how=Link.How.MANUAL, actor=actor
    )
    if link is None:
        raise ValidationError(_("%(n)s is linked to this incident already.") % {"n": ticket.number})
    return link


@transaction.atomic
def unlink(*, actor: User, link: Link) -> None:
    require_perm(actor, "incidents.link")
    incident = _lock(link.incident)
    if incident.status == Status.CLOSED:
        raise ValidationError(_("A closed incident cannot be changed."))
    if (
        link.ticket_id
        and ClosingReply.objects.filter(incident=incident, ticket_id=link.ticket_id).exists()
    ):
        raise ValidationError(_("This work order was answered for the incident already."))
    events.record(
        "incident_contact_unlinked",
        incident,
        actor=actor,
        object_repr=str(incident),
        data={"channel": link.channel, "contact": link.label},
    )
    link.delete()


def _candidates(incident: Incident) -> Any:
    """Open work orders since the incident began (less :data:`LOOKBACK`); :func:`matching.match`
    decides which belong. The database is not asked to compare the terms: it cannot fold
    full-width forms and spaces the way ``match`` does ("ＸＸ 小区" is "XX小区"), and a narrower
    filter here would miss work orders ``match`` takes."""
    return Ticket.objects.filter(is_open=True, created_at__gte=incident.started_at - LOOKBACK)


@transaction.atomic
def link_matching(*, actor: User, incident: Incident) -> int:
    """Link every open work order since the incident began that matches it (at declaration, or
    after its areas or keywords changed). Returns how many were linked now."""
    require_perm(actor, "incidents.link")
    if incident.status == Status.CLOSED:
        raise ValidationError(_("A closed incident takes no more contacts."))
    if not incident.areas and not incident.keywords:
        return 0
    already = set(
        Link.objects.filter(incident=incident, ticket__isnull=False).values_list(
            "ticket_id", flat=True
        )
    )
    content_type = ContentType.objects.get_for_model(Ticket)
    now = timezone.now()
    rows: list[Link] = []
    for pk, number, title, description, place, channel, customer_id in (
        _candidates(incident)
        .values_list("pk", "number", "title", "description", "place", "channel", "customer_id")
        .iterator(chunk_size=LINK_CHUNK)
    ):
        if pk in already:
            continue
        how = matching.match(incident.areas, incident.keywords, place, f"{title}\n{description}")
        if how is None:
            continue
        rows.append(
            Link(
                incident=incident,
                channel=channel,
                content_type=content_type,
                object_id=pk,
                label=f"{number} {title}"[:200],
                ticket_id=pk,
                customer_id=customer_id,
                how=Link.How.MATCHED,
                linked_by=actor,
                linked_at=now,
            )
        )
    for start in range(0, len(rows), LINK_CHUNK):
        Link.objects.bulk_create(rows[start : start + LINK_CHUNK], ignore_conflicts=True)
    if rows:
        _record(
            "incident_contacts_matched",
            incident,
            actor,
            data={"work_orders": len(rows)},
        )
    return len(rows)


def on_ticket_event(ticket: Ticket, event: Any) -> None:
    """Ticket hook: a new work order that matches an active incident is linked to it."""
    if event.action != "ticket_created":
        return
    for incident in active_incidents():
        if not incident.auto_link or ticket.created_at < incident.started_at:
            continue
        how = matching.match(
            incident.areas, incident.keywords, ticket.place, f"{ticket.title}\n{ticket.description}"
        )
        if how is not None:
            link_contact(incident=incident, channel=ticket.channel, obj=ticket, how=how)


def on_contact(contact: Any) -> None:
    """Contact listener: a new chat, call or e-mail that matches an active incident is linked
    (with the work order it opened, if any)."""
    for incident in active_incidents():
        if not incident.auto_link:
            continue
        how = matching.match(incident.areas, incident.keywords, contact.area, contact.text)
        if how is None:
            continue
        link_contact(
            incident=incident,
            channel=contact.channel,
            obj=contact.obj,
            how=how,
            customer=contact.customer,
            ticket=contact.ticket,
        )
        if contact.ticket is not None and contact.ticket is not contact.obj:
            link_contact(
                incident=incident, channel=contact.ticket.channel, obj=contact.ticket, how=how
            )


# --- answering every linked work order ----------------------------------------------------------


def open_linked_tickets(incident: Incident) -> Any:
    """Linked work orders that are still open and not yet answered for this incident."""
    answered = ClosingReply.objects.filter(incident=incident).values("ticket_id")
    return Ticket.objects.filter(
        pk__in=Link.objects.filter(incident=incident, ticket__isnull=False).values("ticket_id"),
        is_open=True,
    ).exclude(pk__in=answered)


@dataclass
class ClosingResult:
    sent: int = 0
    skipped: int = 0
    failed: int = 0


PARTS = 4
"""The answering job runs as this many parts at once (work orders split by id), so that
several workers share 10,000 work orders; each part is safe to run twice."""


def _claim(incident_id: int, ticket_ids: list[int]) -> set[int]:
    """Write the idempotency rows for these work orders; returns those this caller claimed
    (a row another run wrote already, committed or not, is not claimed twice)."""
    if not ticket_ids:
        return set()
    table = connection.ops.quote_name(ClosingReply._meta.db_table)
    now = timezone.now()
    values = ", ".join(["(%s, %s, %s, %s, %s)"] * len(ticket_ids))
    params: list[Any] = []
    for pk in ticket_ids:
        params += [incident_id, pk, ClosingReply.State.SENT, "", now]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (incident_id, ticket_id, state, detail, at) VALUES {values} "  # noqa: S608 - table name from the model, values bound
            "ON CONFLICT (incident_id, ticket_id) DO NOTHING RETURNING ticket_id",
            params,
        )
        return {int(row[0]) for row in cursor.fetchall()}


def start_parts(incident_id: int) -> None:
    """Queue the answering job's parts (called after the closing request commits)."""
    from kefu.incidents.tasks import close_linked_task

    for part in range(PARTS):
        enqueue(close_linked_task, incident_id, part, PARTS)


def run_closing(
    incident_id: int, part: int = 0, parts: int = 1, *, batch: int = BATCH
) -> ClosingResult:
    """The background job (or one part of it: work orders whose id modulo ``parts`` is
    ``part``): in batches, for every linked work order not yet answered for this incident,
    claim the idempotency row, then reply and resolve through the work-order service's batch
    path (the same rows, events and hooks as for any reply). Safe to run twice or at the same
    time: the unique row makes a second attempt skip a work order the first one answered.

    A work order linked while the job runs is answered too: each part starts again from the
    lowest id until a pass finds nothing, then answers whatever other parts have not taken
    (passing over work orders another part holds), and the part that finds nothing left marks
    the incident finished."""
    result = ClosingResult()
    incident = Incident.objects.select_related("closing_by").filter(pk=incident_id).first()
    if incident is None or incident.closing_started_at is None or not incident.closing_reply:
        return result
    actor = incident.closing_by
    if actor is None:
        return result
    _answer_part(incident, actor, part, parts, batch, result, rescan=True, skip_locked=False)
    if parts > 1:
        _answer_part(incident, actor, 0, 1, batch, result, rescan=False, skip_locked=True)
    _finish_if_done(incident)
    return result


def _answer_part(
    incident: Incident,
    actor: User,
    part: int,
    parts: int,
    batch: int,
    result: ClosingResult,
    *,
    rescan: bool,
    skip_locked: bool,
) -> None:
    from kefu.tickets.services import reply_and_resolve_many

    answered = ClosingReply.objects.filter(incident_id=incident.pk).values("ticket_id")
    linked = Link.objects.filter(incident_id=incident.pk, ticket__isnull=False)
    if parts > 1:
        linked = linked.alias(part=models.F("ticket_id") % parts).filter(part=part)
    reason = _("Incident %(ref)s is over.") % {"ref": incident.reference}
    last = 0
    while True:
        ids = list(
            linked.filter(ticket_id__gt=last)
            .exclude(ticket_id__in=answered)
            .order_by("ticket_id")
            .values_list("ticket_id", flat=True)[:batch]
        )
        if not ids:
            if rescan and last:
                last = 0  # linked during the run below the cursor: one more pass from the start
                continue
            break
        last = ids[-1]
        with transaction.atomic():
            done = reply_and_resolve_many(
                ids,
                actor=actor,
                body=incident.closing_reply,
                reason=reason,
                batch=batch,
                claim=lambda locked: _claim(incident.pk, locked),
                skip_locked=skip_locked,
            )
            if done.skipped:
                ClosingReply.objects.filter(incident=incident, ticket_id__in=done.skipped).update(
                    state=ClosingReply.State.SKIPPED
                )
            for pk, message in done.failed.items():
                ClosingReply.objects.filter(incident=incident, ticket_id=pk).update(
                    state=ClosingReply.State.FAILED, detail=message[:300]
                )
        result.sent += len(done.done)
        result.skipped += len(done.skipped)
        result.failed += len(done.failed)


def _finish_if_done(incident: Incident) -> None:
    if open_linked_tickets(incident).exists():
        return  # another part is still answering (its claims are not committed yet)
    with transaction.atomic():
        incident = _lock(incident)
        if incident.closing_finished_at is not None or incident.closing_started_at is None:
            return
        incident.closing_finished_at = timezone.now()
        _touch(incident, ["closing_finished_at"])
        counts = dict(
            ClosingReply.objects.filter(incident=incident)
            .order_by()
            .values_list("state")
            .annotate(n=models.Count("id"))
            .values_list("state", "n")
        )
        _record(
            "incident_closing_finished",
            incident,
            incident.closing_by,
            data={
                "sent": counts.get(ClosingReply.State.SENT, 0),
                "skipped": counts.get(ClosingReply.State.SKIPPED, 0),
                "failed": counts.get(ClosingReply.State.FAILED, 0),
            },
        )
