"""Whole flows through the work-order services: resolve → survey or follow-up call → 已回访,
dissatisfied → reopen / complaint, lead notified, case closed when done again."""

import pytest
from django.core.exceptions import ValidationError

from kefu.core.models import Notification
from kefu.surveys import followups, services
from kefu.surveys.models import (
    FollowUpPlan,
    FollowUpTask,
    Invitation,
    LoopCase,
    OnDissatisfied,
    Response,
    SurveyPolicy,
)
from kefu.testing.factories import make_customer, make_ticket, make_tier
from kefu.tickets.services import add_reply, transition_ticket


def _resolve(ticket, agent):
    add_reply(actor=agent, ticket=ticket, body="已处理完毕。")
    return transition_ticket(actor=agent, ticket=ticket, to="resolved")


@pytest.fixture
def consult(centre, survey):
    FollowUpPlan.objects.all().delete()
    customer = make_customer(name="张三", email="zhang@example.com")
    return make_ticket(
        actor=centre["agent"],
        type_code="consultation",
        customer=customer.pk,
        team=centre["front"],
        assignee=centre["agent"],
    )


def test_resolving_sends_one_survey_then_throttles(centre, consult, mailoutbox):
    # when
    _resolve(consult, centre["agent"])
    # then: one invitation, mailed with its link
    inv = Invitation.objects.get()
    assert (inv.delivery, inv.customer_id, inv.agent_id) == (
        "email",
        consult.customer_id,
        centre["agent"].pk,
    )
    assert len(mailoutbox) == 1
    assert services.link_token(inv) in mailoutbox[0].body
    assert Invitation.objects.get().address == "zhang@example.com"
    # a second resolution within the throttle window sends nothing more
    other = make_ticket(
        actor=centre["agent"],
        type_code="consultation",
        customer=consult.customer_id,
        team=centre["front"],
        assignee=centre["agent"],
    )
    _resolve(other, centre["agent"])
    assert Invitation.objects.count() == 1


def test_dissatisfied_answer_reopens_and_notifies_lead(centre, consult):
    from kefu.accounts.models import Membership

    Membership.objects.filter(team=centre["front"], user=centre["agent2"]).update(is_lead=True)
    _resolve(consult, centre["agent"])
    inv = Invitation.objects.get()
    # when
    services.answer_by_link(
        token=services.link_token(inv), raw={"csat": "1", "why": "太慢", "nps": "2"}
    )
    # then
    consult.refresh_from_db()
    assert consult.status == "in_progress"
    case = LoopCase.objects.get()
    assert (case.action, case.tracked_id, case.status) == ("reopen", consult.pk, "open")
    assert list(Notification.objects.values_list("user_id", flat=True)) == [centre["agent2"].pk]
    # resolving again closes the case
    _resolve(consult, centre["agent"])
    assert LoopCase.objects.get().status == "closed"


def test_dissatisfied_answer_can_open_a_complaint(centre, consult):
    SurveyPolicy.objects.update(on_dissatisfied=OnDissatisfied.COMPLAINT)
    _resolve(consult, centre["agent"])
    services.answer_by_link(
        token=services.link_token(Invitation.objects.get()), raw={"csat": "1", "nps": "0"}
    )
    case = LoopCase.objects.get()
    consult.refresh_from_db()
    assert consult.status == "resolved"
    assert case.tracked.ticket_type.code == "complaint"
    assert case.tracked.customer_id == consult.customer_id


def test_follow_up_call_marks_followed_up_only_when_done(centre, survey):
    # given a VIP customer: the VIP plan takes every one of their work orders
    customer = make_customer(name="金卡客户", vip_tier=make_tier())
    ticket = make_ticket(
        actor=centre["agent"],
        type_code="consultation",
        customer=customer.pk,
        team=centre["front"],
        assignee=centre["agent"],
    )
    _resolve(ticket, centre["agent"])
    task = FollowUpTask.objects.get()
    assert task.plan.name == "VIP客户全部回访"
    assert Invitation.objects.count() == 1  # the call carries the survey, no e-mail as well
    # a bad answer changes nothing
    with pytest.raises(ValidationError):
        followups.complete_task(actor=centre["agent"], task=task, answers={"csat": "9"})
    ticket.refresh_from_db()
    assert ticket.status == "resolved"
    # when the customer answers
    followups.complete_task(actor=centre["agent"], task=task, answers={"csat": "4", "nps": "10"})
    # then
    ticket.refresh_from_db()
    assert (ticket.status, ticket.followup_result) == ("followed_up", "satisfied")
    assert FollowUpTask.objects.get().status == "done"
    assert Response.objects.get().via == "call"


def test_unreachable_after_the_plan_attempts(centre, survey):
    plan = FollowUpPlan.objects.get(name="全部投诉回访")
    plan.max_attempts = 2
    plan.save()
    ticket = make_ticket(
        actor=centre["agent"],
        type_code="complaint",
        customer=make_customer().pk,
        team=centre["front"],
        assignee=centre["agent"],
    )
    _resolve(ticket, centre["agent"])
    task = FollowUpTask.objects.get()
    followups.record_unreachable(actor=centre["agent"], task=task, note="无人接听")
    ticket.refresh_from_db()
    assert (ticket.status, FollowUpTask.objects.get().attempts) == ("resolved", 1)
    followups.record_unreachable(actor=centre["agent"], task=task)
    ticket.refresh_from_db()
    assert (ticket.status, ticket.followup_result) == ("followed_up", "unreachable")
    assert FollowUpTask.objects.get().status == "unreachable"


def test_sampling_is_deterministic_and_near_the_percent():
    taken = sum(followups.sampled(f"GD2026{n:06d}", 10) for n in range(10_000))
    assert taken == sum(followups.sampled(f"GD2026{n:06d}", 10) for n in range(10_000))
    assert 900 <= taken <= 1100
    assert followups.sampled("x", 100) and not followups.sampled("x", 0)


def test_agent_of_another_team_cannot_open_the_task(centre, survey, client):
    ticket = make_ticket(
        actor=centre["agent"],
        type_code="complaint",
        customer=make_customer().pk,
        team=centre["front"],
        assignee=centre["agent"],
    )
    _resolve(ticket, centre["agent"])
    task = FollowUpTask.objects.get()
    client.force_login(centre["outsider"])
    assert client.post(f"/surveys/followups/{task.pk}/", {"action": "take"}).status_code == 404
    assert FollowUpTask.objects.get().assignee_id is None
    client.force_login(centre["agent"])
    r = client.post(f"/surveys/followups/{task.pk}/", {"action": "done", "csat": "3", "nps": "8"})
    assert r.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == "followed_up"
