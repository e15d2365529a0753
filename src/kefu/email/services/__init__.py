"""E-mail channel rules. Views, the API, jobs and commands call these."""

from kefu.email.services.fetch import FetchBusy, FetchResult, fetch_mailbox, watch_mailbox
from kefu.email.services.inbound import (
    Ingested,
    find_thread,
    ingest,
    ingest_batch,
    match_customer,
    reprocess,
)
from kefu.email.services.mailboxes import (
    Check,
    create_mailbox,
    test_mailbox,
    update_mailbox,
)
from kefu.email.services.outbound import (
    on_ticket_event,
    queue_acknowledgement,
    retry_now,
    save_template,
    send_due,
    send_outbound,
)

__all__ = [
    "Check",
    "FetchBusy",
    "FetchResult",
    "Ingested",
    "create_mailbox",
    "fetch_mailbox",
    "find_thread",
    "ingest",
    "ingest_batch",
    "match_customer",
    "on_ticket_event",
    "queue_acknowledgement",
    "reprocess",
    "retry_now",
    "save_template",
    "send_due",
    "send_outbound",
    "test_mailbox",
    "update_mailbox",
    "watch_mailbox",
]
