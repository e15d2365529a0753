"""Quality inspection (质检): scorecards and their versions, sampling plans and runs, reviews
with their answers, disputes, calibration sessions, coaching tasks and the phrase lists of the
automatic checks."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kefu.qa import checks


class Scorecard(models.Model):
    name = models.CharField(_("name"), max_length=80, unique=True)
    description = models.TextField(_("description"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("scorecard")
        verbose_name_plural = _("scorecards")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def current_version(self) -> ScorecardVersion | None:
        return self.versions.order_by("-number").first()


class ScorecardVersion(models.Model):
    """A frozen set of sections and criteria; a change makes a new version, and every review
    keeps the version it was scored on."""

    scorecard = models.ForeignKey(Scorecard, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    note = models.CharField(_("what changed"), max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("scorecard version")
        verbose_name_plural = _("scorecard versions")
        constraints = [
            models.UniqueConstraint(fields=["scorecard", "number"], name="qa_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.scorecard.name} v{self.number}"


class Scale(models.TextChoices):
    YES_NO = "yes_no", _("Yes / no / not applicable")
    POINTS = "points", _("Points 0–N")


class Criterion(models.Model):
    version = models.ForeignKey(ScorecardVersion, on_delete=models.CASCADE, related_name="criteria")
    section = models.CharField(_("section"), max_length=80)
    code = models.SlugField(_("code"), max_length=40)
    label = models.CharField(_("criterion"), max_length=200)
    guidance = models.TextField(_("guidance"), blank=True)
    scale = models.CharField(_("scale"), max_length=8, choices=Scale, default=Scale.YES_NO)
    max_points = models.PositiveSmallIntegerField(_("maximum points"), default=1)
    weight = models.PositiveSmallIntegerField(_("weight"), default=1)
    critical = models.BooleanField(_("critical (fails the review)"), default=False)
    auto_check = models.CharField(
        _("automatic check"),
        max_length=20,
        blank=True,
        choices=[(c, c) for c in checks.CHECK_CODES],
    )
    sort = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("criterion")
        verbose_name_plural = _("criteria")
        ordering = ["sort", "id"]
        constraints = [
            models.UniqueConstraint(fields=["version", "code"], name="qa_criterion_code_unique"),
            models.CheckConstraint(
                condition=models.Q(max_points__gte=1), name="qa_criterion_points_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.label


class SamplingPlan(models.Model):
    name = models.CharField(_("name"), max_length=80, unique=True)
    scorecard = models.ForeignKey(Scorecard, on_delete=models.PROTECT, related_name="plans")
    per_agent = models.PositiveSmallIntegerField(_("interactions per agent"), default=5)
    period_days = models.PositiveSmallIntegerField(_("period (days)"), default=7)
    channels = models.JSONField(_("channels"), default=list, blank=True)
    type_codes = models.JSONField(_("work-order types"), default=list, blank=True)
    team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    all_complaints = models.BooleanField(_("every complaint"), default=False)
    all_dissatisfied = models.BooleanField(_("every dissatisfied rating"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("sampling plan")
        verbose_name_plural = _("sampling plans")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SampleRun(models.Model):
    plan = models.ForeignKey(SamplingPlan, on_delete=models.CASCADE, related_name="runs")
    period_start = models.DateTimeField(_("from"))
    period_end = models.DateTimeField(_("to"))
    seed = models.BigIntegerField(_("seed"))
    picked = models.PositiveIntegerField(_("picked"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("sample")
        verbose_name_plural = _("samples")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.plan.name} {self.period_start:%Y-%m-%d}–{self.period_end:%Y-%m-%d}"


class CalibrationSession(models.Model):
    title = models.CharField(_("title"), max_length=120)
    version = models.ForeignKey(ScorecardVersion, on_delete=models.PROTECT, related_name="+")
    source = models.CharField(_("interaction kind"), max_length=16)
    object_id = models.PositiveBigIntegerField()
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("calibration session")
        verbose_name_plural = _("calibration sessions")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title


class Review(models.Model):
    class Kind(models.TextChoices):
        INTERNAL = "internal", _("Inspection")
        CALIBRATION = "calibration", _("Calibration")
        MYSTERY = "mystery", _("Mystery shopper")
        THIRD_PARTY = "third_party", _("Third-party evaluation")

    class State(models.TextChoices):
        DRAFT = "draft", _("Being scored")
        SUBMITTED = "submitted", _("Scored")
        DISPUTED = "disputed", _("Disputed")
        FINAL = "final", _("Final")

    version = models.ForeignKey(ScorecardVersion, on_delete=models.PROTECT, related_name="reviews")
    kind = models.CharField(_("kind"), max_length=12, choices=Kind, default=Kind.INTERNAL)
    state = models.CharField(_("state"), max_length=10, choices=State, default=State.DRAFT)
    source = models.CharField(_("interaction kind"), max_length=16, blank=True)
    object_id = models.PositiveBigIntegerField(null=True, blank=True)
    channel = models.CharField(_("channel"), max_length=16, blank=True)
    occurred_at = models.DateTimeField(_("interaction time"))
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("agent"),
        on_delete=models.PROTECT,
        related_name="qa_reviews",
    )
    team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    inspector = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("inspector"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="qa_inspections",
    )
    evaluator = models.CharField(_("external evaluator"), max_length=120, blank=True)
    score = models.DecimalField(_("score"), max_digits=5, decimal_places=2, null=True, blank=True)
    raw_score = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    failed_critical = models.BooleanField(_("critical item failed"), default=False)
    comment = models.TextField(_("comment"), blank=True, max_length=4000)
    run = models.ForeignKey(
        SampleRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="reviews"
    )
    sample_reason = models.CharField(max_length=16, blank=True)
    calibration = models.ForeignKey(
        CalibrationSession, null=True, blank=True, on_delete=models.CASCADE, related_name="reviews"
    )
    created_at = models.DateTimeField(default=timezone.now)
    submitted_at = models.DateTimeField(_("scored"), null=True, blank=True)

    class Meta:
        verbose_name = _("review")
        verbose_name_plural = _("reviews")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["state", "submitted_at"], name="qa_review_state_idx"),
            models.Index(fields=["agent", "submitted_at"], name="qa_review_agent_idx"),
            models.Index(fields=["inspector", "state"], name="qa_review_inspector_idx"),
            models.Index(fields=["source", "object_id"], name="qa_review_object_idx"),
        ]

    def __str__(self) -> str:
        return f"QA-{self.pk}"

    @property
    def is_external(self) -> bool:
        return self.kind in (self.Kind.MYSTERY, self.Kind.THIRD_PARTY)


class Answer(models.Model):
    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="answers")
    criterion = models.ForeignKey(Criterion, on_delete=models.PROTECT, related_name="answers")
    value = models.PositiveSmallIntegerField(null=True, blank=True)  # None: not applicable
    comment = models.CharField(_("comment"), max_length=500, blank=True)
    auto_value = models.PositiveSmallIntegerField(null=True, blank=True)
    auto_note = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["review", "criterion"], name="qa_answer_unique")
        ]

    def __str__(self) -> str:
        return f"{self.review_id}/{self.criterion_id}: {self.value}"


class Dispute(models.Model):
    class Decision(models.TextChoices):
        UPHELD = "upheld", _("Score upheld")
        CHANGED = "changed", _("Score changed")

    review = models.OneToOneField(Review, on_delete=models.CASCADE, related_name="dispute")
    reason = models.TextField(_("reason"), max_length=2000)
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    raised_at = models.DateTimeField(default=timezone.now)
    decision = models.CharField(_("decision"), max_length=8, choices=Decision, blank=True)
    note = models.TextField(_("decision note"), blank=True, max_length=2000)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    score_before = models.DecimalField(max_digits=5, decimal_places=2, null=True)
    score_after = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)

    def __str__(self) -> str:
        return f"QA-{self.review_id}"


class CoachingTask(models.Model):
    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="coaching")
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="qa_coaching"
    )
    criterion = models.ForeignKey(
        Criterion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    excerpt = models.TextField(_("excerpt"), max_length=2000)
    expected = models.TextField(_("expected behaviour"), max_length=2000)
    due_on = models.DateField(_("due"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    agent_note = models.TextField(_("agent's note"), blank=True, max_length=2000)

    class Meta:
        verbose_name = _("coaching task")
        verbose_name_plural = _("coaching tasks")
        ordering = ["completed_at", "-created_at", "-id"]
        indexes = [models.Index(fields=["agent", "completed_at"], name="qa_coaching_agent_idx")]

    def __str__(self) -> str:
        return f"QA-{self.review_id}: {self.expected[:40]}"


class Phrase(models.Model):
    """The centre's own phrase lists for the automatic checks; while a list is empty the
    defaults in ``kefu.qa.phrases`` apply."""

    class Kind(models.TextChoices):
        GREETING = "greeting", _("Standard greeting")
        CLOSING = "closing", _("Standard closing")
        FORBIDDEN = "forbidden", _("Forbidden word")
        POSITIVE = "positive", _("Positive word")
        NEGATIVE = "negative", _("Negative word")

    kind = models.CharField(_("list"), max_length=10, choices=Kind)
    text = models.CharField(_("phrase"), max_length=80)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("QA phrase")
        verbose_name_plural = _("QA phrases")
        ordering = ["kind", "text"]
        constraints = [models.UniqueConstraint(fields=["kind", "text"], name="qa_phrase_unique")]

    def __str__(self) -> str:
        return self.text
