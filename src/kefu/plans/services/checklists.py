"""Checklists on work orders: starting one, ticking items (pass / fail / n.a., a note, a photo),
and raising a rectification from a failed item."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.models import User
from kefu.core.permissions import require_perm
from kefu.core.validation import clean_text
from kefu.plans.models import (
    ChecklistResult,
    ChecklistRun,
    ChecklistTemplate,
    Result,
    ServicePlan,
)
from kefu.tickets.models import Ticket
from kefu.tickets.services.common import lock, record, touch
from kefu.tickets.states import OPEN_STATES


def start_checklist(
    *, ticket: Ticket, template: ChecklistTemplate, plan: ServicePlan | None = None
) -> ChecklistRun:
    """Attach the template's current version to a work order (inside the caller's transaction)."""
    version = template.versions.order_by("-number").first()
    if version is None:
        raise ValidationError({"checklist": [_("This checklist has no items yet.")]})
    run = ChecklistRun.objects.create(ticket=ticket, version=version, plan=plan)
    ChecklistResult.objects.bulk_create(
        ChecklistResult(run=run, item=item) for item in version.items.all()
    )
    record(
        "checklist_started",
        ticket,
        actor=None,
        data={"checklist": template.name, "version": version.number},
    )
    return run


@transaction.atomic
def attach_checklist(*, actor: User, ticket: Ticket, template: ChecklistTemplate) -> ChecklistRun:
    """Give a work order opened by hand (an installation, a commissioning) a checklist."""
    require_perm(actor, "plans.check")
    require_perm(actor, "tickets.edit")
    ticket = lock(ticket)
    if ChecklistRun.objects.filter(ticket=ticket).exists():
        raise ValidationError({"checklist": [_("This work order already has a checklist.")]})
    if not template.is_active:
        raise ValidationError({"checklist": [_("This checklist is no longer in use.")]})
    run = start_checklist(ticket=ticket, template=template)
    touch(ticket)
    return run


@transaction.atomic
def check_item(
    *,
    actor: User,
    result: ChecklistResult,
    value: str,
    note: str = "",
    photo: UploadedFile[Any] | None = None,
    raise_finding: bool = True,
) -> ChecklistResult:
    """Record one item's result. A failed item raises a rectification (unless one exists or
    ``raise_finding`` is off); a photo is kept as an internal attachment of the work order."""
    require_perm(actor, "plans.check")
    if value not in (Result.PASS, Result.FAIL, Result.NA):
        raise ValidationError({"result": [_("Choose pass, fail or not applicable.")]})
    note = clean_text(note, field="note", max_length=500)
    result = (
        ChecklistResult.objects.select_for_update(of=("self",))
        .select_related("item", "run", "run__plan", "photo")
        .get(pk=result.pk)
    )
    ticket = lock(result.run.ticket)
    if ticket.status not in OPEN_STATES:
        raise ValidationError(
            {"result": [_("The work order is finished; its checklist cannot change.")]}
        )
    if value == Result.FAIL and not note:
        raise ValidationError({"note": [_("Say what is wrong.")]})
    if result.item.photo_required and value != Result.NA and photo is None and result.photo is None:
        raise ValidationError({"photo": [_("This item needs a photo.")]})
    if photo is not None:
        from kefu.tickets.services.conversation import add_attachment

        result.photo = add_attachment(
            actor=actor, ticket=ticket, upload=photo, public=False, record_event=False
        )
    before = result.result
    result.result = value
    result.note = note
    result.checked_by = actor
    result.checked_at = timezone.now()
    result.save(update_fields=["result", "note", "photo", "checked_by", "checked_at"])
    run = result.run
    pending = run.results.filter(result=Result.PENDING).exists()
    run.completed_at = None if pending else (run.completed_at or timezone.now())
    run.save(update_fields=["completed_at"])
    touch(ticket)
    record(
        "checklist_item_checked",
        ticket,
        actor=actor,
        changes={"result": [before, value]},
        data={
            "item": result.item.text,
            "result": value,
            **({"note": note} if note else {}),
            **({"photo": result.photo.pk} if photo is not None and result.photo else {}),
        },
    )
    if value == Result.FAIL and raise_finding and not hasattr(result, "rectification"):
        from kefu.plans.services.rectifications import raise_rectification

        raise_rectification(actor=actor, finding=result, ticket=ticket)
    return result


def run_for_ticket(ticket: Ticket) -> ChecklistRun | None:
    return (
        ChecklistRun.objects.filter(ticket=ticket)
        .select_related("version__template", "plan")
        .first()
    )


def access_result(user: User, ticket: Ticket, result_id: int) -> ChecklistResult:
    """An item of the work order's checklist (the work order is already loaded for ``user``)."""
    found = (
        ChecklistResult.objects.filter(pk=result_id, run__ticket=ticket)
        .select_related("item", "run")
        .first()
    )
    if found is None:
        raise PermissionDenied(_("This item is not on this work order's checklist."))
    return found
