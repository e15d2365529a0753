"""Who may see which work order. Every path that loads a work order goes through here:
screens, the API, the live-update socket, attachments, search and exports.

- administrators and supervisors see every work order (configurable per role);
- agents see their teams' work orders and those assigned to or created by them;
- department liaisons see only work orders transferred to their department;
- customers see only their own (and only the public parts of them);
- the rule for each staff role can be changed under Configuration → work-order visibility.
"""

from __future__ import annotations

import functools
import operator
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from kefu.core.permissions import Role, has_perm, require_perm
from kefu.core.validation import parse_id
from kefu.tickets.models import Attachment, Ticket, Transfer, VisibilityRule

DEFAULT_SCOPES: dict[str, str] = {
    Role.ADMIN: VisibilityRule.Scope.ALL,
    Role.SUPERVISOR: VisibilityRule.Scope.ALL,
    Role.AGENT_L1: VisibilityRule.Scope.TEAMS,
    Role.AGENT_L2: VisibilityRule.Scope.TEAMS,
    Role.QA: VisibilityRule.Scope.ALL,
    Role.PLANNER: VisibilityRule.Scope.NONE,
    Role.LIAISON: VisibilityRule.Scope.NONE,  # plus whatever was transferred to them
}


def role_scope(role: str) -> str:
    rule = VisibilityRule.objects.filter(role=role).values_list("scope", flat=True).first()
    return rule or DEFAULT_SCOPES.get(role, VisibilityRule.Scope.NONE)


def team_ids(user: Any) -> list[int]:
    cached = getattr(user, "_kefu_team_ids", None)
    if cached is None:
        cached = list(user.memberships.values_list("team_id", flat=True))
        user._kefu_team_ids = cached
    return list(cached)


NOTHING = Q(pk__in=[])


def visibility_q(user: Any) -> Q | None:
    """A filter on Ticket for what ``user`` may see; None means everything."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return NOTHING
    if user.role == Role.CUSTOMER:
        return Q(customer_id=user.customer_id) if user.customer_id else NOTHING
    if not has_perm(user, "tickets.view"):
        return NOTHING
    scope = getattr(user, "_kefu_scope", None)
    if scope is None:  # once per request's user: the page asks for several lists
        scope = user._kefu_scope = role_scope(user.role)
    if scope == VisibilityRule.Scope.ALL:
        return None
    teams = team_ids(user)
    parts: list[Q] = []
    if scope in (VisibilityRule.Scope.TEAMS, VisibilityRule.Scope.OWN):
        parts.append(Q(assignee_id=user.pk) | Q(created_by_id=user.pk))
    if scope == VisibilityRule.Scope.TEAMS and teams:
        parts.append(Q(team_id__in=teams))
    if teams and has_perm(user, "transfers.reply"):
        parts.append(
            Q(Exists(Transfer.objects.filter(ticket_id=OuterRef("pk"), department_id__in=teams)))
        )
    if not parts:
        return NOTHING
    return functools.reduce(operator.or_, parts)


def visible_tickets(user: Any) -> QuerySet[Ticket]:
    q = visibility_q(user)
    qs = Ticket.objects.all()
    return qs if q is None else qs.filter(q)


def can_see_internal(user: Any) -> bool:
    """Internal notes, the full timeline and staff fields are for staff only."""
    return bool(user.is_authenticated and user.role != Role.CUSTOMER)


def _lookup(value: Any) -> Q:
    text = str(value).strip()
    if text.isdigit():
        pk = parse_id(text)
        return Q(pk=pk) if pk is not None else Q(pk__in=[])
    return Q(number=text.upper())


# What a customer may do to their own work order; everything else is for staff.
CUSTOMER_PERMS = frozenset({"tickets.view", "tickets.reply"})


def access_ticket(
    user: Any, ref: Any, *, perm: str = "tickets.view", for_update: bool = False
) -> Ticket:
    """Load one work order for ``user`` by id or number: 404 if they may not see it, 403 if
    they may see it but not do ``perm``."""
    qs = visible_tickets(user).filter(_lookup(ref))
    if for_update:
        qs = qs.select_for_update(of=("self",))
    ticket = qs.select_related("ticket_type", "category", "customer", "assignee", "team").first()
    if ticket is None:
        raise Http404
    if user.role == Role.CUSTOMER:
        if perm not in CUSTOMER_PERMS:
            raise PermissionDenied(_("Customers cannot do this."))
    else:
        require_perm(user, perm)
    return ticket


def access_attachment(user: Any, pk: Any) -> Attachment:
    """An attachment is visible with its work order; customers see only public ones."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404 from None
    attachment = Attachment.objects.select_related("ticket").filter(pk=pk).first()
    if attachment is None or not visible_tickets(user).filter(pk=attachment.ticket_id).exists():
        raise Http404
    if user.role == Role.CUSTOMER and not attachment.is_public:
        raise Http404
    return attachment


def department_transfers(user: Any) -> QuerySet[Transfer]:
    """Transfers to the departments ``user`` belongs to (a liaison's inbox)."""
    if not has_perm(user, "transfers.reply"):
        return Transfer.objects.none()
    return Transfer.objects.filter(department_id__in=team_ids(user))


def access_transfer(user: Any, pk: Any) -> Transfer:
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404 from None
    transfer = (
        Transfer.objects.select_related(
            "ticket", "department", "ticket__ticket_type", "ticket__category"
        )
        .filter(pk=pk)
        .first()
    )
    if transfer is None:
        raise Http404
    in_department = transfer.department_id in team_ids(user) and has_perm(user, "transfers.reply")
    sees_ticket = (
        visible_tickets(user).filter(pk=transfer.ticket_id).exists()
        if user.role != Role.CUSTOMER
        else False
    )
    if not (in_department or sees_ticket):
        raise Http404
    return transfer
