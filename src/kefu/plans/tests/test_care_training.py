"""Proactive care reaches each customer once per round, however many workers run; training
rounds become sessions with attendance."""

import datetime as dt
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connections

from kefu.plans.models import Attendance, CareTarget, PlanRound, TrainingSession
from kefu.plans.services.care import run_care
from kefu.plans.services.schedule import generate_due
from kefu.plans.services.setup import add_trainee, create_plan
from kefu.plans.services.training import mark_attendance
from kefu.testing.factories import make_customer, make_tier
from kefu.tickets.models import Ticket

D = dt.date


def vip(n, tier, phone=None):
    from kefu.customers.models import ContactPoint

    customer = make_customer(name=f"VIP客户{n}")
    customer.vip_tier = tier
    customer.save(update_fields=["vip_tier"])
    if phone:
        ContactPoint.objects.create(
            customer=customer, kind="phone", value=phone, normalized=phone, is_primary=True
        )
    return customer


def spring_festival_care(tier, **fields):
    fields.setdefault("care_action", "both")
    return create_plan(
        actor=None, name="春节前VIP客户关怀", kind="care", frequency="yearly", month=2, day_of_month=14,
        starts_on=D(2026, 1, 1), lead_days=3, audience_tier=tier, notice_channel="sms",
        notice_text="{name}您好，春节将至，客服中心祝您新春快乐。", **fields,
    )  # fmt: skip


@pytest.mark.django_db
def test_before_the_spring_festival_every_vip_gets_a_notice_and_a_callback(
    centre, plan_types, at_once
):
    from kefu.surveys.sms import LogBackend

    LogBackend.outbox.clear()
    gold = make_tier()
    customers = [vip(i, gold, phone=f"+8613800000{i:03d}") for i in range(3)]
    make_customer(name="普通客户")
    plan = spring_festival_care(gold)
    assert generate_due(D(2027, 2, 10)) == []
    (made,) = generate_due(D(2027, 2, 11))
    assert run_care() == 3
    assert run_care() == 0
    targets = CareTarget.objects.filter(plan=plan).order_by("customer_id")
    assert [t.customer_id for t in targets] == [c.pk for c in customers]
    assert {t.notice_outcome for t in targets} == {"sent"}
    assert sorted(LogBackend.outbox) == sorted(
        (f"+8613800000{i:03d}", f"VIP客户{i}您好，春节将至，客服中心祝您新春快乐。")
        for i in range(3)
    )
    assert Ticket.objects.filter(ticket_type__code="care_callback").count() == 3
    made.refresh_from_db()
    assert made.finished_at is not None and made.targets == 3


@pytest.mark.django_db
def test_a_callback_three_days_after_an_upgrade(centre, plan_types, clock_at, at_once):
    from django.utils import timezone

    from kefu.testing.factories import make_ticket
    from kefu.tickets.services import transition_ticket

    clock_at(dt.datetime(2026, 3, 2, 10, tzinfo=dt.UTC))
    plan = create_plan(
        actor=None, name="升级后回访", kind="care", frequency="once", starts_on=D(2026, 3, 1),
        care_action="callback", care_trigger="after_tag", trigger_tag="系统升级", delay_days=3,
    )  # fmt: skip
    customer = make_customer(name="升级客户")
    upgrade = make_ticket(
        actor=centre["agent"], customer=customer.pk, tags=["系统升级"], title="系统升级"
    )
    transition_ticket(actor=centre["agent"], ticket=upgrade, to="resolved", reply="已完成升级")
    clock_at(dt.datetime(2026, 3, 4, 10, tzinfo=dt.UTC))
    assert run_care() == 0
    clock_at(dt.datetime(2026, 3, 5, 11, tzinfo=dt.UTC))
    assert run_care() == 1
    assert run_care() == 0
    target = CareTarget.objects.get(plan=plan)
    assert target.source_ticket == upgrade
    assert target.callback.customer == customer
    assert target.callback.parent == upgrade
    assert target.callback.created_at == timezone.now()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_several_workers_reach_each_customer_once():
    from kefu.plans.defaults import install
    from kefu.testing.factories import frontline_setup

    frontline_setup()
    install()
    gold = make_tier()
    for i in range(30):
        vip(i, gold)
    plan = spring_festival_care(gold, care_action="callback")
    generate_due(D(2027, 2, 12))
    barrier = threading.Barrier(4)
    reached: list[int] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait()
            reached.append(run_care(limit=8))
            reached.append(run_care(limit=50))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sum(reached) == 30
    assert CareTarget.objects.filter(plan=plan).count() == 30
    assert Ticket.objects.filter(ticket_type__code="care_callback").count() == 30
    assert PlanRound.objects.get(plan=plan).finished_at is not None


@pytest.mark.django_db
def test_training_rounds_are_sessions_with_attendance(centre, plan_types, clock_at):
    clock_at(dt.datetime(2026, 4, 7, 5, tzinfo=dt.UTC))  # 13:00 in Shanghai
    plan = create_plan(
        actor=None, name="新系统上线培训", kind="training", frequency="weekly", weekdays=[1],
        starts_on=D(2026, 4, 1), site="三楼培训室", session_time=dt.time(14, 0),
    )  # fmt: skip
    staff = add_trainee(actor=None, plan=plan, user=centre["agent"])
    contact = add_trainee(actor=None, plan=plan, customer=make_customer(name="客户联系人"))
    generate_due(D(2026, 4, 7))
    session = TrainingSession.objects.get(plan=plan)
    assert session.place == "三楼培训室"
    rows = {a.trainee_id: a for a in Attendance.objects.filter(session=session)}
    assert set(rows) == {staff.pk, contact.pk}
    with pytest.raises(ValidationError):  # not started yet
        mark_attendance(actor=centre["supervisor"], attendance=rows[staff.pk], status="present")
    clock_at(dt.datetime(2026, 4, 7, 7, 30, tzinfo=dt.UTC))  # 15:30 in Shanghai
    mark_attendance(actor=centre["supervisor"], attendance=rows[staff.pk], status="present")
    mark_attendance(actor=centre["supervisor"], attendance=rows[contact.pk], status="absent")
    assert dict(Attendance.objects.values_list("trainee_id", "status")) == {
        staff.pk: "present",
        contact.pk: "absent",
    }


@pytest.mark.django_db
def test_merging_two_customers_reached_in_the_same_round(centre, plan_types):
    from kefu.customers.services import merge_customers

    gold = make_tier()
    one, two = vip(1, gold), vip(2, gold)
    plan = spring_festival_care(gold, care_action="callback")
    generate_due(D(2027, 2, 11))
    run_care()
    merge_customers(actor=centre["supervisor"], source=two, target=one)
    rows = list(CareTarget.objects.filter(plan=plan).values_list("customer_id", flat=True))
    assert sorted(rows) == sorted([one.pk, two.pk])  # the clashing row stays with the source
    run_care()
    assert CareTarget.objects.filter(plan=plan).count() == 2
