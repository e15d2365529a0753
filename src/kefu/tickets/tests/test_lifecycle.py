import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from kefu.core.models import Event, Notification
from kefu.core.permissions import Role
from kefu.core.validation import Conflict
from kefu.testing.factories import make_customer, make_portal_user, make_ticket, make_user
from kefu.tickets import services, states
from kefu.tickets.models import Ticket, TicketCounter
from kefu.tickets.states import Status

pytestmark = pytest.mark.django_db


def actions(ticket: Ticket) -> list[str]:
    return list(
        Event.objects.filter(object_type="ticket", object_id=ticket.pk)
        .order_by("id")
        .values_list("action", flat=True)
    )


def test_the_state_table_is_sound():
    # every status can be reached from new, and final ones have no way out
    reachable = {Status.NEW}
    frontier = [Status.NEW]
    while frontier:
        current = frontier.pop()
        for target in states.targets(current):
            if target not in reachable:
                reachable.add(target)
                frontier.append(target)
    assert reachable == set(Status)
    assert states.targets(Status.CANCELLED) == [] and states.targets(Status.MERGED) == []
    with pytest.raises(states.TransitionError):
        states.move(Status.CLOSED, Status.RESOLVED)


def test_numbers_are_readable_sequential_per_day_and_unique(centre):
    first = make_ticket(actor=centre["agent"])
    second = make_ticket(actor=centre["agent"])
    day = timezone.localdate()
    assert re.fullmatch(rf"GD{day:%Y%m%d}-\d{{5}}", first.number)
    assert int(second.number[-5:]) == int(first.number[-5:]) + 1
    assert TicketCounter.objects.get(day=day).last == int(second.number[-5:])


def test_numbers_imported_past_the_counter_are_skipped_not_duplicated(centre):
    first = make_ticket(actor=centre["agent"])
    day = timezone.localdate()
    base = int(first.number[-5:])
    # Another system's work orders arrive with the next three numbers of today.
    for offset in (1, 2, 3):
        Ticket.objects.filter(pk=make_ticket(actor=centre["agent"]).pk).update(
            number=f"GD{day:%Y%m%d}-{base + offset + 100:05d}"
        )
    TicketCounter.objects.filter(day=day).update(last=base)
    for offset in (1, 2, 3):
        Ticket.objects.create(
            number=f"GD{day:%Y%m%d}-{base + offset:05d}",
            title="导入",
            ticket_type=first.ticket_type,
            team=first.team,
        )
    fresh = make_ticket(actor=centre["agent"])
    assert fresh.number == f"GD{day:%Y%m%d}-{base + 104:05d}"
    assert Ticket.objects.filter(number=fresh.number).count() == 1


def test_a_new_work_order_lands_in_the_first_line_pool_with_an_event(centre):
    customer = make_customer("王芳")
    ticket = make_ticket(actor=centre["agent"], customer=customer.pk, title="小区停电")
    assert (ticket.status, ticket.team, ticket.assignee, ticket.contact_name) == (
        Status.NEW,
        centre["front"],
        None,
        "王芳",
    )
    event = Event.objects.get(object_type="ticket", object_id=ticket.pk, action="ticket_created")
    assert event.actor_id == centre["agent"].pk
    assert event.changes["title"] == [None, "小区停电"]


def test_the_closed_loop_from_new_to_closed(centre):
    agent = centre["agent"]
    ticket = make_ticket(actor=agent)
    services.assign_ticket(actor=agent, ticket=ticket, assignee=agent)
    ticket.refresh_from_db()
    assert ticket.status == Status.ASSIGNED
    with pytest.raises(ValidationError, match="'reply'"):
        services.transition_ticket(actor=agent, ticket=ticket, to=Status.RESOLVED)
    services.add_reply(actor=agent, ticket=ticket, body="已派抢修人员，预计 45 分钟内到达。")
    ticket.refresh_from_db()
    assert ticket.status == Status.IN_PROGRESS and ticket.first_response_at is not None
    services.transition_ticket(actor=agent, ticket=ticket, to=Status.RESOLVED)
    services.transition_ticket(
        actor=agent, ticket=ticket, to=Status.FOLLOWED_UP, followup_result="satisfied"
    )
    services.transition_ticket(actor=agent, ticket=ticket, to=Status.CLOSED)
    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED and not ticket.is_open and ticket.closed_at is not None
    assert actions(ticket) == [
        "ticket_created",
        "ticket_assigned",
        "ticket_replied",
        "ticket_status_changed",
        "ticket_status_changed",
        "ticket_status_changed",
    ]


def test_resolving_with_a_reply_in_one_step(centre):
    agent = centre["agent"]
    ticket = make_ticket(actor=agent)
    services.transition_ticket(
        actor=agent, ticket=ticket, to=Status.RESOLVED, reply="电费已核实无误。"
    )
    ticket.refresh_from_db()
    assert ticket.status == Status.RESOLVED
    assert ticket.messages.get().body == "电费已核实无误。"


def test_a_reopened_work_order_needs_a_new_reply_before_resolving(centre):
    agent = centre["agent"]
    ticket = make_ticket(actor=agent)
    services.transition_ticket(actor=agent, ticket=ticket, to=Status.RESOLVED, reply="已处理。")
    services.transition_ticket(
        actor=agent, ticket=ticket, to=Status.IN_PROGRESS, reason="客户说还没好"
    )
    with pytest.raises(ValidationError, match="'reply'"):
        services.transition_ticket(actor=agent, ticket=ticket, to=Status.RESOLVED)
    ticket.refresh_from_db()
    assert ticket.reopen_count == 1 and ticket.status == Status.IN_PROGRESS


def test_a_dissatisfied_follow_up_reopens_the_work_order(centre):
    agent = centre["agent"]
    ticket = make_ticket(actor=agent)
    services.transition_ticket(actor=agent, ticket=ticket, to=Status.RESOLVED, reply="已处理。")
    services.transition_ticket(
        actor=agent, ticket=ticket, to=Status.FOLLOWED_UP, followup_result="dissatisfied"
    )
    ticket.refresh_from_db()
    assert ticket.status == Status.IN_PROGRESS and ticket.reopen_count == 1
    with pytest.raises(ValidationError):
        services.transition_ticket(actor=agent, ticket=ticket, to=Status.FOLLOWED_UP)


def test_cancel_needs_a_reason(centre):
    ticket = make_ticket(actor=centre["agent"])
    with pytest.raises(ValidationError) as info:
        services.transition_ticket(actor=centre["agent"], ticket=ticket, to=Status.CANCELLED)
    assert list(info.value.message_dict) == ["reason"]
    services.transition_ticket(
        actor=centre["agent"], ticket=ticket, to=Status.CANCELLED, reason="重复报修"
    )
    ticket.refresh_from_db()
    assert ticket.status == Status.CANCELLED


def test_customers_may_only_confirm_or_reopen_their_own(centre):
    customer = make_customer("李四")
    portal = make_portal_user(customer)
    other = make_portal_user()
    ticket = make_ticket(actor=centre["agent"], customer=customer.pk)
    with pytest.raises(PermissionDenied):
        services.transition_ticket(actor=portal, ticket=ticket, to=Status.CANCELLED, reason="x")
    services.transition_ticket(
        actor=centre["agent"], ticket=ticket, to=Status.RESOLVED, reply="已处理。"
    )
    with pytest.raises(PermissionDenied):
        services.transition_ticket(actor=other, ticket=ticket, to=Status.CLOSED)
    services.transition_ticket(actor=portal, ticket=ticket, to=Status.CLOSED)
    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED


def test_a_customer_message_wakes_a_waiting_work_order_and_reopens_a_finished_one(centre):
    customer = make_customer("李四")
    portal = make_portal_user(customer)
    agent = centre["agent"]
    ticket = make_ticket(actor=agent, customer=customer.pk, assignee=agent)
    services.add_reply(actor=agent, ticket=ticket, body="请补充照片。")
    services.transition_ticket(actor=agent, ticket=ticket, to=Status.WAITING_CUSTOMER)
    services.add_customer_message(actor=portal, ticket=ticket, body="照片已上传。")
    ticket.refresh_from_db()
    assert ticket.status == Status.IN_PROGRESS
    services.transition_ticket(actor=agent, ticket=ticket, to=Status.RESOLVED, reply="已处理。")
    services.add_customer_message(actor=portal, ticket=ticket, body="还是不行。")
    ticket.refresh_from_db()
    assert ticket.status == Status.IN_PROGRESS and ticket.reopen_count == 1
    assert Notification.objects.filter(user=agent, kind="customer_replied").count() == 2


def test_assignment_moves_status_and_agents_stay_within_their_teams(centre):
    agent, agent2, outsider = centre["agent"], centre["agent2"], centre["outsider"]
    ticket = make_ticket(actor=agent)
    services.assign_ticket(actor=agent, ticket=ticket, assignee=agent2)
    ticket.refresh_from_db()
    assert (ticket.assignee, ticket.status) == (agent2, Status.ASSIGNED)
    assert Notification.objects.filter(user=agent2, kind="ticket_assigned").exists()
    with pytest.raises(PermissionDenied):
        services.assign_ticket(actor=agent, ticket=ticket, assignee=outsider)
    services.assign_ticket(actor=centre["supervisor"], ticket=ticket, assignee=outsider)
    ticket.refresh_from_db()
    assert ticket.assignee == outsider and ticket.team == centre["other"]
    services.assign_ticket(actor=centre["supervisor"], ticket=ticket, assignee=None)
    ticket.refresh_from_db()
    assert (ticket.assignee, ticket.status) == (None, Status.NEW)
    with pytest.raises(ValidationError):
        services.assign_ticket(
            actor=centre["supervisor"], ticket=ticket, assignee=centre["liaison"]
        )


def test_escalation_hands_over_to_the_second_line(centre):
    agent = centre["agent"]
    ticket = make_ticket(actor=agent, assignee=agent)
    services.add_reply(actor=agent, ticket=ticket, body="正在排查。")
    services.escalate_ticket(actor=agent, ticket=ticket, reason="需要现场检测")
    ticket.refresh_from_db()
    assert (ticket.line, ticket.team, ticket.assignee, ticket.status) == (
        2,
        centre["second"],
        None,
        Status.NEW,
    )
    assert Notification.objects.filter(user=centre["engineer"], kind="team_work").exists()
    with pytest.raises(ValidationError):
        services.escalate_ticket(actor=agent, ticket=ticket, reason="again")


def test_sensitive_work_orders_tell_supervisors_at_once(
    centre, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ticket = make_ticket(actor=centre["agent"], title="媒体曝光的投诉", sensitive=True)
    notes = Notification.objects.filter(kind="ticket_sensitive")
    assert {n.user for n in notes} == {centre["supervisor"], centre["admin"]}
    assert ticket.number in notes.first().title
    assert sorted(m.to[0] for m in mailoutbox) == sorted(
        [centre["supervisor"].email, centre["admin"].email]
    )
    quiet = make_ticket(actor=centre["agent"])
    with django_capture_on_commit_callbacks(execute=True):
        services.update_ticket(actor=centre["agent"], ticket=quiet, changes={"sensitive": True})
    assert Notification.objects.filter(kind="ticket_sensitive").count() == 4


def test_two_agents_updating_at_once_never_lose_a_change(centre):
    ticket = make_ticket(actor=centre["agent"])
    version = ticket.version
    services.update_ticket(
        actor=centre["agent"], ticket=ticket, changes={"priority": 1}, expected_version=version
    )
    with pytest.raises(Conflict) as info:
        services.update_ticket(
            actor=centre["agent2"], ticket=ticket, changes={"priority": 4}, expected_version=version
        )
    assert info.value.current_version == version + 1
    ticket.refresh_from_db()
    assert ticket.priority == 1


def test_notes_mention_colleagues_who_can_see_the_work_order(centre):
    ticket = make_ticket(actor=centre["agent"])
    services.add_note(actor=centre["agent"], ticket=ticket, body="@agent-b 和 @A1003 请看一下")
    message = ticket.messages.get()
    assert list(message.mentions.all()) == [centre["agent2"]]  # A1003 is in another team
    assert Notification.objects.filter(user=centre["agent2"], kind="ticket_mention").exists()
    assert not Notification.objects.filter(user=centre["outsider"]).exists()


def test_merge_keeps_both_timelines(centre):
    agent = centre["agent"]
    keep = make_ticket(actor=agent, title="小区停电")
    dup = make_ticket(actor=agent, title="小区停电（重复）")
    services.add_reply(actor=agent, ticket=dup, body="已收到")
    services.merge_tickets(actor=agent, source=dup, target=keep)
    dup.refresh_from_db()
    assert (dup.status, dup.merged_into) == (Status.MERGED, keep)
    from kefu.tickets.selectors import timeline

    entries = timeline(keep, internal=True)
    assert any(item.ticket_number == dup.number and item.message is not None for item in entries)
    with pytest.raises(ValidationError):
        services.merge_tickets(actor=agent, source=dup, target=keep)


def test_closing_the_parent_closes_its_children_with_one_reply(centre):
    agent = centre["supervisor"]
    parent = make_ticket(actor=agent, title="片区停电")
    children = [make_ticket(actor=agent, title=f"{i}栋停电") for i in range(3)]
    for child in children:
        services.set_parent(actor=agent, ticket=child, parent=parent)
    services.transition_ticket(
        actor=agent,
        ticket=parent,
        to=Status.RESOLVED,
        reply="线路已修复，恢复供电。",
        close_children=True,
    )
    for child in children:
        child.refresh_from_db()
        assert child.status == Status.RESOLVED
        assert child.messages.get().body == "线路已修复，恢复供电。"
    with pytest.raises(ValidationError):
        services.set_parent(actor=agent, ticket=parent, parent=children[0])


def test_transfer_reply_and_review(centre):
    agent, liaison, dept = centre["agent"], centre["liaison"], centre["dept"]
    ticket = make_ticket(actor=agent, assignee=agent)
    transfer = services.transfer_ticket(
        actor=agent, ticket=ticket, department=dept, instructions="请核实电费"
    )
    assert Notification.objects.filter(user=liaison, kind="team_work").exists()
    with pytest.raises(PermissionDenied):
        services.reply_to_transfer(actor=agent, transfer=transfer, reply="x")
    services.reply_to_transfer(actor=liaison, transfer=transfer, reply="电费无误")
    services.review_transfer(actor=agent, transfer=transfer, accept=False, note="请附抄表照片")
    transfer.refresh_from_db()
    assert transfer.state == "open" and transfer.review_note == "请附抄表照片"
    services.reply_to_transfer(actor=liaison, transfer=transfer, reply="已附照片，电费无误")
    services.review_transfer(actor=agent, transfer=transfer, accept=True)
    transfer.refresh_from_db()
    assert transfer.state == "accepted"
    assert [
        a for a in actions(ticket) if a.startswith("transfer") or a == "ticket_transferred"
    ] == [
        "ticket_transferred",
        "transfer_replied",
        "transfer_rejected",
        "transfer_replied",
        "transfer_accepted",
    ]


def test_bulk_goes_through_the_same_services(centre):
    agent = centre["agent"]
    tickets = [make_ticket(actor=agent) for _ in range(3)]
    done = make_ticket(actor=agent)
    services.transition_ticket(actor=agent, ticket=done, to=Status.CANCELLED, reason="重复")
    result = services.bulk_apply(
        actor=agent, tickets=[*tickets, done], action="assign", value=agent
    )
    assert result.done == [t.number for t in tickets]
    assert list(result.failed) == [done.number]
    assert Ticket.objects.filter(assignee=agent).count() == 3
    assert Event.objects.filter(action="ticket_assigned").count() == 3
    with pytest.raises(PermissionDenied):
        services.bulk_apply(actor=make_user(Role.QA), tickets=tickets, action="assign", value=None)
