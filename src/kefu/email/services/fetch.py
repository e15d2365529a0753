"""Fetching a mailbox: list what the server holds, skip what was taken before, take the rest in
batches, one transaction per batch — so a fetch killed half-way keeps the batches it finished,
redoes the one it was on, and creates no duplicates."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from django.core.cache import cache
from django.utils import timezone

from kefu.email.connectors import open_source
from kefu.email.models import FetchedUid, InboundEmail, Mailbox
from kefu.email.services.inbound import ingest_batch
from kefu.email.services.mailboxes import describe_error, server_in

log = logging.getLogger(__name__)
LEASE_SECONDS = 600
IDLE_SECONDS = 25 * 60  # RFC 2177: re-issue IDLE at least every 29 minutes
BATCH_MESSAGES = 50
BATCH_BYTES = 32 * 1024 * 1024
"""A batch ends at this many messages or bytes, whichever comes first."""


@dataclass
class FetchResult:
    on_server: int = 0
    new: int = 0
    duplicates: int = 0
    quarantined: int = 0
    errors: list[str] = field(default_factory=list)


class FetchBusy(Exception):
    """Another process is fetching this mailbox right now."""


def fetch_mailbox(mailbox: Mailbox) -> FetchResult:
    """Take every message not taken before. Raises the server's error after noting it on the
    mailbox (the messages taken up to then stay taken)."""
    lease = f"email:fetching:{mailbox.pk}"
    if not cache.add(lease, 1, LEASE_SECONDS):
        raise FetchBusy(mailbox.address)
    result = FetchResult()
    try:
        source = open_source(mailbox.protocol, server_in(mailbox))
        try:
            _take(mailbox, source, result)
        finally:
            source.close()
    except Exception as exc:
        Mailbox.objects.filter(pk=mailbox.pk).update(
            last_fetch_at=timezone.now(), last_error=describe_error(exc)
        )
        raise
    finally:
        cache.delete(lease)
    Mailbox.objects.filter(pk=mailbox.pk).update(last_fetch_at=timezone.now(), last_error="")
    return result


def _take(mailbox: Mailbox, source: object, result: FetchResult) -> None:
    keys: list[tuple[str, object]] = source.keys()  # type: ignore[attr-defined]
    result.on_server = len(keys)
    pending: list[tuple[str, object]] = []
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        taken = set(
            FetchedUid.objects.filter(mailbox=mailbox, uid__in=[k for k, _h in chunk]).values_list(
                "uid", flat=True
            )
        )
        pending.extend((k, h) for k, h in chunk if k not in taken)
    by_handle = {h: k for k, h in pending}
    batch: list[tuple[str, bytes]] = []
    size = 0
    for handle, raw in source.fetch([h for _k, h in pending]):  # type: ignore[attr-defined]
        batch.append((by_handle[handle], raw))
        size += len(raw)
        if len(batch) >= BATCH_MESSAGES or size >= BATCH_BYTES:
            _store(mailbox, batch, result)
            batch, size = [], 0
    if batch:
        _store(mailbox, batch, result)


def _store(mailbox: Mailbox, batch: list[tuple[str, bytes]], result: FetchResult) -> None:
    for done in ingest_batch(mailbox, batch):
        if done.duplicate:
            result.duplicates += 1
        elif done.inbound.state == InboundEmail.State.QUARANTINED:
            result.quarantined += 1
        else:
            result.new += 1


def watch_mailbox(
    mailbox: Mailbox, stop: threading.Event, poll_seconds: float | None = None
) -> None:
    """Fetch, then wait for the server to announce new mail (IMAP IDLE) or for the polling
    interval, until ``stop`` is set. For `kefu manage email_watch` in worker deployments."""
    interval = poll_seconds if poll_seconds is not None else mailbox.poll_seconds
    while not stop.is_set():
        try:
            fetch_mailbox(mailbox)
        except FetchBusy:
            pass
        except Exception:
            log.exception("fetching %s failed", mailbox.address)
            stop.wait(interval)
            continue
        if mailbox.use_idle and mailbox.protocol == Mailbox.Protocol.IMAP:
            try:
                source = open_source(mailbox.protocol, server_in(mailbox))
                try:
                    if source.can_idle():
                        deadline = min(IDLE_SECONDS, max(interval, 1) * 30)
                        waited = 0.0
                        while not stop.is_set() and waited < deadline:
                            if source.wait(min(5.0, deadline - waited)):
                                break
                            waited += 5.0
                        continue
                finally:
                    source.close()
            except Exception:
                log.exception("IMAP IDLE on %s failed; polling", mailbox.address)
        stop.wait(interval)
