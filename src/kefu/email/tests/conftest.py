"""Real mail servers for the e-mail tests: a private Dovecot (IMAP and POP3, STARTTLS with a
certificate made here) and an aiosmtpd SMTP server that insists on STARTTLS and a login."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction

from kefu.testing.fixtures import require

CORPUS = Path(__file__).parent / "corpus"
DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"


def corpus(name: str) -> bytes:
    return (CORPUS / name).read_bytes()


@pytest.fixture(autouse=True)
def _after_commit_at_once(monkeypatch: Any) -> None:
    """Tests run inside one transaction that never commits: run what is scheduled for after
    commit at once (sending mail), as it would run right after the commit."""

    def at_once(func: Any, using: Any = None, robust: bool = False) -> None:
        func()

    monkeypatch.setattr(transaction, "on_commit", at_once)


@pytest.fixture(autouse=True)
def _fresh_addresses() -> None:
    from kefu.email.services.inbound import forget_addresses

    forget_addresses()


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    from django.utils import translation

    with translation.override("en"):
        yield


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- a certificate for 127.0.0.1 ------------------------------------------------------------------


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: Any) -> tuple[str, str]:
    """A self-signed certificate (and key) for 127.0.0.1 and localhost."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    folder = tmp_path_factory.mktemp("tls")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kefu test mail")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path = folder / "cert.pem"
    key_path = folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    os.chmod(key_path, 0o644)
    return str(cert_path), str(key_path)


@pytest.fixture
def trust_test_ca(settings: Any, tls_files: tuple[str, str]) -> str:
    settings.KEFU_EMAIL_CA_FILE = tls_files[0]
    return tls_files[0]


# --- Dovecot --------------------------------------------------------------------------------------


class Dovecot:
    """A private Dovecot: its own config, users and Maildirs in a temp folder, free ports."""

    def __init__(self, root: Path, cert: str, key: str) -> None:
        self.root = root
        self.imap_port = _free_port()
        self.pop3_port = _free_port()
        # Accounts are made up front: Dovecot reads its passwd-file when it starts.
        self.passwd = root / "passwd"
        self.accounts = [(f"u{uuid.uuid4().hex[:12]}", "mail-pass-2026") for _ in range(200)]
        self.passwd.write_text("".join(f"{u}:{{PLAIN}}{p}::::::\n" for u, p in self.accounts))
        home = root / "home"
        home.mkdir()
        if os.getuid() == 0:
            account = pwd.getpwnam("dovecot") if _has_user("dovecot") else pwd.getpwnam("nobody")
            mail_uid, mail_gid = account.pw_uid, account.pw_gid
            internal = "dovecot" if _has_user("dovecot") else "nobody"
            login = "dovenull" if _has_user("dovenull") else internal
            os.chown(home, mail_uid, mail_gid)
            os.chmod(root, 0o755)  # noqa: S103 - the mail user must reach its home
        else:
            mail_uid, mail_gid = os.getuid(), os.getgid()
            internal = login = pwd.getpwuid(os.getuid()).pw_name
        self.config = root / "dovecot.conf"
        self.config.write_text(
            f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap pop3
listen = 127.0.0.1
default_internal_user = {internal}
default_internal_group = {pwd.getpwnam(internal).pw_name if _has_user(internal) else internal}
default_login_user = {login}
first_valid_uid = {min(mail_uid, 1)}
first_valid_gid = 0
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:~/Maildir
pop3_uidl_format = %08Xu%08Xv
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.passwd}
}}
userdb {{
  driver = static
  args = uid={mail_uid} gid={mail_gid} home={home}/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.imap_port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    address = 127.0.0.1
    port = {self.pop3_port}
  }}
  inet_listener pop3s {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
service pop3-login {{
  chroot =
}}
"""
        )
        self.proc = subprocess.Popen(  # noqa: S603 - our own config, a fixed binary
            [DOVECOT, "-F", "-c", str(self.config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode() if self.proc.stderr else ""
                raise RuntimeError(f"dovecot exited: {err} {self.log()}")
            try:
                with (
                    socket.create_connection(("127.0.0.1", self.imap_port), timeout=0.5),
                    socket.create_connection(("127.0.0.1", self.pop3_port), timeout=0.5),
                ):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"dovecot did not start: {self.log()}")

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def add_user(self) -> tuple[str, str]:
        """A fresh mail account (so tests never see each other's mail)."""
        return self.accounts.pop()

    def client(self, user: str, password: str) -> Any:
        from imapclient import IMAPClient

        client = IMAPClient("127.0.0.1", port=self.imap_port, ssl=False, timeout=10)
        try:
            client.login(user, password)
        except Exception:
            client.shutdown()
            raise
        return client

    def deliver(self, user: str, password: str, *messages: bytes) -> None:
        """Put messages into the account's INBOX (IMAP APPEND, as a delivery agent would)."""
        client = self.client(user, password)
        try:
            for raw in messages:
                client.append("INBOX", raw)
        finally:
            client.logout()

    def stop(self) -> None:
        if self.proc.stderr is not None:
            self.proc.stderr.close()
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def _has_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


@pytest.fixture(scope="session")
def dovecot(tls_files: tuple[str, str]) -> Iterator[Dovecot]:
    require(
        Path(DOVECOT).exists(),
        "Dovecot is not installed (apt-get install dovecot-imapd dovecot-pop3d)",
    )
    root = Path(tempfile.mkdtemp(prefix="kefu-dovecot-"))
    server = Dovecot(root, *tls_files)
    yield server
    server.stop()
    shutil.rmtree(root, ignore_errors=True)


# --- SMTP with STARTTLS and login ----------------------------------------------------------------


class TlsSmtp:
    def __init__(self, cert: str, key: str, user: str, password: str) -> None:
        import ssl

        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult, LoginPassword

        self.messages: list[dict[str, Any]] = []
        self.refuse: dict[str, str] = {}  # recipient -> SMTP answer, e.g. "451 4.3.0 try later"
        sink = self

        class Handler:
            async def handle_RCPT(  # noqa: N802
                self, server: Any, session: Any, envelope: Any, address: str, options: Any
            ) -> str:
                if address in sink.refuse:
                    return sink.refuse[address]
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
                from email import message_from_bytes, policy

                sink.messages.append(
                    {
                        "from": envelope.mail_from,
                        "to": list(envelope.rcpt_tos),
                        "tls": session.ssl is not None,
                        "message": message_from_bytes(envelope.content, policy=policy.default),
                    }
                )
                return "250 OK queued"

        def authenticator(
            server: Any, session: Any, envelope: Any, mechanism: str, data: Any
        ) -> Any:
            ok = isinstance(data, LoginPassword) and (
                data.login.decode() == user and data.password.decode() == password
            )
            return AuthResult(success=ok)

        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        self.port = _free_port()
        self.controller = Controller(
            Handler(),
            hostname="127.0.0.1",
            port=self.port,
            tls_context=context,
            require_starttls=True,
            authenticator=authenticator,
            auth_required=True,
        )
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()


@pytest.fixture
def smtp_tls(tls_files: tuple[str, str], trust_test_ca: str) -> Iterator[TlsSmtp]:
    server = TlsSmtp(*tls_files, user="sender", password="smtp-pass-2026")
    yield server
    server.stop()


# --- a centre with a mailbox ---------------------------------------------------------------------


@pytest.fixture
def mailbox_factory(centre: dict[str, Any], trust_test_ca: str) -> Any:
    from kefu.email import services
    from kefu.testing.factories import ticket_type

    def make(
        *,
        dovecot: Dovecot | None = None,
        user: tuple[str, str] = ("nobody", "x"),
        smtp: TlsSmtp | None = None,
        protocol: str = "imap",
        address: str = "service@kefu.example.cn",
        **extra: Any,
    ) -> Any:
        port = 1
        if dovecot is not None:
            port = dovecot.imap_port if protocol == "imap" else dovecot.pop3_port
        data = {
            "name": "客服邮箱",
            "address": address,
            "team": centre["front"].pk,
            "ticket_type": ticket_type().pk,
            "protocol": protocol,
            "in_host": "127.0.0.1",
            "in_port": port,
            "in_security": "starttls",
            "in_username": user[0],
            "in_password": user[1],
            "out_host": "127.0.0.1",
            "out_port": smtp.port if smtp else 1,
            "out_security": "starttls",
            "out_username": "sender",
            "out_password": "smtp-pass-2026",
            **extra,
        }
        return services.create_mailbox(actor=centre["admin"], data=data)

    return make
