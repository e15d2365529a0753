"""Waiting for new mail with IMAP IDLE: one thread per active IMAP mailbox that allows it.
Started by `kefu worker` (Celery's worker_ready signal) and by `kefu manage email_watch`; the
periodic fetch keeps running beside it, and a per-mailbox lease keeps the two from fetching the
same mailbox at once."""

from __future__ import annotations

import threading

from django.db import close_old_connections

from kefu.email.models import Mailbox


def start_watchers(stop: threading.Event) -> list[threading.Thread]:
    from kefu.email.services import watch_mailbox

    threads = []
    mailboxes = Mailbox.objects.filter(
        is_active=True, use_idle=True, protocol=Mailbox.Protocol.IMAP
    )
    for mailbox in mailboxes:

        def run(mailbox: Mailbox = mailbox) -> None:
            try:
                watch_mailbox(mailbox, stop)
            finally:
                close_old_connections()

        thread = threading.Thread(target=run, name=f"kefu-idle-{mailbox.pk}", daemon=True)
        thread.start()
        threads.append(thread)
    return threads
