"""The scheduler: each round once, on the business calendar, with a lead time — and several
workers running it at once."""

import datetime as dt
import threading

import pytest
from django.db import connections

from kefu.core.models import Event
from kefu.plans.models import ChecklistResult, ChecklistRun, PlanRound, ServicePlan
from kefu.plans.services.schedule import generate_due
from kefu.plans.tests.helpers import checklist, inspection_plan
from kefu.tickets.models import Ticket

D = dt.date


@pytest.mark.django_db
def test_a_round_becomes_one_work_order_with_its_checklist(centre, plan_types):
    # given
    plan = inspection_plan(assignee=centre["engineer"], site="1号配电房", lead_days=3)
    # when: three days before the 1 June inspection, twice
    first = generate_due(D(2026, 5, 29))
    again = generate_due(D(2026, 5, 29))
    # then
    assert [r.period_start for r in first] == [D(2026, 6, 1)]
    assert again == []
    ticket = Ticket.objects.get(plan_round__plan=plan)
    assert ticket.title == "配电房月度巡检 · 2026-06-01"
    assert ticket.ticket_type.code == "inspection"
    assert ticket.assignee == centre["engineer"]
    assert ticket.place == "1号配电房"
    run = ChecklistRun.objects.get(ticket=ticket)
    assert list(run.results.values_list("item__text", "result")) == [
        ("变压器温度正常", "pending"),
        ("消防器材在位", "pending"),
        ("应急照明可用", "pending"),
    ]
    plan.refresh_from_db()
    assert plan.last_period == D(2026, 6, 1)
    assert plan.next_due_on == D(2026, 7, 1)  # the next round still to make
    assert Event.objects.filter(action="plan_round_made", object_id=plan.pk).count() == 1


@pytest.mark.django_db
def test_a_holiday_moves_the_round_to_the_next_working_day(centre, plan_types):
    from kefu.sla.models import BusinessCalendar

    workdays = BusinessCalendar.objects.get(code="workdays")
    plan = inspection_plan(
        name="消防设施季度检查", frequency="quarterly", starts_on=D(2026, 1, 1),
        calendar=workdays, shift="next", lead_days=1,
    )  # fmt: skip
    # 1 October is 国庆; 8 October (Thursday) is the first working day after the break
    assert generate_due(D(2026, 10, 1)) == []
    made = generate_due(D(2026, 10, 7))
    assert [(r.period_start, r.due_on) for r in made] == [(D(2026, 10, 1), D(2026, 10, 8))]
    assert made[0].ticket.title == "消防设施季度检查 · 2026-10-08"
    assert PlanRound.objects.filter(plan=plan).count() == 1


@pytest.mark.django_db
def test_a_new_checklist_version_reaches_only_later_rounds(centre, plan_types):
    from kefu.plans.services.setup import revise_checklist

    template = checklist()
    plan = inspection_plan(checklist=template)
    generate_due(D(2026, 6, 1))
    revise_checklist(
        actor=centre["supervisor"], template=template, items=[{"text": "接地电阻测试"}], note="新增"
    )
    generate_due(D(2026, 7, 1))
    texts = [
        list(
            ChecklistResult.objects.filter(run__ticket=r.ticket).values_list(
                "item__text", flat=True
            )
        )
        for r in PlanRound.objects.filter(plan=plan).order_by("period_start")
    ]
    assert texts == [["变压器温度正常", "消防器材在位", "应急照明可用"], ["接地电阻测试"]]


@pytest.mark.django_db
def test_a_plan_needs_a_valid_schedule_and_a_checklist(centre, plan_types):
    from django.core.exceptions import ValidationError

    from kefu.plans.services.setup import create_plan

    with pytest.raises(ValidationError) as exc:
        create_plan(actor=centre["supervisor"], name="坏计划", kind="inspection",
                    frequency="monthly", day_of_month=40, starts_on=D(2026, 1, 1))  # fmt: skip
    assert set(exc.value.message_dict) == {"frequency", "checklist"}
    assert not ServicePlan.objects.filter(name="坏计划").exists()
    with pytest.raises(ValidationError):
        create_plan(actor=centre["supervisor"], name="x", kind="drill", frequency="once")
    # an agent may not create plans at all
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        create_plan(actor=centre["agent"], name="x", kind="drill", frequency="once",
                    checklist=checklist())  # fmt: skip


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_several_workers_make_each_round_exactly_once():
    from kefu.plans.defaults import install
    from kefu.testing.factories import frontline_setup

    # given: 12 plans, each due on the same day, and 6 workers released together
    frontline_setup()
    install()
    template = checklist()
    plans = [
        inspection_plan(name=f"巡检{i}", checklist=template, frequency="daily",
                        starts_on=D(2026, 3, 1), lead_days=1)
        for i in range(12)
    ]  # fmt: skip
    barrier = threading.Barrier(6)
    errors: list[BaseException] = []
    made: list[int] = []

    def worker() -> None:
        try:
            barrier.wait()
            made.append(len(generate_due(D(2026, 3, 10))))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then: today's and tomorrow's round of each plan, once each, whichever worker made it
    assert errors == []
    assert sum(made) == 24
    assert PlanRound.objects.count() == 24
    assert Ticket.objects.filter(plan_round__isnull=False).count() == 24
    assert ChecklistRun.objects.count() == 24
    for plan in plans:
        periods = sorted(PlanRound.objects.filter(plan=plan).values_list("period_start", flat=True))
        assert periods == [D(2026, 3, 10), D(2026, 3, 11)]
    assert Event.objects.filter(action="plan_round_made").count() == 24


@pytest.mark.django_db
def test_a_plan_that_cannot_make_its_round_does_not_stop_the_others(centre, plan_types):
    from kefu.accounts.models import User
    from kefu.tickets.models import TicketType
    from kefu.tickets.selectors import forget_options

    left = inspection_plan(name="甲", assignee=centre["agent"])
    broken = inspection_plan(name="乙", kind="maintenance", checklist=checklist(name="表乙"))
    User.objects.filter(pk=centre["agent"].pk).update(role="liaison")  # no longer takes work
    TicketType.objects.filter(code="maintenance").update(is_active=False)
    forget_options()
    made = generate_due(D(2026, 6, 1))
    assert [r.plan.name for r in made] == ["甲"]
    assert made[0].ticket.assignee is None  # the round goes to the team
    assert not PlanRound.objects.filter(plan=broken).exists()
    assert left.pk == made[0].plan_id


@pytest.mark.django_db
def test_a_plan_for_an_installed_asset(centre, plan_types):
    from django.core.exceptions import ValidationError

    from kefu.field.models import Asset
    from kefu.testing.factories import make_customer

    owner, other = make_customer(name="江城第一人民医院"), make_customer(name="别家")
    asset = Asset.objects.create(
        customer=owner, product="箱式变电站", model="YBM-630", serial="XB2026-001",
        address="住院楼北侧",
    )  # fmt: skip
    plan = inspection_plan(asset=asset)
    assert (plan.customer, plan.site) == (owner, "住院楼北侧")
    (made,) = generate_due(D(2026, 6, 1))
    assert made.ticket.customer == owner
    assert "YBM-630" in made.ticket.description and "XB2026-001" in made.ticket.description
    with pytest.raises(ValidationError) as exc:
        inspection_plan(name="错配", asset=asset, customer=other, checklist=checklist(name="表2"))
    assert "asset" in exc.value.message_dict
