"""Talking to mail servers: IMAP (with IDLE) and POP3 to fetch, SMTP to send. Only network I/O
here; what to do with each message is the services' business."""

from __future__ import annotations

import contextlib
import poplib
import smtplib
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from django.conf import settings

from kefu.email.models import Security

TIMEOUT = 30
BATCH = 20


@dataclass(frozen=True)
class Server:
    host: str
    port: int
    security: str
    username: str
    password: str
    folder: str = "INBOX"


def tls_context() -> ssl.SSLContext:
    """Verified TLS; KEFU_EMAIL_CA_FILE adds a private CA (an internal mail server)."""
    cafile = getattr(settings, "KEFU_EMAIL_CA_FILE", "") or None
    return ssl.create_default_context(cafile=cafile)


class ImapSource:
    """An IMAP folder, read without changing flags; message keys are "imap:<UIDVALIDITY>:<UID>"."""

    def __init__(self, server: Server) -> None:
        from imapclient import IMAPClient

        context = tls_context()
        self.client = IMAPClient(
            server.host,
            port=server.port,
            ssl=server.security == Security.SSL,
            ssl_context=context if server.security == Security.SSL else None,
            timeout=TIMEOUT,
        )
        try:
            if server.security == Security.STARTTLS:
                self.client.starttls(context)
            self.client.login(server.username, server.password)
            info = self.client.select_folder(server.folder, readonly=True)
        except Exception:
            self.client.shutdown()
            raise
        self.validity = int(info[b"UIDVALIDITY"])
        self.folder = server.folder

    def keys(self) -> list[tuple[str, int]]:
        return [(f"imap:{self.validity}:{uid}", uid) for uid in sorted(self.client.search(["ALL"]))]

    def fetch(self, handles: list[Any]) -> Iterator[tuple[Any, bytes]]:
        for start in range(0, len(handles), BATCH):
            batch = handles[start : start + BATCH]
            data = self.client.fetch(batch, ["BODY.PEEK[]"])
            for uid in batch:
                item = data.get(uid)
                if item is not None and b"BODY[]" in item:
                    yield uid, bytes(item[b"BODY[]"])

    def can_idle(self) -> bool:
        return bool(self.client.has_capability("IDLE"))

    def wait(self, seconds: float) -> bool:
        """IMAP IDLE: True when the server reported a change within ``seconds``."""
        self.client.idle()
        try:
            responses = self.client.idle_check(timeout=seconds)
        finally:
            self.client.idle_done()
        return bool(responses)

    def close(self) -> None:
        with contextlib.suppress(Exception):  # the connection may already be gone
            self.client.logout()


class Pop3Source:
    """A POP3 maildrop, left on the server; message keys are "pop3:<UIDL>"."""

    def __init__(self, server: Server) -> None:
        context = tls_context()
        if server.security == Security.SSL:
            self.conn: poplib.POP3 = poplib.POP3_SSL(
                server.host, server.port, timeout=TIMEOUT, context=context
            )
        else:
            self.conn = poplib.POP3(server.host, server.port, timeout=TIMEOUT)
        try:
            if server.security == Security.STARTTLS:
                self.conn.stls(context)
            self.conn.user(server.username)
            self.conn.pass_(server.password)
        except Exception:
            self.conn.close()
            raise

    def keys(self) -> list[tuple[str, int]]:
        _resp, listing, _octets = self.conn.uidl()
        found = []
        for line in listing:
            number, _sp, uidl = line.decode("ascii", "replace").partition(" ")
            found.append((f"pop3:{uidl.strip()}", int(number)))
        return found

    def fetch(self, handles: list[Any]) -> Iterator[tuple[Any, bytes]]:
        for number in handles:
            _resp, lines, _octets = self.conn.retr(number)
            yield number, b"\r\n".join(lines) + b"\r\n"

    def can_idle(self) -> bool:
        return False

    def wait(self, seconds: float) -> bool:
        return False

    def close(self) -> None:
        with contextlib.suppress(Exception):  # the connection may already be gone
            self.conn.quit()


def open_source(protocol: str, server: Server) -> ImapSource | Pop3Source:
    return ImapSource(server) if protocol == "imap" else Pop3Source(server)


def smtp_connect(server: Server) -> smtplib.SMTP:
    context = tls_context()
    conn: smtplib.SMTP
    if server.security == Security.SSL:
        conn = smtplib.SMTP_SSL(server.host, server.port, timeout=TIMEOUT, context=context)
    else:
        conn = smtplib.SMTP(server.host, server.port, timeout=TIMEOUT)
    try:
        if server.security == Security.STARTTLS:
            conn.ehlo()
            conn.starttls(context=context)
        conn.ehlo()
        if server.username:
            conn.login(server.username, server.password)
    except Exception:
        conn.close()
        raise
    return conn


def smtp_send(server: Server, message: EmailMessage, sender: str, recipients: list[str]) -> str:
    """Hand ``message`` to the SMTP server; the server's answer, or an smtplib exception."""
    conn = smtp_connect(server)
    try:
        refused = conn.send_message(message, from_addr=sender, to_addrs=recipients)
        if refused:
            raise smtplib.SMTPRecipientsRefused(refused)
        code, text = conn.noop()
        return f"{code} {text.decode('utf-8', 'replace') if isinstance(text, bytes) else text}"
    finally:
        try:
            conn.quit()
        except smtplib.SMTPException:
            conn.close()
