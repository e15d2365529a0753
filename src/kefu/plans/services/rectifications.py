"""Rectifications (隐患整改): a hazard found at an inspection is fixed through its own work order,
with a deadline, an owner, evidence and the inspector's sign-off.

    open → rectifying → submitted → signed off
                ▲            │
                └─ returned ◄┘

``transition_rectification`` is the only code that changes the state; ``escalate_overdue`` (a
periodic sweep) raises the escalation level of every rectification past its deadline once a day
and tells the owner's team leads.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.models import Membership, User
from kefu.core.choices import Channel
from kefu.core.permissions import Role, has_perm, require_perm
from kefu.core.validation import Conflict, clean_text
from kefu.plans.models import ChecklistResult, Rectification, ServicePlan
from kefu.tickets.models import Ticket
from kefu.tickets.services.common import record

State = Rectification.State

TRANSITIONS: dict[tuple[str, str], str] = {
    (State.OPEN, State.RECTIFYING): "start",
    (State.RETURNED, State.RECTIFYING): "start",
    (State.OPEN, State.SUBMITTED): "submit",
    (State.RECTIFYING, State.SUBMITTED): "submit",
    (State.RETURNED, State.SUBMITTED): "submit",
    (State.SUBMITTED, State.SIGNED_OFF): "sign_off",
    (State.SUBMITTED, State.RETURNED): "return",
}
OVERDUE_STATES = (State.OPEN, State.RECTIFYING, State.RETURNED)
ESCALATE_EVERY = dt.timedelta(days=1)
MAX_LEVEL = 9


def moves_from(state: str) -> list[tuple[str, str]]:
    return [(to, name) for (frm, to), name in TRANSITIONS.items() if frm == state]


def deadline_after(days: int, now: dt.datetime | None = None) -> dt.datetime:
    """The end of the centre's local day ``days`` days from now."""
    local = timezone.localtime(now or timezone.now())
    day = local.date() + dt.timedelta(days=days)
    return dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=local.tzinfo)


def _working(user: User | None) -> bool:
    return (
        user is not None
        and user.is_active
        and user.role in (Role.AGENT_L1, Role.AGENT_L2, Role.SUPERVISOR, Role.ADMIN)
    )


def raise_rectification(
    *, actor: User | None, finding: ChecklistResult, ticket: Ticket
) -> Rectification:
    """Open the rectification for a failed checklist item (inside the caller's transaction)."""
    plan: ServicePlan | None = finding.run.plan
    owner = next(
        (u for u in (plan.assignee if plan else None, ticket.assignee, actor) if _working(u)),
        None,
    )
    inspector = (plan.inspector if plan else None) or actor or owner
    if owner is None or inspector is None:
        raise ValidationError(
            {"owner": [_("Nobody can own this rectification: set the plan's assignee.")]}
        )
    hazard = f"{finding.item.text}: {finding.note}"[:300]
    return _open(
        actor=actor,
        hazard=hazard,
        owner=owner,
        inspector=inspector,
        deadline=deadline_after(plan.rectify_days if plan else 7),
        source=ticket,
        finding=finding,
        plan=plan,
    )


@transaction.atomic
def create_rectification(
    *,
    actor: User,
    hazard: str,
    owner: User,
    deadline: dt.datetime,
    inspector: User | None = None,
    source: Ticket | None = None,
) -> Rectification:
    """A hazard found outside a checklist (a walk-round, a report)."""
    require_perm(actor, "plans.signoff")
    hazard = clean_text(hazard, field="hazard", max_length=300, required=True, single_line=True)
    if not _working(owner):
        raise ValidationError({"owner": [_("The owner must be an active member of staff.")]})
    if deadline <= timezone.now():
        raise ValidationError({"deadline": [_("The deadline must be in the future.")]})
    return _open(
        actor=actor,
        hazard=hazard,
        owner=owner,
        inspector=inspector or actor,
        deadline=deadline,
        source=source,
        finding=None,
        plan=None,
    )


def _open(
    *,
    actor: User | None,
    hazard: str,
    owner: User,
    inspector: User,
    deadline: dt.datetime,
    source: Ticket | None,
    finding: ChecklistResult | None,
    plan: ServicePlan | None,
) -> Rectification:
    from kefu.tickets.services import create_ticket

    description = _(
        "Hazard: %(hazard)s\nDeadline: %(deadline)s\nOwner: %(owner)s\nSigned off by: %(inspector)s"
    ) % {
        "hazard": hazard,
        "deadline": timezone.localtime(deadline).strftime("%Y-%m-%d %H:%M"),
        "owner": owner.display_name or owner.username,
        "inspector": inspector.display_name or inspector.username,
    }
    ticket = create_ticket(
        actor=None,
        title=(_("Rectification: %(hazard)s") % {"hazard": hazard})[:200],
        ticket_type="rectification",
        description=description,
        channel=Channel.API,
        customer=source.customer_id if source is not None else None,
        place=source.place if source is not None else "",
        assignee=owner,
        parent=source,
    )
    rect = Rectification.objects.create(
        ticket=ticket,
        finding=finding,
        source_ticket=source,
        plan=plan,
        hazard=hazard,
        owner=owner,
        inspector=inspector,
        deadline=deadline,
        next_escalation_at=deadline,
    )
    record(
        "rectification_opened",
        ticket,
        actor=actor,
        data={
            "hazard": hazard,
            "deadline": deadline.isoformat(),
            "owner": owner.pk,
            **({"source": source.number} if source is not None else {}),
        },
    )
    if source is not None:
        record(
            "finding_raised", source, actor=actor, data={"hazard": hazard, "ticket": ticket.number}
        )
    from kefu.core.notifications import notify

    notify(
        [owner],
        kind="rectification",
        title=_("Rectification due %(d)s: %(h)s")
        % {"d": timezone.localtime(deadline).strftime("%m-%d"), "h": hazard[:80]},
        url=f"/tickets/{ticket.number}/",
    )
    return rect


def _may(actor: User, rect: Rectification, name: str) -> bool:
    if has_perm(actor, "plans.manage"):
        return name != "sign_off" or actor.pk != rect.owner_id or actor.role == Role.ADMIN
    if name in ("start", "submit"):
        return actor.pk == rect.owner_id and has_perm(actor, "plans.check")
    # signing off and returning: the inspector named on it, never the owner
    return (
        actor.pk == rect.inspector_id
        and actor.pk != rect.owner_id
        and has_perm(actor, "plans.signoff")
    )


@transaction.atomic
def transition_rectification(
    *,
    actor: User,
    rect: Rectification,
    to: str,
    note: str = "",
    evidence: UploadedFile[Any] | None = None,
    expected_version: int | None = None,
) -> Rectification:
    rect = (
        Rectification.objects.select_for_update(of=("self",))
        .select_related("ticket", "owner", "inspector")
        .get(pk=rect.pk)
    )
    if expected_version is not None and rect.version != expected_version:
        raise Conflict(
            _("This rectification was changed by someone else; reload and try again."),
            current_version=rect.version,
        )
    name = TRANSITIONS.get((rect.state, to))
    if name is None:
        raise ValidationError(
            {"state": [_("A rectification cannot go from “%(a)s” to “%(b)s”.")
                       % {"a": State(rect.state).label, "b": to}]}
        )  # fmt: skip
    if not _may(actor, rect, name):
        raise PermissionDenied(_("You cannot do this to this rectification."))
    note = clean_text(note, field="note", max_length=4000)
    now = timezone.now()
    before = rect.state
    fields = ["state", "version"]
    if name == "submit":
        if not note:
            raise ValidationError({"note": [_("Describe what was done.")]})
        if evidence is None and rect.evidence_id is None:
            raise ValidationError({"evidence": [_("Add a photo or document as evidence.")]})
        if evidence is not None:
            from kefu.tickets.services.conversation import add_attachment

            rect.evidence = add_attachment(
                actor=actor, ticket=rect.ticket, upload=evidence, public=False, record_event=False
            )
        rect.evidence_note = note
        rect.submitted_at = now
        fields += ["evidence", "evidence_note", "submitted_at"]
    elif name == "return":
        if not note:
            raise ValidationError({"note": [_("Say what still needs doing.")]})
        rect.return_reason = note[:500]
        fields.append("return_reason")
    elif name == "sign_off":
        rect.signed_off_at = now
        rect.signed_off_by = actor
        rect.next_escalation_at = None
        fields += ["signed_off_at", "signed_off_by", "next_escalation_at"]
    rect.state = to
    rect.version += 1
    rect.save(update_fields=fields)
    record(
        f"rectification_{name}",
        rect.ticket,
        actor=actor,
        changes={"state": [before, to]},
        data={"note": note[:500]} if note else {},
    )
    _follow_on_work_order(actor, rect, name, note)
    from kefu.core.notifications import notify

    if name == "submit":
        notify(
            [rect.inspector],
            kind="rectification",
            title=_("Rectification to sign off: %(h)s") % {"h": rect.hazard[:80]},
            url=f"/tickets/{rect.ticket.number}/",
        )
    elif name in ("return", "sign_off"):
        notify(
            [rect.owner],
            kind="rectification",
            title=(
                _("Rectification returned: %(h)s")
                if name == "return"
                else _("Rectification signed off: %(h)s")
            )
            % {"h": rect.hazard[:80]},
            url=f"/tickets/{rect.ticket.number}/",
        )
    return rect


def _follow_on_work_order(actor: User, rect: Rectification, name: str, note: str) -> None:
    """Keep the rectification's work order in step where the actor may move it."""
    from kefu.tickets import states
    from kefu.tickets.services import transition_ticket

    ticket = rect.ticket
    ticket.refresh_from_db()
    if not has_perm(actor, "tickets.transition"):
        return
    if name == "start" and (ticket.status, states.Status.IN_PROGRESS) in states.TRANSITIONS:
        if states.TRANSITIONS[(ticket.status, states.Status.IN_PROGRESS)] in ("start", "resume"):
            transition_ticket(actor=actor, ticket=ticket, to=states.Status.IN_PROGRESS)
    elif (
        name == "sign_off"
        and has_perm(actor, "tickets.reply")
        and (ticket.status, states.Status.RESOLVED) in states.TRANSITIONS
    ):
        text = _("Rectification signed off.") + (f" {note}" if note else "")
        transition_ticket(actor=actor, ticket=ticket, to=states.Status.RESOLVED, reply=text)


def leads_of(user: User) -> list[User]:
    """The team leads of ``user``'s teams; the active supervisors when they have none."""
    team_ids = Membership.objects.filter(user=user).values("team_id")
    leads = list(
        User.objects.filter(
            memberships__team_id__in=team_ids, memberships__is_lead=True, is_active=True
        )
        .exclude(pk=user.pk)
        .distinct()
    )
    if leads:
        return leads
    return list(User.objects.filter(role=Role.SUPERVISOR, is_active=True).exclude(pk=user.pk))


def escalate_overdue(now: dt.datetime | None = None, batch: int = 200) -> list[int]:
    """Raise the level of every rectification past its deadline (once per ESCALATE_EVERY) and
    tell the owner, the owner's leads and, from level 2, the inspector. Safe for several
    workers at once: rows are claimed with SKIP LOCKED and moved past ``now``."""
    now = now or timezone.now()
    done: list[int] = []
    with transaction.atomic():
        rows = list(
            Rectification.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(next_escalation_at__lte=now, state__in=OVERDUE_STATES)
            .select_related("ticket", "owner", "inspector")
            .order_by("next_escalation_at")[:batch]
        )
        for rect in rows:
            rect.escalation_level = min(rect.escalation_level + 1, MAX_LEVEL)
            rect.next_escalation_at = now + ESCALATE_EVERY
            rect.version += 1
            rect.save(update_fields=["escalation_level", "next_escalation_at", "version"])
            overdue_days = max(0, (now - rect.deadline).days)
            record(
                "rectification_escalated",
                rect.ticket,
                actor=None,
                data={"level": rect.escalation_level, "overdue_days": overdue_days},
            )
            told = [rect.owner, *leads_of(rect.owner)]
            if rect.escalation_level >= 2:
                told.append(rect.inspector)
            from kefu.core.notifications import notify

            notify(
                told,
                kind="rectification_overdue",
                title=_("Rectification overdue (level %(n)d): %(h)s")
                % {"n": rect.escalation_level, "h": rect.hazard[:80]},
                body=_("Owner: %(o)s. Deadline: %(d)s.")
                % {
                    "o": rect.owner.display_name or rect.owner.username,
                    "d": timezone.localtime(rect.deadline).strftime("%Y-%m-%d %H:%M"),
                },
                url=f"/tickets/{rect.ticket.number}/",
            )
            done.append(rect.pk)
    return done


def overdue_q(now: dt.datetime | None = None) -> Q:
    return Q(state__in=OVERDUE_STATES, deadline__lt=now or timezone.now())
