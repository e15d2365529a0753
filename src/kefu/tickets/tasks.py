"""Background jobs for work orders. Each takes ids and is safe to run twice."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from kefu.core.jobs import periodic


@shared_task(name="kefu.tickets.deliver_webhook")
def deliver_webhook_task(delivery_id: int) -> str | None:
    from kefu.tickets.services.webhooks import deliver

    return deliver(delivery_id)


@periodic(30)
@shared_task(name="kefu.tickets.deliver_due_webhooks")
def deliver_due_webhooks_task() -> int:
    """Retry deliveries whose back-off has passed."""
    from kefu.tickets.services.webhooks import deliver, due_deliveries

    sent = 0
    for delivery_id in due_deliveries():
        if deliver(delivery_id) is not None:
            sent += 1
    return sent


@periodic(3600)
@shared_task(name="kefu.tickets.expire_idempotency_keys")
def expire_idempotency_keys_task() -> int:
    from kefu.tickets.models import IdempotentRequest

    deleted, _detail = IdempotentRequest.objects.filter(
        created_at__lt=timezone.now() - dt.timedelta(hours=24)
    ).delete()
    return deleted


@periodic(6 * 3600)
@shared_task(name="kefu.tickets.sweep_orphan_files")
def sweep_orphan_files_task() -> int:
    """Remove stored attachment files whose database row never committed (older than a day)."""
    from kefu.tickets.models import Attachment

    root = Path(settings.MEDIA_ROOT) / "attachments"
    if not root.exists():
        return 0
    cutoff = timezone.now().timestamp() - 86400
    known = set(Attachment.objects.values_list("storage_key", flat=True))
    removed = 0
    for path in root.rglob("*"):
        if path.is_file() and path.name not in known and path.stat().st_mtime < cutoff:
            os.remove(path)
            removed += 1
    return removed
