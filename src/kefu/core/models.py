"""The event log: one append-only row for every change to every record."""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AppendOnlyError(RuntimeError):
    """Raised when code tries to change or delete an event."""


class EventQuerySet(models.QuerySet["Event"]):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("Events are append-only; they cannot be updated.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("Events are append-only; they cannot be deleted.")

    def for_object(self, object_type: str, object_id: int) -> EventQuerySet:
        return self.filter(object_type=object_type, object_id=object_id)


class Event(models.Model):
    """Something happened to a record: who, what, to which object, before/after, when.

    Written by :func:`kefu.core.events.record` inside the transaction that makes the change,
    so a change and its event commit or roll back together. The database also refuses
    UPDATE (and on PostgreSQL DELETE) on this table.
    """

    class Source(models.TextChoices):
        WEB = "web", _("Web")
        API = "api", _("API")
        PORTAL = "portal", _("Customer portal")
        ADMIN = "admin", _("Admin site")
        SYSTEM = "system", _("System")
        CLI = "cli", _("Command line")
        EMAIL = "email", _("E-mail")
        CHAT = "chat", _("Chat")
        PHONE = "phone", _("Phone")

    at = models.DateTimeField(_("time"), default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    actor_label = models.CharField(_("actor"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=64)
    object_type = models.CharField(_("object type"), max_length=64)
    object_id = models.BigIntegerField(_("object id"))
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)
    source = models.CharField(_("source"), max_length=16, choices=Source, default=Source.SYSTEM)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    request_id = models.CharField(_("request id"), max_length=32, blank=True)

    objects: ClassVar[EventQuerySet] = EventQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        indexes = [
            models.Index(fields=["object_type", "object_id", "id"], name="event_object_idx"),
            models.Index(fields=["actor", "id"], name="event_actor_idx"),
            models.Index(fields=["action", "id"], name="event_action_idx"),
            models.Index(fields=["at"], name="event_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_label} {self.action} {self.object_repr}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not kwargs.get("force_insert"):
            raise AppendOnlyError("Events are append-only; they cannot be updated.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("Events are append-only; they cannot be deleted.")


class SiteSetting(models.Model):
    """A small key/value store for facts about this installation (e.g. demo data loaded)."""

    key = models.CharField(max_length=64, primary_key=True)
    value = models.JSONField(default=dict)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("site setting")
        verbose_name_plural = _("site settings")

    def __str__(self) -> str:
        return self.key


class Notification(models.Model):
    """Something a person should know about: a sensitive work order, an @mention, a transfer."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(_("kind"), max_length=40)
    title = models.CharField(_("title"), max_length=200)
    body = models.CharField(_("text"), max_length=500, blank=True)
    url = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-id"]
        indexes = [models.Index(fields=["user", "read_at", "id"], name="notification_user_idx")]

    def __str__(self) -> str:
        return self.title
