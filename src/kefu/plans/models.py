"""Service plans: checklist templates (versioned), plans on a schedule and the rounds they made,
checklists on work orders, rectifications (隐患整改), training sessions with attendance, and
proactive-care targets."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

USER = settings.AUTH_USER_MODEL


class PlanKind(models.TextChoices):
    INSPECTION = "inspection", _("Inspection (巡检)")
    MAINTENANCE = "maintenance", _("Preventive maintenance")
    INSTALLATION = "installation", _("Installation and commissioning")
    FIRE_SAFETY = "fire_safety", _("Fire-safety inspection")
    DRILL = "drill", _("Drill")
    TRAINING = "training", _("Training")
    CARE = "care", _("Proactive care")


WORK_ORDER_KINDS = frozenset(
    {
        PlanKind.INSPECTION,
        PlanKind.MAINTENANCE,
        PlanKind.INSTALLATION,
        PlanKind.FIRE_SAFETY,
        PlanKind.DRILL,
    }
)


class Frequency(models.TextChoices):
    ONCE = "once", _("Once")
    DAILY = "daily", _("Daily")
    WEEKLY = "weekly", _("Weekly, on chosen days")
    MONTHLY = "monthly", _("Monthly, on day N")
    QUARTERLY = "quarterly", _("Quarterly")
    YEARLY = "yearly", _("Yearly")
    RRULE = "rrule", _("Custom rule (RRULE)")


class Shift(models.TextChoices):
    NONE = "none", _("Keep the date")
    NEXT = "next", _("Move to the next working day")
    PREVIOUS = "previous", _("Move to the previous working day")


class ChecklistTemplate(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=PlanKind, default=PlanKind.INSPECTION)
    description = models.TextField(_("description"), max_length=2000, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("checklist template")
        verbose_name_plural = _("checklist templates")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ChecklistVersion(models.Model):
    """A frozen set of items. Changing a template adds a version; work orders keep theirs."""

    template = models.ForeignKey(
        ChecklistTemplate, on_delete=models.CASCADE, related_name="versions"
    )
    number = models.PositiveIntegerField(_("version"))
    note = models.CharField(_("what changed"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["template", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["template", "number"], name="plans_version_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.template.name} v{self.number}"


class ChecklistItem(models.Model):
    version = models.ForeignKey(ChecklistVersion, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveSmallIntegerField(_("order"))
    section = models.CharField(_("section"), max_length=60, blank=True)
    text = models.CharField(_("item"), max_length=300)
    guidance = models.CharField(_("how to check"), max_length=500, blank=True)
    photo_required = models.BooleanField(_("photo required"), default=False)

    class Meta:
        ordering = ["version", "position"]
        constraints = [
            models.UniqueConstraint(fields=["version", "position"], name="plans_item_unique"),
        ]

    def __str__(self) -> str:
        return self.text


class ServicePlan(models.Model):
    """A plan that produces rounds on a schedule: work orders with a checklist, training
    sessions, or proactive-care callbacks and notices. No customer means the centre itself."""

    class CareAction(models.TextChoices):
        CALLBACK = "callback", _("Callback work order")
        NOTICE = "notice", _("Notice to the customer")
        BOTH = "both", _("Notice and callback")

    class CareTrigger(models.TextChoices):
        SCHEDULE = "schedule", _("On the schedule")
        AFTER_TAG = "after_tag", _("Days after a tagged work order is resolved")

    class NoticeChannel(models.TextChoices):
        SMS = "sms", _("SMS")
        EMAIL = "email", _("E-mail")

    name = models.CharField(_("name"), max_length=100, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=PlanKind)
    description = models.TextField(_("description"), max_length=4000, blank=True)
    customer = models.ForeignKey(
        "customers.Customer",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="service_plans",
        verbose_name=_("customer"),
    )
    site = models.CharField(_("site"), max_length=200, blank=True)
    asset = models.ForeignKey(
        "field.Asset",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="service_plans",
        verbose_name=_("asset"),
    )
    checklist = models.ForeignKey(
        ChecklistTemplate,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="plans",
        verbose_name=_("checklist"),
    )
    # the schedule
    frequency = models.CharField(_("repeats"), max_length=10, choices=Frequency)
    interval = models.PositiveSmallIntegerField(_("every"), default=1)
    weekdays = models.JSONField(_("weekdays"), default=list, blank=True)
    day_of_month = models.SmallIntegerField(_("day of month"), null=True, blank=True)
    month = models.PositiveSmallIntegerField(_("month"), null=True, blank=True)
    rrule = models.CharField(_("RRULE"), max_length=300, blank=True)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    lead_days = models.PositiveSmallIntegerField(_("generate days ahead"), default=0)
    calendar = models.ForeignKey(
        "sla.BusinessCalendar",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("business calendar"),
    )
    shift = models.CharField(_("on a closed day"), max_length=10, choices=Shift, default=Shift.NEXT)
    # who does the work
    team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    assignee = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    inspector = models.ForeignKey(
        USER,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("inspector / safety officer"),
    )
    rectify_days = models.PositiveSmallIntegerField(_("days to rectify a finding"), default=7)
    session_time = models.TimeField(_("session time"), default=dt.time(9, 30))
    session_minutes = models.PositiveSmallIntegerField(_("session minutes"), default=120)
    # proactive care
    care_action = models.CharField(_("care action"), max_length=10, choices=CareAction, blank=True)
    care_trigger = models.CharField(
        _("care trigger"), max_length=10, choices=CareTrigger, default=CareTrigger.SCHEDULE
    )
    audience_tier = models.ForeignKey(
        "customers.VipTier",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("VIP tier"),
    )
    audience_tag = models.ForeignKey(
        "customers.Tag",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("customer tag"),
    )
    trigger_tag = models.CharField(_("work-order tag"), max_length=40, blank=True)
    delay_days = models.PositiveSmallIntegerField(_("days after"), default=0)
    notice_channel = models.CharField(
        _("notice channel"), max_length=8, choices=NoticeChannel, blank=True
    )
    notice_text = models.TextField(_("notice text"), max_length=500, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    last_period = models.DateField(null=True, blank=True, editable=False)
    next_due_on = models.DateField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("service plan")
        verbose_name_plural = _("service plans")
        ordering = ["name"]
        indexes = [models.Index(fields=["is_active", "kind"], name="plans_active_kind_idx")]

    def __str__(self) -> str:
        return self.name

    @property
    def for_centre(self) -> bool:
        return self.customer_id is None


class PlanRound(models.Model):
    """One period of a plan, made once: the unique (plan, period_start) is what stops two
    workers from making the same round."""

    plan = models.ForeignKey(ServicePlan, on_delete=models.CASCADE, related_name="rounds")
    period_start = models.DateField(_("period"))
    due_on = models.DateField(_("due"))
    ticket = models.OneToOneField(
        "tickets.Ticket",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="plan_round",
    )
    targets = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["plan", "-period_start"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "period_start"], name="plans_round_once"),
        ]
        indexes = [
            models.Index(
                fields=["plan"],
                name="plans_round_unfinished_idx",
                condition=models.Q(finished_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"{self.plan.name} {self.period_start}"


class ChecklistRun(models.Model):
    """The checklist a work order carries (a frozen version's items, ticked on the ticket page)."""

    ticket = models.OneToOneField(
        "tickets.Ticket", on_delete=models.CASCADE, related_name="checklist_run"
    )
    version = models.ForeignKey(ChecklistVersion, on_delete=models.PROTECT, related_name="+")
    plan = models.ForeignKey(
        ServicePlan, null=True, blank=True, on_delete=models.SET_NULL, related_name="runs"
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.version} @ {self.ticket_id}"


class Result(models.TextChoices):
    PENDING = "pending", _("Not checked")
    PASS = "pass", _("Pass")
    FAIL = "fail", _("Fail")
    NA = "na", _("Not applicable")


class ChecklistResult(models.Model):
    run = models.ForeignKey(ChecklistRun, on_delete=models.CASCADE, related_name="results")
    item = models.ForeignKey(ChecklistItem, on_delete=models.PROTECT, related_name="+")
    result = models.CharField(_("result"), max_length=8, choices=Result, default=Result.PENDING)
    note = models.CharField(_("note"), max_length=500, blank=True)
    photo = models.ForeignKey(
        "tickets.Attachment", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    checked_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["run", "item__position"]
        constraints = [
            models.UniqueConstraint(fields=["run", "item"], name="plans_result_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.item_id}: {self.result}"


class Rectification(models.Model):
    """A hazard found at an inspection, fixed through its own work order (隐患整改)."""

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        RECTIFYING = "rectifying", _("Rectifying")
        SUBMITTED = "submitted", _("Submitted for sign-off")
        SIGNED_OFF = "signed_off", _("Signed off")
        RETURNED = "returned", _("Returned")

    ticket = models.OneToOneField(
        "tickets.Ticket", on_delete=models.PROTECT, related_name="rectification"
    )
    finding = models.OneToOneField(
        ChecklistResult,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="rectification",
    )
    source_ticket = models.ForeignKey(
        "tickets.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    plan = models.ForeignKey(
        ServicePlan, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    hazard = models.CharField(_("hazard"), max_length=300)
    state = models.CharField(_("state"), max_length=12, choices=State, default=State.OPEN)
    owner = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    inspector = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    deadline = models.DateTimeField(_("deadline"))
    escalation_level = models.PositiveSmallIntegerField(_("escalation level"), default=0)
    next_escalation_at = models.DateTimeField(null=True, blank=True, editable=False)
    evidence_note = models.TextField(_("what was done"), max_length=4000, blank=True)
    evidence = models.ForeignKey(
        "tickets.Attachment", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    signed_off_at = models.DateTimeField(null=True, blank=True)
    signed_off_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    return_reason = models.CharField(_("why returned"), max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["deadline"]
        indexes = [
            models.Index(
                fields=["next_escalation_at"],
                name="plans_rect_escalation_idx",
                condition=models.Q(next_escalation_at__isnull=False),
            )
        ]

    def __str__(self) -> str:
        return self.hazard


class TrainingSession(models.Model):
    plan = models.ForeignKey(ServicePlan, on_delete=models.CASCADE, related_name="sessions")
    round = models.OneToOneField(
        PlanRound, null=True, blank=True, on_delete=models.SET_NULL, related_name="session"
    )
    title = models.CharField(_("title"), max_length=200)
    starts_at = models.DateTimeField(_("starts"))
    duration_minutes = models.PositiveSmallIntegerField(_("minutes"), default=120)
    place = models.CharField(_("place"), max_length=200, blank=True)
    trainer = models.CharField(_("trainer"), max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-starts_at"]

    def __str__(self) -> str:
        return self.title


class Trainee(models.Model):
    """Someone a training plan is for: a member of staff or a customer's contact person."""

    plan = models.ForeignKey(ServicePlan, on_delete=models.CASCADE, related_name="trainees")
    user = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    customer = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        ordering = ["plan", "name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(user__isnull=True) | models.Q(customer__isnull=True),
                name="plans_trainee_one_kind",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Attendance(models.Model):
    class Status(models.TextChoices):
        EXPECTED = "expected", _("Expected")
        PRESENT = "present", _("Present")
        ABSENT = "absent", _("Absent")

    session = models.ForeignKey(
        TrainingSession, on_delete=models.CASCADE, related_name="attendance"
    )
    trainee = models.ForeignKey(Trainee, on_delete=models.CASCADE, related_name="attendance")
    status = models.CharField(
        _("attendance"), max_length=10, choices=Status, default=Status.EXPECTED
    )
    marked_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    marked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["session", "trainee__name"]
        constraints = [
            models.UniqueConstraint(fields=["session", "trainee"], name="plans_attendance_once"),
        ]

    def __str__(self) -> str:
        return f"{self.trainee_id}: {self.status}"


class CareTarget(models.Model):
    """One customer reached by one round of a care plan: unique per (plan, customer, key), so a
    customer is called or told once per run however often the job runs."""

    class Outcome(models.TextChoices):
        PLANNED = "planned", _("Planned")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Notice sent")
        NO_ADDRESS = "no_address", _("No address to send to")
        FAILED = "failed", _("Sending failed")
        UNKNOWN = "unknown", _("Sending interrupted: check whether it arrived")

    plan = models.ForeignKey(ServicePlan, on_delete=models.CASCADE, related_name="care_targets")
    round = models.ForeignKey(
        PlanRound, null=True, blank=True, on_delete=models.CASCADE, related_name="care_targets"
    )
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=40)
    source_ticket = models.ForeignKey(
        "tickets.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    callback = models.OneToOneField(
        "tickets.Ticket",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="care_target",
    )
    notice_outcome = models.CharField(
        _("notice"), max_length=12, choices=Outcome, default=Outcome.PLANNED
    )
    notice_ref = models.CharField(max_length=100, blank=True)
    # when a worker took the notice to send it (SENDING): a claim left long enough means the
    # worker stopped somewhere around the sending
    notice_claimed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "customer", "key"], name="plans_care_once"),
        ]
        indexes = [
            models.Index(fields=["notice_outcome", "created_at"], name="plans_care_notice_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.plan_id}/{self.customer_id}/{self.key}"
