import pytest
from django.db import DatabaseError, transaction

from kefu.core import events
from kefu.core.context import origin
from kefu.core.models import AppendOnlyError, Event
from kefu.testing.factories import make_customer, make_user

pytestmark = pytest.mark.django_db


def test_record_stores_actor_object_changes_and_origin():
    # given
    agent = make_user(display_name="李娜", employee_no="A1001")
    customer = make_customer("张三")
    # when
    with origin("api", ip="10.0.0.7", request_id="abc123"), transaction.atomic():
        event = events.record(
            "customer_changed", customer, actor=agent, changes={"name": ["张叁", "张三"]}
        )
    # then
    event.refresh_from_db()
    assert (event.action, event.object_type, event.object_id, event.object_repr) == (
        "customer_changed",
        "customer",
        customer.pk,
        "张三",
    )
    assert event.actor_id == agent.pk
    assert event.actor_label == "李娜 (A1001)"
    assert event.changes == {"name": ["张叁", "张三"]}
    assert (event.source, event.ip, event.request_id) == ("api", "10.0.0.7", "abc123")


def test_record_outside_a_transaction_is_refused():
    customer = make_customer()
    # pytest-django wraps tests in a transaction; step outside it to prove the guard
    connection = transaction.get_connection()
    saved = connection.in_atomic_block
    connection.in_atomic_block = False
    try:
        with pytest.raises(RuntimeError, match="inside the transaction"):
            events.record("customer_changed", customer, actor=None)
    finally:
        connection.in_atomic_block = saved


def test_events_cannot_be_changed_or_deleted_through_the_orm():
    with transaction.atomic():
        event = events.record("customer_created", make_customer(), actor=None)
    event.action = "tampered"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        Event.objects.filter(pk=event.pk).update(action="tampered")
    with pytest.raises(AppendOnlyError):
        Event.objects.filter(pk=event.pk).delete()
    assert Event.objects.get(pk=event.pk).action == "customer_created"


def test_the_database_refuses_updates_of_events():
    from django.db import connection

    with transaction.atomic():
        event = events.record("customer_created", make_customer(), actor=None)

    def tamper() -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "UPDATE core_event SET action = %s WHERE id = %s", ["tampered", event.pk]
            )

    with pytest.raises(DatabaseError):
        tamper()
    assert Event.objects.get(pk=event.pk).action == "customer_created"


def test_diff_reports_only_changed_fields_in_json_form():
    import datetime as dt

    before = {"name": "a", "when": dt.date(2026, 1, 1), "same": 1}
    after = {"name": "b", "when": dt.date(2026, 1, 2), "same": 1, "new": None}
    assert events.diff(before, after) == {"name": ["a", "b"], "when": ["2026-01-01", "2026-01-02"]}
