"""Field-service rules: dispatching engineers, the one state machine of a visit, photos,
remote-support sessions and customer assets. Every change writes an event in its transaction;
visits and sessions write theirs on the work order's timeline."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.models import User
from kefu.core import events
from kefu.core.models import Event
from kefu.core.notifications import notify
from kefu.core.permissions import has_perm, require_perm
from kefu.core.validation import clean_text, normalize_phone
from kefu.field import deadlines, states, stock
from kefu.field.models import Asset, Deadline, RemoteSession, Reservation, Visit, VisitPhoto
from kefu.tickets.models import Ticket
from kefu.tickets.services.common import record

S = Visit.State
MAX_WINDOW = dt.timedelta(days=2)
MAX_PHOTOS = 12
PHOTO_TYPES = frozenset({".jpg", ".jpeg", ".png", ".webp"})
CONFIRM_SALT = "kefu.field.visit-confirm"
CONFIRM_MAX_AGE = 14 * 86400


# --- dispatching ----------------------------------------------------------------------------------


def _engineer(user: Any) -> User:
    if not isinstance(user, User) or not user.is_active or not has_perm(user, "field.work"):
        raise ValidationError({"engineer": [_("Choose an active field engineer.")]})
    return user


def _window(start: Any, end: Any, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    if not isinstance(start, dt.datetime) or not isinstance(end, dt.datetime):
        raise ValidationError({"window_start": [_("Give the appointment's start and end.")]})
    if timezone.is_naive(start) or timezone.is_naive(end):
        zone = timezone.get_current_timezone()
        start = timezone.make_aware(start, zone) if timezone.is_naive(start) else start
        end = timezone.make_aware(end, zone) if timezone.is_naive(end) else end
    if end <= start:
        raise ValidationError({"window_end": [_("The appointment ends after it starts.")]})
    if end - start > MAX_WINDOW:
        raise ValidationError({"window_end": [_("An appointment window is at most two days.")]})
    if end <= now:
        raise ValidationError({"window_end": [_("This appointment window is already over.")]})
    return start, end


@transaction.atomic
def dispatch_visit(
    *,
    actor: User,
    ticket: Ticket,
    engineer: Any,
    window_start: Any,
    window_end: Any,
    address: str = "",
    asset: Asset | None = None,
    contact_name: str = "",
    contact_phone: str = "",
    instructions: str = "",
) -> Visit:
    """Send an engineer on site for a work order, in an appointment window."""
    require_perm(actor, "field.dispatch")
    now = timezone.now()
    errors: dict[str, list[str]] = {}

    def check(name: str, func: Any) -> Any:
        try:
            return func()
        except ValidationError as exc:
            errors.setdefault(name, []).extend(exc.messages)
            return None

    engineer = check("engineer", lambda: _engineer(engineer))
    window = check("window_end", lambda: _window(window_start, window_end, now))
    if asset is not None and ticket.customer_id and asset.customer_id != ticket.customer_id:
        errors.setdefault("asset", []).append(_("This asset belongs to another customer."))
    default_address = (asset.address if asset else "") or ticket.place
    address = (
        check(
            "address",
            lambda: clean_text(
                address or default_address,
                field="address",
                max_length=200,
                required=True,
                single_line=True,
            ),
        )
        or ""
    )
    contact_name = (
        check(
            "contact_name",
            lambda: clean_text(
                contact_name or ticket.contact_name or (ticket.customer.name if ticket.customer else ""),
                field="contact_name", max_length=60, single_line=True,
            ),
        )
        or ""
    )  # fmt: skip
    phone = contact_phone or ticket.contact_phone
    if phone:
        phone = check("contact_phone", lambda: normalize_phone(phone, field="contact_phone")) or ""
    instructions = (
        check(
            "instructions",
            lambda: clean_text(instructions, field="instructions", max_length=2000),
        )
        or ""
    )
    if not ticket.is_open:
        errors.setdefault("ticket", []).append(_("Engineers are sent for open work orders only."))
    if errors:
        raise ValidationError(errors)
    assert window is not None
    visit = Visit.objects.create(
        ticket=ticket,
        asset=asset,
        engineer=engineer,
        window_start=window[0],
        window_end=window[1],
        address=address,
        contact_name=contact_name,
        contact_phone=phone,
        instructions=instructions,
        created_by=actor,
    )
    record(
        "visit_scheduled",
        ticket,
        actor=actor,
        data={
            "visit": visit.pk,
            "engineer": engineer.pk,
            "engineer_name": engineer.display_label,
            "window_start": visit.window_start.isoformat(),
            "window_end": visit.window_end.isoformat(),
            "address": address,
        },
    )
    deadlines.start_deadlines(actor=actor, ticket=ticket, asset=asset)
    if engineer.pk != actor.pk:
        local = timezone.localtime(visit.window_start)
        notify(
            [engineer],
            kind="visit_scheduled",
            title=_("On-site visit: %(n)s %(t)s") % {"n": ticket.number, "t": ticket.title},
            body=_("%(d)s at %(a)s") % {"d": f"{local:%Y-%m-%d %H:%M}", "a": address},
            url=reverse("field:visit", args=[visit.pk]),
        )
    return visit


# --- the visit's state machine --------------------------------------------------------------------


def _coordinate(value: Any, field: str, limit: int) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value)).quantize(Decimal("0.000001"))
    except (InvalidOperation, ValueError):
        raise ValidationError({field: [_("Not a coordinate.")]}) from None
    if not number.is_finite() or abs(number) > limit:
        raise ValidationError({field: [_("Not a coordinate.")]})
    return number


def _may_move(actor: User | None, visit: Visit, name: str, via: str) -> None:
    if name == "confirm" and via == "link":
        return  # the customer, through the signed link (checked by the caller)
    if actor is None:
        raise PermissionDenied(_("You do not have permission to do this."))
    if name == "cancel":
        require_perm(actor, "field.dispatch")
        return
    require_perm(actor, "field.work")
    if visit.engineer_id != actor.pk:
        raise PermissionDenied(_("Only the visit's engineer can do this."))


def _milestone(actor: User, ticket: Ticket, milestone: str, action: str) -> None:
    """Tell the SLA clock of the work order (once; only while the work order is open)."""
    from kefu.sla.services import record_milestone

    if not ticket.is_open or not has_perm(actor, "tickets.transition"):
        return
    if Event.objects.filter(object_type="ticket", object_id=ticket.pk, action=action).exists():
        return
    record_milestone(actor=actor, ticket=ticket, milestone=milestone)


@transaction.atomic
def transition_visit(
    *,
    actor: User | None,
    visit: Visit,
    to: str,
    lat: Any = None,
    lng: Any = None,
    accuracy: Any = None,
    report: str = "",
    outcome: str = "",
    used: Mapping[int, Any] | None = None,
    photos: Iterable[Any] = (),
    name: str = "",
    comment: str = "",
    reason: str = "",
    via: str = "on_site",
) -> Visit:
    """Move a visit along its life; the only place that changes ``Visit.state``."""
    visit = (
        Visit.objects.select_for_update(of=("self",))
        .select_related("ticket", "engineer")
        .get(pk=visit.pk)
    )
    move = states.move(visit.state, to)
    if move is None:
        raise ValidationError(
            _("A visit that is “%(s)s” cannot become “%(t)s”.")
            % {"s": S(visit.state).label, "t": S(to).label if to in S.values else to}
        )
    _may_move(actor, visit, move, via)
    now = timezone.now()
    ticket = visit.ticket
    data: dict[str, Any] = {"visit": visit.pk}
    fields = ["state", "updated_at"]
    if move == "start_travel":
        visit.travel_started_at = now
        fields.append("travel_started_at")
    elif move == "check_in":
        la, lo = _coordinate(lat, "lat", 90), _coordinate(lng, "lng", 180)
        if (la is None) != (lo is None):
            raise ValidationError({"lat": [_("Give both latitude and longitude, or neither.")]})
        acc = None
        if accuracy not in (None, ""):
            try:
                acc = max(0, min(int(float(accuracy)), 100_000))
            except (TypeError, ValueError):
                raise ValidationError({"accuracy": [_("Not a distance.")]}) from None
        visit.arrived_at, visit.arrival_lat, visit.arrival_lng = now, la, lo
        visit.arrival_accuracy = acc if la is not None else None
        fields += ["arrived_at", "arrival_lat", "arrival_lng", "arrival_accuracy"]
        data.update({"lat": la, "lng": lo, "accuracy": visit.arrival_accuracy})
        if visit.window_end < now:
            data["late"] = True
        deadlines.meet(ticket, (Deadline.Kind.ARRIVAL,), now)
    elif move == "check_out":
        errors: dict[str, list[str]] = {}
        try:
            report = clean_text(report, field="report", max_length=5000, required=True)
        except ValidationError as exc:
            errors["report"] = exc.messages
        if outcome not in Visit.Outcome.values:
            errors["outcome"] = [_("Say how the visit ended.")]
        if errors:
            raise ValidationError(errors)
        visit.departed_at, visit.report, visit.outcome = now, report, outcome
        fields += ["departed_at", "report", "outcome"]
        data["outcome"] = outcome
        assert actor is not None
        data["parts"] = _use_parts(actor, visit, used or {})
        add_photos(actor=actor, visit=visit, uploads=photos, allow_done=True)
        if outcome in (Visit.Outcome.RESOLVED, Visit.Outcome.WORKAROUND):
            deadlines.meet(ticket, (Deadline.Kind.WORKAROUND,), now)
        if outcome == Visit.Outcome.RESOLVED:
            deadlines.meet(ticket, (Deadline.Kind.RESOLUTION,), now)
    elif move == "confirm":
        visit.confirmed_name = clean_text(
            name, field="name", max_length=60, required=True, single_line=True
        )
        visit.customer_comment = clean_text(comment, field="comment", max_length=500)
        visit.confirmed_at, visit.confirmed_via = now, via
        fields += ["confirmed_at", "confirmed_name", "confirmed_via", "customer_comment"]
        data.update({"name": visit.confirmed_name, "via": via})
    elif move == "cancel":
        visit.cancel_reason = clean_text(
            reason, field="reason", max_length=200, required=True, single_line=True
        )
        fields.append("cancel_reason")
        data["reason"] = visit.cancel_reason
    before = visit.state
    visit.state = to
    visit.updated_at = now
    visit.save(update_fields=fields)
    record(
        states.EVENTS[move],
        ticket,
        actor=actor,
        changes={"visit_state": [before, to]},
        data=data,
    )
    if move == "check_in" and actor is not None:
        _milestone(actor, ticket, "onsite", "ticket_onsite_arrived")
    if move == "cancel" and visit.engineer_id != getattr(actor, "pk", None):
        notify(
            [visit.engineer],
            kind="visit_cancelled",
            title=_("Visit cancelled: %(n)s") % {"n": ticket.number},
            body=visit.cancel_reason,
            url=reverse("field:visit", args=[visit.pk]),
        )
    return visit


def _use_parts(actor: User, visit: Visit, used: Mapping[int, Any]) -> list[dict[str, Any]]:
    """Consume the quantities used of the work order's reservations."""
    done: list[dict[str, Any]] = []
    wanted = {int(k): v for k, v in used.items() if v not in (None, "", 0, "0")}
    if not wanted:
        return done
    reservations = {
        r.pk: r for r in Reservation.objects.filter(ticket=visit.ticket, pk__in=list(wanted))
    }
    for pk, qty in sorted(wanted.items()):
        reservation = reservations.get(pk)
        if reservation is None:
            raise ValidationError({"parts": [_("That reservation is not on this work order.")]})
        try:
            stock.consume(actor=actor, reservation=reservation, qty=qty)
        except ValidationError as exc:
            raise ValidationError(
                {"parts": [f"{reservation.part.name}: {m}" for m in exc.messages]}
            ) from None
        done.append({"reservation": pk, "part": reservation.part_id, "qty": int(qty)})
    return done


def add_photos(
    *, actor: User, visit: Visit, uploads: Iterable[Any], allow_done: bool = False
) -> list[VisitPhoto]:
    """Photos of the work, taken by the visit's engineer on site (images only, size-limited)."""
    from kefu.tickets.services.conversation import check_upload

    uploads = [u for u in uploads if u]
    if not uploads:
        return []
    if visit.engineer_id != actor.pk:
        raise PermissionDenied(_("Only the visit's engineer can do this."))
    state = Visit.objects.filter(pk=visit.pk).values_list("state", flat=True).first()
    if state != S.ON_SITE and not (allow_done and state == S.DONE):
        raise ValidationError({"photos": [_("Photos are added on site.")]})
    have = VisitPhoto.objects.filter(visit=visit).count()
    if have + len(uploads) > MAX_PHOTOS:
        raise ValidationError(
            {"photos": [_("At most %(n)d photos per visit.") % {"n": MAX_PHOTOS}]}
        )
    rows = []
    for upload in uploads:
        try:
            name, content_type, _inline = check_upload(upload)
        except ValidationError as exc:
            raise ValidationError({"photos": exc.messages}) from None
        if not any(name.lower().endswith(ext) for ext in PHOTO_TYPES):
            raise ValidationError(
                {"photos": [_("“%(n)s” is not a photo (JPEG, PNG or WebP).") % {"n": name}]}
            )
        digest = hashlib.sha256()
        for chunk in upload.chunks():
            digest.update(chunk)
        upload.seek(0)
        photo = VisitPhoto(
            visit=visit,
            storage_key=secrets.token_hex(16),
            filename=name,
            content_type=content_type,
            size=upload.size or 0,
            sha256=digest.hexdigest(),
            uploaded_by=actor,
        )
        photo.file.save(photo.storage_key, upload, save=False)
        photo.save()
        rows.append(photo)
    record(
        "visit_photos_added",
        visit.ticket,
        actor=actor,
        data={"visit": visit.pk, "photos": [p.pk for p in rows]},
    )
    return rows


# --- the customer's confirmation link ---------------------------------------------------------


def confirm_token(visit: Visit) -> str:
    return signing.dumps({"v": visit.pk}, salt=CONFIRM_SALT, compress=True)


def visit_from_token(token: str) -> Visit | None:
    """The visit a confirmation link names, while the link is valid (14 days)."""
    try:
        payload = signing.loads(token, salt=CONFIRM_SALT, max_age=CONFIRM_MAX_AGE)
    except signing.BadSignature:
        return None
    pk = payload.get("v") if isinstance(payload, dict) else None
    if not isinstance(pk, int):
        return None
    return Visit.objects.select_related("ticket", "engineer").filter(pk=pk).first()


@transaction.atomic
def dispute_visit(*, visit: Visit, name: str, comment: str) -> Visit:
    """The customer says, through the link, that the work is not done as reported."""
    visit = Visit.objects.select_for_update(of=("self",)).select_related("ticket").get(pk=visit.pk)
    if visit.state != S.DONE:
        raise ValidationError(_("This visit is not waiting for your confirmation."))
    name = clean_text(name, field="name", max_length=60, required=True, single_line=True)
    comment = clean_text(comment, field="comment", max_length=500, required=True)
    visit.disputed_at = timezone.now()
    visit.customer_comment = comment
    visit.confirmed_name = name
    visit.save(update_fields=["disputed_at", "customer_comment", "confirmed_name"])
    record(
        "visit_disputed",
        visit.ticket,
        actor=None,
        data={"visit": visit.pk, "name": name, "comment": comment},
    )
    people = [p for p in (visit.engineer, visit.ticket.assignee, visit.created_by) if p]
    notify(
        people,
        kind="visit_disputed",
        title=_("The customer disputes visit %(v)s of %(n)s")
        % {"v": visit, "n": visit.ticket.number},
        body=comment,
        url=reverse("tickets:detail", args=[visit.ticket.number]),
    )
    return visit


# --- remote support -------------------------------------------------------------------------------


def _remote_outcome(ticket: Ticket, outcome: str, at: dt.datetime) -> None:
    if outcome in (RemoteSession.Outcome.RESOLVED, RemoteSession.Outcome.WORKAROUND):
        deadlines.meet(ticket, (Deadline.Kind.WORKAROUND,), at)
    if outcome == RemoteSession.Outcome.RESOLVED:
        deadlines.meet(ticket, (Deadline.Kind.RESOLUTION,), at)


def _session_end(
    started: dt.datetime, ended: Any, outcome: str, now: dt.datetime
) -> tuple[dt.datetime | None, str]:
    if ended in (None, ""):
        if outcome:
            raise ValidationError({"ended_at": [_("An outcome needs the session's end.")]})
        return None, ""
    if not isinstance(ended, dt.datetime) or timezone.is_naive(ended):
        raise ValidationError({"ended_at": [_("Not a date and time.")]})
    if ended < started:
        raise ValidationError({"ended_at": [_("The session ends after it starts.")]})
    if ended > now + dt.timedelta(minutes=5):
        raise ValidationError({"ended_at": [_("The session's end is in the future.")]})
    if outcome not in RemoteSession.Outcome.values:
        raise ValidationError({"outcome": [_("Say how the session ended.")]})
    return ended, outcome


@transaction.atomic
def log_remote_session(
    *,
    actor: User,
    ticket: Ticket,
    tool: str,
    tool_detail: str = "",
    started_at: Any = None,
    ended_at: Any = None,
    outcome: str = "",
    notes: str = "",
) -> RemoteSession:
    """Log remote support given on a work order (now, or afterwards with its times)."""
    require_perm(actor, "field.remote")
    now = timezone.now()
    if tool not in RemoteSession.Tool.values:
        raise ValidationError({"tool": [_("Choose the tool used.")]})
    started = started_at or now
    if not isinstance(started, dt.datetime) or timezone.is_naive(started):
        raise ValidationError({"started_at": [_("Not a date and time.")]})
    if started > now + dt.timedelta(minutes=5):
        raise ValidationError({"started_at": [_("The session's start is in the future.")]})
    if started < ticket.created_at - dt.timedelta(minutes=5):
        raise ValidationError({"started_at": [_("The session starts before the work order.")]})
    ended, outcome = _session_end(started, ended_at, outcome, now)
    detail = clean_text(tool_detail, field="tool_detail", max_length=80, single_line=True)
    notes = clean_text(notes, field="notes", max_length=5000)
    session = RemoteSession.objects.create(
        ticket=ticket,
        engineer=actor,
        tool=tool,
        tool_detail=detail,
        started_at=started,
        ended_at=ended,
        outcome=outcome,
        notes=notes,
    )
    record(
        "remote_session_logged",
        ticket,
        actor=actor,
        data={
            "session": session.pk,
            "tool": tool,
            "started_at": started.isoformat(),
            "ended_at": ended.isoformat() if ended else None,
            "outcome": outcome,
        },
    )
    _milestone(actor, ticket, "remote", "ticket_remote_started")
    if ended is not None:
        _remote_outcome(ticket, outcome, ended)
    return session


@transaction.atomic
def end_remote_session(
    *, actor: User, session: RemoteSession, outcome: str, notes: str = "", ended_at: Any = None
) -> RemoteSession:
    require_perm(actor, "field.remote")
    session = (
        RemoteSession.objects.select_for_update(of=("self",))
        .select_related("ticket")
        .get(pk=session.pk)
    )
    if session.ended_at is not None:
        raise ValidationError(_("This session has already ended."))
    if session.engineer_id != actor.pk and not has_perm(actor, "field.dispatch"):
        raise PermissionDenied(_("Only the session's engineer can do this."))
    now = timezone.now()
    ended, outcome = _session_end(session.started_at, ended_at or now, outcome, now)
    session.ended_at, session.outcome = ended, outcome
    if notes:
        session.notes = clean_text(notes, field="notes", max_length=5000)
    session.save(update_fields=["ended_at", "outcome", "notes"])
    record(
        "remote_session_ended",
        session.ticket,
        actor=actor,
        data={"session": session.pk, "outcome": outcome, "ended_at": now.isoformat()},
    )
    assert ended is not None
    _remote_outcome(session.ticket, outcome, ended)
    return session


# --- assets ---------------------------------------------------------------------------------------

ASSET_FIELDS = (
    "product",
    "model",
    "serial",
    "installed_on",
    "address",
    "warranty_until",
    "contract_number",
    "contract_until",
    "service_level",
    "notes",
    "is_active",
)


def _clean_asset(values: Mapping[str, Any], asset: Asset) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    texts = {
        "product": (80, True),
        "model": (80, True),
        "serial": (80, True),
        "address": (200, False),
        "contract_number": (40, False),
    }
    for name, value in values.items():
        if name not in ASSET_FIELDS:
            errors.setdefault(name, []).append(_("Unknown field."))
            continue
        try:
            if name in texts:
                size, required = texts[name]
                clean[name] = clean_text(
                    value, field=name, max_length=size, required=required, single_line=True
                )
            elif name == "notes":
                clean[name] = clean_text(value, field=name, max_length=2000)
            elif name in ("installed_on", "warranty_until", "contract_until"):
                if value not in (None, "") and not isinstance(value, dt.date):
                    raise ValidationError({name: [_("Not a date.")]})
                clean[name] = value or None
            else:
                clean[name] = value
        except ValidationError as exc:
            errors.setdefault(name, []).extend(exc.messages)
    merged = {f: getattr(asset, f) for f in ASSET_FIELDS} | clean
    installed = merged["installed_on"]
    for name in ("warranty_until", "contract_until"):
        if installed and merged[name] and merged[name] < installed:
            errors.setdefault(name, []).append(_("Ends before the installation date."))
    if merged["contract_until"] and not merged["contract_number"]:
        errors.setdefault("contract_number", []).append(_("Give the contract's number."))
    serial, model = merged["serial"], merged["model"]
    if serial and model and not errors.get("serial"):
        twin = Asset.objects.filter(model=model, serial=serial).exclude(pk=asset.pk).first()
        if twin is not None:
            errors.setdefault("serial", []).append(
                _("Serial number %(s)s of model %(m)s is already registered.")
                % {"s": serial, "m": model}
            )
    if errors:
        raise ValidationError(errors)
    return clean


@transaction.atomic
def create_asset(*, actor: User, customer: Any, values: Mapping[str, Any]) -> Asset:
    require_perm(actor, "field.assets")
    asset = Asset(customer=customer)
    missing = {f: "" for f in ("product", "model", "serial") if f not in values}
    clean = _clean_asset({**missing, **values}, asset)
    for name, value in clean.items():
        setattr(asset, name, value)
    asset.save()
    events.record(
        "asset_created",
        asset,
        actor=actor,
        data={"customer": customer.pk, **events.snapshot(asset, ASSET_FIELDS)},
    )
    return asset


@transaction.atomic
def update_asset(*, actor: User, asset: Asset, values: Mapping[str, Any]) -> Asset:
    require_perm(actor, "field.assets")
    asset = Asset.objects.select_for_update().get(pk=asset.pk)
    clean = _clean_asset(values, asset)
    before = events.snapshot(asset, ASSET_FIELDS)
    for name, value in clean.items():
        setattr(asset, name, value)
    changes = events.diff(before, events.snapshot(asset, ASSET_FIELDS))
    if not changes:
        return asset
    asset.updated_at = timezone.now()
    asset.save()
    events.record("asset_changed", asset, actor=actor, changes=changes)
    return asset
