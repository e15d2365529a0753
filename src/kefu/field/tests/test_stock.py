import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from kefu.core.models import Event, Notification
from kefu.field import selectors, stock
from kefu.field.models import Movement, Stock


def row(f, location="warehouse"):
    return Stock.objects.get(part=f["part"], location=f[location])


def test_reserve_consume_and_release_keep_the_ledger(field):
    eng, t = field["engineer"], field["ticket"]
    # when
    r = stock.reserve(actor=eng, ticket=t, part=field["part"], location=field["warehouse"], qty=3)
    stock.consume(actor=eng, reservation=r, qty=1)
    stock.release(actor=eng, reservation=r)
    # then
    r.refresh_from_db()
    assert (r.qty, r.consumed, r.released, r.open_qty) == (3, 1, 2, 0)
    s = row(field)
    assert (s.on_hand, s.reserved, s.available) == (4, 0, 4)
    ledger = list(
        Movement.objects.order_by("pk").values_list(
            "kind", "qty", "on_hand_after", "reserved_after"
        )
    )
    assert ledger == [
        ("receive", 5, 5, 0), ("reserve", 3, 5, 3), ("consume", 1, 4, 2), ("release", 2, 4, 0),
    ]  # fmt: skip
    on_ticket = Event.objects.filter(
        object_type="ticket", object_id=t.pk, action__startswith="part_"
    )
    assert list(on_ticket.order_by("id").values_list("action", flat=True)) == [
        "part_reserve", "part_consume", "part_release",
    ]  # fmt: skip


def test_more_than_available_is_refused_and_nothing_changes(field):
    eng, t = field["engineer"], field["ticket"]
    stock.reserve(actor=eng, ticket=t, part=field["part"], location=field["warehouse"], qty=4)
    with pytest.raises(ValidationError, match="Only 1"):
        stock.reserve(actor=eng, ticket=t, part=field["part"], location=field["warehouse"], qty=2)
    with pytest.raises(ValidationError, match="Only 0"):
        stock.transfer(
            actor=field["supervisor"], part=field["part"], source=field["van"],
            target=field["warehouse"], qty=1,
        )  # fmt: skip
    s = row(field)
    assert (s.on_hand, s.reserved) == (5, 4)
    assert Movement.objects.count() == 2


def test_the_database_refuses_negative_stock_too(field):
    s = row(field)
    s.on_hand = -1
    with pytest.raises(IntegrityError), transaction.atomic():
        s.save(update_fields=["on_hand"])
    s = row(field)
    s.reserved = s.on_hand + 1
    with pytest.raises(IntegrityError), transaction.atomic():
        s.save(update_fields=["reserved"])


def test_bad_quantities_are_refused(field):
    for bad in (0, -1, "3.5", "三", True, None, 10**9):
        with pytest.raises(ValidationError):
            stock.receive(
                actor=field["supervisor"], part=field["part"], location=field["warehouse"], qty=bad
            )
    assert row(field).on_hand == 5


def test_only_storekeepers_receive_and_transfer(field):
    with pytest.raises(PermissionDenied):
        stock.receive(actor=field["agent"], part=field["part"], location=field["warehouse"], qty=1)
    assert row(field).on_hand == 5


def test_falling_below_the_minimum_alerts_the_keepers_once_and_suggests_an_order(field):
    eng, t, sup = field["engineer"], field["ticket"], field["supervisor"]
    # when: 5 on hand, minimum 2; using 4 leaves 1
    r = stock.reserve(actor=eng, ticket=t, part=field["part"], location=field["warehouse"], qty=4)
    stock.consume(actor=eng, reservation=r, qty=2)
    stock.consume(actor=eng, reservation=r, qty=2)
    # then
    alerts = Notification.objects.filter(kind="field_low_stock")
    assert list(alerts.values_list("user", flat=True)) == [sup.pk]
    low = selectors.low_stock()
    assert [(x.stock.location_id, x.stock.available) for x in low] == [(field["warehouse"].pk, 1)]
    # 4 used in 90 days, 14 days' lead time: 0.044 a day → 1 more than the minimum of 2
    assert (low[0].suggestion.target, low[0].suggestion.order_qty) == (3, 2)
    # restocking clears the alert; falling again alerts again
    stock.receive(actor=sup, part=field["part"], location=field["warehouse"], qty=5)
    assert row(field).alerted_at is None
    assert selectors.low_stock() == []


def test_transfer_moves_stock_between_locations(field):
    stock.transfer(
        actor=field["supervisor"], part=field["part"], source=field["warehouse"],
        target=field["van"], qty=2, note="随车备件",
    )  # fmt: skip
    assert (row(field).on_hand, row(field, "van").on_hand) == (3, 2)
    with pytest.raises(ValidationError):
        stock.transfer(
            actor=field["supervisor"], part=field["part"], source=field["van"],
            target=field["van"], qty=1,
        )  # fmt: skip
