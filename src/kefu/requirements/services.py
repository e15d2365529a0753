"""Customer-requirement rules: raise (from a work order, a chat or by hand), link every customer
who asked, score, move through the lifecycle, merge duplicates, and tell every linked customer
once when theirs ships. Views, the API and other apps call these."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.models import User
from kefu.core import events
from kefu.core.permissions import Role, require_perm
from kefu.core.validation import Conflict, clean_text
from kefu.requirements import scoring, states
from kefu.requirements.models import Kind, Requirement, ShipNotice, Source
from kefu.requirements.states import Status
from kefu.tickets.models import Ticket

SCORE_FIELDS = ("importance", "feasibility", "benefit")


def _lock(requirement: Requirement, expected_version: int | None = None) -> Requirement:
    locked = Requirement.objects.select_for_update().get(pk=requirement.pk)
    if expected_version is not None and locked.version != expected_version:
        raise Conflict(
            _(
                "This requirement was changed by someone else since you opened it. Reload and try again."
            ),
            current_version=locked.version,
        )
    return locked


def _touch(requirement: Requirement, fields: list[str]) -> None:
    requirement.version += 1
    requirement.updated_at = timezone.now()
    requirement.save(update_fields=["version", "updated_at", *fields])


def _record(action: str, requirement: Requirement, actor: User | None, **kwargs: Any) -> None:
    events.record(action, requirement, actor=actor, object_repr=str(requirement), **kwargs)


def _clean(title: str, description: str, kind: str) -> tuple[str, str, str]:
    errors: dict[str, list[str]] = {}
    try:
        title = clean_text(title, field="title", max_length=150, required=True, single_line=True)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        description = clean_text(description, field="description", max_length=8000)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if kind not in Kind.values:
        errors["kind"] = [_("Choose functional, performance, service or emotional.")]
    if errors:
        raise ValidationError(errors)
    return title, description, kind


@transaction.atomic
def create_requirement(
    *,
    actor: User,
    title: str,
    kind: str,
    description: str = "",
    ticket: Ticket | None = None,
    customer: Any = None,
    note: str = "",
) -> Requirement:
    """Record a new requirement, linked to the work order (and its customer) it came from."""
    require_perm(actor, "requirements.raise")
    title, description, kind = _clean(title, description, kind)
    requirement = Requirement.objects.create(
        title=title, description=description, kind=kind, created_by=actor
    )
    _record("requirement_created", requirement, actor, data={"kind": kind, "title": title})
    if ticket is not None:
        add_source(actor=actor, requirement=requirement, ticket=ticket, note=note)
    elif customer is not None:
        add_source(actor=actor, requirement=requirement, customer=customer, note=note)
    return requirement


def add_source(
    *,
    actor: User | None,
    requirement: Requirement,
    ticket: Ticket | None = None,
    obj: models.Model | None = None,
    channel: str = "",
    customer: Any = None,
    label: str = "",
    note: str = "",
) -> Source | None:
    """Link where the requirement was heard — a work order, or any record such as a chat (with
    its channel and customer), or just a customer — to it. None if it was linked already."""
    if actor is not None:
        require_perm(actor, "requirements.raise")
    if requirement.status in states.FINAL:
        raise ValidationError(
            _("%(ref)s is finished; link the customer to the requirement it became.")
            % {"ref": requirement.reference}
        )
    note = clean_text(note, field="note", max_length=500)
    if ticket is not None:
        obj = ticket
        channel = channel or ticket.channel
        customer = customer if customer is not None else ticket.customer
        label = label or f"{ticket.number} {ticket.title}"
    if customer is not None and not hasattr(customer, "pk"):
        from kefu.customers.models import Customer

        customer = Customer.objects.filter(pk=customer).first()
    if obj is None and customer is None:
        raise ValidationError(_("Name the work order, contact or customer it came from."))
    content_type = ContentType.objects.get_for_model(obj) if obj is not None else None
    try:
        with transaction.atomic():
            source = Source.objects.create(
                requirement=requirement,
                customer=customer,
                channel=channel or "phone",
                ticket=ticket,
                content_type=content_type,
                object_id=obj.pk if obj is not None else None,
                label=(label or (str(obj) if obj is not None else customer.name))[:200],
                note=note,
                added_by=actor if actor is not None and actor.pk else None,
            )
            events.record(
                "requirement_source_added",
                requirement,
                actor=actor,
                object_repr=str(requirement),
                data={
                    "source": source.label,
                    "channel": source.channel,
                    "customer": customer.pk if customer is not None else None,
                },
            )
    except IntegrityError:
        return None
    if requirement.status == Status.TRACK and customer is not None:
        # Asked again after it shipped: this customer is told too (once).
        tell_customers(actor=actor, requirement=requirement)
    return source


@transaction.atomic
def raise_from_ticket(
    *,
    actor: User,
    ticket: Ticket,
    requirement: Requirement | None = None,
    title: str = "",
    kind: str = "",
    description: str = "",
    note: str = "",
) -> Requirement:
    """The ticket page's "raise as requirement": a new one, or this customer joins an existing
    one (asked again by someone else)."""
    if requirement is None:
        return create_requirement(
            actor=actor,
            title=title or ticket.title,
            kind=kind,
            description=description,
            ticket=ticket,
            note=note,
        )
    if add_source(actor=actor, requirement=requirement, ticket=ticket, note=note) is None:
        raise ValidationError(
            _("%(n)s is linked to this requirement already.") % {"n": ticket.number}
        )
    return requirement


@transaction.atomic
def update_requirement(
    *,
    actor: User,
    requirement: Requirement,
    changes: Mapping[str, Any],
    expected_version: int | None = None,
) -> Requirement:
    """Change title, description, kind or owner."""
    require_perm(actor, "requirements.manage")
    requirement = _lock(requirement, expected_version)
    if requirement.status in (Status.MERGED,):
        raise ValidationError(_("A merged requirement cannot be changed."))
    unknown = set(changes) - {"title", "description", "kind", "owner"}
    if unknown:
        raise ValidationError({k: [_("This field cannot be changed here.")] for k in unknown})
    before = events.snapshot(requirement, ("title", "description", "kind", "owner"))
    title, description, kind = _clean(
        changes.get("title", requirement.title),
        changes.get("description", requirement.description),
        changes.get("kind", requirement.kind),
    )
    requirement.title, requirement.description, requirement.kind = title, description, kind
    if "owner" in changes:
        owner = changes["owner"]
        if owner is not None and (not owner.is_active or owner.role == Role.CUSTOMER):
            raise ValidationError({"owner": [_("The owner must be an active staff member.")]})
        requirement.owner = owner
    diff = events.diff(before, events.snapshot(requirement, tuple(before)))
    if not diff:
        return requirement
    _touch(requirement, ["title", "description", "kind", "owner"])
    _record("requirement_changed", requirement, actor, changes=diff)
    return requirement


@transaction.atomic
def score_requirement(
    *,
    actor: User,
    requirement: Requirement,
    importance: int | None,
    feasibility: int | None,
    benefit: int | None,
    expected_version: int | None = None,
) -> Requirement:
    """Judge importance, feasibility and benefit (1–5 each); the priority score follows."""
    require_perm(actor, "requirements.manage")
    requirement = _lock(requirement, expected_version)
    if requirement.status in states.FINAL:
        raise ValidationError(_("A finished requirement is not scored again."))
    values = {"importance": importance, "feasibility": feasibility, "benefit": benefit}
    errors = {
        name: [_("Give a whole number from 1 to 5.")]
        for name, value in values.items()
        if value is not None
        and (not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 5)
    }
    if errors:
        raise ValidationError(errors)
    before = events.snapshot(requirement, (*SCORE_FIELDS, "score"))
    for name, value in values.items():
        setattr(requirement, name, value)
    requirement.score = scoring.priority(importance, feasibility, benefit)
    diff = events.diff(before, events.snapshot(requirement, tuple(before)))
    if not diff:
        return requirement
    _touch(requirement, [*SCORE_FIELDS, "score"])
    _record("requirement_scored", requirement, actor, changes=diff)
    return requirement


@transaction.atomic
def move_requirement(
    *,
    actor: User,
    requirement: Requirement,
    to: str,
    note: str = "",
    expected_version: int | None = None,
) -> Requirement:
    """Move a requirement along its lifecycle. Accepting needs all three scores; not taking it
    up needs a reason; shipping needs a word on what shipped and tells every linked customer."""
    require_perm(actor, "requirements.manage")
    requirement = _lock(requirement, expected_version)
    try:
        name = states.move(requirement.status, to)
    except states.TransitionError as exc:
        raise ValidationError({"status": [str(exc)]}) from None
    note = clean_text(note, field="note", max_length=4000)
    if name == "accept" and requirement.score is None:
        raise ValidationError(
            {"status": [_("Score importance, feasibility and benefit before accepting it.")]}
        )
    if name == "reject" and not note:
        raise ValidationError({"note": [_("Say why it is not taken up; the askers may ask.")]})
    if name == "ship" and not note:
        raise ValidationError({"note": [_("Say what shipped: the customers are told this.")]})
    before = requirement.status
    now = timezone.now()
    requirement.status = to
    fields = ["status"]
    if name in ("accept", "reject", "reconsider") and note:
        requirement.decision_note = note
        fields.append("decision_note")
    if name == "ship":
        requirement.shipped_at = now
        requirement.ship_note = note
        fields += ["shipped_at", "ship_note"]
    if name == "close":
        requirement.closed_at = now
        fields.append("closed_at")
    _touch(requirement, fields)
    _record(
        "requirement_moved",
        requirement,
        actor,
        changes={"status": [before, to]},
        data={"move": name, "note": note},
    )
    if name == "ship":
        tell_customers(actor=actor, requirement=requirement)
    return requirement


def asking_customers(requirement: Requirement) -> list[int]:
    return sorted(
        set(
            Source.objects.filter(requirement=requirement, customer__isnull=False).values_list(
                "customer_id", flat=True
            )
        )
    )


def tell_customers(*, actor: User | None, requirement: Requirement) -> dict[str, int]:
    """Tell every linked customer, once each, that their requirement shipped: a reply on their
    latest work order about it that is not closed (it goes out by that work order's channel),
    else a portal notification with e-mail; a customer with neither is recorded as not reached.
    Safe to run twice: the (requirement, customer) row is written before the message."""
    from kefu.core.notifications import notify
    from kefu.tickets.services import add_reply
    from kefu.tickets.states import FINAL_STATES
    from kefu.tickets.states import Status as TicketStatus

    counts: dict[str, int] = {str(via): 0 for via in ShipNotice.Via}
    text = _(
        "Good news about the request you made (%(ref)s %(title)s): it has been implemented. "
        "%(note)s Thank you for telling us."
    ) % {"ref": requirement.reference, "title": requirement.title, "note": requirement.ship_note}
    done = set(
        ShipNotice.objects.filter(requirement=requirement).values_list("customer_id", flat=True)
    )
    for customer_id in asking_customers(requirement):
        if customer_id in done:
            continue
        with transaction.atomic():
            try:
                with transaction.atomic():
                    notice = ShipNotice.objects.create(
                        requirement=requirement, customer_id=customer_id, via=ShipNotice.Via.NONE
                    )
            except IntegrityError:
                continue
            ticket = (
                Ticket.objects.filter(
                    pk__in=Source.objects.filter(
                        requirement=requirement, customer_id=customer_id, ticket__isnull=False
                    ).values("ticket_id")
                )
                .exclude(status__in=[*FINAL_STATES, TicketStatus.CLOSED])
                .order_by("-created_at")
                .first()
            )
            replier = actor if actor is not None else requirement.owner
            if ticket is not None and replier is not None:
                try:
                    with transaction.atomic():
                        add_reply(actor=replier, ticket=ticket, body=text)
                except (ValidationError, PermissionDenied):
                    ticket = None
                else:
                    notice.via, notice.ticket = ShipNotice.Via.REPLY, ticket
            if notice.via == ShipNotice.Via.NONE:
                users = list(User.objects.filter(customer_id=customer_id, is_active=True))
                if users:
                    from django.urls import reverse

                    notify(
                        users,
                        kind="requirement_shipped",
                        title=_("Your request %(ref)s has been implemented")
                        % {"ref": requirement.reference},
                        body=text,
                        url=reverse("portal:home"),
                        email=True,
                    )
                    notice.via = ShipNotice.Via.PORTAL
            notice.save(update_fields=["via", "ticket"])
            counts[str(notice.via)] += 1
    if any(counts.values()):
        with transaction.atomic():
            _record(
                "requirement_customers_told",
                requirement,
                actor,
                data=counts,
            )
    return counts


@transaction.atomic
def merge_requirements(
    *, actor: User, source: Requirement, target: Requirement, note: str = ""
) -> Requirement:
    """Fold a duplicate into another requirement: every asker and source moves to the target
    (each customer and contact once), the duplicate stays, merged, with its timeline."""
    require_perm(actor, "requirements.manage")
    if source.pk == target.pk:
        raise ValidationError(_("Choose two different requirements to merge."))
    first, second = sorted([source.pk, target.pk])
    locked = {
        r.pk: r for r in Requirement.objects.select_for_update().filter(pk__in=[first, second])
    }
    source, target = locked[source.pk], locked[target.pk]
    if source.status in states.FINAL or target.status in states.FINAL:
        raise ValidationError(_("Only requirements still being worked on can be merged."))
    moved = 0
    for item in Source.objects.filter(requirement=source).order_by("id"):
        duplicate = Source.objects.filter(requirement=target)
        if item.object_id is not None:
            duplicate = duplicate.filter(content_type=item.content_type, object_id=item.object_id)
        else:
            duplicate = duplicate.filter(object_id__isnull=True, customer=item.customer)
        if duplicate.exists():
            continue
        Source.objects.filter(pk=item.pk).update(requirement=target)
        moved += 1
    before = source.status
    source.status = Status.MERGED
    source.merged_into = target
    _touch(source, ["status", "merged_into"])
    note = clean_text(note, field="note", max_length=2000)
    _record(
        "requirement_merged_into",
        source,
        actor,
        changes={"status": [before, Status.MERGED], "merged_into": [None, target.pk]},
        data={"target": target.reference, "note": note},
    )
    _touch(target, [])
    _record(
        "requirement_merged",
        target,
        actor,
        data={"source": source.reference, "source_id": source.pk, "moved": moved, "note": note},
    )
    if target.status == Status.TRACK:
        tell_customers(actor=actor, requirement=target)
    return target
