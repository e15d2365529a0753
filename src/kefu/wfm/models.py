"""Workforce management: forecasts, planner overrides, agents' working rules, leave, rosters and
their shifts."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kefu.core.choices import Channel

CHANNELS = [("all", _("All channels")), *Channel.choices]


class Forecast(models.Model):
    """Contacts per interval for whole local days from ``start``, with the AHT to staff them."""

    name = models.CharField(_("name"), max_length=120)
    channel = models.CharField(_("channel"), max_length=16, choices=CHANNELS, default="all")
    interval_minutes = models.PositiveSmallIntegerField(_("interval (minutes)"), default=30)
    start = models.DateField(_("first day"))
    days = models.PositiveSmallIntegerField(_("days"))
    model = models.CharField(_("model"), max_length=24, default="glm")
    values = models.JSONField(_("contacts per interval"), default=list)
    aht_seconds = models.FloatField(_("average handle time (s)"), default=240.0)
    history_days = models.PositiveSmallIntegerField(_("history used (days)"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("forecast")
        verbose_name_plural = _("forecasts")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(interval_minutes__in=[15, 30, 60]), name="wfm_forecast_interval"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def total(self) -> float:
        return float(sum(self.values))


class Override(models.Model):
    """A known event: scale the forecast of a channel by ``percent`` over a window."""

    channel = models.CharField(_("channel"), max_length=16, choices=CHANNELS, default="all")
    starts_at = models.DateTimeField(_("from"))
    ends_at = models.DateTimeField(_("until"))
    percent = models.FloatField(_("change (%)"))
    reason = models.CharField(_("reason"), max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("forecast override")
        verbose_name_plural = _("forecast overrides")
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="wfm_override_window"
            ),
            models.CheckConstraint(condition=models.Q(percent__gt=-100), name="wfm_override_pct"),
        ]

    def __str__(self) -> str:
        return f"{self.reason} ({self.percent:+g}%)"


class WorkRule(models.Model):
    """How an agent may be rostered: a rotation team (四值三运转) or flexible shifts."""

    class Rotation(models.TextChoices):
        FLEXIBLE = "", _("Flexible (optimised shifts)")
        A = "A", _("Rotation team A")
        B = "B", _("Rotation team B")
        C = "C", _("Rotation team C")
        D = "D", _("Rotation team D")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="work_rule"
    )
    rotation = models.CharField(_("rotation"), max_length=1, blank=True, choices=Rotation)
    days_off = models.JSONField(_("fixed weekdays off"), default=list)  # 0 = Monday
    max_week_hours = models.PositiveSmallIntegerField(_("maximum hours per week"), default=40)
    shifts = models.JSONField(_("allowed shifts"), default=list)  # empty: all

    class Meta:
        verbose_name = _("working rule")
        verbose_name_plural = _("working rules")

    def __str__(self) -> str:
        return str(self.user)


class Leave(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="wfm_leave"
    )
    first_day = models.DateField(_("first day"))
    last_day = models.DateField(_("last day"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("leave")
        verbose_name_plural = _("leave")
        ordering = ["first_day"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(last_day__gte=models.F("first_day")), name="wfm_leave_order"
            ),
        ]
        indexes = [models.Index(fields=["user", "first_day"], name="wfm_leave_user_idx")]

    def __str__(self) -> str:
        return f"{self.user} {self.first_day}–{self.last_day}"


class Roster(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")

    team = models.ForeignKey(
        "accounts.Team", on_delete=models.PROTECT, related_name="rosters", verbose_name=_("team")
    )
    forecast = models.ForeignKey(
        Forecast, null=True, on_delete=models.SET_NULL, related_name="rosters"
    )
    start = models.DateField(_("first day"))
    weeks = models.PositiveSmallIntegerField(_("weeks"), default=1)
    interval_minutes = models.PositiveSmallIntegerField(default=30)
    skill = models.CharField(_("required skill"), max_length=40, blank=True)
    service_level = models.FloatField(_("service level target"), default=0.8)
    answer_seconds = models.PositiveIntegerField(_("answered within (s)"), default=20)
    shrinkage = models.FloatField(_("shrinkage"), default=0.3)
    max_occupancy = models.FloatField(_("maximum occupancy"), default=0.9)
    patience_seconds = models.FloatField(_("mean patience (s)"), default=180.0)
    requirement = models.JSONField(_("agents required per interval"), default=list)
    status = models.CharField(max_length=12, choices=Status, default=Status.DRAFT)
    solver_status = models.CharField(max_length=16, blank=True)
    solve_seconds = models.FloatField(default=0.0)
    published_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("roster")
        verbose_name_plural = _("rosters")
        ordering = ["-start", "team__name"]
        indexes = [models.Index(fields=["status", "start"], name="wfm_roster_status_idx")]

    def __str__(self) -> str:
        return f"{self.team} {self.start:%Y-%m-%d}"

    @property
    def days(self) -> int:
        return self.weeks * 7


class Shift(models.Model):
    """One cell of a roster: an agent's shift (by code) on a day."""

    roster = models.ForeignKey(Roster, on_delete=models.CASCADE, related_name="shifts")
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="wfm_shifts"
    )
    day = models.DateField()
    code = models.CharField(max_length=4)

    class Meta:
        verbose_name = _("shift")
        verbose_name_plural = _("shifts")
        constraints = [
            models.UniqueConstraint(fields=["roster", "agent", "day"], name="wfm_shift_unique"),
        ]
        indexes = [models.Index(fields=["agent", "day"], name="wfm_shift_agent_day_idx")]

    def __str__(self) -> str:
        return f"{self.agent_id} {self.day} {self.code}"


SHIFT_LABELS = {
    "N": _("Night 00:00–08:00"),
    "D": _("Day 08:00–16:00"),
    "E": _("Evening 16:00–24:00"),
    "O": _("Office 09:00–18:00"),
    "PA": _("Morning peak 08:30–12:30"),
    "PP": _("Evening peak 18:30–22:30"),
    "PS": _("Split peak 08:30–11:30 + 18:30–21:30"),
}
