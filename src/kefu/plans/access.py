"""Who may see which plan records. Plans, rounds, sessions and rectifications are the centre's
own records (they name customers but hold no customer conversation): staff with
``plans.view`` see them; a rectification's work order is loaded through the tickets' access."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from kefu.core.permissions import has_perm, require_perm
from kefu.plans.models import (
    Attendance,
    ChecklistTemplate,
    Rectification,
    ServicePlan,
    TrainingSession,
)


def _pk(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Http404 from None


def visible_plans(user: Any) -> QuerySet[ServicePlan]:
    if has_perm(user, "plans.view"):
        return ServicePlan.objects.all()
    return ServicePlan.objects.none()


def access_plan(user: Any, pk: Any, *, perm: str = "plans.view") -> ServicePlan:
    plan = (
        visible_plans(user)
        .select_related("customer", "checklist", "calendar", "team", "assignee", "inspector")
        .filter(pk=_pk(pk))
        .first()
    )
    if plan is None:
        raise Http404
    require_perm(user, perm)
    return plan


def access_checklist(user: Any, pk: Any, *, perm: str = "plans.view") -> ChecklistTemplate:
    require_perm(user, "plans.view")
    template = ChecklistTemplate.objects.filter(pk=_pk(pk)).first()
    if template is None:
        raise Http404
    require_perm(user, perm)
    return template


def visible_rectifications(user: Any) -> QuerySet[Rectification]:
    """Rectifications whose work order ``user`` may see: all of those for ``plans.view``,
    otherwise the ones the user owns or signs off."""
    if user is None or not getattr(user, "is_authenticated", False):
        return Rectification.objects.none()
    from django.db.models import Q

    from kefu.tickets.access import visible_tickets

    rows = Rectification.objects.filter(ticket__in=visible_tickets(user).values("pk"))
    if has_perm(user, "plans.view"):
        return rows
    return rows.filter(Q(owner=user) | Q(inspector=user))


def access_rectification(user: Any, pk: Any) -> Rectification:
    rect = (
        visible_rectifications(user)
        .select_related("ticket", "owner", "inspector", "evidence")
        .filter(pk=_pk(pk))
        .first()
    )
    if rect is None:
        raise Http404
    return rect


def access_session(user: Any, pk: Any) -> TrainingSession:
    require_perm(user, "plans.view")
    session = TrainingSession.objects.select_related("plan").filter(pk=_pk(pk)).first()
    if session is None:
        raise Http404
    return session


def access_attendance(user: Any, session: TrainingSession, pk: Any) -> Attendance:
    found = Attendance.objects.filter(session=session, pk=_pk(pk)).select_related("trainee").first()
    if found is None:
        raise Http404
    return found
