"""In-app notifications, pushed live to the person's open pages (and optionally e-mailed)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone, translation

from kefu.core.models import Notification
from kefu.core.realtime import broadcast, user_group

log = logging.getLogger(__name__)


def notify(
    users: Iterable[Any],
    *,
    kind: str,
    title: str,
    body: str = "",
    url: str = "",
    email: bool = False,
) -> list[Notification]:
    """Create a notification for each user (once each); push and mail after commit."""
    seen: set[int] = set()
    rows = []
    for user in users:
        if user is None or user.pk in seen or not user.is_active:
            continue
        seen.add(user.pk)
        rows.append(
            Notification(user=user, kind=kind, title=title[:200], body=body[:500], url=url[:300])
        )
    created = Notification.objects.bulk_create(rows)
    for note, user in zip(created, [r.user for r in rows], strict=True):
        payload = {
            "type": "notification",
            "id": note.pk,
            "kind": kind,
            "title": note.title,
            "body": note.body,
            "url": note.url,
        }
        broadcast(user_group(user.pk), payload)
        if email and user.email:
            # A subject is one header line: a line break (from text stored before titles were
            # checked, or from another system) would make the mail library refuse the message.
            subject = " ".join(note.title.split())
            address, text = user.email, f"{note.body}\n\n{url}".strip()
            language = user.language or None

            def send(
                address: str = address,
                subject: str = subject,
                text: str = text,
                language: str | None = language,
            ) -> None:
                with translation.override(language):
                    try:
                        send_mail(subject, text, None, [address])
                    except Exception:  # noqa: BLE001 - a lost notice is logged, never raised
                        log.warning("could not mail a notification to %s", address, exc_info=True)

            transaction.on_commit(send)
    return created


def unread_count(user: Any) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def mark_read(user: Any, ids: Iterable[int] | None = None) -> int:
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    return qs.update(read_at=timezone.now())
