"""Spare-parts stock: receive, reserve for a work order, release, use (consume) and transfer.

Every change locks the stock row (``select_for_update``), checks the balance, writes one ledger
row (``Movement``) with the balances after it and an event, and never lets stock go negative —
the database refuses it too. When what is available falls below the location's minimum, the
location's keeper and the storekeepers (``field.stock``) are told once, until it is restocked.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.models import User
from kefu.core import events
from kefu.core.notifications import notify
from kefu.core.permissions import ROLE_PERMS, Role, require_perm
from kefu.core.validation import clean_text
from kefu.field.models import Location, Movement, Part, Reservation, Stock
from kefu.tickets.models import Ticket
from kefu.tickets.services.common import record as record_on_ticket

MAX_QTY = 100_000


def _qty(value: Any, field: str = "qty") -> int:
    if isinstance(value, bool) or value is None:
        raise ValidationError({field: [_("Enter a whole number.")]})
    text = str(value).strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 9:
        raise ValidationError({field: [_("Enter a whole number.")]})
    number = int(text)
    if number < 1 or number > MAX_QTY:
        raise ValidationError(
            {field: [_("Enter a quantity from 1 to %(max)d.") % {"max": MAX_QTY}]}
        )
    return number


def _active(part: Part, location: Location) -> None:
    if not part.is_active:
        raise ValidationError({"part": [_("This part is no longer in use.")]})
    if not location.is_active:
        raise ValidationError({"location": [_("This location is closed.")]})


def lock_stock(part: Part, location: Location) -> Stock:
    """The stock row of a part at a location, locked; created (empty) when missing."""
    Stock.objects.get_or_create(part=part, location=location)
    return (
        Stock.objects.select_for_update()
        .select_related("part", "location")
        .get(part=part, location=location)
    )


def _ledger(
    stock: Stock,
    kind: str,
    qty: int,
    *,
    actor: User | None,
    ticket: Ticket | None = None,
    reservation: Reservation | None = None,
    other: Location | None = None,
    note: str = "",
) -> Movement:
    stock.save(update_fields=["on_hand", "reserved"])
    movement = Movement.objects.create(
        part=stock.part,
        location=stock.location,
        kind=kind,
        qty=qty,
        on_hand_after=stock.on_hand,
        reserved_after=stock.reserved,
        ticket=ticket,
        reservation=reservation,
        other_location=other,
        note=note,
        actor=actor if actor is not None and actor.pk else None,
    )
    data = {
        "part": stock.part_id,
        "code": stock.part.code,
        "location": stock.location_id,
        "qty": qty,
        "on_hand": stock.on_hand,
        "reserved": stock.reserved,
        "movement": movement.pk,
    }
    if ticket is not None:
        record_on_ticket(f"part_{kind}", ticket, actor=actor, data=data)
    else:
        events.record(f"part_{kind}", stock.part, actor=actor, data=data)
    _check_minimum(stock)
    return movement


def stock_keepers(location: Location) -> list[User]:
    # the storekeeping roles (administrators hold every permission but do not keep stock)
    roles = [
        role for role, perms in ROLE_PERMS.items() if "field.stock" in perms and role != Role.ADMIN
    ]
    people = list(User.objects.filter(role__in=roles, is_active=True).order_by("pk"))
    if location.keeper_id and location.keeper is not None:
        people.insert(0, location.keeper)
    return people


def _check_minimum(stock: Stock) -> None:
    if stock.is_low and stock.alerted_at is None:
        stock.alerted_at = timezone.now()
        stock.save(update_fields=["alerted_at"])
        part, location = stock.part, stock.location
        notify(
            stock_keepers(location),
            kind="field_low_stock",
            title=_("Low stock: %(p)s at %(l)s") % {"p": part, "l": location.name},
            body=_("%(a)d available, minimum %(m)d; supply takes %(d)d days.")
            % {"a": stock.available, "m": stock.min_qty, "d": part.lead_time_days},
            url=reverse("field:low_stock"),
        )
    elif not stock.is_low and stock.alerted_at is not None:
        stock.alerted_at = None
        stock.save(update_fields=["alerted_at"])


@transaction.atomic
def receive(*, actor: User, part: Part, location: Location, qty: Any, note: str = "") -> Movement:
    require_perm(actor, "field.stock")
    qty = _qty(qty)
    note = clean_text(note, field="note", max_length=200, single_line=True)
    _active(part, location)
    stock = lock_stock(part, location)
    stock.on_hand += qty
    return _ledger(stock, Movement.Kind.RECEIVE, qty, actor=actor, note=note)


@transaction.atomic
def set_minimum(*, actor: User, part: Part, location: Location, min_qty: Any) -> Stock:
    require_perm(actor, "field.stock")
    try:
        value = int(str(min_qty).strip())
    except (TypeError, ValueError):
        raise ValidationError({"min_qty": [_("Enter a whole number.")]}) from None
    if value < 0 or value > MAX_QTY:
        raise ValidationError(
            {"min_qty": [_("Enter a number from 0 to %(max)d.") % {"max": MAX_QTY}]}
        )
    stock = lock_stock(part, location)
    old = stock.min_qty
    stock.min_qty = value
    stock.save(update_fields=["min_qty"])
    events.record(
        "part_minimum_changed",
        part,
        actor=actor,
        changes={"min_qty": [old, value]},
        data={"location": location.pk},
    )
    _check_minimum(stock)
    return stock


def _short(stock: Stock, qty: int) -> ValidationError:
    return ValidationError(
        {
            "qty": [
                _("Only %(a)d %(u)s of %(p)s available at %(l)s.")
                % {
                    "a": max(stock.available, 0),
                    "u": stock.part.unit,
                    "p": stock.part.name,
                    "l": stock.location.name,
                }
            ]
        }
    )


@transaction.atomic
def reserve(
    *, actor: User, ticket: Ticket, part: Part, location: Location, qty: Any
) -> Reservation:
    """Set parts aside for a work order (refused when fewer are available)."""
    require_perm(actor, "field.parts")
    qty = _qty(qty)
    _active(part, location)
    if not ticket.is_open:
        raise ValidationError(_("Parts are reserved for open work orders only."))
    stock = lock_stock(part, location)
    if stock.available < qty:
        raise _short(stock, qty)
    stock.reserved += qty
    reservation = Reservation.objects.create(
        ticket=ticket, part=part, location=location, qty=qty, created_by=actor
    )
    _ledger(stock, Movement.Kind.RESERVE, qty, actor=actor, ticket=ticket, reservation=reservation)
    return reservation


def _lock_reservation(reservation: Reservation) -> Reservation:
    return (
        Reservation.objects.select_for_update(of=("self",))
        .select_related("ticket", "part", "location")
        .get(pk=reservation.pk)
    )


@transaction.atomic
def release(*, actor: User, reservation: Reservation, qty: Any = None) -> Reservation:
    """Give reserved parts back to the location's free stock (all that is left by default)."""
    require_perm(actor, "field.parts")
    reservation = _lock_reservation(reservation)
    left = reservation.open_qty
    qty = left if qty in (None, "") else _qty(qty)
    if left <= 0:
        raise ValidationError(_("Nothing is left of this reservation."))
    if qty > left:
        raise ValidationError({"qty": [_("Only %(n)d left of this reservation.") % {"n": left}]})
    stock = lock_stock(reservation.part, reservation.location)
    stock.reserved -= qty
    reservation.released += qty
    reservation.save(update_fields=["released"])
    _ledger(
        stock,
        Movement.Kind.RELEASE,
        qty,
        actor=actor,
        ticket=reservation.ticket,
        reservation=reservation,
    )
    return reservation


@transaction.atomic
def consume(*, actor: User, reservation: Reservation, qty: Any, note: str = "") -> Reservation:
    """Reserved parts used on the work order: they leave the stock."""
    require_perm(actor, "field.parts")
    reservation = _lock_reservation(reservation)
    qty = _qty(qty)
    left = reservation.open_qty
    if qty > left:
        raise ValidationError({"qty": [_("Only %(n)d left of this reservation.") % {"n": left}]})
    stock = lock_stock(reservation.part, reservation.location)
    stock.on_hand -= qty
    stock.reserved -= qty
    reservation.consumed += qty
    reservation.save(update_fields=["consumed"])
    _ledger(
        stock,
        Movement.Kind.CONSUME,
        qty,
        actor=actor,
        ticket=reservation.ticket,
        reservation=reservation,
        note=clean_text(note, field="note", max_length=200, single_line=True),
    )
    return reservation


@transaction.atomic
def consume_direct(
    *, actor: User, ticket: Ticket, part: Part, location: Location, qty: Any
) -> Movement:
    """Parts taken from free stock (an engineer's van) and used at once, without reserving."""
    require_perm(actor, "field.parts")
    qty = _qty(qty)
    _active(part, location)
    stock = lock_stock(part, location)
    if stock.available < qty:
        raise _short(stock, qty)
    stock.on_hand -= qty
    return _ledger(stock, Movement.Kind.CONSUME, qty, actor=actor, ticket=ticket)


@transaction.atomic
def transfer(
    *, actor: User, part: Part, source: Location, target: Location, qty: Any, note: str = ""
) -> tuple[Movement, Movement]:
    """Move free stock between locations (a warehouse restocking a van)."""
    require_perm(actor, "field.stock")
    qty = _qty(qty)
    if source.pk == target.pk:
        raise ValidationError({"target": [_("Choose another location to transfer to.")]})
    _active(part, source)
    _active(part, target)
    note = clean_text(note, field="note", max_length=200, single_line=True)
    # lock both rows in one order, so two opposite transfers cannot deadlock
    first, second = sorted((source, target), key=lambda loc: loc.pk)
    rows = {first.pk: lock_stock(part, first), second.pk: lock_stock(part, second)}
    out, into = rows[source.pk], rows[target.pk]
    if out.available < qty:
        raise _short(out, qty)
    out.on_hand -= qty
    into.on_hand += qty
    moved_out = _ledger(out, Movement.Kind.TRANSFER_OUT, qty, actor=actor, other=target, note=note)
    moved_in = _ledger(into, Movement.Kind.TRANSFER_IN, qty, actor=actor, other=source, note=note)
    return moved_out, moved_in
