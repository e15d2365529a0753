"""The mailbox API and the e-mail screens: permissions on every path, the error shape, no
password ever shown, escaping, query budgets. Requests answer in the user's language: Chinese."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import pytest
from django.test import Client

from kefu.core.models import Event
from kefu.email import services
from kefu.email.models import Mailbox
from kefu.email.tests.conftest import corpus
from kefu.testing.factories import ApiClient, ticket_type

pytestmark = pytest.mark.django_db


class _Tags(HTMLParser):
    """Elements the page really contains (not text that looks like them)."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self.in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name.startswith("on") or (value or "").strip().lower().startswith("javascript:"):
                self.found.append(f"{tag} {name}={value}")
            if name in ("href", "src", "action") and "example/" in (value or ""):
                self.found.append(f"{tag} {name}={value}")
        if tag in ("iframe", "svg"):
            self.found.append(tag)
        self.in_script = tag == "script"

    def handle_data(self, data: str) -> None:
        if self.in_script and "__pwned" in data:
            self.found.append("script")


def _dangerous(page: str) -> list[str]:
    parser = _Tags()
    parser.feed(page)
    return parser.found


def _payload(centre: Any, **extra: Any) -> dict[str, Any]:
    return {
        "name": "报修邮箱",
        "address": "repair@kefu.example.cn",
        "team": centre["front"].pk,
        "ticket_type": ticket_type().pk,
        "in_host": "imap.kefu.example.cn",
        "in_username": "repair",
        "in_password": "imap-secret-9",
        "out_host": "smtp.kefu.example.cn",
        "out_password": "smtp-secret-9",
        **extra,
    }


def test_admin_creates_reads_and_changes_a_mailbox(centre: Any) -> None:
    api = ApiClient(centre["admin"])
    created = api.post("email/mailboxes", _payload(centre))
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["in_password_set"] is True
    assert "imap-secret-9" not in created.content.decode()
    assert (body["in_port"], body["in_security"], body["protocol"]) == (993, "ssl", "imap")
    changed = api.patch(f"email/mailboxes/{body['id']}", {"poll_seconds": 120, "in_password": ""})
    assert changed.status_code == 200
    assert changed.json()["poll_seconds"] == 120
    mailbox = Mailbox.objects.get()
    from kefu.email import crypto

    assert crypto.decrypt(mailbox.in_password) == "imap-secret-9"  # empty keeps the password
    event = Event.objects.filter(action="mailbox_changed").get()
    assert event.changes == {"poll_seconds": [60, 120]}
    assert api.get(f"email/mailboxes/{body['id']}").json()["poll_seconds"] == 120


def test_bad_mailbox_is_refused_whole_with_every_field_named(centre: Any) -> None:
    api = ApiClient(centre["admin"])
    response = api.post(
        "email/mailboxes", _payload(centre, in_host="not a host!", team=999999, in_port=70000)
    )
    assert response.status_code == 422
    assert set(response.json()["error"]["fields"]) == {"in_port"}
    response = api.post("email/mailboxes", _payload(centre, in_host="not a host!", team=999999))
    assert response.status_code == 422
    assert response.json()["error"]["fields"] == {
        "team": ["请选择一个启用的团队。"],
        "in_host": ["请输入服务器名称，例如 imap.example.cn。"],
    }
    assert Mailbox.objects.count() == 0
    api.post("email/mailboxes", _payload(centre))
    clash = api.post("email/mailboxes", _payload(centre, address="REPAIR@kefu.example.cn"))
    assert clash.json()["error"]["fields"] == {"address": ["另一个邮箱已使用此地址。"]}


def test_agents_cannot_see_or_change_mailboxes(centre: Any, mailbox_factory: Any) -> None:
    mailbox = mailbox_factory()
    api = ApiClient(centre["agent"])
    assert api.get("email/mailboxes").status_code == 403
    assert api.get(f"email/mailboxes/{mailbox.pk}").status_code == 403
    response = api.patch(f"email/mailboxes/{mailbox.pk}", {"name": "x"})
    assert response.status_code == 403
    assert api.post("email/mailboxes", _payload(centre)).status_code == 403
    assert api.get("email/messages").status_code == 403
    assert Mailbox.objects.get().name == "客服邮箱"
    client = Client()
    client.force_login(centre["agent"])
    assert client.get("/email/").status_code == 403
    assert client.get(f"/email/{mailbox.pk}/").status_code == 403
    assert client.post(f"/email/{mailbox.pk}/fetch/").status_code == 403


def test_messages_follow_their_work_order_visibility(centre: Any, mailbox_factory: Any) -> None:
    mailbox = mailbox_factory(send_acknowledgement=False)
    inbound = services.ingest(mailbox, corpus("foxmail_gb2312.eml")).inbound
    quarantined = services.ingest(mailbox, corpus("unparseable.eml")).inbound
    agent = ApiClient(centre["agent"])  # in the work order's team
    outsider = ApiClient(centre["outsider"])  # in another team
    got = agent.get(f"email/messages/{inbound.pk}")
    assert got.status_code == 200
    assert got.json()["ticket"] == inbound.ticket.number
    assert got.json()["folded_text"] == "--\n张喆堃\n电话 13800138000"
    assert outsider.get(f"email/messages/{inbound.pk}").status_code == 404
    assert agent.get(f"email/messages/{quarantined.pk}").status_code == 404
    admin = ApiClient(centre["admin"])
    listed = admin.get("email/messages", {"state": "quarantined"}).json()
    assert [m["id"] for m in listed] == [quarantined.pk]
    assert admin.get("email/messages", {"state": "nonsense"}).status_code == 422


def test_quarantine_is_reprocessed_through_the_api(centre: Any, mailbox_factory: Any) -> None:
    mailbox = mailbox_factory(max_message_bytes=1024, send_acknowledgement=False)
    inbound = services.ingest(mailbox, corpus("outlook_gbk_related.eml")).inbound
    agent = ApiClient(centre["agent"])
    assert agent.post(f"email/messages/{inbound.pk}/reprocess").status_code == 403
    done = ApiClient(centre["admin"]).post(f"email/messages/{inbound.pk}/reprocess")
    assert done.status_code == 200
    assert (done.json()["state"], done.json()["subject"]) == ("processed", "电费账单异常")
    again = ApiClient(centre["admin"]).post(f"email/messages/{inbound.pk}/reprocess")
    assert again.status_code == 422
    assert again.json()["error"]["fields"] == {"state": ["只有隔离区中的邮件可以重新处理。"]}


def test_list_query_budget(
    centre: Any, mailbox_factory: Any, django_assert_max_num_queries: Any
) -> None:
    mailbox = mailbox_factory(send_acknowledgement=False)
    for i in range(5):
        services.ingest(mailbox, f"bad {i}".encode() + b"\x00")
    api = ApiClient(centre["admin"])
    with django_assert_max_num_queries(8):
        assert len(api.get("email/messages").json()) == 5
    client = Client()
    client.force_login(centre["admin"])
    with django_assert_max_num_queries(20):
        assert client.get("/email/quarantine/").status_code == 200


def test_hostile_mail_is_escaped_on_every_screen(centre: Any, mailbox_factory: Any) -> None:
    mailbox = mailbox_factory(send_acknowledgement=False)
    inbound = services.ingest(mailbox, corpus("hostile_xss.eml")).inbound
    client = Client()
    client.force_login(centre["agent"])
    for url in (
        f"/email/messages/{inbound.pk}/",
        f"/tickets/{inbound.ticket.number}/",
    ):
        page = client.get(url).content.decode()
        assert _dangerous(page) == []
    page = client.get(f"/email/messages/{inbound.pk}/").content.decode()
    assert "&lt;script&gt;window.__pwned=&#x27;subject&#x27;&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(4)&gt;.txt" in page


def test_admin_screens(centre: Any, mailbox_factory: Any) -> None:
    mailbox = mailbox_factory(send_acknowledgement=False)
    services.ingest(mailbox, corpus("unparseable.eml"))
    client = Client()
    client.force_login(centre["admin"])
    listing = client.get("/email/").content.decode()
    assert "客服邮箱" in listing and 'data-testid="email-quarantine-count">1<' in listing
    assert client.get("/email/new/").status_code == 200
    edit = client.get(f"/email/{mailbox.pk}/").content.decode()
    assert "smtp-pass-2026" not in edit and "mail-pass" not in edit
    form = {
        **{k: v for k, v in _payload(centre).items()},
        "protocol": "imap",
        "in_port": 993,
        "in_security": "ssl",
        "folder": "INBOX",
        "out_port": 465,
        "out_security": "ssl",
        "max_message_bytes": 1048576,
        "poll_seconds": 30,
        "is_active": "on",
    }
    response = client.post(f"/email/{mailbox.pk}/", form)
    assert response.status_code == 302
    mailbox.refresh_from_db()
    assert (mailbox.address, mailbox.poll_seconds, mailbox.use_idle) == (
        "repair@kefu.example.cn",
        30,
        False,
    )
    bad = client.post(f"/email/{mailbox.pk}/", {**form, "in_host": "bad host"})
    assert bad.status_code == 400
    assert "请输入服务器名称，例如 imap.example.cn。" in bad.content.decode()
    assert client.get("/email/templates/").status_code == 200
    saved = client.post(
        "/email/templates/reply/en/", {"subject": "Answer", "body": "Hello\n{body}"}
    )
    assert saved.status_code == 302
    assert client.get("/email/templates/reply/xx/").status_code == 404


def test_customer_history_lists_their_mail_for_those_who_may_see_it(
    centre: Any, mailbox_factory: Any
) -> None:
    from kefu.email.views import customer_history

    mailbox = mailbox_factory(send_acknowledgement=False)
    inbound = services.ingest(mailbox, corpus("big5_traditional.eml")).inbound
    customer = inbound.ticket.customer
    [item] = customer_history(customer, centre["agent"])
    assert (item.kind, item.title, item.detail, item.url) == (
        "email",
        "查詢帳單",
        "chan.taiman@netvigator.com",
        f"/email/messages/{inbound.pk}/",
    )
    assert customer_history(customer, centre["outsider"]) == []


def test_ticket_panel_shows_mail_both_ways(
    centre: Any, mailbox_factory: Any, smtp_tls: Any
) -> None:
    from kefu.tickets import services as tickets

    mailbox = mailbox_factory(smtp=smtp_tls)
    inbound = services.ingest(mailbox, corpus("foxmail_gb2312.eml")).inbound
    tickets.add_reply(actor=centre["agent"], ticket=inbound.ticket, body="已派人检修。")
    client = Client()
    client.force_login(centre["agent"])
    page = client.get(f"/tickets/{inbound.ticket.number}/").content.decode()
    panel = page[page.index('data-testid="email-panel"') :]
    assert f'href="/email/messages/{inbound.pk}/"' in panel
    assert panel.count('data-testid="email-panel-out-state">已发送<') == 2  # receipt and reply
