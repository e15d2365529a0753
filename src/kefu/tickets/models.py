"""Work orders (工单): types, categories, custom fields, the ticket itself, its conversation,
attachments, links, department transfers, canned replies, saved filters, webhooks."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from kefu.core.choices import Channel
from kefu.tickets.states import OPEN_STATES, Status


def _localized(obj: Any, field: str) -> str:
    if (get_language() or "").startswith("en"):
        return str(getattr(obj, f"{field}_en") or getattr(obj, field))
    return str(getattr(obj, field))


class TicketType(models.Model):
    """咨询, 查询, 故障报修, 投诉, … — editable by administrators."""

    code = models.SlugField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name (Chinese)"), max_length=40, unique=True)
    name_en = models.CharField(_("name (English)"), max_length=60, blank=True)
    sort = models.PositiveSmallIntegerField(_("order"), default=100)
    is_active = models.BooleanField(_("active"), default=True)
    default_priority = models.PositiveSmallIntegerField(_("default priority"), default=3)
    portal_visible = models.BooleanField(
        _("customers may choose it"), default=True, help_text=_("Offered in the customer portal.")
    )

    class Meta:
        verbose_name = _("work-order type")
        verbose_name_plural = _("work-order types")
        ordering = ["sort", "id"]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return _localized(self, "name")


class Category(models.Model):
    """A two- or three-level tree, e.g. 电费 › 账单异常."""

    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    name = models.CharField(_("name (Chinese)"), max_length=40)
    name_en = models.CharField(_("name (English)"), max_length=60, blank=True)
    path = models.CharField(_("path"), max_length=200, editable=False)
    level = models.PositiveSmallIntegerField(_("level"), default=1, editable=False)
    sort = models.PositiveSmallIntegerField(_("order"), default=100)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["path"]
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], name="category_unique_name"),
            models.CheckConstraint(
                condition=Q(level__gte=1, level__lte=3), name="category_level_range"
            ),
        ]

    def __str__(self) -> str:
        return self.path

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.parent_id:
            parent = self.parent
            assert parent is not None
            self.level = parent.level + 1
            self.path = f"{parent.path} › {self.name}"
        else:
            self.level = 1
            self.path = self.name
        super().save(*args, **kwargs)

    @property
    def label(self) -> str:
        if (get_language() or "").startswith("en"):
            parts = []
            node: Category | None = self
            while node is not None:
                parts.append(node.name_en or node.name)
                node = node.parent
            return " › ".join(reversed(parts))
        return self.path


class CustomField(models.Model):
    """An extra field an administrator defines for one work-order type."""

    class Kind(models.TextChoices):
        TEXT = "text", _("Text")
        NUMBER = "number", _("Number")
        DATE = "date", _("Date")
        CHOICE = "choice", _("Choice")

    ticket_type = models.ForeignKey(
        TicketType, on_delete=models.CASCADE, related_name="custom_fields", verbose_name=_("type")
    )
    key = models.SlugField(_("key"), max_length=40)
    label = models.CharField(_("label (Chinese)"), max_length=60)
    label_en = models.CharField(_("label (English)"), max_length=80, blank=True)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind, default=Kind.TEXT)
    choices = models.JSONField(
        _("choices"), default=list, blank=True, help_text=_("For choice fields: a list of options.")
    )
    required = models.BooleanField(_("required"), default=False)
    help_text = models.CharField(_("help text"), max_length=200, blank=True)
    sort = models.PositiveSmallIntegerField(_("order"), default=100)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("custom field")
        verbose_name_plural = _("custom fields")
        ordering = ["ticket_type", "sort", "id"]
        constraints = [
            models.UniqueConstraint(fields=["ticket_type", "key"], name="custom_field_unique_key")
        ]

    def __str__(self) -> str:
        return f"{self.ticket_type}: {self.label}"

    @property
    def display_label(self) -> str:
        return _localized(self, "label")


class TicketTag(models.Model):
    name = models.CharField(_("name"), max_length=40, unique=True)

    class Meta:
        verbose_name = _("work-order tag")
        verbose_name_plural = _("work-order tags")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TicketCounter(models.Model):
    """The last number handed out on a day, for numbers like GD20261123-00042."""

    day = models.DateField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.day}: {self.last}"


class Priority(models.IntegerChoices):
    P1 = 1, _("P1 urgent")
    P2 = 2, _("P2 high")
    P3 = 3, _("P3 normal")
    P4 = 4, _("P4 low")


class Severity(models.TextChoices):
    GENERAL = "general", _("General inquiry")
    MINOR = "minor", _("Minor fault")
    SEVERE = "severe", _("Severe fault")
    DOWN = "down", _("System down")


class Area(models.TextChoices):
    """Where an on-site job is (for repair arrival promises such as 45 / 90 / 120 minutes)."""

    URBAN = "urban", _("Urban")
    RURAL = "rural", _("Rural")
    REMOTE = "remote", _("Remote")


class Subject(models.TextChoices):
    STAFF = "staff", _("Staff service")
    EQUIPMENT = "equipment", _("Equipment and facilities")
    POLICY = "policy", _("Company policy")


class Ticket(models.Model):
    number = models.CharField(_("number"), max_length=24, unique=True)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), max_length=20000, blank=True)
    ticket_type = models.ForeignKey(
        TicketType, verbose_name=_("type"), on_delete=models.PROTECT, related_name="+"
    )
    category = models.ForeignKey(
        Category,
        verbose_name=_("category"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    subject = models.CharField(_("subject"), max_length=10, choices=Subject, blank=True)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel, default=Channel.PHONE)
    priority = models.PositiveSmallIntegerField(
        _("priority"), choices=Priority, default=Priority.P3
    )
    severity = models.CharField(_("severity"), max_length=8, choices=Severity, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status, default=Status.NEW)
    is_open = models.BooleanField(default=True, editable=False)

    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tickets",
    )
    contact_name = models.CharField(_("contact name"), max_length=100, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=32, blank=True)
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    place = models.CharField(_("place"), max_length=200, blank=True)
    area = models.CharField(_("area"), max_length=8, choices=Area, blank=True)
    staff_concerned = models.CharField(
        _("staff member concerned"),
        max_length=100,
        blank=True,
        help_text=_("Name or employee number, for staff-service matters."),
    )
    sensitive = models.BooleanField(_("sensitive"), default=False)
    tags = models.ManyToManyField(
        TicketTag, blank=True, related_name="tickets", verbose_name=_("tags")
    )
    custom_fields = models.JSONField(_("custom fields"), default=dict, blank=True)

    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tickets",
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assigned_tickets",
    )
    line = models.PositiveSmallIntegerField(
        _("support line"), default=1, help_text=_("1 = first line, 2 = second line")
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent work order"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
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
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    first_response_at = models.DateTimeField(_("first response"), null=True, blank=True)
    last_customer_message_at = models.DateTimeField(null=True, blank=True)
    last_public_reply_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    followed_up_at = models.DateTimeField(_("followed up"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    reopen_count = models.PositiveSmallIntegerField(default=0)
    last_reopened_at = models.DateTimeField(null=True, blank=True)
    followup_result = models.CharField(_("follow-up result"), max_length=16, blank=True)
    version = models.PositiveIntegerField(default=1)

    # The nearest SLA deadline, kept current by kefu.sla (every change of a clock rewrites
    # these), so that lists can show and sort by it without reading the clocks.
    sla_due_at = models.DateTimeField(_("SLA deadline"), null=True, blank=True, editable=False)
    sla_metric = models.CharField(max_length=20, blank=True, editable=False)
    sla_calendar_id = models.PositiveIntegerField(null=True, blank=True, editable=False)
    sla_paused_left = models.PositiveIntegerField(
        null=True, blank=True, editable=False, help_text="working seconds left, while paused"
    )
    sla_breached = models.BooleanField(default=False, editable=False)

    class Meta:
        verbose_name = _("work order")
        verbose_name_plural = _("work orders")
        indexes = [
            models.Index(
                fields=["assignee", "updated_at", "id"],
                name="ticket_mine_idx",
                condition=Q(is_open=True),
            ),
            models.Index(
                fields=["team", "updated_at", "id"],
                name="ticket_team_idx",
                condition=Q(is_open=True),
            ),
            models.Index(
                fields=["team", "created_at", "id"],
                name="ticket_unassigned_idx",
                condition=Q(is_open=True, assignee__isnull=True),
            ),
            models.Index(fields=["status", "updated_at", "id"], name="ticket_status_idx"),
            models.Index(fields=["updated_at", "id"], name="ticket_updated_idx"),
            models.Index(
                fields=["sla_due_at", "id"],
                name="ticket_sla_due_idx",
                condition=Q(is_open=True, sla_due_at__isnull=False),
            ),
            # "P1 faults", "P4 enquiries": the type-and-priority filter finds its rows directly
            # even when the combination is rare, instead of walking the whole history.
            models.Index(
                fields=["ticket_type", "priority", "updated_at", "id"],
                name="ticket_type_priority_idx",
            ),
            models.Index(fields=["team", "updated_at", "id"], name="ticket_team_all_idx"),
            models.Index(
                fields=["updated_at", "id"],
                name="ticket_sensitive_idx",
                condition=Q(sensitive=True, is_open=True),
            ),
            models.Index(fields=["customer", "created_at"], name="ticket_customer_idx"),
            models.Index(fields=["created_at", "id"], name="ticket_created_idx"),
            # A day's or a week's figures (the wall board's "today", a daily report) find the
            # work orders resolved or first answered in it without reading the whole history.
            models.Index(
                fields=["resolved_at"],
                name="ticket_resolved_idx",
                condition=Q(resolved_at__isnull=False),
            ),
            models.Index(
                fields=["first_response_at"],
                name="ticket_first_response_idx",
                condition=Q(first_response_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.is_open = self.status in OPEN_STATES
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "status" in update_fields:
            kwargs["update_fields"] = {*update_fields, "is_open"}
        super().save(*args, **kwargs)

    @property
    def priority_label(self) -> str:
        return f"P{self.priority}"


class Message(models.Model):
    """One entry of the conversation: a public reply, an internal note, or the customer's words."""

    class Kind(models.TextChoices):
        REPLY = "reply", _("Reply to the customer")
        NOTE = "note", _("Internal note")
        CUSTOMER = "customer", _("Customer message")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_name = models.CharField(max_length=100, blank=True)
    body = models.TextField(_("text"), max_length=20000)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel, blank=True)
    mentions = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="mentioned_in"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["ticket", "created_at"], name="message_ticket_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.body[:40]}"

    @property
    def is_public(self) -> bool:
        return self.kind in (self.Kind.REPLY, self.Kind.CUSTOMER)


def attachment_path(instance: Attachment, filename: str) -> str:
    now = timezone.now()
    return f"attachments/{now:%Y/%m}/{instance.storage_key}"


class Attachment(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="attachments")
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="attachments"
    )
    file = models.FileField(upload_to=attachment_path, max_length=200)
    storage_key = models.CharField(max_length=64, editable=False)
    filename = models.CharField(_("file name"), max_length=150)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField(_("size"))
    sha256 = models.CharField(max_length=64)
    is_public = models.BooleanField(_("visible to the customer"), default=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.filename


class TicketLink(models.Model):
    """Two work orders that concern the same matter (shown on both)."""

    source = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="links_out")
    target = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="links_in")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "target"], name="ticket_link_unique"),
            models.CheckConstraint(
                condition=~Q(source=models.F("target")), name="ticket_link_not_self"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source_id} ↔ {self.target_id}"


class Transfer(models.Model):
    """转办: a work order sent to a responsible department for a reply by a deadline."""

    class State(models.TextChoices):
        OPEN = "open", _("Waiting for the department")
        REPLIED = "replied", _("Replied, to review")
        RETURNED = "returned", _("Sent back by the department")
        ACCEPTED = "accepted", _("Reply accepted")
        REJECTED = "rejected", _("Reply rejected")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="transfers")
    department = models.ForeignKey(
        "accounts.Team",
        on_delete=models.PROTECT,
        related_name="transfers",
        verbose_name=_("department"),
    )
    state = models.CharField(_("state"), max_length=10, choices=State, default=State.OPEN)
    instructions = models.TextField(_("instructions"), max_length=4000)
    due_at = models.DateTimeField(_("reply due"))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    reply = models.TextField(_("department reply"), max_length=10000, blank=True)
    replied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    replied_at = models.DateTimeField(null=True, blank=True)
    review_note = models.TextField(_("review note"), max_length=4000, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("transfer")
        verbose_name_plural = _("transfers")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["department", "state", "due_at"], name="transfer_inbox_idx"),
            models.Index(fields=["ticket", "state"], name="transfer_ticket_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} → {self.department_id}"

    @property
    def is_pending(self) -> bool:
        return self.state in (self.State.OPEN, self.State.REPLIED)


class CannedResponse(models.Model):
    """标准服务用语: a reusable reply with variables such as {customer_name}."""

    title = models.CharField(_("title"), max_length=80)
    body = models.TextField(_("text"), max_length=4000)
    shortcut = models.SlugField(_("shortcut"), max_length=30, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="canned_responses",
        help_text=_("Empty: shared with everyone."),
    )
    ticket_type = models.ForeignKey(
        TicketType,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("type"),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("standard reply")
        verbose_name_plural = _("standard replies")
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


class SavedFilter(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_filters"
    )
    name = models.CharField(_("name"), max_length=60)
    query = models.CharField(_("filter"), max_length=1000)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["user", "name"], name="saved_filter_unique")]

    def __str__(self) -> str:
        return self.name


class VisibilityRule(models.Model):
    """Which work orders a staff role sees. Administrators change it per role."""

    class Scope(models.TextChoices):
        ALL = "all", _("All work orders")
        TEAMS = "teams", _("Their teams' work orders and their own")
        OWN = "own", _("Only work orders assigned to or created by them")
        NONE = "none", _("None")

    role = models.CharField(_("role"), max_length=16, unique=True)
    scope = models.CharField(_("sees"), max_length=8, choices=Scope)

    class Meta:
        verbose_name = _("work-order visibility")
        verbose_name_plural = _("work-order visibility")

    def __str__(self) -> str:
        return f"{self.role}: {self.scope}"


class IdempotentRequest(models.Model):
    """The first answer to an API create sent with an Idempotency-Key, replayed on retries."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=100)
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True)
    body = models.JSONField(null=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_unique")]
        indexes = [models.Index(fields=["created_at"], name="idempotency_created_idx")]

    def __str__(self) -> str:
        return self.key


class Webhook(models.Model):
    name = models.CharField(_("name"), max_length=80)
    url = models.URLField(_("URL"), max_length=500)
    secret = models.CharField(_("signing secret"), max_length=128)
    events = models.JSONField(
        _("events"), default=list, help_text=_("Event types to send; empty means all.")
    )
    is_active = models.BooleanField(_("active"), default=True)
    allow_private = models.BooleanField(
        _("allow private addresses"),
        default=False,
        help_text=_("Permit loopback and private-network targets (e.g. an intranet system)."),
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("webhook")
        verbose_name_plural = _("webhooks")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def wants(self, event_type: str) -> bool:
        return self.is_active and (not self.events or event_type in self.events)


class WebhookDelivery(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event_type = models.CharField(max_length=40)
    event_id = models.BigIntegerField(null=True)
    payload = models.JSONField()
    state = models.CharField(max_length=10, choices=State, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True)
    last_status = models.PositiveSmallIntegerField(null=True)
    last_error = models.CharField(max_length=300, blank=True)
    response_excerpt = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-id"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"], name="delivery_due_idx", condition=Q(state="pending")
            ),
            models.Index(fields=["webhook", "id"], name="delivery_webhook_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.webhook_id}"
