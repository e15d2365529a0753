"""Accounts: users and their roles, teams, agent profiles and API tokens."""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kefu.core.choices import DEFAULT_CAPACITY, WorkChannel
from kefu.core.permissions import STAFF_ROLES, Role


class User(AbstractUser):
    """Anyone who signs in: staff of every role, and customers using the portal."""

    first_name = None  # type: ignore[assignment]
    last_name = None  # type: ignore[assignment]

    display_name = models.CharField(_("name"), max_length=100)
    role = models.CharField(_("role"), max_length=16, choices=Role, default=Role.AGENT_L1)
    employee_no = models.CharField(_("employee number"), max_length=20, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    language = models.CharField(
        _("interface language"),
        max_length=10,
        blank=True,
        choices=[("zh-hans", "简体中文"), ("en", "English")],
    )
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="portal_users",
        help_text=_("For portal accounts: the customer record this login belongs to."),
    )

    objects: ClassVar[UserManager[User]] = UserManager()  # type: ignore[assignment]

    REQUIRED_FIELDS = ["email"]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                condition=~models.Q(email=""),
                name="user_email_unique",
                violation_error_message=_(
                    "This e-mail address is already used by another account."
                ),
            ),
            models.UniqueConstraint(
                "phone",
                condition=~models.Q(phone=""),
                name="user_phone_unique",
                violation_error_message=_("This phone number is already used by another account."),
            ),
            models.UniqueConstraint(
                "employee_no",
                condition=~models.Q(employee_no=""),
                name="user_employee_no_unique",
                violation_error_message=_("This employee number is already taken."),
            ),
            models.CheckConstraint(
                condition=models.Q(role="customer", customer__isnull=False)
                | (~models.Q(role="customer") & models.Q(customer__isnull=True)),
                name="user_customer_iff_customer_role",
            ),
        ]
        indexes = [models.Index(fields=["role", "is_active"], name="user_role_idx")]

    def __str__(self) -> str:
        return self.display_label

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Only administrators reach Django's admin site; its model permissions follow.
        is_admin = self.role == Role.ADMIN
        self.is_staff = is_admin
        self.is_superuser = is_admin
        if not self.display_name:
            self.display_name = self.username
        super().save(*args, **kwargs)

    @property
    def display_label(self) -> str:
        if self.employee_no:
            return f"{self.display_name} ({self.employee_no})"
        return self.display_name or self.username

    @property
    def is_customer(self) -> bool:
        return self.role == Role.CUSTOMER

    @property
    def is_staff_member(self) -> bool:
        return self.role in STAFF_ROLES


class Team(models.Model):
    class Kind(models.TextChoices):
        FRONTLINE = "frontline", _("First line (一线)")
        SECOND_LINE = "second_line", _("Second line (二线)")
        QA = "qa", _("Quality inspection (质检)")
        PLANNING = "planning", _("Workforce planning (排班)")
        DEPARTMENT = "department", _("Responsible department (责任部门)")
        OTHER = "other", _("Other")

    name = models.CharField(_("name"), max_length=100, unique=True)
    code = models.SlugField(_("code"), max_length=40, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind, default=Kind.FRONTLINE)
    description = models.TextField(_("description"), blank=True)
    email = models.EmailField(_("team e-mail"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    members = models.ManyToManyField(
        User, through="Membership", related_name="teams", verbose_name=_("members")
    )

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    is_lead = models.BooleanField(_("team lead"), default=False)
    joined_at = models.DateTimeField(_("joined"), default=timezone.now)

    class Meta:
        verbose_name = _("team membership")
        verbose_name_plural = _("team memberships")
        constraints = [
            models.UniqueConstraint(fields=["team", "user"], name="membership_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.team} / {self.user}"


class Skill(models.Model):
    """Something an agent is able to handle, used by skill-based routing (技能组)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=60, unique=True)
    description = models.CharField(_("description"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("skill")
        verbose_name_plural = _("skills")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


def default_capacity() -> dict[str, int]:
    return dict(DEFAULT_CAPACITY)


def default_channels() -> list[str]:
    return [c.value for c in WorkChannel]


def default_languages() -> list[str]:
    return ["zh"]


class AgentProfile(models.Model):
    """What an agent can take on: skills, languages, channels and capacity per channel."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="agent_profile")
    skills = models.ManyToManyField(
        Skill, through="AgentSkill", blank=True, verbose_name=_("skills")
    )
    languages = models.JSONField(_("languages"), default=default_languages)
    channels = models.JSONField(_("channels"), default=default_channels)
    capacity = models.JSONField(_("capacity per channel"), default=default_capacity)
    extension = models.CharField(_("phone extension"), max_length=16, blank=True)

    class Meta:
        verbose_name = _("agent profile")
        verbose_name_plural = _("agent profiles")

    def __str__(self) -> str:
        return str(self.user)

    def capacity_for(self, channel: str) -> int:
        if channel not in self.channels:
            return 0
        return int(self.capacity.get(channel, 0))


class AgentSkill(models.Model):
    profile = models.ForeignKey(AgentProfile, on_delete=models.CASCADE, related_name="agent_skills")
    skill = models.ForeignKey(Skill, on_delete=models.CASCADE, related_name="agent_skills")
    level = models.PositiveSmallIntegerField(
        _("level"), default=3, help_text=_("1 (learning) to 5 (expert)")
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["profile", "skill"], name="agent_skill_unique"),
            models.CheckConstraint(
                condition=models.Q(level__gte=1, level__lte=5), name="agent_skill_level_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.skill} ({self.level})"


class ApiToken(models.Model):
    """A credential for integrations: shown once, stored as a SHA-256 hash, scoped, revocable."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=80)
    prefix = models.CharField(_("prefix"), max_length=12, unique=True)
    secret_hash = models.CharField(max_length=64)
    scopes = models.JSONField(_("scopes"), default=list)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_usable(self) -> bool:
        now = timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)
