"""Fetching from a real Dovecot (IMAP and POP3 over STARTTLS): nothing duplicated, nothing lost,
whether a fetch is repeated, killed half-way, or its bookkeeping is lost."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from kefu.email import services
from kefu.email.connectors import ImapSource
from kefu.email.models import FetchedUid, InboundEmail
from kefu.email.services import fetch as fetching
from kefu.email.services import inbound as pipeline
from kefu.email.tests.conftest import corpus
from kefu.tickets.models import Ticket

pytestmark = pytest.mark.django_db

BATCH = [
    "foxmail_gb2312.eml",
    "outlook_gbk_related.eml",
    "iphone_gb18030_qp.eml",
    "big5_traditional.eml",
    "rfc2231_attachments.eml",
    "no_message_id.eml",
    "auto_reply_ooo.eml",
    "unparseable.eml",
]


@pytest.fixture
def loaded(dovecot: Any, mailbox_factory: Any) -> tuple[Any, Any, tuple[str, str]]:
    account = dovecot.add_user()
    dovecot.deliver(*account, *(corpus(name) for name in BATCH))
    mailbox = mailbox_factory(dovecot=dovecot, user=account, send_acknowledgement=False)
    return dovecot, mailbox, account


def _subjects() -> list[str]:
    return sorted(Ticket.objects.values_list("title", flat=True))


EXPECTED_TITLES = sorted(
    ["停电报修：家中停电（喆）", "电费账单异常", "路灯不亮", "查詢帳單", "发票申请", "咨询"]
)


def test_fetching_twice_creates_no_duplicates(loaded: Any) -> None:
    _server, mailbox, _account = loaded
    # when
    first = services.fetch_mailbox(mailbox)
    second = services.fetch_mailbox(mailbox)
    # then
    assert (first.on_server, first.new, first.duplicates, first.quarantined) == (8, 7, 0, 1)
    assert (second.on_server, second.new, second.duplicates, second.quarantined) == (8, 0, 0, 0)
    assert InboundEmail.objects.count() == 8
    assert FetchedUid.objects.filter(mailbox=mailbox).count() == 8
    assert _subjects() == EXPECTED_TITLES
    assert sorted(InboundEmail.objects.values_list("state", flat=True)) == [
        "ignored", *["processed"] * 6, "quarantined",
    ]  # fmt: skip
    mailbox.refresh_from_db()
    assert mailbox.last_fetch_at is not None
    assert mailbox.last_error == ""


def test_fetch_killed_half_way_resumes_without_duplicates_or_losses(
    loaded: Any, monkeypatch: Any
) -> None:
    _server, mailbox, _account = loaded
    monkeypatch.setattr(fetching, "BATCH_MESSAGES", 2)  # batches of two messages
    real_route = pipeline._route
    calls = {"n": 0}

    def dies_on_the_third(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        filed = real_route(*args, **kwargs)  # the work order is written...
        if calls["n"] == 3:
            raise KeyboardInterrupt("killed")  # ...and the process dies before the commit
        return filed

    monkeypatch.setattr(pipeline, "_route", dies_on_the_third)
    # when the fetch dies on the third message, in the second batch
    with pytest.raises(KeyboardInterrupt):
        services.fetch_mailbox(mailbox)
    # then the first batch is kept whole, the second left no trace
    assert InboundEmail.objects.count() == 2
    assert FetchedUid.objects.count() == 2
    assert Ticket.objects.count() == 2
    # when it runs again
    monkeypatch.setattr(pipeline, "_route", real_route)
    again = services.fetch_mailbox(mailbox)
    # then it takes exactly the rest
    assert (again.new, again.duplicates, again.quarantined) == (5, 0, 1)
    assert InboundEmail.objects.count() == 8
    assert _subjects() == EXPECTED_TITLES


def test_lost_bookkeeping_is_caught_by_message_id(loaded: Any) -> None:
    _server, mailbox, _account = loaded
    services.fetch_mailbox(mailbox)
    # given the record of fetched UIDs is lost (a restored backup, a new UIDVALIDITY)
    FetchedUid.objects.all().delete()
    # when
    again = services.fetch_mailbox(mailbox)
    # then every message is recognised by its Message-ID (or its bytes)
    assert (again.new, again.duplicates, again.quarantined) == (0, 8, 0)
    assert InboundEmail.objects.count() == 8
    assert Ticket.objects.count() == 6


def test_pop3_fetch_is_deduplicated_too(dovecot: Any, mailbox_factory: Any) -> None:
    account = dovecot.add_user()
    dovecot.deliver(*account, corpus("foxmail_gb2312.eml"), corpus("big5_traditional.eml"))
    mailbox = mailbox_factory(
        dovecot=dovecot, user=account, protocol="pop3", send_acknowledgement=False
    )
    first = services.fetch_mailbox(mailbox)
    dovecot.deliver(*account, corpus("iphone_gb18030_qp.eml"))
    second = services.fetch_mailbox(mailbox)
    assert (first.on_server, first.new) == (2, 2)
    assert (second.on_server, second.new, second.duplicates) == (3, 1, 0)
    assert sorted(FetchedUid.objects.values_list("uid", flat=True))[0].startswith("pop3:")
    assert _subjects() == sorted(["停电报修：家中停电（喆）", "查詢帳單", "路灯不亮"])


def test_a_message_sent_to_two_of_our_mailboxes_is_filed_once(
    dovecot: Any, mailbox_factory: Any
) -> None:
    one, two = dovecot.add_user(), dovecot.add_user()
    for account in (one, two):
        dovecot.deliver(*account, corpus("foxmail_gb2312.eml"))
    first = mailbox_factory(dovecot=dovecot, user=one, send_acknowledgement=False)
    second = mailbox_factory(
        dovecot=dovecot, user=two, address="sales@kefu.example.cn", send_acknowledgement=False
    )
    services.fetch_mailbox(first)
    result = services.fetch_mailbox(second)
    assert (result.new, result.duplicates) == (0, 1)
    assert Ticket.objects.count() == 1


def test_wrong_password_is_reported_on_the_mailbox(
    dovecot: Any, mailbox_factory: Any, centre: Any
) -> None:
    account = dovecot.add_user()
    mailbox = mailbox_factory(dovecot=dovecot, user=(account[0], "wrong"))
    with pytest.raises(Exception, match="uthenticat"):
        services.fetch_mailbox(mailbox)
    mailbox.refresh_from_db()
    assert "AUTHENTICATIONFAILED" in mailbox.last_error or "uthenticat" in mailbox.last_error
    checks = services.test_mailbox(actor=centre["admin"], mailbox=mailbox)
    assert [(c.part, c.ok) for c in checks] == [("incoming", False), ("outgoing", False)]


def test_connection_test_reports_both_servers(
    dovecot: Any, mailbox_factory: Any, smtp_tls: Any, centre: Any
) -> None:
    account = dovecot.add_user()
    dovecot.deliver(*account, corpus("foxmail_gb2312.eml"))
    mailbox = mailbox_factory(dovecot=dovecot, user=account, smtp=smtp_tls)
    checks = services.test_mailbox(actor=centre["admin"], mailbox=mailbox)
    assert [(c.part, c.ok, c.detail) for c in checks] == [
        ("incoming", True, "Signed in; 1 messages in the folder; IDLE offered."),
        ("outgoing", True, "SMTP server answered 250."),
    ]
    assert InboundEmail.objects.count() == 0  # testing reads nothing


def test_imap_idle_wakes_up_when_mail_arrives(dovecot: Any, mailbox_factory: Any) -> None:
    from kefu.email.services.mailboxes import server_in

    account = dovecot.add_user()
    mailbox = mailbox_factory(dovecot=dovecot, user=account)
    source = ImapSource(server_in(mailbox))
    try:
        assert source.can_idle() is True
        timer = threading.Timer(
            0.5, dovecot.deliver, args=(*account, corpus("big5_traditional.eml"))
        )
        timer.start()
        started = time.monotonic()
        woke = source.wait(20)
        timer.join()
    finally:
        source.close()
    assert woke is True
    assert time.monotonic() - started < 15


def test_passwords_are_stored_encrypted(mailbox_factory: Any) -> None:
    from kefu.email import crypto

    mailbox = mailbox_factory(user=("support", "imap-secret-1"))
    assert "imap-secret-1" not in mailbox.in_password
    assert crypto.decrypt(mailbox.in_password) == "imap-secret-1"
    assert crypto.decrypt(mailbox.out_password) == "smtp-pass-2026"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_watcher_takes_mail_as_it_arrives(dovecot: Any, mailbox_factory: Any) -> None:
    from kefu.email.services import watch_mailbox

    account = dovecot.add_user()
    mailbox = mailbox_factory(dovecot=dovecot, user=account, send_acknowledgement=False)
    stop = threading.Event()

    def watch() -> None:
        from django.db import connection

        try:
            watch_mailbox(mailbox, stop)
        finally:
            connection.close()

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        time.sleep(1)
        dovecot.deliver(*account, corpus("iphone_gb18030_qp.eml"))
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not InboundEmail.objects.exists():
            time.sleep(0.2)
    finally:
        stop.set()
        watcher.join(timeout=15)
    assert list(Ticket.objects.values_list("title", flat=True)) == ["路灯不亮"]
    assert not watcher.is_alive()
