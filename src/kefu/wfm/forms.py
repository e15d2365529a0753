"""Planner forms: a forecast, an override, a roster, leave."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from kefu.accounts.models import Team
from kefu.core.forms import StyledForm
from kefu.wfm.models import CHANNELS, Forecast

INTERVALS = [(15, _("15 minutes")), (30, _("30 minutes")), (60, _("60 minutes"))]


class ForecastForm(StyledForm):
    name = forms.CharField(label=_("Name"), max_length=120)
    channel = forms.ChoiceField(label=_("Channel"), choices=CHANNELS)
    start = forms.DateField(label=_("First day"), widget=forms.DateInput(attrs={"type": "date"}))
    days = forms.IntegerField(label=_("Days"), min_value=1, max_value=62, initial=14)
    interval_minutes = forms.TypedChoiceField(
        label=_("Interval"), choices=INTERVALS, coerce=int, initial=30
    )
    history_days = forms.IntegerField(label=_("History (days)"), min_value=7, max_value=730,
                                      initial=56)  # fmt: skip
    aht_seconds = forms.FloatField(label=_("Average handle time (s)"), min_value=10,
                                   max_value=7200, initial=240)  # fmt: skip


class OverrideForm(StyledForm):
    channel = forms.ChoiceField(label=_("Channel"), choices=CHANNELS)
    starts_at = forms.DateTimeField(label=_("From"),
                                    widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))  # fmt: skip
    ends_at = forms.DateTimeField(label=_("Until"),
                                  widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))  # fmt: skip
    percent = forms.FloatField(label=_("Change (%)"), help_text=_("e.g. 30 for +30 %"))
    reason = forms.CharField(label=_("Event"), max_length=200,
                             help_text=_("A planned-outage notice, a weather alert, …"))  # fmt: skip


class RosterForm(StyledForm):
    team = forms.ModelChoiceField(label=_("Team"), queryset=Team.objects.filter(is_active=True))
    forecast = forms.ModelChoiceField(label=_("Forecast"), queryset=Forecast.objects.all())
    start = forms.DateField(label=_("First day"), widget=forms.DateInput(attrs={"type": "date"}))
    weeks = forms.IntegerField(label=_("Weeks"), min_value=1, max_value=6, initial=1)
    skill = forms.CharField(label=_("Required skill (code)"), max_length=40, required=False)
    service_level = forms.FloatField(label=_("Service level (share)"), min_value=0.01,
                                     max_value=0.99, initial=0.8)  # fmt: skip
    answer_seconds = forms.IntegerField(label=_("Answered within (s)"), min_value=0,
                                        max_value=3600, initial=20)  # fmt: skip
    shrinkage = forms.FloatField(label=_("Shrinkage (share)"), min_value=0, max_value=0.89,
                                 initial=0.3)  # fmt: skip
    max_occupancy = forms.FloatField(label=_("Maximum occupancy (share)"), min_value=0.3,
                                     max_value=1, initial=0.9)  # fmt: skip
