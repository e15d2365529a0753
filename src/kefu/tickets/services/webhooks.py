"""Webhooks: signed, retried with back-off, restricted to public targets unless allowed.

Deliveries are written in the same transaction as the change that caused them (an outbox), so
a committed change always has its delivery and a rolled-back one never does. A job sends each
delivery after commit; failures are retried by a periodic sweep that claims due deliveries with
SKIP LOCKED, so several workers never send the same one twice.

Receivers verify ``X-Kefu-Signature: t=<unix time>,v1=<hex>``, where ``v1`` is
HMAC-SHA256(secret, "<t>.<raw body>").
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import ipaddress
import json
import secrets
import socket
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.models import User
from kefu.core import events, jobs
from kefu.core.models import Event
from kefu.core.permissions import require_perm
from kefu.core.validation import clean_text
from kefu.tickets.models import Ticket, Webhook, WebhookDelivery

EVENT_TYPES: dict[str, str] = {
    "ticket_created": "ticket.created",
    "ticket_changed": "ticket.updated",
    "ticket_status_changed": "ticket.status_changed",
    "ticket_assigned": "ticket.assigned",
    "ticket_escalated": "ticket.escalated",
    "ticket_replied": "ticket.replied",
    "customer_replied": "ticket.customer_replied",
    "ticket_note_added": "ticket.note_added",
    "ticket_attachment_added": "ticket.attachment_added",
    "ticket_transferred": "ticket.transferred",
    "transfer_replied": "ticket.transfer_replied",
    "transfer_returned": "ticket.transfer_returned",
    "ticket_merged": "ticket.merged",
}


def webhook_events() -> list[str]:
    """Every event type a webhook can subscribe to."""
    return sorted(set(EVENT_TYPES.values()))


def register_event_type(action: str, event_type: str) -> None:
    """Let another app's work-order events reach webhooks (e.g. sla_breached → sla.breached)."""
    EVENT_TYPES[action] = event_type


RETRY_DELAYS = (60, 300, 1800, 7200, 43200)  # seconds after attempts 1..5; the 6th failure is final
TIMEOUT = 10.0


class TargetRefused(Exception):
    """The webhook's address is not allowed (loopback, private, link-local, …)."""


# --- configuration ------------------------------------------------------------------------------


def _clean(data: Mapping[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    if "name" in data:
        try:
            cleaned["name"] = clean_text(data["name"], field="name", max_length=80, required=True)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if "url" in data:
        url = str(data["url"] or "").strip()
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > 500:
            errors["url"] = [_("Enter an http:// or https:// address.")]
        cleaned["url"] = url
    if "events" in data:
        chosen = list(dict.fromkeys(data["events"] or []))
        unknown = [e for e in chosen if e not in webhook_events()]
        if unknown:
            errors["events"] = [_("Unknown event: %(e)s") % {"e": ", ".join(unknown)}]
        cleaned["events"] = chosen
    for flag in ("is_active", "allow_private"):
        if flag in data:
            if not isinstance(data[flag], bool):
                errors[flag] = [_("Must be true or false.")]
            cleaned[flag] = data[flag]
    if errors:
        raise ValidationError(errors)
    return cleaned


@transaction.atomic
def create_webhook(
    *,
    actor: User,
    name: str,
    url: str,
    events_: list[str] | None = None,
    allow_private: bool = False,
) -> Webhook:
    require_perm(actor, "webhooks.manage")
    data = _clean(
        {"name": name, "url": url, "events": events_ or [], "allow_private": allow_private}
    )
    webhook = Webhook.objects.create(**data, secret=secrets.token_urlsafe(32))
    _forget_webhooks()
    events.record(
        "webhook_created",
        webhook,
        actor=actor,
        changes=events.diff({}, {k: v for k, v in data.items()}),
    )
    return webhook


@transaction.atomic
def update_webhook(
    *, actor: User, webhook: Webhook, changes: Mapping[str, Any], rotate_secret: bool = False
) -> Webhook:
    require_perm(actor, "webhooks.manage")
    data = _clean(changes)
    before = events.snapshot(webhook, tuple(data))
    for key, value in data.items():
        setattr(webhook, key, value)
    if rotate_secret:
        webhook.secret = secrets.token_urlsafe(32)
    webhook.save()
    _forget_webhooks()
    events.record(
        "webhook_changed",
        webhook,
        actor=actor,
        changes=events.diff(before, events.snapshot(webhook, tuple(data))),
        data={"secret_rotated": rotate_secret},
    )
    return webhook


@transaction.atomic
def delete_webhook(*, actor: User, webhook: Webhook) -> None:
    require_perm(actor, "webhooks.manage")
    pk, name = webhook.pk, webhook.name
    webhook.delete()
    _forget_webhooks()
    events.record(
        "webhook_deleted", None, actor=actor, object_type="webhook", object_id=pk, object_repr=name
    )


# --- the outbox -----------------------------------------------------------------------------------


ACTIVE_KEY = "tickets:webhooks:active"


_LOCAL: dict[str, tuple[float, list[Webhook]]] = {}
LOCAL_SECONDS = 5.0


def active_webhooks() -> list[Webhook]:
    """Active webhooks: every work-order event asks, so they are kept in this process for a
    few seconds and in the shared cache until one is created, changed or deleted."""
    now = time.monotonic()
    local = _LOCAL.get(ACTIVE_KEY)
    if local is not None and local[0] > now:
        return list(local[1])
    found = cache.get(ACTIVE_KEY)
    if found is None:
        found = list(Webhook.objects.filter(is_active=True))
        cache.set(ACTIVE_KEY, found, 300)
    _LOCAL[ACTIVE_KEY] = (now + LOCAL_SECONDS, found)
    return list(found)


def _forget_webhooks() -> None:
    transaction.on_commit(lambda: cache.delete(ACTIVE_KEY))
    cache.delete(ACTIVE_KEY)
    _LOCAL.clear()
    transaction.on_commit(_LOCAL.clear)


def ticket_summary(ticket: Ticket) -> dict[str, Any]:
    return {
        "id": ticket.pk,
        "number": ticket.number,
        "title": ticket.title,
        "status": ticket.status,
        "priority": ticket.priority,
        "type": ticket.ticket_type.code,
        "channel": ticket.channel,
        "customer_id": ticket.customer_id,
        "assignee_id": ticket.assignee_id,
        "team_id": ticket.team_id,
        "sensitive": ticket.sensitive,
        "url": settings.SITE_URL + reverse("tickets:detail", args=[ticket.number]),
        "updated_at": ticket.updated_at.isoformat(),
    }


def queue_webhooks(ticket: Ticket, event: Event) -> None:
    """Ticket hook: write a delivery for every webhook that wants this event."""
    event_type = EVENT_TYPES.get(event.action)
    if event_type is None:
        return
    hooks = [w for w in active_webhooks() if w.wants(event_type)]
    if not hooks:
        return
    payload = {
        "id": event.pk,
        "type": event_type,
        "occurred_at": event.at.isoformat(),
        "actor": {"id": event.actor_id, "name": event.actor_label} if event.actor_id else None,
        "ticket": ticket_summary(ticket),
        "changes": event.changes,
        "data": event.data,
    }
    queue_deliveries(hooks, event_type, event.pk, payload)


def queue_deliveries(
    hooks: list[Webhook], event_type: str, event_id: int, payload: dict[str, Any]
) -> None:
    """Write one outbox row per webhook and deliver them after the transaction commits."""
    now = timezone.now()
    rows = WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(
                webhook=w,
                event_type=event_type,
                event_id=event_id,
                payload=payload,
                next_attempt_at=now,
            )
            for w in hooks
        ]
    )
    from kefu.tickets.tasks import deliver_webhook_task

    for row in rows:
        jobs.enqueue(deliver_webhook_task, row.pk)


# --- sending --------------------------------------------------------------------------------------


def _forbidden(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return bool(
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_reserved
        or ip.is_multicast
        or ip.is_unspecified
    )


def resolve_target(url: str, *, allow_private: bool) -> str:
    """The address to connect to: resolved once and checked, then used for the connection
    itself, so a DNS answer cannot change between the check and the request."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise TargetRefused(_("cannot resolve %(h)s: %(e)s") % {"h": host, "e": exc}) from None
    addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
    if not allow_private:
        refused = [str(a) for a in addresses if _forbidden(a)]
        if refused:
            raise TargetRefused(
                _(
                    "%(h)s resolves to a private or local address (%(a)s); an administrator must allow private targets for this webhook."
                )
                % {"h": host, "a": ", ".join(refused)}
            )
    return str(addresses[0])


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def _send(webhook: Webhook, delivery: WebhookDelivery) -> tuple[int | None, str, str]:
    """(HTTP status or None, error, response excerpt)."""
    body = json.dumps(delivery.payload, ensure_ascii=False, separators=(",", ":")).encode()
    timestamp = int(time.time())
    parts = urlsplit(webhook.url)
    try:
        address = resolve_target(webhook.url, allow_private=webhook.allow_private)
    except TargetRefused as exc:
        return None, str(exc), ""
    host = parts.hostname or ""
    literal = f"[{address}]" if ":" in address else address
    netloc = f"{literal}:{parts.port}" if parts.port else literal
    pinned = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "Kefu-Webhooks/1",
        "Host": parts.netloc.rsplit("@", 1)[-1],
        "X-Kefu-Event": delivery.event_type,
        "X-Kefu-Delivery": str(delivery.pk),
        "X-Kefu-Signature": sign(webhook.secret, timestamp, body),
    }
    extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
    try:
        with httpx.Client(timeout=TIMEOUT, follow_redirects=False, trust_env=False) as client:
            response = client.post(pinned, content=body, headers=headers, extensions=extensions)
    except httpx.HTTPError as exc:
        return None, f"{exc.__class__.__name__}: {exc}"[:300], ""
    return response.status_code, "", response.text[:500]


def deliver(delivery_id: int) -> str | None:
    """Send one due delivery; returns its new state, or None if another worker holds it or it
    is not due. Safe to call twice."""
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(skip_locked=True)
            .select_related("webhook")
            .filter(
                pk=delivery_id,
                state=WebhookDelivery.State.PENDING,
                next_attempt_at__lte=timezone.now(),
            )
            .first()
        )
        if delivery is None:
            return None
        status, error, excerpt = _send(delivery.webhook, delivery)
        delivery.attempts += 1
        delivery.last_status = status
        delivery.last_error = error
        delivery.response_excerpt = excerpt
        if status is not None and 200 <= status < 300:
            delivery.state = WebhookDelivery.State.DELIVERED
            delivery.delivered_at = timezone.now()
            delivery.next_attempt_at = None
        elif delivery.attempts > len(RETRY_DELAYS):
            delivery.state = WebhookDelivery.State.FAILED
            delivery.next_attempt_at = None
        else:
            if status is not None and not error:
                delivery.last_error = _("HTTP %(s)d") % {"s": status}
            delivery.next_attempt_at = timezone.now() + dt.timedelta(
                seconds=RETRY_DELAYS[delivery.attempts - 1]
            )
        delivery.save()
        return delivery.state


def due_deliveries(limit: int = 100) -> list[int]:
    return list(
        WebhookDelivery.objects.filter(
            state=WebhookDelivery.State.PENDING, next_attempt_at__lte=timezone.now()
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )


@transaction.atomic
def redeliver(*, actor: User, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a failed delivery again from the delivery log."""
    require_perm(actor, "webhooks.manage")
    delivery.state = WebhookDelivery.State.PENDING
    delivery.next_attempt_at = timezone.now()
    delivery.save(update_fields=["state", "next_attempt_at"])
    from kefu.tickets.tasks import deliver_webhook_task

    jobs.enqueue(deliver_webhook_task, delivery.pk)
    events.record(
        "webhook_redelivered", delivery.webhook, actor=actor, data={"delivery": delivery.pk}
    )
    return delivery
