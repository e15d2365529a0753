"""Surveys when many work orders are answered and resolved at once (a major incident's closing):
the batch hook writes what the per-work-order hook writes."""

import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone

from kefu.core.models import Event
from kefu.surveys import services
from kefu.surveys.models import FollowUpTask, Invitation, LoopCase, SurveyPolicy
from kefu.testing.factories import make_customer, make_ticket, make_tier
from kefu.tickets.services import add_reply, reply_and_resolve_many, transition_ticket

REPLY = "您好，停电已恢复，给您带来不便深表歉意。"

pytestmark = pytest.mark.django_db


def _work_orders(centre):
    """Work orders that meet every branch of the hook: a VIP's (a follow-up call), two of one
    customer (one survey, the second throttled), one of a customer surveyed last week
    (throttled), one by a customer on another channel, one without a customer, and one
    tracked by an open dissatisfaction case (closed when it is resolved again)."""
    agent, front = centre["agent"], centre["front"]

    def ticket(customer=None, channel="phone"):
        return make_ticket(
            actor=agent,
            type_code="consultation",
            channel=channel,
            customer=customer.pk if customer else None,
            team=front,
            assignee=agent,
        )

    vip = make_customer(name="赵六", email="zhao@example.com", vip_tier=make_tier())
    twice = make_customer(name="张三", email="zhang@example.com")
    last_week = make_customer(name="钱七", email="qian@example.com")
    portal = make_customer(name="孙八", email="sun@example.com")
    unhappy = make_customer(name="周九", email="zhou@example.com")
    earlier = ticket(last_week)
    _resolve_one(earlier, agent)
    Invitation.objects.filter(customer=last_week).update(
        sent_at=timezone.now() - dt.timedelta(days=7)
    )
    looped = ticket(unhappy)
    _resolve_one(looped, agent)
    services.answer_by_link(
        token=services.link_token(Invitation.objects.get(ticket=looped)),
        raw={"csat": "1", "why": "太慢", "nps": "1"},
    )
    looped.refresh_from_db()
    assert looped.status == "in_progress"
    assert LoopCase.objects.get(tracked=looped).status == "open"
    return {
        "vip": ticket(vip),
        "first": ticket(twice),
        "second": ticket(twice),
        "last_week": ticket(last_week),
        "portal": ticket(portal, channel="portal"),
        "nobody": ticket(),
        "looped": looped,
    }


def _resolve_one(ticket, agent):
    add_reply(actor=agent, ticket=ticket, body="已处理完毕。")
    transition_ticket(actor=agent, ticket=ticket, to="resolved")


def _outcome(tickets):
    """Per work order: its invitations, follow-up tasks and cases, and their events."""
    found = {}
    for role, ticket in tickets.items():
        invitations = [
            (
                i.trigger,
                i.delivery,
                i.channel,
                i.policy_id,
                i.version_id,
                i.customer_id,
                i.agent_id,
                i.team_id,
                i.ticket_type_id,
                i.status,
                i.address,
                i.expires_at - i.sent_at,
                sorted(
                    # a delivery names the invitation by its id, which differs between runs
                    (e.action, e.actor_id, e.object_repr.replace(f"#{i.pk}", "#id"), e.data)
                    for e in Event.objects.filter(object_type="invitation", object_id=i.pk)
                ),
            )
            # the answered one is the case's own survey, from before
            for i in Invitation.objects.filter(ticket=ticket)
            .exclude(status=Invitation.Status.ANSWERED)
            .order_by("id")
        ]
        tasks = [
            (
                t.plan_id,
                t.team_id,
                t.status,
                t.invitation.trigger,
                sorted(
                    (e.action, e.actor_id, e.object_repr, e.data)
                    for e in Event.objects.filter(object_type="followuptask", object_id=t.pk)
                ),
            )
            for t in FollowUpTask.objects.filter(ticket=ticket).select_related("invitation")
        ]
        cases = [
            (
                c.status,
                c.closed_at is not None,
                sorted(
                    (e.action, e.actor_id, e.object_repr, e.data)
                    for e in Event.objects.filter(object_type="loopcase", object_id=c.pk)
                ),
            )
            for c in LoopCase.objects.filter(tracked=ticket)
        ]
        found[role] = {"invitations": invitations, "tasks": tasks, "cases": cases}
    return found


def test_the_batch_hook_writes_what_the_per_work_order_hook_writes(centre, survey, mailoutbox):
    # given work orders for every branch, the e-mail survey policy throttling for 30 days
    SurveyPolicy.objects.update(throttle_days=30)
    tickets = _work_orders(centre)
    lead = centre["supervisor"]
    mails_before = len(mailoutbox)
    # when they are answered and resolved through the batch path (then undone) ...
    with transaction.atomic():
        result = reply_and_resolve_many(list(tickets.values()), actor=lead, body=REPLY)
        assert sorted(result.done) == sorted(t.pk for t in tickets.values())
        batch = _outcome(tickets)
        batch_mails = sorted(m.to[0] for m in mailoutbox[mails_before:])
        transaction.set_rollback(True)
    # ... and one by one
    mails_before = len(mailoutbox)
    for ticket in tickets.values():
        transition_ticket(actor=lead, ticket=ticket, to="resolved", reply=REPLY)
    single = _outcome(tickets)
    # then both wrote the same invitations, tasks, closed cases and events
    assert batch == single
    assert batch_mails == sorted(m.to[0] for m in mailoutbox[mails_before:])
    assert [t[3] for t in single["vip"]["tasks"]] == ["follow_up"]
    assert [i[1] for i in single["vip"]["invitations"]] == ["call"]
    assert [(i[0], i[1]) for i in single["first"]["invitations"]] == [("ticket_resolved", "email")]
    assert single["first"]["invitations"][0][10] == "zhang@example.com"
    assert single["second"]["invitations"] == []
    assert single["last_week"]["invitations"] == []
    assert len(single["portal"]["invitations"]) == 1
    assert single["nobody"] == {"invitations": [], "tasks": [], "cases": []}
    [(status, closed, events)] = single["looped"]["cases"]
    assert (status, closed) == ("closed", True)
    assert ("survey_loop_closed", lead.pk, tickets["looped"].number) in [e[:3] for e in events]
    assert single["looped"]["invitations"] == []  # surveyed (and answered) minutes ago
    assert batch_mails == ["sun@example.com", "zhang@example.com"]


class _Smtp:
    """A real SMTP server on loopback that counts connections and refuses some addresses."""

    def __init__(self, refuse):
        from aiosmtpd.controller import Controller

        from kefu.email.tests.conftest import _free_port

        self.connections, self.received = 0, []
        sink = self

        class Handler:
            async def handle_EHLO(self, server, session, envelope, hostname, responses):  # noqa: N802
                sink.connections += 1
                session.host_name = hostname
                return responses

            async def handle_RCPT(self, server, session, envelope, address, options):  # noqa: N802
                if address in refuse:
                    return "550 5.1.1 No such user"
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_DATA(self, server, session, envelope):  # noqa: N802
                sink.received += envelope.rcpt_tos
                return "250 OK"

        self.port = _free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()


def test_a_batch_delivers_its_survey_mails_over_one_connection(centre, survey, settings):
    from kefu.surveys.tasks import deliver_invitations_task

    # given three e-mail survey invitations from one batch, one to an address that is refused
    server = _Smtp(refuse={"bad@example.com"})
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    try:
        tickets = [
            make_ticket(
                actor=centre["agent"],
                type_code="consultation",
                customer=make_customer(name=f"客户{i}", email=f"{name}@example.com").pk,
            )
            for i, name in enumerate(("a", "bad", "c"))
        ]
        jobs = []
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(
                "kefu.core.jobs.enqueue", lambda task, *args, **kw: jobs.append((task, args))
            )
            reply_and_resolve_many(tickets, actor=centre["supervisor"], body=REPLY)
        [ids] = [args[0] for task, args in jobs if task is deliver_invitations_task]
        # when the batch's delivery job runs, twice (a retried job)
        deliver_invitations_task(ids)
        deliver_invitations_task(ids)
    finally:
        server.controller.stop()
    # then each was delivered or failed once, over one connection plus one after the failure
    assert sorted(server.received) == ["a@example.com", "c@example.com"]
    assert server.connections == 2
    assert dict(Invitation.objects.filter(pk__in=ids).values_list("address", "status")) == {
        "a@example.com": "sent",
        "bad@example.com": "failed",
        "c@example.com": "sent",
    }
    actions = Event.objects.filter(object_type="invitation", object_id__in=ids)
    assert sorted(actions.exclude(action="survey_sent").values_list("action", flat=True)) == [
        "survey_delivered",
        "survey_delivered",
        "survey_not_delivered",
    ]
