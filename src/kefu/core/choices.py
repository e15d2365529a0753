"""Vocabularies shared by several apps."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    """Where a contact came in (受理渠道)."""

    PHONE = "phone", _("Phone hotline")
    PORTAL = "portal", _("Web portal")
    CHAT = "chat", _("Live chat")
    EMAIL = "email", _("E-mail")
    IM = "im", _("Instant messaging")
    WALK_IN = "walk_in", _("Walk-in")
    LETTER = "letter", _("Letter")
    MESSAGE_BOARD = "message_board", _("Message board")
    MEDIA = "media", _("Media")
    TRANSFER = "transfer", _("Department transfer")
    API = "api", _("API")


class WorkChannel(models.TextChoices):
    """Kinds of work an agent holds at once; each has its own capacity."""

    VOICE = "voice", _("Calls")
    CHAT = "chat", _("Chats")
    EMAIL = "email", _("E-mails")
    TICKET = "ticket", _("Work orders")


DEFAULT_CAPACITY = {
    WorkChannel.VOICE.value: 1,
    WorkChannel.CHAT.value: 3,
    WorkChannel.EMAIL.value: 5,
    WorkChannel.TICKET.value: 20,
}


class Language(models.TextChoices):
    """Languages an agent can serve in."""

    MANDARIN = "zh", _("Mandarin")
    CANTONESE = "yue", _("Cantonese")
    ENGLISH = "en", _("English")
    SIGN = "sign", _("Sign language")
