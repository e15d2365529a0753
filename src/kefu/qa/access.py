"""Who may see which QA record. Every path (screens, API, exports) loads reviews, calibration
sessions and coaching tasks through these helpers.

- inspectors (``qa.review``) and supervisors (``qa.decide``) see every review;
- an agent (``qa.own``) sees their own reviews once scored — never a draft, never a
  calibration sheet — and their own coaching tasks.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from kefu.core.permissions import has_perm, require_perm
from kefu.qa.models import CalibrationSession, CoachingTask, Review


def sees_all(user: Any) -> bool:
    return has_perm(user, "qa.review") or has_perm(user, "qa.decide")


def visible_reviews(user: Any) -> QuerySet[Review]:
    if sees_all(user):
        return Review.objects.all()
    if has_perm(user, "qa.own"):
        return Review.objects.filter(agent_id=user.pk).exclude(
            Q(state=Review.State.DRAFT) | Q(kind=Review.Kind.CALIBRATION)
        )
    return Review.objects.none()


def access_review(user: Any, pk: int, *, perm: str = "qa.own", for_update: bool = False) -> Review:
    """One review for ``user``: 404 when they may not see it, 403 when they may not ``perm``."""
    qs = visible_reviews(user).filter(pk=pk)
    if for_update:
        qs = qs.select_for_update(of=("self",))
    review = qs.select_related("version__scorecard", "agent", "inspector", "team").first()
    if review is None:
        raise Http404
    if perm != "qa.own" or not sees_all(user):
        require_perm(user, perm)
    return review


def access_calibration(user: Any, pk: int) -> CalibrationSession:
    if not sees_all(user):
        require_perm(user, "qa.review")
    session = CalibrationSession.objects.select_related("version__scorecard").filter(pk=pk).first()
    if session is None:
        raise Http404
    return session


def visible_coaching(user: Any) -> QuerySet[CoachingTask]:
    if sees_all(user):
        return CoachingTask.objects.all()
    if has_perm(user, "qa.own"):
        return CoachingTask.objects.filter(agent_id=user.pk)
    return CoachingTask.objects.none()


def access_coaching(user: Any, pk: int) -> CoachingTask:
    task = visible_coaching(user).select_related("review", "agent").filter(pk=pk).first()
    if task is None:
        raise Http404
    return task
