"""Webhooks against a real HTTP server on localhost."""

import datetime as dt
import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from kefu.testing.factories import ApiClient, make_ticket
from kefu.tickets.models import Webhook, WebhookDelivery
from kefu.tickets.services import webhooks as hooks

pytestmark = pytest.mark.django_db


class Receiver:
    """Records requests; answers with the next status from ``statuses`` (then 200)."""

    def __init__(self, statuses: list[int] | None = None) -> None:
        self.requests: list[dict] = []
        self.statuses = list(statuses or [])
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append(
                    {"headers": dict(self.headers), "body": body, "path": self.path}
                )
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"ok" if status < 300 else b"nope")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/kefu-hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.stop()


def verify(secret: str, headers: dict, body: bytes) -> bool:
    parts = dict(p.split("=", 1) for p in headers["X-Kefu-Signature"].split(","))
    expected = hmac.new(
        secret.encode(), f"{parts['t']}.".encode() + body, hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest(expected, parts["v1"])


def test_ticket_events_are_delivered_signed(centre, receiver, django_capture_on_commit_callbacks):
    webhook = hooks.create_webhook(
        actor=centre["admin"],
        name="CRM",
        url=receiver.url,
        events_=["ticket.created", "ticket.status_changed"],
        allow_private=True,
    )
    with django_capture_on_commit_callbacks(execute=True):
        ticket = make_ticket(actor=centre["agent"], title="签名测试")
    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    assert request["path"] == "/kefu-hook"
    assert request["headers"]["X-Kefu-Event"] == "ticket.created"
    assert verify(webhook.secret, request["headers"], request["body"])
    assert not verify("wrong-secret", request["headers"], request["body"])
    payload = json.loads(request["body"])
    assert (payload["type"], payload["ticket"]["number"], payload["ticket"]["title"]) == (
        "ticket.created",
        ticket.number,
        "签名测试",
    )
    delivery = WebhookDelivery.objects.get()
    assert (delivery.state, delivery.attempts, delivery.last_status) == ("delivered", 1, 200)
    with django_capture_on_commit_callbacks(execute=True):
        from kefu.tickets.services import update_ticket

        update_ticket(
            actor=centre["agent"], ticket=ticket, changes={"priority": 1}
        )  # not subscribed
    assert len(receiver.requests) == 1


def test_failures_are_retried_with_back_off_and_finally_given_up(
    centre, django_capture_on_commit_callbacks
):
    receiver = Receiver(statuses=[500, 503])
    try:
        hooks.create_webhook(
            actor=centre["admin"], name="flaky", url=receiver.url, allow_private=True
        )
        with django_capture_on_commit_callbacks(execute=True):
            make_ticket(actor=centre["agent"])
        delivery = WebhookDelivery.objects.get()
        assert (delivery.state, delivery.attempts, delivery.last_status) == ("pending", 1, 500)
        assert (
            dt.timedelta(seconds=55)
            < delivery.next_attempt_at - timezone.now()
            <= dt.timedelta(seconds=60)
        )
        # not due yet: nothing is sent
        assert hooks.deliver(delivery.pk) is None
        WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
        assert hooks.deliver(delivery.pk) == "pending"
        delivery.refresh_from_db()
        assert delivery.attempts == 2 and dt.timedelta(
            seconds=290
        ) < delivery.next_attempt_at - timezone.now() <= dt.timedelta(seconds=300)
        WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
        assert hooks.deliver(delivery.pk) == "delivered"
        assert len(receiver.requests) == 3
        # the periodic sweep picks up due ones only
        from kefu.tickets.tasks import deliver_due_webhooks_task

        assert deliver_due_webhooks_task.run() == 0
    finally:
        receiver.stop()
    receiver = Receiver(statuses=[500] * 10)
    try:
        Webhook.objects.update(url=receiver.url)
        with django_capture_on_commit_callbacks(execute=True):
            make_ticket(actor=centre["agent"])
        last = WebhookDelivery.objects.latest("id")
        for _ in range(len(hooks.RETRY_DELAYS)):
            WebhookDelivery.objects.filter(pk=last.pk).update(next_attempt_at=timezone.now())
            hooks.deliver(last.pk)
        last.refresh_from_db()
        assert (last.state, last.attempts, last.next_attempt_at) == ("failed", 6, None)
    finally:
        receiver.stop()


def test_private_targets_are_refused_unless_an_administrator_allows_them(
    centre, receiver, django_capture_on_commit_callbacks
):
    webhook = hooks.create_webhook(actor=centre["admin"], name="intranet", url=receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        make_ticket(actor=centre["agent"])
    delivery = WebhookDelivery.objects.get()
    assert receiver.requests == []
    assert delivery.state == "pending"
    assert "127.0.0.1" in delivery.last_error
    hooks.update_webhook(actor=centre["admin"], webhook=webhook, changes={"allow_private": True})
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    assert hooks.deliver(delivery.pk) == "delivered"
    assert len(receiver.requests) == 1


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "192.168.0.5",
        "169.254.169.254",
        "::1",
        "0.0.0.0",
        "::ffff:127.0.0.1",
    ],
)
def test_every_kind_of_private_address_is_refused(address):
    host = f"[{address}]" if ":" in address else address
    with pytest.raises(hooks.TargetRefused):
        hooks.resolve_target(f"http://{host}/x", allow_private=False)
    assert hooks.resolve_target(f"http://{host}/x", allow_private=True)


def test_two_workers_never_send_the_same_delivery_twice(centre, receiver):
    webhook = hooks.create_webhook(
        actor=centre["admin"], name="once", url=receiver.url, allow_private=True
    )
    delivery = WebhookDelivery.objects.create(
        webhook=webhook,
        event_type="ticket.created",
        payload={"x": 1},
        next_attempt_at=timezone.now(),
    )
    assert hooks.deliver(delivery.pk) == "delivered"
    assert hooks.deliver(delivery.pk) is None
    assert len(receiver.requests) == 1


def test_only_administrators_manage_webhooks_and_bad_input_is_refused(centre):
    agent_api = ApiClient(user=centre["agent"])
    assert agent_api.get("webhooks").status_code == 403
    assert (
        agent_api.post("webhooks", {"name": "x", "url": "https://example.com"}).status_code == 403
    )
    admin_api = ApiClient(user=centre["admin"])
    bad = admin_api.post(
        "webhooks", {"name": "x", "url": "ftp://example.com", "events": ["ticket.exploded"]}
    )
    assert bad.status_code == 422
    assert set(bad.json()["error"]["fields"]) == {"url", "events"}
    assert not Webhook.objects.exists()
    created = admin_api.post(
        "webhooks",
        {"name": "CRM", "url": "https://crm.example.com/hook", "events": ["ticket.created"]},
    )
    assert created.status_code == 201 and len(created.json()["secret"]) >= 32
    rotated = admin_api.patch(f"webhooks/{created.json()['id']}", {"rotate_secret": True}).json()
    assert rotated["secret"] != created.json()["secret"]
    assert admin_api.get(f"webhooks/{created.json()['id']}/deliveries").json() == []


def test_the_delivery_log_screen(centre, client, receiver, django_capture_on_commit_callbacks):
    webhook = hooks.create_webhook(
        actor=centre["admin"], name="CRM", url=receiver.url, allow_private=True
    )
    with django_capture_on_commit_callbacks(execute=True):
        make_ticket(actor=centre["agent"])
    client.force_login(centre["admin"])
    html = client.get(f"/tickets/webhooks/{webhook.pk}/").content.decode()
    assert "ticket.created" in html and webhook.secret in html
    client.force_login(centre["agent"])
    assert client.get(f"/tickets/webhooks/{webhook.pk}/").status_code == 403
