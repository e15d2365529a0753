"""Customer requirements (需求管理): what customers ask the company to change or add, gathered
from work orders and chats, each linked to every customer who asked, scored and moved through
collect → organise → analyse → screen → implement → track → close."""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kefu.core.choices import Channel
from kefu.requirements.states import Status


class Kind(models.TextChoices):
    FUNCTIONAL = "functional", _("Functional need")
    PERFORMANCE = "performance", _("Performance need")
    SERVICE = "service", _("Service need")
    EMOTIONAL = "emotional", _("Emotional need")


class Requirement(models.Model):
    title = models.CharField(_("title"), max_length=150)
    description = models.TextField(_("description"), max_length=8000, blank=True)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind)
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.COLLECT)
    importance = models.PositiveSmallIntegerField(_("importance"), null=True, blank=True)
    feasibility = models.PositiveSmallIntegerField(_("feasibility"), null=True, blank=True)
    benefit = models.PositiveSmallIntegerField(_("benefit"), null=True, blank=True)
    score = models.DecimalField(
        _("priority score"), max_digits=4, decimal_places=1, null=True, blank=True
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decision_note = models.TextField(_("decision"), max_length=4000, blank=True)
    ship_note = models.TextField(_("what shipped"), max_length=4000, blank=True)
    shipped_at = models.DateTimeField(_("shipped"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged_from"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("customer requirement")
        verbose_name_plural = _("customer requirements")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "score"], name="requirement_status_idx"),
            models.Index(fields=["updated_at", "id"], name="requirement_updated_idx"),
        ]
        constraints = [
            *(
                models.CheckConstraint(
                    condition=Q(**{f"{f}__isnull": True}) | Q(**{f"{f}__gte": 1, f"{f}__lte": 5}),
                    name=f"requirement_{f}_range",
                )
                for f in ("importance", "feasibility", "benefit")
            )
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    @property
    def reference(self) -> str:
        return f"XQ{self.pk:05d}" if self.pk else "XQ"


class Source(models.Model):
    """Where a requirement was heard: a work order, a chat, a call — and who said it."""

    requirement = models.ForeignKey(Requirement, on_delete=models.CASCADE, related_name="sources")
    customer = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    channel = models.CharField(_("channel"), max_length=16, choices=Channel)
    ticket = models.ForeignKey(
        "tickets.Ticket", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    content_type = models.ForeignKey(
        ContentType, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    object_id = models.BigIntegerField(null=True, blank=True)
    label = models.CharField(_("source"), max_length=200)
    note = models.CharField(_("what they said"), max_length=500, blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["added_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["requirement", "content_type", "object_id"],
                condition=Q(object_id__isnull=False),
                name="requirement_source_once",
            ),
            models.UniqueConstraint(
                fields=["requirement", "customer"],
                condition=Q(object_id__isnull=True, customer__isnull=False),
                name="requirement_customer_once",
            ),
        ]
        indexes = [
            models.Index(fields=["ticket"], name="requirement_source_ticket_idx"),
            models.Index(fields=["customer"], name="requirement_source_cust_idx"),
        ]

    def __str__(self) -> str:
        return self.label


class ShipNotice(models.Model):
    """One per (requirement, customer): the customer was told theirs shipped, and how."""

    class Via(models.TextChoices):
        REPLY = "reply", _("Reply on their work order")
        PORTAL = "portal", _("Portal notification and e-mail")
        NONE = "none", _("No way to reach them")

    requirement = models.ForeignKey(Requirement, on_delete=models.CASCADE, related_name="notices")
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+")
    via = models.CharField(max_length=8, choices=Via)
    ticket = models.ForeignKey(
        "tickets.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["requirement", "customer"], name="requirement_told_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.requirement_id}/{self.customer_id}: {self.via}"
