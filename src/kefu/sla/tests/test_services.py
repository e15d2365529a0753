"""SLA clocks following work orders: known answers on the default policies and calendars."""

import datetime as dt

import pytest

from kefu.core.models import Event
from kefu.sla.models import DeadlineChange, Metric, SlaClock
from kefu.sla.tests.conftest import at
from kefu.testing.factories import make_ticket
from kefu.tickets import services
from kefu.tickets.models import Ticket
from kefu.tickets.states import Status

pytestmark = pytest.mark.django_db


def clocks(ticket):
    return {c.metric: c for c in SlaClock.objects.filter(ticket=ticket).order_by("id")}


def fresh(ticket):
    return Ticket.objects.get(pk=ticket.pk)


def test_a_complaint_gets_24_hours_to_contact_and_4_working_days_to_answer(centre, clock_at):
    clock_at(at(2026, 11, 20, 16))  # a Friday afternoon
    ticket = make_ticket(actor=centre["agent"], type_code="complaint", title="抢修人员态度差")
    c = clocks(ticket)
    assert set(c) == {Metric.FIRST_RESPONSE, Metric.RESOLUTION}
    assert c[Metric.FIRST_RESPONSE].due_at == at(2026, 11, 21, 16)  # 7×24
    # Fri 16:00–17:30 (1.5 h) + Mon, Tue, Wed (22.5 h) + Thu 08:30–12:00, 13:30–16:00 (6 h)
    assert c[Metric.RESOLUTION].due_at == at(2026, 11, 26, 16)
    assert c[Metric.RESOLUTION].policy.name == "投诉"
    row = fresh(ticket)
    assert (row.sla_due_at, row.sla_metric) == (at(2026, 11, 21, 16), Metric.FIRST_RESPONSE)


def test_the_first_reply_stops_first_response_and_the_next_deadline_shows(centre, clock_at):
    clock_at(at(2026, 11, 20, 16))
    ticket = make_ticket(actor=centre["agent"], type_code="complaint")
    clock_at(at(2026, 11, 21, 10))
    services.add_reply(actor=centre["agent"], ticket=ticket, body="您好，已收到您的投诉。")
    first = clocks(ticket)[Metric.FIRST_RESPONSE]
    assert (first.state, first.elapsed_seconds) == (SlaClock.State.MET, 18 * 3600)
    row = fresh(ticket)
    assert (row.sla_due_at, row.sla_metric) == (at(2026, 11, 26, 16), Metric.RESOLUTION)


def test_a_customer_message_after_the_first_reply_starts_a_next_response_clock(centre, clock_at):
    clock_at(at(2026, 11, 23, 9))
    ticket = make_ticket(actor=centre["agent"], type_code="consultation", customer=None)
    services.add_reply(actor=centre["agent"], ticket=ticket, body="请提供户号。")
    clock_at(at(2026, 11, 23, 11))
    services.add_customer_message(
        actor=None, ticket=fresh(ticket), body="户号 0712345678", author_name="王芳"
    )
    nxt = clocks(ticket)[Metric.NEXT_RESPONSE]
    assert nxt.started_at == at(2026, 11, 23, 11)
    assert nxt.due_at == at(2026, 11, 24, 11)  # one working day of 7.5 h
    clock_at(at(2026, 11, 23, 15))
    services.add_reply(actor=centre["agent"], ticket=fresh(ticket), body="已核实。")
    assert clocks(ticket)[Metric.NEXT_RESPONSE].state == SlaClock.State.MET


def _to_in_progress(centre, ticket):
    services.assign_ticket(actor=centre["agent"], ticket=ticket, assignee=centre["agent"])
    return services.transition_ticket(
        actor=centre["agent"], ticket=fresh(ticket), to=Status.IN_PROGRESS
    )


def test_waiting_on_the_customer_pauses_resolution_and_the_history_says_why(centre, clock_at):
    clock_at(at(2026, 11, 23, 9))  # Monday
    ticket = make_ticket(actor=centre["agent"], type_code="consultation")
    # 5 working days of 7.5 h from Monday 09:00 end the next Monday 09:00.
    assert clocks(ticket)[Metric.RESOLUTION].due_at == at(2026, 11, 30, 9)
    _to_in_progress(centre, ticket)
    clock_at(at(2026, 11, 24, 10))
    services.add_reply(actor=centre["agent"], ticket=fresh(ticket), body="请补充照片。")
    services.transition_ticket(
        actor=centre["agent"], ticket=fresh(ticket), to=Status.WAITING_CUSTOMER
    )
    resolution = clocks(ticket)[Metric.RESOLUTION]
    assert (resolution.state, resolution.due_at) == (SlaClock.State.PAUSED, None)
    row = fresh(ticket)
    assert row.sla_due_at is None
    assert row.sla_paused_left == int(37.5 * 3600) - (7 + 1.5) * 3600  # Mon 7 h, Tue 1.5 h used
    clock_at(at(2026, 11, 25, 10))
    services.add_customer_message(
        actor=None, ticket=fresh(ticket), body="照片已上传", author_name="王芳"
    )
    resolution = clocks(ticket)[Metric.RESOLUTION]
    assert resolution.state == SlaClock.State.RUNNING
    # Paused Tue 10:00 → Wed 10:00 = 7.5 working hours: the deadline moves by exactly that.
    assert resolution.due_at == at(2026, 12, 1, 9)
    reasons = list(
        DeadlineChange.objects.filter(clock=resolution)
        .order_by("id")
        .values_list("reason", flat=True)
    )
    assert len(reasons) == 3 and "默认" in reasons[0]
    # The customer's message also started a next-response clock: one working day, now nearest.
    row = fresh(ticket)
    assert (row.sla_due_at, row.sla_metric) == (at(2026, 11, 26, 10), Metric.NEXT_RESPONSE)


def test_changing_the_type_applies_the_new_policy_from_the_original_start(centre, clock_at):
    clock_at(at(2026, 11, 23, 9))
    ticket = make_ticket(actor=centre["agent"], type_code="consultation")
    before = clocks(ticket)[Metric.RESOLUTION].due_at
    clock_at(at(2026, 11, 23, 10))
    services.update_ticket(
        actor=centre["agent"], ticket=ticket, changes={"ticket_type": "complaint"}
    )
    c = clocks(ticket)
    assert c[Metric.FIRST_RESPONSE].due_at == at(2026, 11, 24, 9)  # 24 h from creation
    assert c[Metric.RESOLUTION].due_at == at(2026, 11, 27, 9)  # 4 working days from creation
    change = DeadlineChange.objects.filter(clock=c[Metric.RESOLUTION]).order_by("id").last()
    assert (change.old_due_at, change.new_due_at) == (before, at(2026, 11, 27, 9))
    assert "投诉" in change.reason and change.actor == centre["agent"]


def test_reopening_resumes_resolution_without_counting_the_resolved_days(centre, clock_at):
    clock_at(at(2026, 11, 23, 9))
    ticket = make_ticket(actor=centre["agent"], type_code="consultation")
    _to_in_progress(centre, ticket)
    clock_at(at(2026, 11, 23, 11))
    services.transition_ticket(
        actor=centre["agent"], ticket=fresh(ticket), to=Status.RESOLVED, reply="已处理完毕。"
    )
    resolution = clocks(ticket)[Metric.RESOLUTION]
    assert (resolution.state, resolution.elapsed_seconds) == (SlaClock.State.MET, 2 * 3600)
    assert fresh(ticket).sla_due_at is None
    clock_at(at(2026, 11, 25, 9))
    services.transition_ticket(
        actor=centre["agent"],
        ticket=fresh(ticket),
        to=Status.IN_PROGRESS,
        reason="客户反映仍未解决",
    )
    resolution = clocks(ticket)[Metric.RESOLUTION]
    assert resolution.state == SlaClock.State.RUNNING
    # 2 h used before; 35.5 h left from Wed 09:00 → Tue 1 Dec 16:00.
    assert resolution.due_at == at(2026, 12, 1, 16)


def test_fault_repair_arrival_follows_the_area_and_stops_on_site(centre, clock_at):
    clock_at(at(2026, 11, 21, 23, 30))  # Saturday night: repair runs 7×24
    ticket = make_ticket(actor=centre["agent"], type_code="fault", area="urban")
    assert clocks(ticket)[Metric.ONSITE_ARRIVAL].due_at == at(2026, 11, 22, 0, 15)
    clock_at(at(2026, 11, 21, 23, 40))
    services.update_ticket(actor=centre["agent"], ticket=ticket, changes={"area": "rural"})
    arrival = clocks(ticket)[Metric.ONSITE_ARRIVAL]
    assert arrival.due_at == at(2026, 11, 22, 1, 0)
    assert arrival.policy.name == "故障报修·农村"
    clock_at(at(2026, 11, 22, 0, 50))
    from kefu.sla.services import record_milestone

    record_milestone(actor=centre["agent"], ticket=fresh(ticket), milestone="onsite")
    arrival = clocks(ticket)[Metric.ONSITE_ARRIVAL]
    assert (arrival.state, arrival.elapsed_seconds) == (SlaClock.State.MET, 80 * 60)
    assert Event.objects.filter(object_id=ticket.pk, action="ticket_onsite_arrived").count() == 1


def test_national_day_and_the_make_up_saturday_are_respected(centre, clock_at):
    clock_at(at(2026, 9, 30, 16))
    ticket = make_ticket(actor=centre["agent"], type_code="consultation")
    c = clocks(ticket)
    # 1.5 h on 30 Sep, holidays 1–7 Oct, then 2.5 h on Thursday 8 Oct.
    assert c[Metric.FIRST_RESPONSE].due_at == at(2026, 10, 8, 11)
    # 37.5 h: 30 Sep 1.5, 8 Oct 7.5, 9 Oct 7.5, Saturday 10 Oct (调休) 7.5, 12 Oct 7.5, 13 Oct 6.
    assert c[Metric.RESOLUTION].due_at == at(2026, 10, 13, 16)


def test_a_transfer_gets_the_departments_deadline_and_the_reply_stops_it(centre, clock_at):
    clock_at(at(2026, 11, 23, 9))
    ticket = make_ticket(actor=centre["agent"], type_code="complaint")
    transfer = services.transfer_ticket(
        actor=centre["agent"], ticket=ticket, department=centre["dept"], instructions="请核实抄表"
    )
    clock = clocks(ticket)[Metric.TRANSFER_REPLY]
    assert transfer.due_at == clock.due_at == at(2026, 11, 25, 9)  # 2 working days
    clock_at(at(2026, 11, 24, 15))
    services.reply_to_transfer(
        actor=centre["liaison"], transfer=transfer, reply="已核实，抄表无误。"
    )
    clock = clocks(ticket)[Metric.TRANSFER_REPLY]
    assert clock.state == SlaClock.State.MET


def test_a_deadline_the_agent_chose_for_the_department_is_kept(centre, clock_at):
    clock_at(at(2026, 11, 23, 9))
    ticket = make_ticket(actor=centre["agent"], type_code="complaint")
    chosen = at(2026, 11, 23, 16)
    services.transfer_ticket(
        actor=centre["agent"],
        ticket=ticket,
        department=centre["dept"],
        instructions="急",
        due_at=chosen,
    )
    assert clocks(ticket)[Metric.TRANSFER_REPLY].due_at == chosen


def test_cancelling_stops_every_clock(centre, clock_at):
    clock_at(at(2026, 11, 23, 9))
    ticket = make_ticket(actor=centre["agent"], type_code="complaint")
    services.transition_ticket(
        actor=centre["agent"], ticket=ticket, to=Status.CANCELLED, reason="重复"
    )
    assert {c.state for c in clocks(ticket).values()} == {SlaClock.State.CANCELLED}
    row = fresh(ticket)
    assert (row.sla_due_at, row.sla_paused_left) == (None, None)


def test_events_that_cannot_move_a_deadline_add_no_queries(
    centre, clock_at, django_assert_max_num_queries
):
    clock_at(at(2026, 11, 23, 9))
    ticket = make_ticket(actor=centre["agent"], type_code="complaint")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        services.add_note(actor=centre["agent"], ticket=fresh(ticket), body="内部备注")
    assert not any("sla_slaclock" in q["sql"] for q in queries)


def test_a_calendar_change_moves_running_deadlines_with_the_reason(centre, clock_at):
    from kefu.sla.models import BusinessCalendar, CalendarDay
    from kefu.sla.services import recompute_calendar

    clock_at(at(2026, 11, 23, 9))
    ticket = make_ticket(actor=centre["agent"], type_code="consultation")
    assert clocks(ticket)[Metric.RESOLUTION].due_at == at(2026, 11, 30, 9)
    workdays = BusinessCalendar.objects.get(code="workdays")
    CalendarDay.objects.create(
        calendar=workdays, date=dt.date(2026, 11, 25), is_open=False, note="台风停工"
    )
    assert recompute_calendar(workdays.pk) >= 1
    resolution = clocks(ticket)[Metric.RESOLUTION]
    assert resolution.due_at == at(2026, 12, 1, 9)
    assert DeadlineChange.objects.filter(clock=resolution).order_by("id").last().reason
    assert fresh(ticket).sla_due_at == clocks(ticket)[Metric.FIRST_RESPONSE].due_at
