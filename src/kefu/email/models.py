"""The e-mail channel: mailboxes, every message fetched (with its original bytes), what was
already fetched from each mailbox, outgoing mail with its delivery log, and mail templates."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Security(models.TextChoices):
    SSL = "ssl", _("SSL/TLS")
    STARTTLS = "starttls", _("STARTTLS")
    NONE = "none", _("None (test servers only)")


class Mailbox(models.Model):
    """One address of the centre: where its mail is fetched from, how replies are sent, and
    which team and work-order type new mail gets."""

    class Protocol(models.TextChoices):
        IMAP = "imap", _("IMAP")
        POP3 = "pop3", _("POP3")

    name = models.CharField(_("name"), max_length=80)
    address = models.EmailField(_("address"), unique=True)
    team = models.ForeignKey(
        "accounts.Team", verbose_name=_("team"), on_delete=models.PROTECT, related_name="+"
    )
    ticket_type = models.ForeignKey(
        "tickets.TicketType",
        verbose_name=_("default type"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    protocol = models.CharField(
        _("incoming protocol"), max_length=4, choices=Protocol, default=Protocol.IMAP
    )
    in_host = models.CharField(_("incoming server"), max_length=200)
    in_port = models.PositiveIntegerField(_("incoming port"), default=993)
    in_security = models.CharField(
        _("incoming security"), max_length=8, choices=Security, default=Security.SSL
    )
    in_username = models.CharField(_("incoming user name"), max_length=200)
    in_password = models.TextField(_("incoming password (encrypted)"), blank=True, editable=False)
    folder = models.CharField(_("IMAP folder"), max_length=100, default="INBOX")
    out_host = models.CharField(_("outgoing (SMTP) server"), max_length=200)
    out_port = models.PositiveIntegerField(_("outgoing port"), default=465)
    out_security = models.CharField(
        _("outgoing security"), max_length=8, choices=Security, default=Security.SSL
    )
    out_username = models.CharField(_("outgoing user name"), max_length=200, blank=True)
    out_password = models.TextField(_("outgoing password (encrypted)"), blank=True, editable=False)
    max_message_bytes = models.PositiveIntegerField(
        _("largest message (bytes)"),
        default=25 * 1024 * 1024,
        help_text=_("Larger messages are kept in quarantine for an administrator."),
    )
    poll_seconds = models.PositiveIntegerField(_("fetch every (seconds)"), default=60)
    use_idle = models.BooleanField(
        _("IMAP IDLE"),
        default=True,
        help_text=_("Wait for new mail on the server where it offers IDLE (kefu worker)."),
    )
    send_acknowledgement = models.BooleanField(
        _("acknowledge new work orders"),
        default=True,
        help_text=_("Answer the first message of a new work order with its number."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    last_fetch_at = models.DateTimeField(_("last fetch"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("mailbox")
        verbose_name_plural = _("mailboxes")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return f"{self.name} <{self.address}>"


class InboundEmail(models.Model):
    """One message as fetched: the original bytes always, and what reading it produced."""

    class State(models.TextChoices):
        PROCESSED = "processed", _("On a work order")
        IGNORED = "ignored", _("Automatic mail, not answered")
        QUARANTINED = "quarantined", _("In quarantine")

    class Kind(models.TextChoices):
        NORMAL = "normal", _("Normal")
        AUTO_REPLY = "auto_reply", _("Automatic reply")
        BOUNCE = "bounce", _("Bounce / delivery report")
        LOOP = "loop", _("Mail loop")

    mailbox = models.ForeignKey(
        Mailbox, null=True, on_delete=models.SET_NULL, related_name="inbound"
    )
    key = models.CharField(max_length=300, unique=True, help_text="Message-ID or sha256 of bytes")
    message_id = models.CharField(_("Message-ID"), max_length=300, blank=True, db_index=True)
    raw = models.BinaryField()
    size = models.PositiveIntegerField(_("size"))
    state = models.CharField(_("state"), max_length=12, choices=State)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind, default=Kind.NORMAL)
    kind_reason = models.CharField(max_length=200, blank=True)
    quarantine_reason = models.CharField(_("quarantine reason"), max_length=500, blank=True)
    subject = models.CharField(_("subject"), max_length=500, blank=True)
    from_address = models.CharField(_("from"), max_length=254, blank=True)
    from_name = models.CharField(max_length=200, blank=True)
    to = models.CharField(_("to"), max_length=1000, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    thread_ids = models.JSONField(default=list, blank=True)
    text = models.TextField(blank=True)
    visible_text = models.TextField(blank=True)
    folded_text = models.TextField(blank=True)
    html_safe = models.TextField(blank=True)
    attachments = models.JSONField(
        default=list, blank=True, help_text="[{filename, size, attachment|refused}]"
    )
    defects = models.JSONField(default=list, blank=True)
    ticket = models.ForeignKey(
        "tickets.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ticket_message = models.ForeignKey(
        "tickets.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_ticket = models.BooleanField(default=False)
    received_at = models.DateTimeField(_("received"), default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("incoming e-mail")
        verbose_name_plural = _("incoming e-mails")
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["state", "received_at", "id"], name="inbound_state_idx"),
            models.Index(fields=["ticket", "received_at"], name="inbound_ticket_idx"),
            models.Index(fields=["from_address", "received_at"], name="inbound_sender_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.from_address}: {self.subject[:60]}"


class FetchedUid(models.Model):
    """A message already taken from a mailbox: "imap:<UIDVALIDITY>:<UID>" or "pop3:<UIDL>".
    Written in the same transaction as the message, so a killed fetch resumes where it was."""

    mailbox = models.ForeignKey(Mailbox, on_delete=models.CASCADE, related_name="fetched")
    uid = models.CharField(max_length=200)
    inbound = models.ForeignKey(
        InboundEmail, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    fetched_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["mailbox", "uid"], name="fetched_uid_unique")
        ]

    def __str__(self) -> str:
        return self.uid


class OutboundEmail(models.Model):
    """A message the centre sends: a reply, or an acknowledgement of a new work order."""

    class Kind(models.TextChoices):
        REPLY = "reply", _("Reply")
        ACKNOWLEDGEMENT = "acknowledgement", _("Acknowledgement")

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting to send")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        BOUNCED = "bounced", _("Bounced")

    mailbox = models.ForeignKey(Mailbox, null=True, on_delete=models.SET_NULL, related_name="+")
    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.CASCADE, related_name="+", null=True, blank=True
    )
    ticket_message = models.ForeignKey(
        "tickets.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind)
    message_id = models.CharField(max_length=300, unique=True)
    in_reply_to = models.CharField(max_length=300, blank=True)
    references = models.TextField(blank=True)
    to_address = models.CharField(_("to"), max_length=254)
    subject = models.CharField(_("subject"), max_length=500)
    body = models.TextField(_("text"))
    attachment_ids = models.JSONField(default=list, blank=True)
    state = models.CharField(_("state"), max_length=10, choices=State, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("outgoing e-mail")
        verbose_name_plural = _("outgoing e-mails")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"], name="outbound_due_idx", condition=Q(state="pending")
            ),
            models.Index(fields=["ticket", "created_at"], name="outbound_ticket_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.to_address}: {self.subject[:60]}"


class DeliveryAttempt(models.Model):
    """The delivery log: one row per try to hand a message to the SMTP server."""

    outbound = models.ForeignKey(OutboundEmail, on_delete=models.CASCADE, related_name="log")
    attempt = models.PositiveSmallIntegerField()
    at = models.DateTimeField(default=timezone.now)
    ok = models.BooleanField()
    code = models.PositiveSmallIntegerField(null=True, blank=True)
    detail = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["outbound", "attempt", "id"]

    def __str__(self) -> str:
        return f"{self.outbound_id} #{self.attempt}"


class EmailTemplate(models.Model):
    """The wording of outgoing mail, per kind and language; administrators edit it."""

    class Language(models.TextChoices):
        ZH = "zh-hans", _("Simplified Chinese")
        EN = "en", _("English")

    kind = models.CharField(_("kind"), max_length=16, choices=OutboundEmail.Kind)
    language = models.CharField(_("language"), max_length=8, choices=Language)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("text"), max_length=4000)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("e-mail template")
        verbose_name_plural = _("e-mail templates")
        ordering = ["kind", "language"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "language"], name="email_template_unique")
        ]

    def __str__(self) -> str:
        return f"{self.kind} ({self.language})"
