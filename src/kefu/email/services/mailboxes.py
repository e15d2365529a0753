"""Mailboxes: creating and changing them (passwords stored encrypted), testing the servers."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.models import Team, User
from kefu.core import events
from kefu.core.permissions import require_perm
from kefu.core.validation import clean_text, normalize_email, parse_id
from kefu.email import crypto
from kefu.email.models import Mailbox, Security
from kefu.tickets.models import TicketType

FIELDS = (
    "name",
    "address",
    "team",
    "ticket_type",
    "protocol",
    "in_host",
    "in_port",
    "in_security",
    "in_username",
    "folder",
    "out_host",
    "out_port",
    "out_security",
    "out_username",
    "max_message_bytes",
    "poll_seconds",
    "use_idle",
    "send_acknowledgement",
    "is_active",
)
SECRETS = ("in_password", "out_password")
_HOST = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.\-]{0,251}[A-Za-z0-9])?$")
DEFAULT_PORTS = {
    ("imap", Security.SSL): 993,
    ("imap", Security.STARTTLS): 143,
    ("imap", Security.NONE): 143,
    ("pop3", Security.SSL): 995,
    ("pop3", Security.STARTTLS): 110,
    ("pop3", Security.NONE): 110,
}


def _clean(data: Mapping[str, Any], instance: Mapping[str, Any]) -> dict[str, Any]:
    """Every field checked at once; a ValidationError names each bad one."""
    merged = {**instance, **{k: v for k, v in data.items() if k in FIELDS}}
    errors: dict[str, list[str]] = {}
    out: dict[str, Any] = {}

    def run(field: str, check: Any) -> None:
        try:
            out[field] = check(merged.get(field))
        except ValidationError as exc:
            errors[field] = [str(m) for m in exc.messages]

    def text(limit: int, *, required: bool = True) -> Any:
        return lambda v: clean_text(
            v if isinstance(v, str) else "", field="x", max_length=limit, required=required
        )

    def host(v: Any) -> str:
        value = str(v or "").strip()
        if not _HOST.match(value):
            raise ValidationError(_("Enter a server name such as imap.example.cn."))
        return value

    def port(v: Any) -> int:
        if isinstance(v, bool) or not isinstance(v, int | str) or parse_id(v) is None:
            raise ValidationError(_("Enter a port number from 1 to 65535."))
        number = int(v)
        if not 1 <= number <= 65535:
            raise ValidationError(_("Enter a port number from 1 to 65535."))
        return number

    def choice(values: list[str]) -> Any:
        def check(v: Any) -> str:
            if v not in values:
                raise ValidationError(_("Choose one of: %(c)s.") % {"c": ", ".join(values)})
            return str(v)

        return check

    def team(v: Any) -> Team:
        pk = parse_id(getattr(v, "pk", v))
        found = Team.objects.filter(pk=pk, is_active=True).first() if pk else None
        if found is None:
            raise ValidationError(_("Choose an active team."))
        return found

    def ticket_type(v: Any) -> TicketType:
        pk = parse_id(getattr(v, "pk", v))
        found = TicketType.objects.filter(pk=pk, is_active=True).first() if pk else None
        if found is None:
            raise ValidationError(_("Choose an active work-order type."))
        return found

    def number(low: int, high: int) -> Any:
        def check(v: Any) -> int:
            if isinstance(v, bool) or parse_id(v) is None or not low <= int(v) <= high:
                raise ValidationError(
                    _("Enter a whole number from %(a)d to %(b)d.") % {"a": low, "b": high}
                )
            return int(v)

        return check

    def flag(v: Any) -> bool:
        if not isinstance(v, bool):
            raise ValidationError(_("Must be true or false."))
        return v

    def address(v: Any) -> str:
        value = normalize_email(str(v or ""), field="x").lower()
        clash = Mailbox.objects.filter(address__iexact=value)
        if instance.get("id"):
            clash = clash.exclude(pk=instance["id"])
        if clash.exists():
            raise ValidationError(_("Another mailbox already uses this address."))
        return value

    run("name", text(80))
    run("address", address)
    run("team", team)
    run("ticket_type", ticket_type)
    run("protocol", choice(Mailbox.Protocol.values))
    run("in_host", host)
    run("in_port", port)
    run("in_security", choice(Security.values))
    run("in_username", text(200))
    run("folder", text(100))
    run("out_host", host)
    run("out_port", port)
    run("out_security", choice(Security.values))
    run("out_username", text(200, required=False))
    run("max_message_bytes", number(1024, 200 * 1024 * 1024))
    run("poll_seconds", number(10, 86400))
    for name in ("use_idle", "send_acknowledgement", "is_active"):
        run(name, flag)
    for name in SECRETS:
        value = data.get(name)
        if value is not None and (not isinstance(value, str) or len(value) > 500):
            errors[name] = [_("Enter the password as text of at most 500 characters.")]
    if errors:
        raise ValidationError(errors)
    return out


def _current(mailbox: Mailbox | None) -> dict[str, Any]:
    if mailbox is None:
        return {
            "protocol": "imap",
            "in_port": 993,
            "in_security": Security.SSL,
            "folder": "INBOX",
            "out_port": 465,
            "out_security": Security.SSL,
            "out_username": "",
            "max_message_bytes": 25 * 1024 * 1024,
            "poll_seconds": 60,
            "use_idle": True,
            "send_acknowledgement": True,
            "is_active": True,
        }
    values = {name: getattr(mailbox, name) for name in FIELDS}
    values["id"] = mailbox.pk
    return values


def _snapshot(mailbox: Mailbox) -> dict[str, Any]:
    snap = events.snapshot(mailbox, FIELDS)
    for name in SECRETS:
        snap[name] = "set" if getattr(mailbox, name) else ""
    return snap


@transaction.atomic
def create_mailbox(*, actor: User, data: Mapping[str, Any]) -> Mailbox:
    require_perm(actor, "email.manage")
    values = _clean(data, _current(None))
    mailbox = Mailbox(**values)
    mailbox.in_password = crypto.encrypt(str(data.get("in_password") or ""))
    mailbox.out_password = crypto.encrypt(str(data.get("out_password") or ""))
    mailbox.save()
    events.record(
        "mailbox_created", mailbox, actor=actor, changes=events.diff({}, _snapshot(mailbox))
    )
    from kefu.email.services.inbound import forget_addresses

    transaction.on_commit(forget_addresses)
    return mailbox


@transaction.atomic
def update_mailbox(*, actor: User, mailbox: Mailbox, data: Mapping[str, Any]) -> Mailbox:
    """Change the fields given; a password left out or empty keeps the stored one."""
    require_perm(actor, "email.manage")
    mailbox = Mailbox.objects.select_for_update().get(pk=mailbox.pk)
    values = _clean(data, _current(mailbox))
    before = _snapshot(mailbox)
    for name, value in values.items():
        setattr(mailbox, name, value)
    password_changed = []
    for name in SECRETS:
        if data.get(name):
            setattr(mailbox, name, crypto.encrypt(str(data[name])))
            password_changed.append(name)
    mailbox.updated_at = timezone.now()
    mailbox.save()
    changes = events.diff(before, _snapshot(mailbox))
    for name in password_changed:
        changes[name] = ["•••", "•••"]
    events.record("mailbox_changed", mailbox, actor=actor, changes=changes)
    from kefu.email.services.inbound import forget_addresses

    transaction.on_commit(forget_addresses)
    return mailbox


def server_in(mailbox: Mailbox) -> Any:
    from kefu.email.connectors import Server

    return Server(
        mailbox.in_host,
        mailbox.in_port,
        mailbox.in_security,
        mailbox.in_username,
        crypto.decrypt(mailbox.in_password),
        mailbox.folder,
    )


def server_out(mailbox: Mailbox) -> Any:
    from kefu.email.connectors import Server

    return Server(
        mailbox.out_host,
        mailbox.out_port,
        mailbox.out_security,
        mailbox.out_username,
        crypto.decrypt(mailbox.out_password),
    )


@dataclass(frozen=True)
class Check:
    part: str  # "incoming" | "outgoing"
    ok: bool
    detail: str


def test_mailbox(*, actor: User, mailbox: Mailbox) -> list[Check]:
    """Sign in to both servers (no mail is read or sent) and say what each answered."""
    require_perm(actor, "email.manage")
    from kefu.email.connectors import open_source, smtp_connect

    results = []
    try:
        source = open_source(mailbox.protocol, server_in(mailbox))
        count = len(source.keys())
        idle = source.can_idle()
        source.close()
        results.append(
            Check(
                "incoming",
                True,
                _("Signed in; %(n)d messages in the folder; IDLE %(i)s.")
                % {"n": count, "i": _("offered") if idle else _("not offered")},
            )
        )
    except Exception as exc:  # noqa: BLE001 - any failure is the answer the administrator needs
        results.append(Check("incoming", False, describe_error(exc)))
    try:
        conn = smtp_connect(server_out(mailbox))
        code, _text = conn.noop()
        conn.quit()
        results.append(Check("outgoing", True, _("SMTP server answered %(c)s.") % {"c": code}))
    except Exception as exc:  # noqa: BLE001 - as above
        results.append(Check("outgoing", False, describe_error(exc)))
    return results


def describe_error(exc: BaseException) -> str:
    text = str(exc) or exc.__class__.__name__
    if isinstance(exc, bytes):
        text = exc.decode("utf-8", "replace")
    return f"{exc.__class__.__name__}: {text}"[:480]
