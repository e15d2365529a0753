"""Training plans: sessions (made by the scheduler or by hand) and attendance."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.models import User
from kefu.core import events
from kefu.core.permissions import require_perm
from kefu.core.validation import clean_text
from kefu.plans.models import Attendance, PlanKind, ServicePlan, TrainingSession


@transaction.atomic
def add_session(
    *,
    actor: User,
    plan: ServicePlan,
    title: str,
    starts_at: dt.datetime,
    duration_minutes: int = 120,
    place: str = "",
    trainer: str = "",
) -> TrainingSession:
    """A session outside the schedule (a make-up session, a one-off)."""
    require_perm(actor, "plans.manage")
    if plan.kind != PlanKind.TRAINING:
        raise ValidationError({"plan": [_("Only training plans have sessions.")]})
    title = clean_text(title, field="title", max_length=200, required=True, single_line=True)
    if not 15 <= duration_minutes <= 24 * 60:
        raise ValidationError({"duration_minutes": [_("A session lasts 15 minutes to a day.")]})
    session = TrainingSession.objects.create(
        plan=plan,
        title=title,
        starts_at=starts_at,
        duration_minutes=duration_minutes,
        place=clean_text(place, field="place", max_length=200, single_line=True),
        trainer=clean_text(trainer, field="trainer", max_length=100, single_line=True),
    )
    Attendance.objects.bulk_create(
        Attendance(session=session, trainee=trainee) for trainee in plan.trainees.all()
    )
    events.record("training_session_added", plan, actor=actor, data={"session": title})
    return session


@transaction.atomic
def mark_attendance(*, actor: User, attendance: Attendance, status: str) -> Attendance:
    require_perm(actor, "plans.training")
    if status not in (Attendance.Status.PRESENT, Attendance.Status.ABSENT):
        raise ValidationError({"status": [_("Mark present or absent.")]})
    attendance = (
        Attendance.objects.select_for_update(of=("self",))
        .select_related("session__plan", "trainee")
        .get(pk=attendance.pk)
    )
    if attendance.session.starts_at > timezone.now():
        raise ValidationError({"status": [_("The session has not started yet.")]})
    before = attendance.status
    attendance.status = status
    attendance.marked_by = actor
    attendance.marked_at = timezone.now()
    attendance.save(update_fields=["status", "marked_by", "marked_at"])
    events.record(
        "training_attendance_marked",
        attendance.session.plan,
        actor=actor,
        changes={"status": [before, status]},
        data={"session": attendance.session.title, "trainee": attendance.trainee.name},
    )
    return attendance
