"""Customers (CRM-lite): persons and organisations, contact points, account numbers, tiers."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class VipTier(models.Model):
    """An administrator-defined customer tier. Its weight is a bonus in seconds of waiting time:
    in a queue a tier-1 customer is treated as if they had waited this much longer."""

    code = models.SlugField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=50, unique=True)
    rank = models.PositiveSmallIntegerField(
        _("rank"), default=1, help_text=_("Higher ranks are shown first and win in a merge.")
    )
    priority_weight = models.PositiveIntegerField(
        _("priority weight (seconds)"),
        default=0,
        help_text=_("Queue bonus: how many seconds of waiting time this tier is worth."),
    )
    color = models.CharField(_("colour"), max_length=7, default="#b8860b")
    description = models.CharField(_("description"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("VIP tier")
        verbose_name_plural = _("VIP tiers")
        ordering = ["-rank", "name"]

    def __str__(self) -> str:
        return self.name


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=40, unique=True)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Customer(models.Model):
    class Kind(models.TextChoices):
        PERSON = "person", _("Person")
        ORGANIZATION = "organization", _("Organisation")

    kind = models.CharField(_("kind"), max_length=12, choices=Kind, default=Kind.PERSON)
    name = models.CharField(_("name"), max_length=100)
    organization = models.ForeignKey(
        "self",
        verbose_name=_("organisation"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="people",
        limit_choices_to={"kind": "organization"},
    )
    credit_code = models.CharField(_("unified social credit code"), max_length=18, blank=True)
    industry = models.CharField(_("industry"), max_length=60, blank=True)
    vip_tier = models.ForeignKey(
        VipTier,
        verbose_name=_("VIP tier"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="customers",
    )
    address = models.CharField(_("address"), max_length=200, blank=True)
    language = models.CharField(_("preferred language"), max_length=10, default="zh-hans")
    tags = models.ManyToManyField(Tag, blank=True, related_name="customers", verbose_name=_("tags"))
    is_active = models.BooleanField(_("active"), default=True)
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_from",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        indexes = [
            models.Index(fields=["name", "id"], name="customer_name_idx"),
            models.Index(fields=["created_at", "id"], name="customer_created_idx"),
            models.Index(fields=["updated_at", "id"], name="customer_updated_idx"),
            models.Index(fields=["kind", "is_active"], name="customer_kind_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_organization(self) -> bool:
        return self.kind == self.Kind.ORGANIZATION


class ContactPoint(models.Model):
    class Kind(models.TextChoices):
        PHONE = "phone", _("Phone")
        EMAIL = "email", _("E-mail")
        WECHAT = "wechat", _("WeChat")
        QQ = "qq", _("QQ")
        IM = "im", _("Other IM")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contacts")
    kind = models.CharField(_("kind"), max_length=8, choices=Kind)
    value = models.CharField(_("value"), max_length=120)
    normalized = models.CharField(_("normalised value"), max_length=120)
    label = models.CharField(_("label"), max_length=30, blank=True)
    is_primary = models.BooleanField(_("primary"), default=False)

    class Meta:
        verbose_name = _("contact point")
        verbose_name_plural = _("contact points")
        ordering = ["-is_primary", "kind", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "kind", "normalized"], name="contact_unique_per_customer"
            )
        ]
        indexes = [models.Index(fields=["kind", "normalized"], name="contact_lookup_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.value}"


class AccountNumber(models.Model):
    """A utility account number (户号) held by the customer."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="accounts")
    number = models.CharField(_("account number"), max_length=20, unique=True)
    label = models.CharField(_("label"), max_length=40, blank=True)
    address = models.CharField(_("supply address"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("account number")
        verbose_name_plural = _("account numbers")
        ordering = ["number"]

    def __str__(self) -> str:
        return self.number


class CustomerNote(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = models.TextField(_("note"), max_length=4000)
    is_pinned = models.BooleanField(_("pinned"), default=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("customer note")
        verbose_name_plural = _("customer notes")
        ordering = ["-is_pinned", "-created_at"]

    def __str__(self) -> str:
        return self.body[:40]
