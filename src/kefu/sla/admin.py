"""SLA setup in the configuration site: calendars with their special dates, policies with their
targets, and each target's escalations. Every change is audited; calendar changes move the
deadlines of running clocks (in the background)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from kefu.core.admin import AuditedAdmin
from kefu.core.choices import Channel
from kefu.sla import calendars
from kefu.sla.models import (
    BusinessCalendar,
    CalendarDay,
    Escalation,
    SlaPolicy,
    SlaTarget,
)
from kefu.tickets.models import Area, Priority, Severity
from kefu.tickets.states import Status


class BusinessCalendarForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = BusinessCalendar
        fields = ("name", "code", "kind", "tz", "hours")

    def clean_tz(self) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        tz = str(self.cleaned_data["tz"]).strip()
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValidationError(_("Unknown time zone “%(tz)s”.") % {"tz": tz}) from exc
        return tz

    def clean_hours(self) -> Any:
        hours = self.cleaned_data["hours"]
        calendars.check_hours(hours)
        return hours


class CalendarDayForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = CalendarDay
        fields = ("date", "is_open", "periods", "note")

    def clean_periods(self) -> Any:
        periods = self.cleaned_data["periods"] or []
        calendars.parse_periods(periods, str(self.cleaned_data.get("date") or ""))
        return periods


class CalendarDayInline(admin.TabularInline):  # type: ignore[type-arg]
    model = CalendarDay
    form = CalendarDayForm
    extra = 1
    fields = ("date", "is_open", "periods", "note")


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(AuditedAdmin):
    form = BusinessCalendarForm
    list_display = ("name", "code", "kind", "tz", "preview")
    inlines = [CalendarDayInline]
    readonly_fields = ("preview",)

    @admin.display(description=_("Coming weeks"))
    def preview(self, obj: BusinessCalendar) -> str:
        if not obj.pk:
            return "—"
        return format_html('<a href="{}">{}</a>', reverse("sla:calendar", args=[obj.pk]), _("Show"))


class ListChoiceField(forms.MultipleChoiceField):
    """A JSON list field edited as checkboxes."""

    widget = forms.CheckboxSelectMultiple


class SlaPolicyForm(forms.ModelForm):  # type: ignore[type-arg]
    priorities = forms.TypedMultipleChoiceField(
        choices=Priority.choices,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("priorities"),
    )
    severities = ListChoiceField(choices=Severity.choices, required=False, label=_("severities"))
    channels = ListChoiceField(choices=Channel.choices, required=False, label=_("channels"))
    areas = ListChoiceField(choices=Area.choices, required=False, label=_("areas"))
    pause_statuses = ListChoiceField(
        choices=[
            (s, label)
            for s, label in Status.choices
            if s in (Status.WAITING_CUSTOMER, Status.WAITING_THIRD_PARTY)
        ],
        required=False,
        label=_("pause in these statuses"),
    )

    class Meta:
        model = SlaPolicy
        fields = (
            "name", "order", "is_active", "description", "ticket_types", "categories",
            "priorities", "severities", "channels", "areas", "vip_tiers", "organizations",
            "pause_statuses",
        )  # fmt: skip


class SlaTargetForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = SlaTarget
        fields = ("policy", "metric", "amount", "unit", "calendar", "warn_at")

    def clean_warn_at(self) -> Any:
        value = self.cleaned_data["warn_at"] or []
        if not isinstance(value, list) or not all(
            isinstance(x, int) and 0 < x < 100 for x in value
        ):
            raise ValidationError(_("Warnings are percentages between 1 and 99, e.g. [75, 90]."))
        return sorted(set(value))


class SlaTargetInline(admin.TabularInline):  # type: ignore[type-arg]
    model = SlaTarget
    form = SlaTargetForm
    extra = 0
    fields = ("metric", "amount", "unit", "calendar", "warn_at", "escalations_link")
    readonly_fields = ("escalations_link",)

    @admin.display(description=_("escalations"))
    def escalations_link(self, obj: SlaTarget) -> str:
        if not obj.pk:
            return "—"
        count = obj.escalations.count()
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:sla_slatarget_change", args=[obj.pk]),
            _("%(n)d escalation(s)") % {"n": count},
        )


@admin.register(SlaPolicy)
class SlaPolicyAdmin(AuditedAdmin):
    form = SlaPolicyForm
    list_display = ("name", "order", "is_active", "conditions")
    list_editable = ("order", "is_active")
    filter_horizontal = ("ticket_types", "categories", "vip_tiers")
    raw_id_fields = ("organizations",)
    inlines = [SlaTargetInline]

    @admin.display(description=_("conditions"))
    def conditions(self, obj: SlaPolicy) -> str:
        parts = [t.label for t in obj.ticket_types.all()]
        parts += [f"P{p}" for p in obj.priorities]
        parts += [str(Area(a).label) for a in obj.areas if a in Area.values]
        parts += [str(Severity(s).label) for s in obj.severities if s in Severity.values]
        return " · ".join(str(p) for p in parts) or str(_("everything"))


class EscalationInline(admin.TabularInline):  # type: ignore[type-arg]
    model = Escalation
    extra = 1
    fields = ("level", "action", "team", "webhook")


@admin.register(SlaTarget)
class SlaTargetAdmin(AuditedAdmin):
    form = SlaTargetForm
    list_display = ("policy", "metric", "amount", "unit", "calendar")
    list_filter = ("policy", "metric")
    inlines = [EscalationInline]
