"""Survey rules: versions, sending (with the per-customer throttle), signed single-use links,
answering, closing the loop on a dissatisfied answer, and the IVR result import.

Follow-up calls (回访) are in :mod:`kefu.surveys.followups`."""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
from collections.abc import Mapping
from typing import Any

from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.models import Membership, User
from kefu.core import events, jobs
from kefu.core.notifications import notify
from kefu.core.permissions import Role, require_perm
from kefu.surveys import questions as q
from kefu.surveys.models import (
    Delivery,
    Invitation,
    LoopCase,
    OnDissatisfied,
    Response,
    SurveyPolicy,
    SurveyTemplate,
    SurveyVersion,
    Trigger,
)

SALT = "kefu.surveys.link"


class LinkRefused(Exception):
    """A survey link that names no open invitation: unknown, tampered with, used or expired."""


# --- templates ------------------------------------------------------------------------------


@transaction.atomic
def create_version(
    *,
    actor: User | None,
    template: SurveyTemplate,
    questions: Any,
    intro: str = "",
    intro_en: str = "",
) -> SurveyVersion:
    """Save a new wording of ``template``; older answers keep pointing at their version."""
    if actor is not None:
        require_perm(actor, "surveys.manage")
    problems = q.check_questions(questions)
    if problems:
        raise ValidationError({"questions": problems})
    template = SurveyTemplate.objects.select_for_update().get(pk=template.pk)
    last = template.versions.order_by("-number").values_list("number", flat=True).first() or 0
    version = SurveyVersion.objects.create(
        template=template,
        number=last + 1,
        questions=questions,
        intro=intro[:300],
        intro_en=intro_en[:300],
        created_by=actor,
    )
    events.record(
        "survey_version_created",
        version,
        actor=actor,
        data={"template": template.code, "number": version.number},
    )
    return version


# --- links ----------------------------------------------------------------------------------


def link_token(invitation: Invitation) -> str:
    """The secret part of the invitation's link: a signature over its id and random nonce."""
    return signing.Signer(salt=SALT).sign_object({"i": invitation.pk, "n": invitation.nonce})


def invitation_for_token(token: str) -> Invitation:
    """The invitation a link names, or :class:`LinkRefused` (with the reason to show)."""
    try:
        data = signing.Signer(salt=SALT).unsign_object(token[:300])
        pk, nonce = int(data["i"]), str(data["n"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise LinkRefused(_("This survey link is not valid.")) from None
    invitation = (
        Invitation.objects.select_related("version", "customer", "ticket").filter(pk=pk).first()
    )
    if invitation is None or not hmac.compare_digest(invitation.nonce, nonce):
        raise LinkRefused(_("This survey link is not valid."))
    return invitation


def refusal(invitation: Invitation, now: dt.datetime | None = None) -> str:
    """Why this invitation cannot be answered now ("" when it can)."""
    now = now or timezone.now()
    if invitation.status == Invitation.Status.ANSWERED:
        return _("This survey has already been answered. Thank you!")
    if invitation.expires_at <= now:
        return _("This survey link has expired.")
    return ""


# --- sending --------------------------------------------------------------------------------


def throttled(customer_id: int, days: int, now: dt.datetime | None = None) -> bool:
    """Whether the customer was already sent a survey in the last ``days`` days."""
    if days <= 0:
        return False
    since = (now or timezone.now()) - dt.timedelta(days=days)
    return Invitation.objects.filter(customer_id=customer_id, sent_at__gt=since).exists()


def matching_policy(
    trigger: str,
    channel: str,
    ticket_type_id: int | None,
    policies: list[SurveyPolicy] | None = None,
) -> SurveyPolicy | None:
    """The first active policy for this trigger that takes the channel and work-order type;
    ``policies`` are the trigger's active policies when the caller has read them already."""
    if policies is None:
        policies = active_policies(trigger)
    for policy in policies:
        if policy.channel and policy.channel != channel:
            continue
        if policy.ticket_type_id and policy.ticket_type_id != ticket_type_id:
            continue
        if policy.template.is_active:
            return policy
    return None


def active_policies(trigger: str) -> list[SurveyPolicy]:
    return list(
        SurveyPolicy.objects.filter(trigger=trigger, is_active=True).select_related("template")
    )


def invitation_row(
    *,
    version: SurveyVersion,
    trigger: str,
    delivery: str,
    customer: Any,
    now: dt.datetime,
    policy: SurveyPolicy | None = None,
    ticket: Any = None,
    call: Any = None,
    chat_ref: str = "",
    channel: str = "",
    agent: User | None = None,
    team: Any = None,
    expires_days: int = 14,
) -> Invitation:
    """An unsaved invitation on ``version``, sent at ``now``, with its secret nonce."""
    return Invitation(
        version=version,
        policy=policy,
        trigger=trigger,
        delivery=delivery,
        channel=channel,
        customer=customer,
        ticket=ticket,
        call=call,
        chat_ref=chat_ref[:64],
        ticket_type_id=getattr(ticket, "ticket_type_id", None),
        agent=agent,
        team=team,
        nonce=secrets.token_urlsafe(32),
        sent_at=now,
        expires_at=now + dt.timedelta(days=max(expires_days, 1)),
    )


def sent_data(invitation: Invitation) -> dict[str, Any]:
    """The ``survey_sent`` event's data."""
    return {
        "delivery": invitation.delivery,
        "trigger": invitation.trigger,
        "version": invitation.version_id,
    }


def invite(
    *,
    template: SurveyTemplate,
    trigger: str,
    delivery: str,
    customer: Any,
    policy: SurveyPolicy | None = None,
    ticket: Any = None,
    call: Any = None,
    chat_ref: str = "",
    channel: str = "",
    agent: User | None = None,
    team: Any = None,
    expires_days: int = 14,
    actor: User | None = None,
) -> Invitation:
    """Create one invitation on the template's current version and deliver it after commit."""
    version = template.current()
    if version is None:
        raise ValidationError({"template": [_("This survey has no questions yet.")]})
    invitation = invitation_row(
        version=version,
        policy=policy,
        trigger=trigger,
        delivery=delivery,
        customer=customer,
        now=timezone.now(),
        ticket=ticket,
        call=call,
        chat_ref=chat_ref,
        channel=channel,
        agent=agent,
        team=team,
        expires_days=expires_days,
    )
    invitation.save(force_insert=True)
    events.record(
        "survey_sent",
        invitation,
        actor=actor,
        object_repr=getattr(ticket, "number", "") or f"#{invitation.pk}",
        data=sent_data(invitation),
    )
    if delivery in (Delivery.EMAIL, Delivery.SMS):
        from kefu.surveys.tasks import deliver_invitation_task

        jobs.enqueue(deliver_invitation_task, invitation.pk)
    return invitation


def survey_after(
    trigger: str,
    *,
    customer: Any,
    channel: str,
    ticket: Any = None,
    call: Any = None,
    chat_ref: str = "",
    agent: User | None = None,
    team: Any = None,
) -> Invitation | None:
    """Send the survey the first matching policy asks for, unless the customer is throttled."""
    if customer is None:
        return None
    policy = matching_policy(trigger, channel, getattr(ticket, "ticket_type_id", None))
    if policy is None or throttled(customer.pk, policy.throttle_days):
        return None
    return invite(
        template=policy.template,
        policy=policy,
        trigger=trigger,
        delivery=policy.delivery,
        customer=customer,
        ticket=ticket,
        call=call,
        chat_ref=chat_ref,
        channel=channel,
        agent=agent,
        team=team,
        expires_days=policy.expires_days,
    )


@transaction.atomic
def chat_ended(
    *, chat_ref: str, customer: Any, agent: User | None = None, team: Any = None
) -> tuple[Invitation, str] | None:
    """The chat channel's hook: call it when a chat ends. Returns the invitation and its link
    token for the chat widget to show (policies with delivery "chat"), or None."""
    invitation = survey_after(
        Trigger.CHAT_ENDED,
        customer=customer,
        channel="chat",
        chat_ref=chat_ref,
        agent=agent,
        team=team,
    )
    return (invitation, link_token(invitation)) if invitation else None


@transaction.atomic
def call_ended(*, call: Any) -> Invitation | None:
    """The hotline's hook: call it when a call is wrapped up (SMS or e-mail survey per policy)."""
    agent = call.user
    team = agent.teams.first() if agent is not None else None
    return survey_after(
        Trigger.CALL_ENDED,
        customer=call.customer,
        channel="phone",
        ticket=call.ticket,
        call=call,
        agent=agent,
        team=team,
    )


# --- answering ------------------------------------------------------------------------------


@transaction.atomic
def submit_answer(
    *,
    invitation: Invitation,
    raw: Mapping[str, Any],
    via: str,
    actor: User | None = None,
    close_loop: bool = True,
    answered_at: dt.datetime | None = None,
) -> Response:
    """Record the answer to an invitation, once. Everything is checked before anything is
    written; a dissatisfied answer opens a :class:`LoopCase` (unless the caller handles it)."""
    invitation = (
        Invitation.objects.select_for_update(of=("self",))
        .select_related("version", "ticket", "policy")
        .get(pk=invitation.pk)
    )
    reason = refusal(invitation, answered_at)
    if reason:
        raise ValidationError({"survey": [reason]})
    questions = invitation.version.questions
    answers = q.clean_answers(questions, raw, partial=via == Delivery.IVR)
    scale, score, nps, dissatisfied, comment = q.derive(questions, answers)
    now = answered_at or timezone.now()
    response = Response.objects.create(
        invitation=invitation,
        version=invitation.version,
        answered_at=now,
        via=via,
        channel=invitation.channel,
        customer_id=invitation.customer_id,
        ticket=invitation.ticket,
        ticket_type_id=invitation.ticket_type_id,
        agent_id=invitation.agent_id,
        team_id=invitation.team_id,
        answers=answers,
        csat_scale=scale,
        csat_score=score,
        nps_score=nps,
        dissatisfied=dissatisfied,
        comment=comment,
    )
    invitation.status = Invitation.Status.ANSWERED
    invitation.answered_at = now
    invitation.save(update_fields=["status", "answered_at"])
    events.record(
        "survey_answered",
        response,
        actor=actor,
        object_repr=invitation.ticket.number if invitation.ticket else f"#{invitation.pk}",
        data={"invitation": invitation.pk, "via": via, "csat": score, "nps": nps},
        at=answered_at,
    )
    if dissatisfied and close_loop:
        action = invitation.policy.on_dissatisfied if invitation.policy else OnDissatisfied.NOTIFY
        open_loop(response, action=action, actor=actor)
    return response


def answer_by_link(*, token: str, raw: Mapping[str, Any]) -> Response:
    """A customer answering through their link (e-mail, SMS, portal or chat widget)."""
    invitation = invitation_for_token(token)
    return submit_answer(invitation=invitation, raw=raw, via=invitation.delivery)


# --- closing the loop -----------------------------------------------------------------------


def team_leads(team: Any) -> list[User]:
    """Who hears of a dissatisfied answer: the team's leads, or the supervisors if it has none."""
    leads: list[User] = []
    if team is not None:
        leads = [
            m.user
            for m in Membership.objects.filter(team=team, is_lead=True, user__is_active=True)
            .select_related("user")
            .order_by("user_id")
        ]
    if not leads:
        leads = list(User.objects.filter(role=Role.SUPERVISOR, is_active=True).order_by("pk"))
    return leads


def open_loop(
    response: Response, *, action: str, actor: User | None, reopened: bool = False
) -> LoopCase:
    """Act on a dissatisfied answer: reopen the work order or open a linked complaint (as the
    policy says), tell the team lead, and track the case until that work order is done.
    ``reopened`` says the caller already reopened it (a dissatisfied follow-up call does)."""
    from kefu.tickets.services import create_ticket, transition_ticket
    from kefu.tickets.states import DONE_STATES, Status

    ticket = response.ticket
    leads = team_leads(response.team or (ticket.team if ticket else None))
    tracked = ticket
    if ticket is not None and action == OnDissatisfied.REOPEN and not reopened:
        mover = actor if actor is not None and actor.role != Role.CUSTOMER else None
        mover = mover or (leads[0] if leads else None)
        if ticket.status in DONE_STATES and mover is not None:
            transition_ticket(
                actor=mover,
                ticket=ticket,
                to=Status.IN_PROGRESS,
                reason=_("Reopened: the customer answered the satisfaction survey “dissatisfied”."),
            )
    elif action == OnDissatisfied.COMPLAINT:
        tracked = create_ticket(
            actor=None,
            title=_("Dissatisfied with %(what)s")
            % {"what": ticket.number if ticket else _("the service")},
            ticket_type="complaint",
            channel=response.channel or (ticket.channel if ticket else "phone"),
            customer=response.customer_id,
            description=response.comment,
            team=ticket.team if ticket and ticket.team and ticket.team.is_active else None,
        )
    case = LoopCase.objects.create(response=response, action=action, ticket=ticket, tracked=tracked)
    events.record(
        "survey_loop_opened",
        case,
        actor=actor,
        object_repr=ticket.number if ticket else f"#{case.pk}",
        data={
            "action": action,
            "tracked": tracked.number if tracked else "",
            "leads": [u.pk for u in leads],
        },
    )
    from django.urls import reverse

    notify(
        leads,
        kind="survey_dissatisfied",
        title=_("Dissatisfied customer: %(what)s")
        % {"what": ticket.number if ticket else response.customer.name},
        body=response.comment[:300],
        url=reverse("surveys:loops"),
    )
    return case


def close_loops_for(ticket: Any, actor: User | None) -> int:
    """Close the open dissatisfaction cases that track ``ticket`` (it is done again)."""
    closed = 0
    for case in LoopCase.objects.select_for_update().filter(
        tracked=ticket, status=LoopCase.Status.OPEN
    ):
        case.status = LoopCase.Status.CLOSED
        case.closed_at = timezone.now()
        case.save(update_fields=["status", "closed_at"])
        events.record(
            "survey_loop_closed",
            case,
            actor=actor,
            object_repr=ticket.number,
            data={"ticket_status": ticket.status},
        )
        closed += 1
    return closed
