"""Checklist templates and their versions, and service plans: creating and changing them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.models import User
from kefu.core import events
from kefu.core.permissions import Role, require_perm
from kefu.core.validation import clean_text
from kefu.plans import recurrence
from kefu.plans.models import (
    ChecklistItem,
    ChecklistTemplate,
    ChecklistVersion,
    Frequency,
    PlanKind,
    ServicePlan,
    Shift,
    Trainee,
)

MAX_ITEMS = 200
WORKING_ROLES = frozenset({Role.AGENT_L1, Role.AGENT_L2, Role.SUPERVISOR, Role.ADMIN})
SIGNING_ROLES = WORKING_ROLES | {Role.QA}


def _clean_items(items: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    if not items:
        raise ValidationError({"items": [_("A checklist needs at least one item.")]})
    if len(items) > MAX_ITEMS:
        raise ValidationError({"items": [_("At most %(n)d items.") % {"n": MAX_ITEMS}]})
    cleaned = []
    for index, raw in enumerate(items, start=1):
        where = f"items.{index}"
        text = clean_text(raw.get("text"), field=where, max_length=300, single_line=True)
        if not text:
            raise ValidationError({where: [_("Item %(n)d has no text.") % {"n": index}]})
        cleaned.append(
            {
                "position": index,
                "text": text,
                "section": clean_text(
                    raw.get("section"), field=where, max_length=60, single_line=True
                ),
                "guidance": clean_text(raw.get("guidance"), field=where, max_length=500),
                "photo_required": bool(raw.get("photo_required")),
            }
        )
    return cleaned


@transaction.atomic
def create_checklist(
    *,
    actor: User | None,
    name: str,
    kind: str,
    items: Sequence[Mapping[str, Any]],
    description: str = "",
) -> ChecklistTemplate:
    if actor is not None:
        require_perm(actor, "plans.manage")
    name = clean_text(name, field="name", max_length=100, required=True, single_line=True)
    if kind not in PlanKind.values:
        raise ValidationError({"kind": [_("Choose a kind of plan.")]})
    if ChecklistTemplate.objects.filter(name=name).exists():
        raise ValidationError({"name": [_("A checklist with this name exists.")]})
    cleaned = _clean_items(items)
    template = ChecklistTemplate.objects.create(
        name=name,
        kind=kind,
        description=clean_text(description, field="description", max_length=2000),
    )
    _add_version(actor, template, cleaned, note="")
    return template


@transaction.atomic
def revise_checklist(
    *, actor: User, template: ChecklistTemplate, items: Sequence[Mapping[str, Any]], note: str = ""
) -> ChecklistVersion:
    """A new version of the items. Work orders already made keep the version they carry."""
    require_perm(actor, "plans.manage")
    template = ChecklistTemplate.objects.select_for_update().get(pk=template.pk)
    cleaned = _clean_items(items)
    note = clean_text(note, field="note", max_length=200, single_line=True)
    return _add_version(actor, template, cleaned, note=note)


def _add_version(
    actor: User | None, template: ChecklistTemplate, items: list[dict[str, Any]], note: str
) -> ChecklistVersion:
    last = template.versions.order_by("-number").values_list("number", flat=True).first() or 0
    version = ChecklistVersion.objects.create(
        template=template,
        number=last + 1,
        note=note,
        created_by=actor if actor is not None and actor.pk else None,
    )
    ChecklistItem.objects.bulk_create(ChecklistItem(version=version, **item) for item in items)
    events.record(
        "checklist_version_saved",
        template,
        actor=actor,
        data={"version": version.number, "items": len(items)},
    )
    return version


def current_version(template: ChecklistTemplate) -> ChecklistVersion | None:
    return template.versions.order_by("-number").first()


PLAN_FIELDS = (
    "name",
    "kind",
    "description",
    "customer",
    "site",
    "asset",
    "checklist",
    "frequency",
    "interval",
    "weekdays",
    "day_of_month",
    "month",
    "rrule",
    "starts_on",
    "ends_on",
    "lead_days",
    "calendar",
    "shift",
    "team",
    "assignee",
    "inspector",
    "rectify_days",
    "session_time",
    "session_minutes",
    "care_action",
    "care_trigger",
    "audience_tier",
    "audience_tag",
    "trigger_tag",
    "delay_days",
    "notice_channel",
    "notice_text",
    "is_active",
)


def rule_of(plan: ServicePlan) -> recurrence.Rule:
    return recurrence.Rule(
        frequency=plan.frequency,
        start=plan.starts_on,
        interval=plan.interval,
        weekdays=tuple(plan.weekdays or ()),
        day=plan.day_of_month,
        month=plan.month,
        end=plan.ends_on,
        rrule=plan.rrule,
    )


def _clean_plan(plan: ServicePlan) -> None:
    errors: dict[str, list[str]] = {}
    plan.name = clean_text(plan.name, field="name", max_length=100, required=True, single_line=True)
    plan.site = clean_text(plan.site, field="site", max_length=200, single_line=True)
    plan.description = clean_text(plan.description, field="description", max_length=4000)
    plan.notice_text = clean_text(plan.notice_text, field="notice_text", max_length=500)
    plan.trigger_tag = clean_text(
        plan.trigger_tag, field="trigger_tag", max_length=40, single_line=True
    )
    plan.rrule = clean_text(plan.rrule, field="rrule", max_length=300, single_line=True)
    if plan.kind not in PlanKind.values:
        errors["kind"] = [_("Choose a kind of plan.")]
    if plan.frequency not in Frequency.values:
        errors["frequency"] = [_("Choose how often the plan repeats.")]
    if plan.shift not in Shift.values:
        errors["shift"] = [_("Choose what happens on a closed day.")]
    if not isinstance(plan.weekdays, list) or not all(
        isinstance(d, int) and 0 <= d <= 6 for d in plan.weekdays
    ):
        errors["weekdays"] = [_("Weekdays are numbers from 0 (Monday) to 6 (Sunday).")]
    else:
        plan.weekdays = sorted(set(plan.weekdays))
    if plan.lead_days > 365:
        errors["lead_days"] = [_("Generate at most 365 days ahead.")]
    if not errors:
        try:
            recurrence.Rule(
                frequency=plan.frequency,
                start=plan.starts_on,
                interval=plan.interval,
                weekdays=tuple(plan.weekdays),
                day=plan.day_of_month,
                month=plan.month,
                end=plan.ends_on,
                rrule=plan.rrule,
            )
        except recurrence.RuleError as exc:
            errors["frequency"] = [_("The schedule is not valid: %(e)s") % {"e": exc}]
    if plan.kind in (PlanKind.INSPECTION, PlanKind.MAINTENANCE, PlanKind.INSTALLATION,
                     PlanKind.FIRE_SAFETY, PlanKind.DRILL) and plan.checklist_id is None:  # fmt: skip
        errors["checklist"] = [_("Choose the checklist the work orders carry.")]
    if plan.kind == PlanKind.CARE:
        if plan.care_action not in ServicePlan.CareAction.values:
            errors["care_action"] = [_("Choose what the care plan does.")]
        if plan.care_action in ("notice", "both"):
            if plan.notice_channel not in ServicePlan.NoticeChannel.values:
                errors["notice_channel"] = [_("Choose how the notice is sent.")]
            if not plan.notice_text:
                errors["notice_text"] = [_("Write the notice.")]
        if plan.care_trigger == ServicePlan.CareTrigger.AFTER_TAG and not plan.trigger_tag:
            errors["trigger_tag"] = [_("Name the work-order tag that starts the care.")]
        if (
            plan.care_trigger == ServicePlan.CareTrigger.SCHEDULE
            and plan.audience_tier_id is None
            and plan.audience_tag_id is None
        ):
            errors["audience_tier"] = [_("Choose the customers: a VIP tier, a tag or both.")]
    if plan.asset_id is not None and plan.asset is not None:
        if plan.customer_id is None:
            plan.customer = plan.asset.customer
        elif plan.asset.customer_id != plan.customer_id:
            errors["asset"] = [_("This asset belongs to another customer.")]
        if not plan.site:
            plan.site = plan.asset.address[:200]
    if (
        plan.assignee_id is not None
        and plan.assignee is not None
        and (not plan.assignee.is_active or plan.assignee.role not in WORKING_ROLES)
    ):
        errors["assignee"] = [_("Work is assigned to an active agent or supervisor.")]
    if (
        plan.inspector_id is not None
        and plan.inspector is not None
        and (not plan.inspector.is_active or plan.inspector.role not in SIGNING_ROLES)
    ):
        errors["inspector"] = [_("The inspector is an active supervisor, QA inspector or agent.")]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def create_plan(*, actor: User | None, **fields: Any) -> ServicePlan:
    if actor is not None:
        require_perm(actor, "plans.manage")
    unknown = set(fields) - set(PLAN_FIELDS)
    if unknown:
        raise ValidationError({name: [_("Unknown field.")] for name in sorted(unknown)})
    fields.setdefault("starts_on", timezone.localdate())
    plan = ServicePlan(created_by=actor if actor is not None and actor.pk else None, **fields)
    _clean_plan(plan)
    if ServicePlan.objects.filter(name=plan.name).exists():
        raise ValidationError({"name": [_("A plan with this name exists.")]})
    plan.save()
    events.record("plan_created", plan, actor=actor, data={"kind": plan.kind})
    from kefu.plans.services.schedule import refresh_next_due

    refresh_next_due(plan)
    return plan


@transaction.atomic
def update_plan(*, actor: User, plan: ServicePlan, **fields: Any) -> ServicePlan:
    require_perm(actor, "plans.manage")
    unknown = set(fields) - set(PLAN_FIELDS)
    if unknown:
        raise ValidationError({name: [_("Unknown field.")] for name in sorted(unknown)})
    plan = ServicePlan.objects.select_for_update().get(pk=plan.pk)
    before = events.snapshot(plan, tuple(fields))
    for name, value in fields.items():
        setattr(plan, name, value)
    _clean_plan(plan)
    if ServicePlan.objects.filter(name=plan.name).exclude(pk=plan.pk).exists():
        raise ValidationError({"name": [_("A plan with this name exists.")]})
    plan.version += 1
    plan.save()
    events.record(
        "plan_changed",
        plan,
        actor=actor,
        changes=events.diff(before, events.snapshot(plan, tuple(fields))),
    )
    from kefu.plans.services.schedule import refresh_next_due

    refresh_next_due(plan)
    return plan


@transaction.atomic
def add_trainee(
    *, actor: User | None, plan: ServicePlan, user: User | None = None, customer: Any = None
) -> Trainee:
    if actor is not None:
        require_perm(actor, "plans.manage")
    if plan.kind != PlanKind.TRAINING:
        raise ValidationError({"plan": [_("Only training plans have trainees.")]})
    if (user is None) == (customer is None):
        raise ValidationError({"trainee": [_("Choose a member of staff or a customer contact.")]})
    if user is not None:
        existing = plan.trainees.filter(user=user).first()
        name = user.display_name or user.username
    else:
        existing = plan.trainees.filter(customer=customer).first()
        name = customer.name
    if existing is not None:
        return existing
    trainee = Trainee.objects.create(plan=plan, user=user, customer=customer, name=name[:100])
    events.record("plan_trainee_added", plan, actor=actor, data={"trainee": name})
    return trainee
