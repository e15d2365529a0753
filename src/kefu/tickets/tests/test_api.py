import json
import threading

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kefu.accounts.services import create_api_token
from kefu.core.models import Event
from kefu.testing.factories import ApiClient, make_customer, make_portal_user, make_ticket
from kefu.tickets.models import Attachment, IdempotentRequest, Ticket

pytestmark = pytest.mark.django_db


def test_create_get_update_and_move_through_the_api(centre):
    agent = centre["agent"]
    customer = make_customer("王芳")
    api = ApiClient(user=agent)
    created = api.post(
        "tickets",
        {
            "title": "电表显示屏不亮",
            "type": "fault",
            "customer_id": customer.pk,
            "priority": 2,
            "tags": ["紧急"],
            "custom_fields": {},
        },
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (
        body["type"],
        body["status"],
        body["priority"],
        body["channel"],
        body["customer"]["name"],
        body["tags"],
    ) == (
        "fault",
        "new",
        2,
        "api",
        "王芳",
        ["紧急"],
    )
    number = body["number"]
    assert api.get(f"tickets/{number}").json()["id"] == body["id"]
    assert api.get(f"tickets/{body['id']}").json()["number"] == number
    patched = api.patch(
        f"tickets/{number}", {"version": body["version"], "severity": "severe", "place": "北城区"}
    )
    assert patched.status_code == 200 and patched.json()["severity"] == "severe"
    stale = api.patch(f"tickets/{number}", {"version": body["version"], "priority": 4})
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "conflict"
    moved = api.post(f"tickets/{number}/transitions", {"to": "resolved"})
    assert moved.status_code == 422 and "reply" in moved.json()["error"]["fields"]
    assert api.post(f"tickets/{number}/replies", {"body": "已安排人员上门。"}).status_code == 201
    resolved = api.post(f"tickets/{number}/transitions", {"to": "resolved"})
    assert resolved.json()["status"] == "resolved"
    timeline = api.get(f"tickets/{number}/timeline").json()
    assert [e["action"] for e in timeline] == [
        "ticket_created",
        "ticket_changed",
        "ticket_replied",
        "ticket_status_changed",
    ]
    assert timeline[2]["changes"] == {"status": ["new", "in_progress"]}
    assert timeline[2]["message"]["body"] == "已安排人员上门。"


def test_custom_fields_are_validated(centre):
    from kefu.tickets.models import CustomField, TicketType

    fault = TicketType.objects.get(code="fault")
    CustomField.objects.create(
        ticket_type=fault,
        key="extent",
        label="停电范围",
        kind="choice",
        choices=["单户", "整栋楼"],
        required=True,
    )
    CustomField.objects.create(ticket_type=fault, key="visit", label="上门日期", kind="date")
    api = ApiClient(user=centre["agent"])
    before = Ticket.objects.count()
    missing = api.post("tickets", {"title": "停电", "type": "fault"})
    assert (
        missing.status_code == 422 and "custom_fields.extent" in missing.json()["error"]["fields"]
    )
    wrong = api.post(
        "tickets",
        {
            "title": "停电",
            "type": "fault",
            "custom_fields": {"extent": "全市", "visit": "明天", "nope": 1},
        },
    )
    assert set(wrong.json()["error"]["fields"]) == {
        "custom_fields.extent",
        "custom_fields.visit",
        "custom_fields.nope",
    }
    assert Ticket.objects.count() == before
    ok = api.post(
        "tickets",
        {
            "title": "停电",
            "type": "fault",
            "custom_fields": {"extent": "整栋楼", "visit": "2026-12-01"},
        },
    )
    assert ok.json()["custom_fields"] == {"extent": "整栋楼", "visit": "2026-12-01"}


@pytest.mark.parametrize(
    ("raw", "status", "field"),
    [
        ("{broken", 400, None),
        (json.dumps({"title": "", "type": "fault"}), 422, "title"),
        (json.dumps({"title": "x" * 201, "type": "fault"}), 422, "title"),
        (json.dumps({"title": "x", "type": "nonsense"}), 422, "ticket_type"),
        (json.dumps({"title": "x", "type": "fault", "priority": 9}), 422, "priority"),
        (json.dumps({"title": "x", "type": "fault", "channel": "carrier-pigeon"}), 422, "channel"),
        (json.dumps({"title": "x", "type": "fault", "customer_id": 999999}), 422, "customer"),
        (json.dumps({"title": "x", "type": "fault", "category_id": 999999}), 422, "category"),
        (json.dumps({"title": "x", "type": "fault", "contact_phone": "12"}), 422, "contact_phone"),
        (json.dumps({"title": "x", "type": "fault", "status": "closed"}), 422, "status"),
        (
            json.dumps({"title": "x", "type": "fault", "description": "长" * 20001}),
            422,
            "description",
        ),
    ],
)
def test_bad_input_is_refused_and_writes_nothing(centre, raw, status, field):
    api = ApiClient(user=centre["agent"])
    before = (Ticket.objects.count(), Event.objects.count())
    response = api.post("tickets", raw=raw)
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert error["message"]
    if field:
        assert any(field in key for key in error["fields"]), error
    assert (Ticket.objects.count(), Event.objects.count()) == before


def test_unknown_work_orders_and_moves_are_clear_errors(centre):
    api = ApiClient(user=centre["agent"])
    ticket = make_ticket(actor=centre["agent"])
    assert api.get("tickets/GD19990101-00001").json()["error"]["code"] == "not_found"
    bad_move = api.post(f"tickets/{ticket.number}/transitions", {"to": "followed_up"})
    assert bad_move.status_code == 422
    assert list(bad_move.json()["error"]["fields"]) == ["status"]


def test_a_retried_create_with_the_same_idempotency_key_returns_the_first_result(centre):
    api = ApiClient(user=centre["agent"])
    body = {"title": "重复提交测试", "type": "consultation"}
    first = api.post("tickets", body, headers={"Idempotency-Key": "abc-123"})
    second = api.post("tickets", body, headers={"Idempotency-Key": "abc-123"})
    assert first.status_code == 201 and second.status_code == 201
    assert second.json()["id"] == first.json()["id"]
    assert second.json()["number"] == first.json()["number"]
    assert Ticket.objects.filter(title="重复提交测试").count() == 1
    reused = api.post(
        "tickets", {**body, "title": "另一个"}, headers={"Idempotency-Key": "abc-123"}
    )
    assert reused.status_code == 422
    other_user = ApiClient(user=centre["agent2"]).post(
        "tickets", body, headers={"Idempotency-Key": "abc-123"}
    )
    assert other_user.json()["id"] != first.json()["id"]


def test_a_failed_idempotent_create_can_be_retried_with_the_same_key(centre):
    api = ApiClient(user=centre["agent"])
    assert (
        api.post(
            "tickets", {"title": "", "type": "fault"}, headers={"Idempotency-Key": "k1"}
        ).status_code
        == 422
    )
    assert not IdempotentRequest.objects.exists()
    assert (
        api.post(
            "tickets", {"title": "好了", "type": "fault"}, headers={"Idempotency-Key": "k1"}
        ).status_code
        == 201
    )


def test_list_filters_on_every_field(centre):
    agent = centre["agent"]
    customer = make_customer("赵六")
    a = make_ticket(
        actor=agent,
        title="甲",
        type_code="complaint",
        priority=1,
        customer=customer.pk,
        tags=["媒体关注"],
        sensitive=True,
        channel="email",
    )
    b = make_ticket(actor=agent, title="乙", type_code="consultation", assignee=agent)
    c = make_ticket(actor=agent, title="丙", type_code="fault", severity="down")
    api = ApiClient(user=centre["supervisor"])

    def numbers(**params):
        return {t["title"] for t in api.get("tickets", params).json()["items"]}

    assert numbers(type="complaint") == {"甲"}
    assert numbers(priority=1) == {"甲"}
    assert numbers(customer=customer.pk) == {"甲"}
    assert numbers(tag="媒体关注") == {"甲"}
    assert numbers(sensitive=True) == {"甲"}
    assert numbers(channel="email") == {"甲"}
    assert numbers(severity="down") == {"丙"}
    assert numbers(assignee=agent.pk) == {"乙"}
    assert numbers(assignee="none") == {"甲", "丙"}
    assert numbers(status="assigned") == {"乙"}
    assert numbers(number=c.number) == {"丙"}
    assert numbers(q="乙") == {"乙"}
    assert numbers(view="unassigned") == {"甲", "丙"}
    assert numbers(team=centre["front"].pk) == {"甲", "乙", "丙"}
    assert numbers(created_after=a.created_at.isoformat()) == {"甲", "乙", "丙"}
    assert api.get("tickets", {"type": "nope"}).status_code == 422
    assert {a.pk, b.pk, c.pk} == set(Ticket.objects.values_list("pk", flat=True))


def test_ticket_list_stays_within_its_query_budget(centre):
    agent = centre["agent"]
    for i in range(30):
        make_ticket(
            actor=agent,
            title=f"工单{i}",
            customer=make_customer(f"客户{i}").pk,
            tags=["甲", "乙"],
            assignee=agent if i % 2 else None,
        )
    api = ApiClient(user=agent)
    api.get("me")
    with CaptureQueriesContext(connection) as queries:
        page = api.get("tickets", {"limit": 30})
    assert len(page.json()["items"]) == 30
    assert len(queries) <= 8, [q["sql"][:120] for q in queries]


def test_attachments_through_the_api(centre, client):
    agent = centre["agent"]
    ticket = make_ticket(actor=agent)
    client.force_login(agent)
    upload = SimpleUploadedFile(
        "现场照片.jpg", b"\xff\xd8\xff\xe0" + b"0" * 100, content_type="image/jpeg"
    )
    response = client.post(f"/api/v1/tickets/{ticket.number}/attachments", {"file": upload})
    assert response.status_code == 201, response.content
    assert response.json()["filename"] == "现场照片.jpg"
    evil = SimpleUploadedFile(
        "invoice.pdf", b"<html><script>alert(1)</script>", content_type="application/pdf"
    )
    refused = client.post(f"/api/v1/tickets/{ticket.number}/attachments", {"file": evil})
    assert refused.status_code == 422
    assert Attachment.objects.count() == 1


def test_links_merge_and_transfers_through_the_api(centre):
    agent, liaison = centre["agent"], centre["liaison"]
    a = make_ticket(actor=agent)
    b = make_ticket(actor=agent)
    api = ApiClient(user=agent)
    assert (
        api.post(f"tickets/{a.number}/links", {"ticket": b.number, "kind": "parent"}).json()[
            "parent"
        ]
        == b.number
    )
    assert api.delete(f"tickets/{a.number}/parent").json()["parent"] is None
    transfer = api.post(
        f"tickets/{a.number}/transfers",
        {"department_id": centre["dept"].pk, "instructions": "请核实"},
    )
    assert transfer.status_code == 201
    transfer_id = transfer.json()["id"]
    assert (
        ApiClient(user=liaison).get("transfers", {"state": "open"}).json()[0]["ticket"] == a.number
    )
    assert (
        ApiClient(user=liaison)
        .post(f"transfers/{transfer_id}/reply", {"text": "无误"})
        .json()["state"]
        == "replied"
    )
    assert (
        api.post(f"transfers/{transfer_id}/review", {"accept": True}).json()["state"] == "accepted"
    )
    merged = api.post(f"tickets/{b.number}/merge", {"into": a.number})
    assert merged.json()["number"] == a.number
    assert api.get(f"tickets/{b.number}").json()["status"] == "merged"


def test_bulk_through_the_api_reports_each_failure(centre):
    agent = centre["agent"]
    mine = [make_ticket(actor=agent) for _ in range(2)]
    foreign = make_ticket(actor=centre["outsider"], team=centre["other"], priority=3)
    result = (
        ApiClient(user=agent)
        .post(
            "tickets/bulk",
            {"ids": [*[t.pk for t in mine], foreign.pk], "action": "priority", "value": 1},
        )
        .json()
    )
    assert sorted(result["done"]) == sorted(t.number for t in mine)
    assert list(result["failed"]) == [str(foreign.pk)]
    foreign.refresh_from_db()
    assert foreign.priority == 3


def test_customers_open_and_follow_their_own_work_orders_through_the_api(centre):
    customer = make_customer("钱七")
    portal = make_portal_user(customer)
    api = ApiClient(user=portal)
    created = api.post("tickets", {"title": "门户报修", "type": "fault"})
    assert created.status_code == 201
    body = created.json()
    assert body["customer"]["id"] == customer.pk and body["channel"] == "portal"
    assert (
        api.post(
            "tickets", {"title": "x", "type": "fault", "customer_id": make_customer("别人").pk}
        ).status_code
        == 403
    )
    assert (
        api.post(
            "tickets", {"title": "x", "type": "fault", "assignee_id": centre["agent"].pk}
        ).status_code
        == 403
    )
    assert (
        api.post(f"tickets/{body['number']}/replies", {"body": "补充：下午有人在家"}).status_code
        == 201
    )


def test_tokens_with_ticket_scopes(centre):
    agent = centre["agent"]
    _t, read_only = create_api_token(actor=agent, user=agent, name="ro", scopes=["tickets:read"])
    api = ApiClient(token=read_only)
    assert api.get("tickets").status_code == 200
    assert api.post("tickets", {"title": "x", "type": "fault"}).status_code == 403
    assert not Ticket.objects.exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_retries_with_one_key_create_one_work_order():
    from kefu.testing.factories import frontline_setup

    centre = frontline_setup()
    results: list[int] = []

    def send() -> None:
        from django.db import connections

        response = ApiClient(user=centre["agent"]).post(
            "tickets", {"title": "并发", "type": "fault"}, headers={"Idempotency-Key": "same"}
        )
        results.append(response.status_code)
        connections.close_all()

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Ticket.objects.filter(title="并发").count() == 1
    assert set(results) <= {201, 409}
    assert 201 in results
