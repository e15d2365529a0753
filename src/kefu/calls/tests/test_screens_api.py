"""The hotline through HTTP: screens, actions, the CTI webhook with its screen pop, the API
with its query budgets, and who may do what."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import pytest
from django.test import Client

from kefu.calls import services
from kefu.calls.models import AgentLink, Call, ImportRun, Integration, WrapUpCode
from kefu.core.models import Event
from kefu.core.permissions import Role
from kefu.testing.factories import ApiClient, make_customer, make_user, ticket_type

pytestmark = pytest.mark.django_db

QUEUE_LOG = [
    "1700000100|c1|hotline|NONE|ENTERQUEUE||13800138000|1",
    "1700000110|c1|hotline|SIP/8001|CONNECT|10|x|3",
    "1700000300|c1|hotline|SIP/8001|COMPLETECALLER|10|190|1",
    "1700000200|c2|hotline|NONE|ENTERQUEUE||13900139000|1",
    "1700000260|c2|hotline|NONE|ABANDON|1|1|60",
]


@pytest.fixture
def world() -> dict[str, Any]:
    agent = make_user(Role.AGENT_L1)
    AgentLink.objects.create(pbx_agent="SIP/8001", user=agent)
    customer = make_customer("李华", phone="13800138000")
    WrapUpCode.objects.create(code="billing", label="电费查询")
    services.import_queue_log(QUEUE_LOG, name="t", actor=None)
    return {
        "agent": agent,
        "customer": customer,
        "planner": make_user(Role.PLANNER),
        "liaison": make_user(Role.LIAISON),
        "admin": make_user(Role.ADMIN),
        "answered": Call.objects.get(external_id="c1"),
        "abandoned": Call.objects.get(external_id="c2"),
    }


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_import_links_the_agent_and_the_customer(world: dict[str, Any]) -> None:
    call = world["answered"]
    assert (call.user, call.customer) == (world["agent"], world["customer"])
    assert world["abandoned"].customer is None


def test_call_list_filters_and_escapes(world: dict[str, Any]) -> None:
    Call.objects.filter(pk=world["abandoned"].pk).update(queue="<b>x</b>")
    client = _client(world["agent"])
    page = client.get("/calls/", {"outcome": "abandoned"}).content.decode()
    assert "13900139000" in page and "13800138000" not in page
    assert "&lt;b&gt;x&lt;/b&gt;" in page and "<b>x</b>" not in page


def test_the_liaison_may_not_see_calls(world: dict[str, Any]) -> None:
    client = _client(world["liaison"])
    assert client.get("/calls/").status_code == 403
    assert client.get(f"/calls/{world['answered'].pk}/").status_code == 404
    assert client.get(f"/calls/{world['answered'].pk}/pop/").status_code == 404


def test_call_page_shows_the_timeline_and_ivr(world: dict[str, Any]) -> None:
    page = _client(world["agent"]).get(f"/calls/{world['answered'].pk}/").content.decode()
    assert "COMPLETECALLER" in page and "李华" in page


def test_wrap_up_from_the_page_records_an_event(world: dict[str, Any]) -> None:
    call = world["answered"]
    client = _client(world["agent"])
    response = client.post(
        f"/calls/{call.pk}/wrapup/", {"code": "billing", "note": "已解释", "acw_s": "45"}
    )
    assert response.status_code == 302
    call.refresh_from_db()
    assert (call.wrapup.code, call.wrapup_note, call.acw_s) == ("billing", "已解释", 45)
    event = Event.objects.get(action="call_wrapped_up")
    assert event.changes["acw_s"] == [0, 45]


def test_a_bad_wrap_up_is_refused_and_changes_nothing(world: dict[str, Any]) -> None:
    call = world["answered"]
    response = _client(world["agent"]).post(
        f"/calls/{call.pk}/wrapup/", {"code": "nope", "acw_s": "x"}
    )
    assert response.status_code == 422
    assert "话后处理时长须为整数秒。" in response.content.decode()
    call.refresh_from_db()
    assert (call.wrapup, call.acw_s) == (None, 0)
    assert not Event.objects.filter(action="call_wrapped_up").exists()


def test_the_planner_sees_calls_but_may_not_wrap_up(world: dict[str, Any]) -> None:
    call = world["answered"]
    client = _client(world["planner"])
    assert client.get(f"/calls/{call.pk}/").status_code == 200
    assert client.post(f"/calls/{call.pk}/wrapup/", {"code": "billing"}).status_code == 403
    call.refresh_from_db()
    assert call.wrapup is None


def test_new_work_order_from_a_call(world: dict[str, Any]) -> None:
    ticket_type("consultation")
    call = world["answered"]
    response = _client(world["agent"]).post(
        f"/calls/{call.pk}/ticket/",
        {"ticket_type": "consultation", "title": "电费咨询", "description": "来电询问阶梯电价"},
    )
    assert response.status_code == 302, response.content.decode()[-3000:]
    call.refresh_from_db()
    assert call.ticket is not None
    assert (call.ticket.title, call.ticket.channel, call.ticket.customer) == (
        "电费咨询", "phone", world["customer"],
    )  # fmt: skip
    assert response["Location"] == f"/tickets/{call.ticket.number}/"
    # the ticket page shows the call in the phone channel's panel
    page = _client(world["agent"]).get(response["Location"]).content.decode()
    assert 'data-testid="calls-panel"' in page


def test_new_customer_from_an_unknown_caller(world: dict[str, Any]) -> None:
    call = world["abandoned"]
    response = _client(world["agent"]).post(f"/calls/{call.pk}/new-customer/", {"name": "王芳"})
    assert response.status_code == 302
    call.refresh_from_db()
    assert call.customer is not None and call.customer.name == "王芳"
    assert call.customer.contacts.get().normalized == "+8613900139000"


def test_kpi_page_shows_help_and_refuses_bad_parameters(world: dict[str, Any]) -> None:
    client = _client(world["planner"])
    page = client.get("/calls/kpi/", {"from": "2023-11-14", "to": "2023-11-15"})
    text = page.content.decode()
    assert page.status_code == 200
    assert "平均应答速度：接通来电的排队等待总时长 ÷ 接通量。" in text
    bad = client.get("/calls/kpi/", {"from": "2023-11-15", "to": "2023-11-14"})
    assert bad.status_code == 400
    assert "结束日期早于开始日期。" in bad.content.decode()


def test_import_page_for_administrators_only(world: dict[str, Any]) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    assert _client(world["agent"]).get("/calls/import/").status_code == 403
    upload = SimpleUploadedFile("queue_log", "\n".join([*QUEUE_LOG, "broken"]).encode())
    response = _client(world["admin"]).post(
        "/calls/import/", {"format": "queue_log", "file": upload, "tz": "Asia/Shanghai"}
    )
    assert response.status_code == 200
    run = ImportRun.objects.latest("started_at")
    assert (run.added, run.duplicates, run.rejected) == (0, 5, 1)
    assert run.rejects == [[6, "expected at least 5 fields separated by |, got 1"]]
    assert 'data-testid="import-rejects"' in response.content.decode()


# --- the CTI webhook ------------------------------------------------------------------------------


def _signed(client: Client, slug: str, secret: str, payload: Any) -> Any:
    body = json.dumps(payload).encode()
    sig = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return client.post(
        f"/calls/cti/{slug}/", body, content_type="application/json",
        headers={"X-Kefu-Signature": f"sha256={sig}"},
    )  # fmt: skip


def test_webhook_ring_answer_hold_hangup_and_screen_pop(
    world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    pushed: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr("kefu.core.realtime.send_now", lambda g, p, **_kw: pushed.append((g, p)))
    pbx = Integration.objects.create(name="PBX", slug="pbx")
    client = Client()
    base = {"call_id": "u-1", "caller": "13800138000", "queue": "hotline", "agent": "SIP/8001"}
    r = _signed(
        client, "pbx", pbx.secret, {**base, "event": "ring", "at": "2024-03-01T09:00:00+08:00"}
    )
    assert r.status_code == 200, r.content
    call = Call.objects.get(source="cti:pbx", external_id="u-1")
    assert (call.state, call.customer, call.user) == ("ringing", world["customer"], world["agent"])
    assert [(g, p) for g, p in pushed if p.get("type") == "call.ringing"] == [
        (
            f"user-{world['agent'].pk}",
            {"type": "call.ringing", "call": call.pk, "caller": "13800138000"},
        )
    ]
    # the pop the agent's browser loads
    pop = _client(world["agent"]).get(f"/calls/{call.pk}/pop/").content.decode()
    assert 'data-testid="screenpop-customer"' in pop and "李华" in pop
    assert 'data-testid="screenpop-new-ticket"' in pop
    for event, at in (
        ("answer", "09:00:12"),
        ("hold", "09:01:00"),
        ("unhold", "09:01:30"),
        ("hangup", "09:03:12"),
    ):
        r = _signed(
            client, "pbx", pbx.secret, {**base, "event": event, "at": f"2024-03-01T{at}+08:00"}
        )
        assert r.status_code == 200, r.content
    call.refresh_from_db()
    assert (call.state, call.outcome, call.wait_s, call.hold_s, call.talk_s) == (
        "ended", "answered", 12, 30, 150,
    )  # fmt: skip
    assert list(Event.objects.filter(object_type="call", object_id=call.pk).values_list("action", flat=True).order_by("id")) == [
        "call_ring", "call_answer", "call_hold", "call_unhold", "call_hangup",
    ]  # fmt: skip


def test_webhook_refuses_bad_signatures_and_bad_payloads(world: dict[str, Any]) -> None:
    pbx = Integration.objects.create(name="PBX", slug="pbx")
    client = Client()
    wrong = _signed(client, "pbx", "not-the-secret", {"event": "ring", "call_id": "x"})
    assert wrong.status_code == 401
    assert json.loads(wrong.content) == {"detail": "签名错误或缺失。"}
    unknown = _signed(client, "nope", pbx.secret, {"event": "ring", "call_id": "x"})
    assert unknown.status_code == 401
    bad = _signed(client, "pbx", pbx.secret, {"event": "explode", "call_id": "", "at": "yesterday"})
    assert bad.status_code == 422
    fields = json.loads(bad.content)["fields"]
    assert set(fields) == {"event", "call_id", "at"}
    early = _signed(client, "pbx", pbx.secret, {"event": "hangup", "call_id": "never-rang"})
    assert early.status_code == 422
    assert (
        json.loads(early.content)["detail"] == "没有振铃中的来电“never-rang”；请先发送 ring 事件。"
    )
    assert not Call.objects.filter(source="cti:pbx").exists()
    not_json = client.post(
        "/calls/cti/pbx/", b"{", content_type="application/json",
        headers={"X-Kefu-Signature": "sha256=" + hmac.new(pbx.secret.encode(), b"{", hashlib.sha256).hexdigest()},
    )  # fmt: skip
    assert not_json.status_code == 400


# --- API ------------------------------------------------------------------------------------------


def test_api_list_with_a_query_budget(
    world: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    for n in range(30):
        services.import_queue_log(
            [f"{1700001000 + n}|b{n}|hotline|NONE|ENTERQUEUE||1370000{n:04d}|1",
             f"{1700001005 + n}|b{n}|hotline|SIP/8001|CONNECT|5|x|2",
             f"{1700001100 + n}|b{n}|hotline|SIP/8001|COMPLETEAGENT|5|95|1"],
            name="more", actor=None,
        )  # fmt: skip
    api = ApiClient(world["agent"])
    with django_assert_max_num_queries(8):
        response = api.get("calls", {"limit": 20})
    assert response.status_code == 200
    body = response.json()
    assert len(body["items"]) == 20 and body["next_cursor"]
    first = body["items"][0]
    assert (first["external_id"], first["talk_s"], first["outcome"]) == ("b29", 95, "answered")


def test_api_one_call_wrapup_and_link(world: dict[str, Any]) -> None:
    api = ApiClient(world["agent"])
    call = world["abandoned"]
    assert api.get(f"calls/{call.pk}").json()["outcome"] == "abandoned"
    bad = api.post(f"calls/{call.pk}/wrapup", {"code": "nope"})
    assert bad.status_code == 422
    assert bad.json()["error"]["fields"] == {"code": ["未知的话后小结代码“nope”。"]}
    ok = api.post(f"calls/{call.pk}/wrapup", {"code": "billing", "acw_s": 20})
    assert (ok.status_code, ok.json()["wrapup"], ok.json()["acw_s"]) == (200, "billing", 20)
    linked = api.post(f"calls/{call.pk}/link", {"customer": world["customer"].pk})
    assert linked.json()["customer"] == world["customer"].pk
    assert ApiClient(world["liaison"]).get(f"calls/{call.pk}").status_code == 404
    assert (
        ApiClient(world["planner"]).post(f"calls/{call.pk}/wrapup", {"code": "billing"}).status_code
        == 403
    )


def test_api_kpis(world: dict[str, Any]) -> None:
    api = ApiClient(world["planner"])
    body = api.get("calls/kpi", {"from": "2023-11-14", "to": "2023-11-15", "interval": "60"}).json()
    total = body["total"]
    assert (total["offered"], total["answered"], total["abandoned"], total["asa_s"]) == (
        2,
        1,
        1,
        10.0,
    )
    assert total["sl_answered"] == 1.0 and total["sl_offered"] == 0.5
    bad = api.get("calls/kpi", {"interval": "45"})
    assert bad.status_code == 422
    assert bad.json()["error"]["fields"] == {"interval": ["时段为 15、30 或 60 分钟。"]}
