"""Which survey records a user may load. Every screen, API endpoint and export comes here."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from kefu.core.permissions import Role, has_perm, require_perm
from kefu.surveys.models import FollowUpTask, Invitation, Response

ALL_TASKS_ROLES = (Role.SUPERVISOR, Role.ADMIN, Role.QA)


def visible_tasks(user: Any) -> QuerySet[FollowUpTask]:
    """Supervisors see every follow-up call; agents those of their teams or taken by them."""
    require_perm(user, "surveys.followup")
    tasks = FollowUpTask.objects.all()
    if user.role in ALL_TASKS_ROLES:
        return tasks
    return tasks.filter(Q(team__in=user.teams.all()) | Q(assignee=user))


def access_task(user: Any, task_id: int) -> FollowUpTask:
    task = (
        visible_tasks(user)
        .select_related("ticket", "ticket__customer", "plan", "invitation__version", "assignee")
        .filter(pk=task_id)
        .first()
    )
    if task is None:
        raise Http404
    return task


def visible_responses(user: Any) -> QuerySet[Response]:
    require_perm(user, "surveys.report")
    return Response.objects.all()


def can_see_reports(user: Any) -> bool:
    return has_perm(user, "surveys.report")


def open_invitations_for(user: Any) -> QuerySet[Invitation]:
    """A signed-in customer's own unanswered survey invitations (the portal lists these)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.customer_id:
        return Invitation.objects.none()
    return Invitation.objects.filter(
        customer_id=user.customer_id, status=Invitation.Status.SENT
    ).exclude(delivery__in=("call", "ivr"))
