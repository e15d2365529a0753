"""Sending survey links by SMS through a pluggable gateway.

A gateway is any class with ``send(phone: str, text: str) -> str`` (returning the provider's
message id) named by the ``SURVEYS_SMS_BACKEND`` setting. The embedded default,
:class:`LogBackend`, writes the message to the log and keeps it in :data:`LogBackend.outbox`."""

from __future__ import annotations

import logging
from typing import ClassVar, Protocol

from django.conf import settings
from django.utils.module_loading import import_string

log = logging.getLogger(__name__)


class SmsBackend(Protocol):
    def send(self, phone: str, text: str) -> str: ...


class LogBackend:
    outbox: ClassVar[list[tuple[str, str]]] = []

    def send(self, phone: str, text: str) -> str:
        LogBackend.outbox.append((phone, text))
        log.info("SMS to %s: %s", phone, text)
        return f"log-{len(LogBackend.outbox)}"


def backend() -> SmsBackend:
    path = getattr(settings, "SURVEYS_SMS_BACKEND", "kefu.surveys.sms.LogBackend")
    cls = import_string(path)
    instance: SmsBackend = cls()
    return instance
