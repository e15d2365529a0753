"""Forms for plans and checklist templates: they parse; the services decide."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kefu.accounts.models import Team, User
from kefu.core.forms import StyledForm
from kefu.core.permissions import Role
from kefu.customers.models import Tag, VipTier
from kefu.plans.models import ChecklistTemplate, Frequency, PlanKind, ServicePlan, Shift
from kefu.sla.models import BusinessCalendar

WEEKDAYS = [
    (0, _("Monday")),
    (1, _("Tuesday")),
    (2, _("Wednesday")),
    (3, _("Thursday")),
    (4, _("Friday")),
    (5, _("Saturday")),
    (6, _("Sunday")),
]


def _staff() -> Any:
    return User.objects.filter(
        is_active=True,
        role__in=(Role.AGENT_L1, Role.AGENT_L2, Role.SUPERVISOR, Role.ADMIN, Role.QA),
    ).order_by("display_name")


class PlanForm(StyledForm):
    name = forms.CharField(label=_("Name"), max_length=100)
    kind = forms.ChoiceField(label=_("Kind"), choices=PlanKind.choices)
    description = forms.CharField(
        label=_("Description"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    customer = forms.IntegerField(
        label=_("Customer id"), required=False, min_value=1, max_value=2**31 - 1,
        help_text=_("Leave empty for the service centre itself."),
    )  # fmt: skip
    site = forms.CharField(label=_("Site"), max_length=200, required=False)
    asset = forms.IntegerField(
        label=_("Asset id"), required=False, min_value=1, max_value=2**31 - 1,
        help_text=_("An installed asset of the customer (optional)."),
    )  # fmt: skip
    checklist = forms.ModelChoiceField(
        label=_("Checklist"),
        queryset=ChecklistTemplate.objects.filter(is_active=True),
        required=False,
    )
    frequency = forms.ChoiceField(label=_("Repeats"), choices=Frequency.choices)
    interval = forms.IntegerField(label=_("Every"), min_value=1, max_value=366, initial=1)
    weekdays = forms.TypedMultipleChoiceField(
        label=_("Weekdays"), choices=WEEKDAYS, coerce=int, required=False,
        widget=forms.CheckboxSelectMultiple,
    )  # fmt: skip
    day_of_month = forms.IntegerField(
        label=_("Day of month"), min_value=-1, max_value=31, required=False,
        help_text=_("-1 is the last day of the month."),
    )  # fmt: skip
    month = forms.IntegerField(label=_("Month"), min_value=1, max_value=12, required=False)
    rrule = forms.CharField(label=_("RRULE"), max_length=300, required=False)
    starts_on = forms.DateField(
        label=_("Starts on"), widget=forms.DateInput(attrs={"type": "date"})
    )
    ends_on = forms.DateField(
        label=_("Ends on"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    lead_days = forms.IntegerField(
        label=_("Generate days ahead"), min_value=0, max_value=365, initial=0
    )
    calendar = forms.ModelChoiceField(
        label=_("Business calendar"), queryset=BusinessCalendar.objects.all(), required=False
    )
    shift = forms.ChoiceField(label=_("On a closed day"), choices=Shift.choices, initial=Shift.NEXT)
    team = forms.ModelChoiceField(
        label=_("Team"), queryset=Team.objects.filter(is_active=True), required=False
    )
    assignee = forms.ModelChoiceField(label=_("Assignee"), queryset=_staff(), required=False)
    inspector = forms.ModelChoiceField(
        label=_("Inspector / safety officer"), queryset=_staff(), required=False
    )
    rectify_days = forms.IntegerField(
        label=_("Days to rectify a finding"), min_value=0, max_value=365, initial=7
    )
    session_time = forms.TimeField(
        label=_("Session time"),
        initial=dt.time(9, 30),
        widget=forms.TimeInput(attrs={"type": "time"}),
    )
    session_minutes = forms.IntegerField(
        label=_("Session minutes"), min_value=15, max_value=1440, initial=120
    )
    care_action = forms.ChoiceField(
        label=_("Care action"),
        choices=[("", "—"), *ServicePlan.CareAction.choices],
        required=False,
    )
    care_trigger = forms.ChoiceField(
        label=_("Care trigger"), choices=ServicePlan.CareTrigger.choices, initial="schedule"
    )
    audience_tier = forms.ModelChoiceField(
        label=_("VIP tier"), queryset=VipTier.objects.all(), required=False
    )
    audience_tag = forms.ModelChoiceField(
        label=_("Customer tag"), queryset=Tag.objects.all(), required=False
    )
    trigger_tag = forms.CharField(label=_("Work-order tag"), max_length=40, required=False)
    delay_days = forms.IntegerField(label=_("Days after"), min_value=0, max_value=365, initial=0)
    notice_channel = forms.ChoiceField(
        label=_("Notice channel"),
        choices=[("", "—"), *ServicePlan.NoticeChannel.choices],
        required=False,
    )
    notice_text = forms.CharField(
        label=_("Notice text"), max_length=500, required=False,
        help_text=_("{name} is replaced by the customer's name."),
        widget=forms.Textarea(attrs={"rows": 2}),
    )  # fmt: skip
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("assignee", "inspector"):
            field = self.fields[name]
            assert isinstance(field, forms.ModelChoiceField)
            field.queryset = _staff()  # a fresh query per form: staff change
            field.label_from_instance = _person  # type: ignore[method-assign,assignment]

    GROUPS = (
        ("name", "kind", "description", "customer", "site", "asset", "checklist", "team", "assignee",
         "inspector", "rectify_days", "is_active"),
        ("frequency", "interval", "weekdays", "day_of_month", "month", "rrule", "starts_on",
         "ends_on", "lead_days", "calendar", "shift", "session_time", "session_minutes"),
        ("care_action", "care_trigger", "audience_tier", "audience_tag", "trigger_tag",
         "delay_days", "notice_channel", "notice_text"),
    )  # fmt: skip

    def groups(self) -> list[list[Any]]:
        return [[self[name] for name in group] for group in self.GROUPS]

    @staticmethod
    def initial_for(plan: ServicePlan) -> dict[str, Any]:
        names = [n for n in PlanForm.base_fields if n not in ("customer", "asset")]
        data = {n: getattr(plan, n) for n in names}
        data["customer"] = plan.customer_id
        data["asset"] = plan.asset_id
        return data


def _person(user: User) -> str:
    return user.display_name or user.username


class ChecklistForm(StyledForm):
    name = forms.CharField(label=_("Name"), max_length=100)
    kind = forms.ChoiceField(label=_("Kind"), choices=PlanKind.choices)
    items = forms.CharField(
        label=_("Items"),
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text=_(
            "One item a line: section | item | how to check | photo (write “photo” when a photo is "
            "required). Only the item is needed."
        ),
    )
    note = forms.CharField(label=_("What changed"), max_length=200, required=False)

    def clean_items(self) -> list[dict[str, Any]]:
        rows = []
        for number, line in enumerate(self.cleaned_data["items"].splitlines(), start=1):
            if not line.strip():
                continue
            parts = [p.strip() for p in line.split("|")]
            if len(parts) == 1:
                parts = ["", parts[0]]
            if len(parts) > 4:
                raise forms.ValidationError(
                    gettext("Line %(n)d has more than four parts.") % {"n": number}
                )
            parts += [""] * (4 - len(parts))
            section, text, guidance, photo = parts
            rows.append(
                {
                    "section": section,
                    "text": text,
                    "guidance": guidance,
                    "photo_required": photo.lower() in ("photo", "照片", "拍照", "yes", "是"),
                }
            )
        return rows

    @staticmethod
    def lines_for(template: ChecklistTemplate) -> str:
        version = template.versions.order_by("-number").first()
        if version is None:
            return ""
        return "\n".join(
            " | ".join([i.section, i.text, i.guidance, "photo" if i.photo_required else ""]).rstrip(
                " |"
            )
            for i in version.items.all()
        )
