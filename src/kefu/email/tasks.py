"""E-mail background jobs: fetching every mailbox when due, sending and re-sending mail."""

from __future__ import annotations

import logging

from celery import shared_task
from celery.signals import worker_ready
from django.core.cache import cache
from django.utils import timezone

from kefu.core import jobs
from kefu.core.jobs import periodic

log = logging.getLogger(__name__)


@periodic(30)
@shared_task(name="kefu.email.fetch_due")
def fetch_due_task() -> int:
    """Queue a fetch for each active mailbox whose polling interval has passed."""
    from kefu.email.models import Mailbox

    now = timezone.now()
    queued = 0
    for mailbox in Mailbox.objects.filter(is_active=True).only(
        "pk", "poll_seconds", "last_fetch_at"
    ):
        due = mailbox.last_fetch_at is None or (
            (now - mailbox.last_fetch_at).total_seconds() >= mailbox.poll_seconds
        )
        if due and cache.add(f"email:fetch-queued:{mailbox.pk}", 1, mailbox.poll_seconds):
            jobs.dispatch(fetch_mailbox_task, (mailbox.pk,))
            queued += 1
    return queued


@shared_task(name="kefu.email.fetch_mailbox")
def fetch_mailbox_task(mailbox_id: int) -> int:
    from kefu.email.models import Mailbox
    from kefu.email.services import FetchBusy, fetch_mailbox

    mailbox = Mailbox.objects.filter(pk=mailbox_id, is_active=True).first()
    if mailbox is None:
        return 0
    try:
        return fetch_mailbox(mailbox).new
    except FetchBusy:
        return 0
    except Exception:
        log.exception("fetching mailbox %s failed", mailbox.address)
        return 0


@shared_task(name="kefu.email.send")
def send_outbound_task(outbound_id: int) -> str:
    from kefu.email.services import send_outbound

    return send_outbound(outbound_id)


@shared_task(name="kefu.email.send_many")
def send_outbound_many_task(outbound_ids: list[int]) -> int:
    """Send the messages a batch queued (one reply to many work orders) over one SMTP
    connection per mailbox; each is claimed, logged and retried on its own, as by
    :func:`send_outbound_task`. A message left claimed by a job that died is sent again by
    ``send_due`` once its claim runs out."""
    from kefu.email.services.outbound import send_outbound_many

    states = send_outbound_many(outbound_ids)
    return sum(state == "sent" for state in states.values())


@periodic(60)
@shared_task(name="kefu.email.send_due")
def send_due_task() -> int:
    from kefu.email.services import send_due

    return send_due()


def _start_idle_watchers(**_kwargs: object) -> None:
    """In `kefu worker`: wait for new mail with IMAP IDLE as well as polling."""
    import threading

    from kefu.email.watch import start_watchers

    start_watchers(threading.Event())


worker_ready.connect(_start_idle_watchers, weak=False)
