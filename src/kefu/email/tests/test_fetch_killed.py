"""A fetcher process killed with SIGKILL part-way through a large mailbox, then run again:
every message is stored exactly once — no duplicates, nothing lost. The fetcher is a real
`email_fetch` process reading a real Dovecot and writing the test's database (a file for
SQLite, the test database for PostgreSQL), so nothing is simulated: the kill lands wherever
the process happens to be."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

from kefu.core.models import Event
from kefu.customers.models import Customer
from kefu.email.models import FetchedUid, InboundEmail
from kefu.email.services.fetch import BATCH_MESSAGES
from kefu.tickets.models import Ticket

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

MESSAGES = 300

FETCHER = (
    "import sys, django; django.setup(); "
    "from django.conf import settings; settings.KEFU_EMAIL_CA_FILE = sys.argv[1]; "
    "from django.core.management import call_command; "
    "call_command('email_fetch', '--mailbox', sys.argv[2])"
)


def _mail(i: int) -> bytes:
    return (
        f"From: =?utf-8?b?5byg5Lyf?= <customer{i}@example.com>\r\n"
        f"To: service@kefu.example.cn\r\n"
        f"Subject: =?utf-8?b?5a625Lit5YGc55S1?= {i}\r\n"
        f"Message-ID: <killed-{i}@example.com>\r\n"
        f"Date: Thu, 03 Dec 2026 08:00:00 +0800\r\n"
        f"Content-Type: text/plain; charset=utf-8\r\n"
        f"Content-Transfer-Encoding: 8bit\r\n\r\n"
        f"户号 {1002003000 + i} 从早上开始停电，请派人检修。\r\n"
    ).encode()


def _database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    auth = quote(db["USER"] or "", safe="")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"], safe="")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _fetcher(mailbox_id: int, ca_file: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "kefu.config.test_settings",
        "KEFU_DATABASE_URL": _database_url(),
        "KEFU_SECRET_KEY": settings.SECRET_KEY,  # the mailbox password is encrypted with it
        "KEFU_DATA_DIR": str(settings.DATA_DIR),
    }
    return subprocess.Popen(  # noqa: S603 - this interpreter, our own code
        [sys.executable, "-P", "-c", FETCHER, ca_file, str(mailbox_id)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def test_fetcher_killed_half_way_then_run_again_stores_every_message_once(
    dovecot: Any, mailbox_factory: Any, trust_test_ca: str
) -> None:
    from kefu.tickets import defaults

    defaults.install()  # a transactional test starts from an empty database
    account = dovecot.add_user()
    dovecot.deliver(*account, *(_mail(i) for i in range(MESSAGES)))
    mailbox = mailbox_factory(dovecot=dovecot, user=account, send_acknowledgement=False)

    # when the fetcher is killed once it has committed its first batch
    first = _fetcher(mailbox.pk, trust_test_ca)
    deadline = time.monotonic() + 120
    while InboundEmail.objects.count() < BATCH_MESSAGES:
        assert first.poll() is None, first.stderr.read().decode() if first.stderr else ""
        assert time.monotonic() < deadline, "the fetcher stored nothing in two minutes"
        time.sleep(0.02)
    first.send_signal(signal.SIGKILL)
    first.communicate(timeout=30)
    assert first.returncode == -signal.SIGKILL

    # then it kept whole batches only: the one it was on left no trace
    kept = InboundEmail.objects.count()
    assert BATCH_MESSAGES <= kept < MESSAGES
    assert kept % BATCH_MESSAGES == 0
    assert FetchedUid.objects.count() == kept
    assert Ticket.objects.count() == kept
    assert Customer.objects.count() == kept

    # when it runs again
    again = _fetcher(mailbox.pk, trust_test_ca)
    out, err = again.communicate(timeout=300)
    assert again.returncode == 0, err.decode()
    assert (
        f"{MESSAGES} on the server, {MESSAGES - kept} new, 0 already known, 0 in quarantine"
    ) in out.decode()

    # then every message is stored exactly once, and each opened one work order
    expected = {f"<killed-{i}@example.com>" for i in range(MESSAGES)}
    stored = list(InboundEmail.objects.values_list("message_id", flat=True))
    assert len(stored) == MESSAGES
    assert set(stored) == expected
    assert set(InboundEmail.objects.values_list("state", flat=True)) == {"processed"}
    assert FetchedUid.objects.filter(mailbox=mailbox).count() == MESSAGES
    assert Ticket.objects.count() == MESSAGES
    assert Ticket.objects.values("number").distinct().count() == MESSAGES
    # numbers are reserved per batch: only the killed batch's are missing from the sequence
    highest = max(int(n.rsplit("-", 1)[1]) for n in Ticket.objects.values_list("number", flat=True))
    assert highest <= MESSAGES + BATCH_MESSAGES
    assert Customer.objects.count() == MESSAGES
    assert Event.objects.filter(action="email_received").count() == MESSAGES
    titles = set(Ticket.objects.values_list("title", flat=True))
    assert titles == {f"家中停电 {i}" for i in range(MESSAGES)}
