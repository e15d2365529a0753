import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kefu.core.models import Event
from kefu.core.permissions import Role
from kefu.customers.models import AccountNumber, ContactPoint, Customer, CustomerNote
from kefu.testing.factories import ApiClient, make_customer, make_portal_user, make_tier, make_user

pytestmark = pytest.mark.django_db


def snapshot():
    return {
        "customers": sorted(
            Customer.objects.values_list(
                "id", "name", "address", "is_active", "version", "merged_into"
            )
        ),
        "contacts": sorted(ContactPoint.objects.values_list("id", "customer_id", "normalized")),
        "accounts": sorted(AccountNumber.objects.values_list("id", "customer_id", "number")),
        "notes": CustomerNote.objects.count(),
        "events": Event.objects.count(),
    }


def test_create_get_update_and_archive_through_the_api():
    agent, admin = make_user(Role.AGENT_L1), make_user(Role.ADMIN)
    tier = make_tier()
    api = ApiClient(user=agent)
    created = api.post(
        "customers",
        {
            "name": "王芳",
            "vip_tier_id": tier.pk,
            "contacts": [
                {"kind": "phone", "value": "13912345678"},
                {"kind": "wechat", "value": "wx_wangfang"},
            ],
            "accounts": [{"number": "0788888888", "label": "住宅"}],
            "tags": ["光伏用户"],
        },
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["vip_tier"]["code"] == "gold"
    assert [c["value"] for c in body["contacts"]] == ["13912345678", "wx_wangfang"]
    got = api.get(f"customers/{body['id']}").json()
    assert got == body
    patched = api.patch(
        f"customers/{body['id']}", {"version": body["version"], "address": "南湖区8号", "tags": []}
    )
    assert patched.status_code == 200
    assert (patched.json()["address"], patched.json()["tags"], patched.json()["version"]) == (
        "南湖区8号",
        [],
        2,
    )
    stale = api.patch(f"customers/{body['id']}", {"version": 1, "address": "旧"})
    assert stale.status_code == 409
    assert stale.json()["error"]["current_version"] == 2
    assert api.delete(f"customers/{body['id']}").status_code == 403  # agents cannot archive
    assert ApiClient(user=admin).delete(f"customers/{body['id']}").status_code == 204
    assert Customer.objects.get(pk=body["id"]).is_active is False


def test_list_filters_sorts_and_pages_within_a_query_budget():
    agent = make_user(Role.AGENT_L1)
    tier = make_tier()
    for i in range(30):
        make_customer(
            f"客户{i:02d}",
            phone=f"1390000{i:04d}",
            account=f"07000000{i:02d}",
            vip_tier=tier if i % 3 == 0 else None,
        )
    api = ApiClient(user=agent)
    api.get("me")  # the session's first request loads and refreshes it; not part of the budget
    with CaptureQueriesContext(connection) as queries:
        page = api.get("customers", {"sort": "name", "limit": 20})
    assert page.status_code == 200
    assert len(queries) <= 6, [q["sql"] for q in queries]
    first = page.json()
    assert [c["name"] for c in first["items"]] == [f"客户{i:02d}" for i in range(20)]
    rest = api.get(
        "customers", {"sort": "name", "limit": 20, "cursor": first["next_cursor"]}
    ).json()
    assert [c["name"] for c in rest["items"]] == [f"客户{i:02d}" for i in range(20, 30)]
    assert rest["next_cursor"] is None
    assert [c["name"] for c in api.get("customers", {"q": "00007"}).json()["items"]] == ["客户07"]
    assert [c["name"] for c in api.get("customers", {"q": "0700000012"}).json()["items"]] == [
        "客户12"
    ]
    assert len(api.get("customers", {"vip_tier": "gold", "limit": 200}).json()["items"]) == 10
    with CaptureQueriesContext(connection) as queries:
        assert api.get(f"customers/{first['items'][0]['id']}").status_code == 200
    assert len(queries) <= 5


@pytest.mark.parametrize(
    ("raw", "status", "code"),
    [
        ("{not json", 400, "bad_request"),
        (json.dumps({"name": 123}), 422, "invalid"),
        (json.dumps({"name": "x" * 101}), 422, "invalid"),
        (
            json.dumps({"name": "x", "contacts": [{"kind": "phone", "value": "110"}]}),
            422,
            "invalid",
        ),
        (json.dumps({"name": "x", "contacts": [{"kind": "email", "value": "@@"}]}), 422, "invalid"),
        (json.dumps({"name": "x", "vip_tier_id": 99999}), 422, "invalid"),
        (json.dumps({"name": "x", "organization_id": 99999}), 422, "invalid"),
        (json.dumps({"name": "x", "unexpected": True}), 422, "invalid"),
        (json.dumps({"name": "x", "contacts": "13800138000"}), 422, "invalid"),
        (json.dumps([1, 2, 3]), 422, "invalid"),
    ],
)
def test_bad_input_gets_a_clear_4xx_and_writes_nothing(raw, status, code):
    agent = make_user(Role.AGENT_L1)
    make_customer("已有客户", account="0711111111")
    before = snapshot()
    response = ApiClient(user=agent).post("customers", raw=raw)
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert error["code"] == code and error["message"]
    assert snapshot() == before


def test_oversize_bodies_are_refused(settings):
    agent = make_user(Role.AGENT_L1)
    before = snapshot()
    response = ApiClient(user=agent).post(
        "customers", raw=json.dumps({"name": "x", "note": "长" * 5000})
    )
    assert response.status_code == 422
    assert "note" in response.json()["error"]["fields"]
    assert snapshot() == before


def test_unknown_ids_are_404_everywhere():
    agent = make_user(Role.AGENT_L1)
    api = ApiClient(user=agent)
    for response in (
        api.get("customers/424242"),
        api.patch("customers/424242", {"name": "x"}),
        api.post("customers/424242/contacts", {"kind": "phone", "value": "13800138000"}),
        api.get("organizations/424242"),
        api.get("nowhere/at/all"),
    ):
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"


def test_a_customer_sees_and_changes_only_their_own_record_through_the_api():
    # given two customers, one signed in to the portal
    mine = make_customer("我", phone="13800000001", account="0700000001")
    other = make_customer("别人", phone="13800000002", account="0700000002", address="别人的地址")
    me = make_portal_user(mine)
    api = ApiClient(user=me)
    before = snapshot()
    # when / then: reading
    listed = api.get("customers").json()["items"]
    assert [c["id"] for c in listed] == [mine.pk]
    assert api.get(f"customers/{mine.pk}").status_code == 200
    assert api.get(f"customers/{other.pk}").status_code == 404
    assert api.get("customers", {"q": "13800000002"}).json()["items"] == []
    assert api.get(f"customers/{other.pk}/notes").status_code in (403, 404)
    assert api.get(f"customers/{other.pk}/events").status_code in (403, 404)
    assert api.get("organizations").json()["items"] == []
    # and writing
    assert api.patch(f"customers/{other.pk}", {"address": "改了"}).status_code == 404
    assert api.patch(f"customers/{mine.pk}", {"address": "改了"}).status_code == 403
    assert api.post("customers", {"name": "新"}).status_code == 403
    assert api.post(f"customers/{mine.pk}/merge", {"source_id": other.pk}).status_code == 403
    assert api.delete(f"customers/{other.pk}").status_code == 404
    assert api.post(f"customers/{other.pk}/notes", {"body": "hi"}).status_code == 404
    assert api.get("users").status_code == 403
    assert api.get("events").status_code == 403
    # then nothing changed
    assert snapshot() == before


@pytest.mark.parametrize("role", [Role.PLANNER, Role.LIAISON])
def test_roles_without_customer_access_see_nothing(role):
    customer = make_customer("张三")
    api = ApiClient(user=make_user(role))
    assert api.get("customers").json()["items"] == []
    assert api.get(f"customers/{customer.pk}").status_code == 404


def test_quality_inspectors_read_but_do_not_write():
    customer = make_customer("张三")
    api = ApiClient(user=make_user(Role.QA))
    before = snapshot()
    assert api.get(f"customers/{customer.pk}").status_code == 200
    assert api.patch(f"customers/{customer.pk}", {"name": "李四"}).status_code == 403
    assert api.post(f"customers/{customer.pk}/notes", {"body": "x"}).status_code == 403
    assert snapshot() == before


def test_merge_endpoint():
    supervisor = make_user(Role.SUPERVISOR)
    target = make_customer("张三", phone="13800138000")
    source = make_customer("张三", account="0722222222")
    response = ApiClient(user=supervisor).post(
        f"customers/{target.pk}/merge", {"source_id": source.pk}
    )
    assert response.status_code == 200
    assert [a["number"] for a in response.json()["accounts"]] == ["0722222222"]
    assert (
        ApiClient(user=supervisor).get(f"customers/{source.pk}").json()["merged_into"] == target.pk
    )


def test_organisations_are_customers_of_kind_organisation():
    agent = make_user(Role.AGENT_L1)
    api = ApiClient(user=agent)
    org = api.post(
        "organizations",
        {"name": "江城钢铁有限公司", "credit_code": "91420100MA4K12345X", "industry": "冶金"},
    )
    assert org.status_code == 201, org.content
    assert org.json()["kind"] == "organization"
    person = api.post("customers", {"name": "厂电工", "organization_id": org.json()["id"]}).json()
    assert person["organization"] == {"id": org.json()["id"], "name": "江城钢铁有限公司"}
    assert [o["name"] for o in api.get("organizations").json()["items"]] == ["江城钢铁有限公司"]
    assert api.get(f"organizations/{person['id']}").status_code == 404


def test_audit_api_is_for_administrators():
    admin = make_user(Role.ADMIN)
    agent = make_user(Role.AGENT_L1)
    ApiClient(user=agent).post("customers", {"name": "审计测试"})
    events = ApiClient(user=admin).get("events", {"action": "customer_created"}).json()["items"]
    assert (
        events[0]["object_repr"] == "审计测试"
        and events[0]["actor_id"] == agent.pk
        and events[0]["source"] == "api"
    )
    assert ApiClient(user=agent).get("events").status_code == 403


def test_openapi_schema_and_docs_are_served_without_a_cdn(client):
    schema = client.get("/api/v1/openapi.json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for path in (
        "/api/v1/customers",
        "/api/v1/customers/{customer_id}",
        "/api/v1/users",
        "/api/v1/teams",
        "/api/v1/organizations",
    ):
        assert path in paths
    docs = client.get("/api/v1/docs").content.decode()
    assert "swagger-ui-bundle.js" in docs and "cdn" not in docs.lower()
