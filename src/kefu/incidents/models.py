"""Major incidents (重大事件): one outage, thousands of contacts.

An incident is declared with the areas and keywords it concerns; contacts on every channel that
match are linked to it (or linked by hand); each published update goes to every channel; when it
ends, every linked open work order gets one reply and is resolved.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kefu.core.choices import Channel


class Status(models.TextChoices):
    DECLARED = "declared", _("Declared")
    MONITORING = "monitoring", _("Being handled")
    RESOLVED = "resolved", _("Restored")
    CLOSED = "closed", _("Closed")


ACTIVE_STATES = (Status.DECLARED, Status.MONITORING)


class Severity(models.TextChoices):
    GENERAL = "general", _("General incident")
    MAJOR = "major", _("Major incident")
    CRITICAL = "critical", _("Critical incident")


class Incident(models.Model):
    title = models.CharField(_("title"), max_length=120)
    description = models.TextField(_("internal description"), max_length=4000, blank=True)
    severity = models.CharField(
        _("severity"), max_length=10, choices=Severity, default=Severity.MAJOR
    )
    status = models.CharField(_("status"), max_length=12, choices=Status, default=Status.DECLARED)
    areas = models.JSONField(
        _("areas"), default=list, blank=True, help_text=_("Places it concerns (区/街道/台区/站点).")
    )
    keywords = models.JSONField(_("keywords"), default=list, blank=True)
    auto_link = models.BooleanField(_("link matching contacts automatically"), default=True)
    public_text = models.TextField(_("published text"), max_length=2000)
    ivr_text = models.CharField(_("IVR announcement"), max_length=500, blank=True)
    expected_end_at = models.DateTimeField(_("expected restoration"), null=True, blank=True)
    started_at = models.DateTimeField(_("began"), default=timezone.now)
    declared_at = models.DateTimeField(_("declared"), default=timezone.now)
    declared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    # The one reply sent to every linked work order when it ends, and its progress.
    closing_reply = models.TextField(_("closing reply"), max_length=4000, blank=True)
    closing_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    closing_started_at = models.DateTimeField(null=True, blank=True)
    closing_finished_at = models.DateTimeField(null=True, blank=True)
    closing_total = models.PositiveIntegerField(default=0)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("major incident")
        verbose_name_plural = _("major incidents")
        ordering = ["-declared_at", "-id"]
        indexes = [models.Index(fields=["status", "declared_at"], name="incident_status_idx")]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    @property
    def reference(self) -> str:
        return f"ZD{self.pk:05d}" if self.pk else "ZD"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATES

    @property
    def closing_running(self) -> bool:
        return self.closing_started_at is not None and self.closing_finished_at is None


class Update(models.Model):
    """One published update: it goes to every channel at once and stays in the timeline."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="updates")
    text = models.TextField(_("text"), max_length=2000)
    ivr_text = models.CharField(_("IVR announcement"), max_length=500, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=Status)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["published_at", "id"]

    def __str__(self) -> str:
        return self.text[:40]


class Link(models.Model):
    """A contact (work order, chat, call, …) linked to an incident."""

    class How(models.TextChoices):
        AREA = "area", _("By area")
        KEYWORD = "keyword", _("By keyword")
        MANUAL = "manual", _("By hand")
        MATCHED = "matched", _("Matched when declared")

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="links")
    channel = models.CharField(_("channel"), max_length=16, choices=Channel)
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.BigIntegerField()
    label = models.CharField(_("contact"), max_length=200)
    ticket = models.ForeignKey(
        "tickets.Ticket", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    customer = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    how = models.CharField(_("linked"), max_length=10, choices=How)
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    linked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "content_type", "object_id"], name="incident_link_unique"
            )
        ]
        indexes = [
            models.Index(fields=["incident", "linked_at"], name="incident_link_time_idx"),
            models.Index(
                fields=["ticket"],
                name="incident_link_ticket_idx",
                condition=Q(ticket__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return self.label


class ClosingReply(models.Model):
    """The idempotency key of the closing reply: one row per (incident, work order), written in
    the transaction that adds the reply, so a retried or doubled job never replies twice."""

    class State(models.TextChoices):
        SENT = "sent", _("Replied and resolved")
        SKIPPED = "skipped", _("Already finished")
        FAILED = "failed", _("Could not be resolved")

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="replies")
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="+")
    state = models.CharField(max_length=8, choices=State)
    detail = models.CharField(max_length=300, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["incident", "ticket"], name="incident_reply_once")
        ]

    def __str__(self) -> str:
        return f"{self.incident_id}/{self.ticket_id}: {self.state}"
