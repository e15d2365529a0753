"""Satisfaction surveys (满意度调查) and follow-up calls (回访).

A :class:`SurveyTemplate` has numbered :class:`SurveyVersion` rows; a version's questions never
change once saved, so an answer keeps the wording its customer saw. A :class:`SurveyPolicy` says
which event (a resolved work order, an ended chat, an ended call) sends which template by which
delivery, throttled per customer. Each sending is one :class:`Invitation` with a secret nonce
(the link is a signature over its id and nonce); its answer is one :class:`Response`, with the
figures the reports count copied into indexed columns. :class:`FollowUpPlan` samples resolved
work orders into :class:`FollowUpTask` rows for agents; a dissatisfied answer opens a
:class:`LoopCase` that is tracked until its work order is done again.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Trigger(models.TextChoices):
    TICKET_RESOLVED = "ticket_resolved", _("Work order resolved")
    CHAT_ENDED = "chat_ended", _("Chat ended")
    CALL_ENDED = "call_ended", _("Call ended")
    FOLLOW_UP = "follow_up", _("Follow-up call")


class Delivery(models.TextChoices):
    EMAIL = "email", _("E-mail link")
    PORTAL = "portal", _("Customer portal")
    CHAT = "chat", _("Chat widget")
    SMS = "sms", _("SMS link")
    IVR = "ivr", _("IVR (imported result)")
    CALL = "call", _("Follow-up call")


class OnDissatisfied(models.TextChoices):
    NOTIFY = "notify", _("Notify the team lead only")
    REOPEN = "reopen", _("Reopen the work order")
    COMPLAINT = "complaint", _("Open a linked complaint")


class SurveyTemplate(models.Model):
    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name (Chinese)"), max_length=80)
    name_en = models.CharField(_("name (English)"), max_length=120, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("survey template")
        verbose_name_plural = _("survey templates")
        ordering = ("code",)

    def __str__(self) -> str:
        return self.name

    def current(self) -> SurveyVersion | None:
        return self.versions.order_by("-number").first()


class SurveyVersion(models.Model):
    """One wording of a template. ``questions`` is a list of question dicts (see
    ``kefu.surveys.questions``); rows are never changed after they are saved."""

    template = models.ForeignKey(SurveyTemplate, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    intro = models.CharField(_("introduction (Chinese)"), max_length=300, blank=True)
    intro_en = models.CharField(_("introduction (English)"), max_length=300, blank=True)
    questions = models.JSONField(_("questions"), default=list)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("survey version")
        verbose_name_plural = _("survey versions")
        constraints = [
            models.UniqueConstraint(fields=("template", "number"), name="survey_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.template.code} v{self.number}"


class SurveyPolicy(models.Model):
    """When to send which survey, how, and what a dissatisfied answer does (policy in the
    database, changed by administrators)."""

    name = models.CharField(_("name"), max_length=80)
    trigger = models.CharField(_("trigger"), max_length=20, choices=Trigger)
    channel = models.CharField(
        _("channel"), max_length=16, blank=True, help_text=_("Empty: every channel.")
    )
    ticket_type = models.ForeignKey(
        "tickets.TicketType",
        verbose_name=_("work-order type"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Empty: every type."),
    )
    template = models.ForeignKey(
        SurveyTemplate, verbose_name=_("survey"), on_delete=models.PROTECT, related_name="+"
    )
    delivery = models.CharField(_("delivery"), max_length=8, choices=Delivery)
    throttle_days = models.PositiveSmallIntegerField(
        _("at most one survey per customer in (days)"), default=30
    )
    expires_days = models.PositiveSmallIntegerField(_("link valid for (days)"), default=14)
    on_dissatisfied = models.CharField(
        _("when dissatisfied"), max_length=10, choices=OnDissatisfied, default=OnDissatisfied.REOPEN
    )
    sort = models.PositiveSmallIntegerField(_("order"), default=100)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("survey policy")
        verbose_name_plural = _("survey policies")
        ordering = ("sort", "pk")

    def __str__(self) -> str:
        return self.name


class Invitation(models.Model):
    class Status(models.TextChoices):
        SENT = "sent", _("Sent")
        ANSWERED = "answered", _("Answered")
        FAILED = "failed", _("Not delivered")

    version = models.ForeignKey(SurveyVersion, on_delete=models.PROTECT, related_name="+")
    policy = models.ForeignKey(
        SurveyPolicy, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    trigger = models.CharField(_("trigger"), max_length=20, choices=Trigger)
    delivery = models.CharField(_("delivery"), max_length=8, choices=Delivery)
    channel = models.CharField(_("channel"), max_length=16, blank=True)
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="survey_invitations",
    )
    ticket = models.ForeignKey(
        "tickets.Ticket",
        verbose_name=_("work order"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="survey_invitations",
    )
    call = models.ForeignKey(
        "calls.Call", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    chat_ref = models.CharField(_("chat"), max_length=64, blank=True)
    ticket_type = models.ForeignKey(
        "tickets.TicketType", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    nonce = models.CharField(max_length=43, editable=False)
    address = models.CharField(_("sent to"), max_length=254, blank=True)
    status = models.CharField(_("status"), max_length=8, choices=Status, default=Status.SENT)
    sent_at = models.DateTimeField(_("sent"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)

    class Meta:
        verbose_name = _("survey invitation")
        verbose_name_plural = _("survey invitations")
        indexes = [
            models.Index(fields=("customer", "sent_at"), name="survey_inv_customer"),
            models.Index(fields=("sent_at",), name="survey_inv_sent"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk}"


class Response(models.Model):
    """An answered survey. ``answers`` maps question keys to values; the report columns
    (scale, score, NPS, dissatisfied, comment) are derived from them once, when answered."""

    invitation = models.OneToOneField(Invitation, on_delete=models.CASCADE, related_name="response")
    version = models.ForeignKey(SurveyVersion, on_delete=models.PROTECT, related_name="+")
    answered_at = models.DateTimeField(_("answered"), default=timezone.now)
    via = models.CharField(_("answered through"), max_length=8, choices=Delivery)
    channel = models.CharField(_("channel"), max_length=16, blank=True)
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="survey_responses"
    )
    ticket = models.ForeignKey(
        "tickets.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ticket_type = models.ForeignKey(
        "tickets.TicketType", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    answers = models.JSONField(default=dict)
    csat_scale = models.CharField(max_length=8, blank=True)  # "level4", "stars" or ""
    csat_score = models.PositiveSmallIntegerField(null=True, blank=True)
    nps_score = models.PositiveSmallIntegerField(null=True, blank=True)
    dissatisfied = models.BooleanField(default=False)
    comment = models.TextField(_("comments"), blank=True)

    class Meta:
        verbose_name = _("survey answer")
        verbose_name_plural = _("survey answers")
        indexes = [
            models.Index(fields=("answered_at",), name="survey_resp_at"),
            models.Index(fields=("agent", "answered_at"), name="survey_resp_agent"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk}"


class FollowUpPlan(models.Model):
    """Which resolved work orders get a follow-up call (回访): e.g. every complaint, 10 % of
    fault repairs, every VIP customer. The first active plan that matches wins."""

    name = models.CharField(_("name"), max_length=80)
    ticket_type = models.ForeignKey(
        "tickets.TicketType",
        verbose_name=_("work-order type"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Empty: every type."),
    )
    vip_only = models.BooleanField(_("VIP customers only"), default=False)
    sample_percent = models.PositiveSmallIntegerField(_("sample (%)"), default=100)
    template = models.ForeignKey(
        SurveyTemplate, verbose_name=_("survey"), on_delete=models.PROTECT, related_name="+"
    )
    script = models.TextField(_("call script"), blank=True)
    max_attempts = models.PositiveSmallIntegerField(_("attempts before unreachable"), default=3)
    retry_hours = models.PositiveSmallIntegerField(_("hours between attempts"), default=4)
    on_dissatisfied = models.CharField(
        _("when dissatisfied"), max_length=10, choices=OnDissatisfied, default=OnDissatisfied.REOPEN
    )
    sort = models.PositiveSmallIntegerField(_("order"), default=100)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("follow-up plan")
        verbose_name_plural = _("follow-up plans")
        ordering = ("sort", "pk")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(sample_percent__lte=100), name="followup_plan_percent"
            )
        ]

    def __str__(self) -> str:
        return self.name


class FollowUpTask(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("To call")
        DONE = "done", _("Done")
        UNREACHABLE = "unreachable", _("Unreachable")

    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.CASCADE, related_name="followup_tasks"
    )
    plan = models.ForeignKey(FollowUpPlan, on_delete=models.PROTECT, related_name="tasks")
    invitation = models.OneToOneField(
        Invitation, on_delete=models.PROTECT, related_name="followup_task"
    )
    team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(_("status"), max_length=12, choices=Status, default=Status.OPEN)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("call from"), default=timezone.now)
    note = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    done_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("follow-up task")
        verbose_name_plural = _("follow-up tasks")
        indexes = [models.Index(fields=("status", "next_attempt_at"), name="followup_due")]
        constraints = [
            models.UniqueConstraint(
                fields=("ticket",),
                condition=models.Q(status="open"),
                name="followup_one_open_per_ticket",
            )
        ]

    def __str__(self) -> str:
        return f"#{self.pk}"


class LoopCase(models.Model):
    """A dissatisfied answer, tracked until the work order (or the complaint it opened) is done."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    response = models.OneToOneField(Response, on_delete=models.CASCADE, related_name="loop")
    action = models.CharField(_("action"), max_length=10, choices=OnDissatisfied)
    ticket = models.ForeignKey(
        "tickets.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    tracked = models.ForeignKey(
        "tickets.Ticket",
        verbose_name=_("tracked work order"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="survey_loops",
    )
    status = models.CharField(_("status"), max_length=8, choices=Status, default=Status.OPEN)
    created_at = models.DateTimeField(_("opened"), default=timezone.now)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    class Meta:
        verbose_name = _("dissatisfaction case")
        verbose_name_plural = _("dissatisfaction cases")

    def __str__(self) -> str:
        return f"#{self.pk}"
