"""SLA configuration (business calendars, policies, targets, escalations) and the running state
of every clock (one row per work order and metric), with the history of its deadlines."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def default_hours() -> dict[str, list[list[str]]]:
    """Monday to Friday, 08:30–12:00 and 13:30–17:30."""
    return {str(day): [["08:30", "12:00"], ["13:30", "17:30"]] for day in range(5)}


class BusinessCalendar(models.Model):
    """When the centre (or one kind of work) counts as open."""

    class Kind(models.TextChoices):
        ALWAYS = "always", _("7×24 (always open)")
        WEEKLY = "weekly", _("Weekly hours")
        CHINA = "china", _("Weekly hours with China's statutory holidays and 调休")

    name = models.CharField(_("name"), max_length=80, unique=True)
    code = models.SlugField(_("code"), max_length=40, unique=True)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind, default=Kind.CHINA)
    tz = models.CharField(_("time zone"), max_length=64, default="Asia/Shanghai")
    hours = models.JSONField(
        _("weekly hours"),
        default=default_hours,
        blank=True,
        help_text=_(
            'Per weekday (0 = Monday): [["08:30", "12:00"], ["13:30", "17:30"]]. Missing days are closed.'
        ),
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("business calendar")
        verbose_name_plural = _("business calendars")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.updated_at = timezone.now()
        super().save(*args, **kwargs)


class CalendarDay(models.Model):
    """An administrator's entry for one date: a holiday (closed), a working day (e.g. a 调休
    Saturday the library does not know yet), or special hours."""

    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="days")
    date = models.DateField(_("date"))
    is_open = models.BooleanField(_("open"), default=False)
    periods = models.JSONField(
        _("hours"),
        default=list,
        blank=True,
        help_text=_('For open days: [["08:30", "12:00"], …]; empty uses the normal weekday hours.'),
    )
    note = models.CharField(_("note"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["calendar", "date"], name="calendar_day_unique")
        ]

    def __str__(self) -> str:
        return f"{self.date} {'open' if self.is_open else 'closed'}"


class Metric(models.TextChoices):
    FIRST_RESPONSE = "first_response", _("First response")
    NEXT_RESPONSE = "next_response", _("Next response")
    RESOLUTION = "resolution", _("Resolution")
    REMOTE_RESPONSE = "remote_response", _("Remote-support response")
    ONSITE_ARRIVAL = "onsite_arrival", _("On-site arrival")
    TRANSFER_REPLY = "transfer_reply", _("Department reply")


class SlaPolicy(models.Model):
    """Targets for the work orders that match its conditions; the first matching policy by
    ``order`` applies. An empty condition matches everything."""

    name = models.CharField(_("name"), max_length=80, unique=True)
    order = models.PositiveSmallIntegerField(
        _("order"), default=100, help_text=_("Lower is checked first.")
    )
    is_active = models.BooleanField(_("active"), default=True)
    description = models.CharField(_("description"), max_length=300, blank=True)
    ticket_types = models.ManyToManyField("tickets.TicketType", blank=True, verbose_name=_("types"))
    categories = models.ManyToManyField(
        "tickets.Category",
        blank=True,
        verbose_name=_("categories"),
        help_text=_("Sub-categories match too."),
    )
    priorities = models.JSONField(
        _("priorities"), default=list, blank=True, help_text=_("e.g. [1, 2]")
    )
    severities = models.JSONField(_("severities"), default=list, blank=True)
    channels = models.JSONField(_("channels"), default=list, blank=True)
    areas = models.JSONField(
        _("areas"), default=list, blank=True, help_text=_('"urban", "rural", "remote"')
    )
    vip_tiers = models.ManyToManyField("customers.VipTier", blank=True, verbose_name=_("VIP tiers"))
    organizations = models.ManyToManyField(
        "customers.Customer",
        blank=True,
        verbose_name=_("organisations"),
        limit_choices_to={"kind": "organization"},
        related_name="+",
    )
    pause_statuses = models.JSONField(
        _("pause in these statuses"),
        default=list,
        blank=True,
        help_text=_(
            'e.g. ["waiting_customer"]; resolution and next-response clocks stop counting.'
        ),
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.name


class SlaTarget(models.Model):
    class Unit(models.TextChoices):
        MINUTES = "minutes", _("minutes")
        HOURS = "hours", _("hours")
        WORKING_DAYS = "working_days", _("working days")

    policy = models.ForeignKey(SlaPolicy, on_delete=models.CASCADE, related_name="targets")
    metric = models.CharField(_("metric"), max_length=20, choices=Metric)
    amount = models.PositiveIntegerField(_("amount"))
    unit = models.CharField(_("unit"), max_length=12, choices=Unit, default=Unit.HOURS)
    calendar = models.ForeignKey(
        BusinessCalendar,
        on_delete=models.PROTECT,
        related_name="targets",
        verbose_name=_("calendar"),
    )
    warn_at = models.JSONField(
        _("warn at (% of the time used)"), default=list, blank=True, help_text=_("e.g. [75, 90]")
    )

    class Meta:
        verbose_name = _("SLA target")
        verbose_name_plural = _("SLA targets")
        ordering = ["policy", "metric"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "metric"], name="sla_target_unique_metric")
        ]

    def __str__(self) -> str:
        return f"{self.policy}: {self.get_metric_display()} {self.amount} {self.get_unit_display()}"


class Escalation(models.Model):
    """What happens when a clock reaches a level: a warning threshold (75, 90 …) or the breach (100)."""

    class Action(models.TextChoices):
        NOTIFY_ASSIGNEE = "notify_assignee", _("Notify the assignee")
        NOTIFY_LEAD = "notify_lead", _("Notify the team lead")
        NOTIFY_SUPERVISORS = "notify_supervisors", _("Notify the supervisors")
        RAISE_PRIORITY = "raise_priority", _("Raise the priority one step")
        REASSIGN = "reassign", _("Reassign to a team")
        MARK_SENSITIVE = "mark_sensitive", _("Mark sensitive")
        WEBHOOK = "webhook", _("Call a webhook")

    target = models.ForeignKey(SlaTarget, on_delete=models.CASCADE, related_name="escalations")
    level = models.PositiveSmallIntegerField(
        _("at % of the time used"), default=100, help_text=_("100 = the deadline passed")
    )
    action = models.CharField(_("action"), max_length=20, choices=Action)
    team = models.ForeignKey(
        "accounts.Team",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("team"),
        help_text=_("For “reassign to a team”."),
    )
    webhook = models.ForeignKey(
        "tickets.Webhook",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("webhook"),
        help_text=_("For “call a webhook”: receives an sla.escalated event."),
    )

    class Meta:
        verbose_name = _("escalation")
        verbose_name_plural = _("escalations")
        ordering = ["target", "level", "id"]

    def __str__(self) -> str:
        return f"{self.level}% {self.get_action_display()}"


class SlaClock(models.Model):
    """One running (or finished) SLA measurement of one work order."""

    class State(models.TextChoices):
        RUNNING = "running", _("Running")
        PAUSED = "paused", _("Paused")
        MET = "met", _("Met")
        BREACHED = "breached", _("Breached")
        CANCELLED = "cancelled", _("Cancelled")

    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.CASCADE, related_name="sla_clocks"
    )
    transfer = models.ForeignKey(
        "tickets.Transfer",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="sla_clocks",
    )
    metric = models.CharField(_("metric"), max_length=20, choices=Metric)
    policy = models.ForeignKey(SlaPolicy, null=True, on_delete=models.SET_NULL, related_name="+")
    target_seconds = models.PositiveIntegerField()
    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.PROTECT, related_name="+")
    warn_at = models.JSONField(default=list)
    started_at = models.DateTimeField()
    pauses = models.JSONField(default=list, help_text="[[start ISO, end ISO or null], …]")
    due_at = models.DateTimeField(null=True, blank=True)
    next_alert_at = models.DateTimeField(null=True, blank=True)
    fired = models.JSONField(default=list, help_text="levels already fired")
    state = models.CharField(max_length=10, choices=State, default=State.RUNNING)
    stopped_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)
    elapsed_seconds = models.PositiveIntegerField(
        null=True, blank=True, help_text="working time used, when stopped"
    )
    breach_reason = models.CharField(_("reason for the breach"), max_length=300, blank=True)
    breach_reason_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("SLA clock")
        verbose_name_plural = _("SLA clocks")
        indexes = [
            models.Index(
                fields=["next_alert_at"], name="sla_clock_sweep_idx", condition=Q(state="running")
            ),
            models.Index(fields=["ticket", "metric"], name="sla_clock_ticket_idx"),
            models.Index(fields=["metric", "stopped_at"], name="sla_clock_report_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.metric} {self.state}"

    @property
    def is_live(self) -> bool:
        return self.state in (self.State.RUNNING, self.State.PAUSED)


class SlaAlert(models.Model):
    """A level a clock reached. The unique constraint makes each one fire once, whichever
    worker's sweep sees it first."""

    clock = models.ForeignKey(SlaClock, on_delete=models.CASCADE, related_name="alerts")
    level = models.PositiveSmallIntegerField()
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["clock", "level"], name="sla_alert_once")]

    def __str__(self) -> str:
        return f"{self.clock_id}@{self.level}"


class DeadlineChange(models.Model):
    """Why a deadline moved: a new policy or priority, a pause, a resume, a reopen."""

    clock = models.ForeignKey(SlaClock, on_delete=models.CASCADE, related_name="changes")
    at = models.DateTimeField(default=timezone.now)
    old_due_at = models.DateTimeField(null=True)
    new_due_at = models.DateTimeField(null=True)
    reason = models.CharField(max_length=200)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.clock_id}: {self.reason}"


def target_seconds(target: SlaTarget, standard_day: int) -> int:
    if target.unit == SlaTarget.Unit.MINUTES:
        return int(target.amount) * 60
    if target.unit == SlaTarget.Unit.HOURS:
        return int(target.amount) * 3600
    return int(target.amount) * standard_day
