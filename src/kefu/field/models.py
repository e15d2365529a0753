"""Field service: customer assets under warranty or contract, engineers' visits (dispatch to
the customer's confirmation), remote-support sessions, the contract deadlines of a work order,
and spare parts (catalogue, stock per location, reservations and the movements ledger)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# --- assets and their service level ---------------------------------------------------------------


class ServiceLevel(models.Model):
    """What a contract promises: arrive on site, give a workaround and resolve within so much
    working time on a business calendar (7×24 when no calendar is set)."""

    name = models.CharField(_("name"), max_length=80, unique=True)
    calendar = models.ForeignKey(
        "sla.BusinessCalendar",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        verbose_name=_("business calendar"),
        help_text=_("Empty: the clock runs around the clock (7×24)."),
    )
    arrival_minutes = models.PositiveIntegerField(_("arrive on site within (minutes)"))
    workaround_minutes = models.PositiveIntegerField(
        _("workaround within (minutes)"), null=True, blank=True
    )
    resolution_minutes = models.PositiveIntegerField(_("resolve within (minutes)"))
    description = models.CharField(_("description"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("service level")
        verbose_name_plural = _("service levels")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(arrival_minutes__gt=0) & Q(resolution_minutes__gt=0),
                name="field_service_level_positive",
            )
        ]

    def __str__(self) -> str:
        return self.name


class Asset(models.Model):
    """A product installed at a customer's site: what it is, where, and what covers it."""

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="assets"
    )
    product = models.CharField(_("product"), max_length=80)
    model = models.CharField(_("model"), max_length=80)
    serial = models.CharField(_("serial number"), max_length=80)
    installed_on = models.DateField(_("installation date"), null=True, blank=True)
    address = models.CharField(_("site address"), max_length=200, blank=True)
    warranty_until = models.DateField(_("warranty until"), null=True, blank=True)
    contract_number = models.CharField(_("service contract"), max_length=40, blank=True)
    contract_until = models.DateField(_("contract until"), null=True, blank=True)
    service_level = models.ForeignKey(
        ServiceLevel,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assets",
        verbose_name=_("service level"),
    )
    notes = models.TextField(_("notes"), max_length=2000, blank=True)
    is_active = models.BooleanField(_("in service"), default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("asset")
        verbose_name_plural = _("assets")
        ordering = ["customer_id", "product", "serial"]
        constraints = [
            models.UniqueConstraint(fields=["model", "serial"], name="field_asset_model_serial")
        ]

    def __str__(self) -> str:
        return f"{self.product} {self.model} #{self.serial}"

    def covered_until(self) -> dt.date | None:
        """The last day a warranty or contract covers the asset."""
        days = [d for d in (self.warranty_until, self.contract_until) if d is not None]
        return max(days) if days else None

    def level_on(self, day: dt.date) -> ServiceLevel | None:
        """The service level in force on ``day`` (none once warranty and contract ended)."""
        until = self.covered_until()
        if self.service_level_id is None or until is None or until < day:
            return None
        return self.service_level


# --- visits ---------------------------------------------------------------------------------------


class Visit(models.Model):
    """An engineer sent on site for a work order."""

    class State(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        EN_ROUTE = "en_route", _("On the way")
        ON_SITE = "on_site", _("On site")
        DONE = "done", _("Work done")
        CONFIRMED = "confirmed", _("Confirmed by the customer")
        CANCELLED = "cancelled", _("Cancelled")

    class Outcome(models.TextChoices):
        RESOLVED = "resolved", _("Resolved")
        WORKAROUND = "workaround", _("Workaround in place")
        FOLLOW_UP = "follow_up", _("Another visit needed")
        NOT_FIXED = "not_fixed", _("Could not fix")

    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="visits")
    asset = models.ForeignKey(
        Asset, on_delete=models.SET_NULL, null=True, blank=True, related_name="visits"
    )
    engineer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="field_visits"
    )
    state = models.CharField(_("state"), max_length=12, choices=State, default=State.SCHEDULED)
    window_start = models.DateTimeField(_("appointment from"))
    window_end = models.DateTimeField(_("appointment until"))
    address = models.CharField(_("address"), max_length=200)
    contact_name = models.CharField(_("contact"), max_length=60, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=32, blank=True)
    instructions = models.TextField(_("instructions"), max_length=2000, blank=True)
    travel_started_at = models.DateTimeField(_("left for the site"), null=True, blank=True)
    arrived_at = models.DateTimeField(_("arrived"), null=True, blank=True)
    arrival_lat = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    arrival_lng = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    arrival_accuracy = models.PositiveIntegerField(null=True, blank=True)  # metres
    departed_at = models.DateTimeField(_("left the site"), null=True, blank=True)
    report = models.TextField(_("work report"), max_length=5000, blank=True)
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome, blank=True)
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    confirmed_name = models.CharField(_("confirmed by"), max_length=60, blank=True)
    confirmed_via = models.CharField(max_length=10, blank=True)  # "on_site" | "link"
    customer_comment = models.CharField(_("customer's comment"), max_length=500, blank=True)
    disputed_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(_("reason"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        ordering = ["window_start", "pk"]
        indexes = [
            models.Index(fields=["engineer", "window_start"], name="field_visit_engineer_day"),
            models.Index(fields=["state", "window_start"], name="field_visit_state_day"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(window_end__gt=F("window_start")), name="field_visit_window"
            )
        ]

    def __str__(self) -> str:
        return f"V{self.pk}"

    @property
    def is_active(self) -> bool:
        return self.state in (self.State.SCHEDULED, self.State.EN_ROUTE, self.State.ON_SITE)


def photo_path(instance: VisitPhoto, _filename: str) -> str:
    return f"field/{timezone.now():%Y/%m}/{instance.storage_key}"


class VisitPhoto(models.Model):
    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="photos")
    file = models.FileField(upload_to=photo_path, max_length=200)
    storage_key = models.CharField(max_length=64, editable=False)
    filename = models.CharField(_("file name"), max_length=150)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField(_("size"))
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.filename


class RemoteSession(models.Model):
    """Help given without going on site: by phone, remote desktop, video or remote login."""

    class Tool(models.TextChoices):
        PHONE = "phone", _("Phone guidance")
        DESKTOP = "desktop", _("Remote desktop")
        VIDEO = "video", _("Video call")
        LOGIN = "login", _("Remote login (VPN/SSH)")
        OTHER = "other", _("Other")

    class Outcome(models.TextChoices):
        RESOLVED = "resolved", _("Resolved")
        WORKAROUND = "workaround", _("Workaround in place")
        ONSITE = "onsite", _("On-site visit needed")
        NOT_FIXED = "not_fixed", _("Not fixed")

    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.CASCADE, related_name="remote_sessions"
    )
    engineer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="remote_sessions"
    )
    tool = models.CharField(_("tool"), max_length=10, choices=Tool)
    tool_detail = models.CharField(_("session / tool details"), max_length=80, blank=True)
    started_at = models.DateTimeField(_("started"))
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome, blank=True)
    notes = models.TextField(_("notes"), max_length=5000, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("remote-support session")
        verbose_name_plural = _("remote-support sessions")
        ordering = ["started_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=F("started_at")),
                name="field_remote_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"R{self.pk}"


class Deadline(models.Model):
    """A contract deadline of one work order (arrival, workaround, resolution), computed once
    from the asset's service level and swept by one indexed query."""

    class Kind(models.TextChoices):
        ARRIVAL = "arrival", _("On-site arrival")
        WORKAROUND = "workaround", _("Workaround")
        RESOLUTION = "resolution", _("Resolution")

    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.CASCADE, related_name="field_deadlines"
    )
    kind = models.CharField(_("deadline"), max_length=12, choices=Kind)
    service_level = models.ForeignKey(ServiceLevel, on_delete=models.PROTECT, related_name="+")
    asset = models.ForeignKey(Asset, on_delete=models.SET_NULL, null=True, related_name="+")
    started_at = models.DateTimeField()
    due_at = models.DateTimeField(_("due"))
    met_at = models.DateTimeField(_("met"), null=True, blank=True)
    breached_at = models.DateTimeField(_("missed"), null=True, blank=True)

    class Meta:
        verbose_name = _("contract deadline")
        verbose_name_plural = _("contract deadlines")
        ordering = ["due_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["ticket", "kind"], name="field_deadline_once")
        ]
        indexes = [
            models.Index(
                fields=["due_at"],
                condition=Q(met_at__isnull=True, breached_at__isnull=True),
                name="field_deadline_running",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.due_at:%Y-%m-%d %H:%M}"


# --- spare parts ----------------------------------------------------------------------------------


class Location(models.Model):
    """Where parts are kept: a warehouse, or an engineer's van."""

    class Kind(models.TextChoices):
        WAREHOUSE = "warehouse", _("Warehouse")
        VAN = "van", _("Service van")

    name = models.CharField(_("name"), max_length=60, unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind, default=Kind.WAREHOUSE)
    keeper = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("keeper"),
        help_text=_("Hears about low stock here (the van's engineer, the storekeeper)."),
    )
    address = models.CharField(_("address"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("stock location")
        verbose_name_plural = _("stock locations")
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return self.name


class Part(models.Model):
    code = models.CharField(_("part number"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    unit = models.CharField(_("unit"), max_length=10, default="个")
    lead_time_days = models.PositiveSmallIntegerField(
        _("supply lead time (days)"), default=7, help_text=_("From order to delivery.")
    )
    description = models.CharField(_("description"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("spare part")
        verbose_name_plural = _("spare parts")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Stock(models.Model):
    """How many of a part are at a location, how many of those are reserved for work orders,
    and the minimum to keep. Never negative: checked by the database and by the services,
    which lock the row before changing it."""

    part = models.ForeignKey(Part, on_delete=models.PROTECT, related_name="stock")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="stock")
    on_hand = models.IntegerField(_("on hand"), default=0)
    reserved = models.IntegerField(_("reserved"), default=0)
    min_qty = models.IntegerField(_("minimum stock"), default=0)
    alerted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("stock")
        verbose_name_plural = _("stock")
        ordering = ["part__code", "location__name"]
        constraints = [
            models.UniqueConstraint(fields=["part", "location"], name="field_stock_once"),
            models.CheckConstraint(
                condition=Q(on_hand__gte=0)
                & Q(reserved__gte=0)
                & Q(min_qty__gte=0)
                & Q(reserved__lte=F("on_hand")),
                name="field_stock_never_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.part_id}@{self.location_id}"

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved

    @property
    def is_low(self) -> bool:
        return self.available < self.min_qty


class Reservation(models.Model):
    """Parts set aside at a location for a work order until used or given back."""

    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.CASCADE, related_name="part_reservations"
    )
    part = models.ForeignKey(Part, on_delete=models.PROTECT, related_name="+")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    qty = models.PositiveIntegerField(_("quantity"))
    consumed = models.PositiveIntegerField(_("used"), default=0)
    released = models.PositiveIntegerField(_("given back"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(qty__gt=0) & Q(qty__gte=F("consumed") + F("released")),
                name="field_reservation_balance",
            )
        ]

    def __str__(self) -> str:
        return f"{self.part_id}×{self.qty}"

    @property
    def open_qty(self) -> int:
        return self.qty - self.consumed - self.released


class Movement(models.Model):
    """The stock ledger: one row per change, with the balances after it."""

    class Kind(models.TextChoices):
        RECEIVE = "receive", _("Received")
        RESERVE = "reserve", _("Reserved")
        RELEASE = "release", _("Reservation released")
        CONSUME = "consume", _("Used")
        TRANSFER_OUT = "transfer_out", _("Transferred out")
        TRANSFER_IN = "transfer_in", _("Transferred in")

    part = models.ForeignKey(Part, on_delete=models.PROTECT, related_name="movements")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="movements")
    kind = models.CharField(_("movement"), max_length=12, choices=Kind)
    qty = models.PositiveIntegerField(_("quantity"))
    on_hand_after = models.IntegerField()
    reserved_after = models.IntegerField()
    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reservation = models.ForeignKey(
        Reservation, on_delete=models.SET_NULL, null=True, blank=True, related_name="movements"
    )
    other_location = models.ForeignKey(
        Location, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["part", "location", "kind", "at"], name="field_movement_use"),
        ]
        constraints = [models.CheckConstraint(condition=Q(qty__gt=0), name="field_movement_qty")]

    def __str__(self) -> str:
        return f"{self.kind} {self.qty}"
