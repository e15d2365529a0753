"""Live chat (在线客服): widgets placed on customers' websites, conversations and their messages.

A :class:`Widget` is one embed line on one or more websites (its allowed origins). A guest who
fills in the pre-chat form opens a :class:`Conversation`, which queues in the unified queue as a
chat and is bound to one signed guest token. Every :class:`Message` gets the next server
sequence number of its conversation (unique with the conversation) and, when the sender gave
one, its client message id (unique with the conversation too): a resend finds the stored row
instead of writing a second, and a reconnecting client asks for everything after the last
sequence number it saw.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def new_widget_key() -> str:
    return secrets.token_urlsafe(12)


class Widget(models.Model):
    key = models.CharField(_("embed key"), max_length=32, unique=True, default=new_widget_key)
    name = models.CharField(_("name"), max_length=80)
    allowed_origins = models.JSONField(
        _("allowed origins"),
        default=list,
        blank=True,
        help_text=_("Websites that may show this widget, e.g. https://www.example.com."),
    )
    topics = models.JSONField(
        _("topics"), default=list, blank=True, help_text=_("Choices of the pre-chat form.")
    )
    greeting = models.CharField(_("greeting"), max_length=300, blank=True)
    queue = models.ForeignKey(
        "routing.RoutingQueue",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("queue"),
        help_text=_("Empty: the first active queue that takes chats."),
    )
    offline_type = models.ForeignKey(
        "tickets.TicketType",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("work-order type of offline messages"),
    )
    color = models.CharField(
        _("colour"),
        max_length=7,
        default="#1677ff",
        validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$", _("A colour such as #1677ff."))],
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("chat widget")
        verbose_name_plural = _("chat widgets")
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


class WrapUpCode(models.Model):
    code = models.SlugField(_("code"), max_length=30, unique=True)
    label = models.CharField(_("label"), max_length=80)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("chat wrap-up code")
        verbose_name_plural = _("chat wrap-up codes")
        ordering = ("code",)

    def __str__(self) -> str:
        return self.label


class Conversation(models.Model):
    class State(models.TextChoices):
        WAITING = "waiting", _("Waiting for an agent")
        ACTIVE = "active", _("In conversation")
        ENDED = "ended", _("Ended")

    widget = models.ForeignKey(Widget, on_delete=models.PROTECT, related_name="conversations")
    state = models.CharField(max_length=10, choices=State.choices, default=State.WAITING)
    guest_name = models.CharField(_("name"), max_length=60)
    guest_contact = models.CharField(_("phone or e-mail"), max_length=120, blank=True)
    topic = models.CharField(_("topic"), max_length=80, blank=True)
    language = models.CharField(_("language"), max_length=10, default="zh-hans")
    origin = models.CharField(_("website"), max_length=200, blank=True)
    customer = models.ForeignKey(
        "customers.Customer",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="chats",
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="chats",
    )
    team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    queue_item = models.ForeignKey(
        "routing.QueueItem", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ticket = models.ForeignKey(
        "tickets.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="chats"
    )
    last_seq = models.PositiveIntegerField(default=0)
    # whispers take sequence numbers too but never reach the customer: the customer's widget
    # follows the chain of public messages (each names the public one before it)
    public_seq = models.PositiveIntegerField(default=0)
    public_prev_seq = models.PositiveIntegerField(default=0)
    guest_read_seq = models.PositiveIntegerField(default=0)
    agent_read_seq = models.PositiveIntegerField(default=0)
    token_nonce = models.CharField(max_length=24, default="", editable=False)
    wrap_up = models.ForeignKey(
        WrapUpCode, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    wrap_up_note = models.CharField(_("wrap-up note"), max_length=500, blank=True)
    rating = models.PositiveSmallIntegerField(_("rating"), null=True, blank=True)
    rating_comment = models.CharField(_("comment"), max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        verbose_name = _("chat")
        verbose_name_plural = _("chats")
        indexes = [
            models.Index(fields=["agent", "state"], name="chat_agent_state_idx"),
            models.Index(fields=["customer", "created_at"], name="chat_customer_idx"),
        ]

    def __str__(self) -> str:
        # shown wherever a chat is named (incident links, QA, search): never the name a
        # visitor typed, which anyone could have written
        return _("Live chat #%(id)s") % {"id": self.pk}


class Message(models.Model):
    class Sender(models.TextChoices):
        GUEST = "guest", _("Customer")
        AGENT = "agent", _("Agent")
        SYSTEM = "system", _("System")
        WHISPER = "whisper", _("Whisper")  # staff only: never shown to the customer

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    seq = models.PositiveIntegerField()
    # NULL, not "": messages without a client id must not collide in the unique constraint
    client_id = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    sender = models.CharField(max_length=8, choices=Sender.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = models.TextField(blank=True)
    file = models.FileField(upload_to="chat/%Y/%m/", blank=True)
    file_name = models.CharField(max_length=200, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    size = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("chat message")
        verbose_name_plural = _("chat messages")
        ordering = ("conversation", "seq")
        constraints = [
            models.UniqueConstraint(fields=["conversation", "seq"], name="chat_message_seq"),
            models.UniqueConstraint(
                fields=["conversation", "client_id"],
                condition=Q(client_id__isnull=False),
                name="chat_message_client_id",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.conversation_id}:{self.seq}"

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")
