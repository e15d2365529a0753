"""A call's search hit names its customer: who may see calls but not customers (a planner, a
token without ``customers:read``) does not find calls linked to a customer."""

from __future__ import annotations

from typing import Any

import pytest

from kefu.accounts.services import create_api_token
from kefu.calls import services
from kefu.calls.models import Integration
from kefu.core.permissions import Role
from kefu.search import services as search
from kefu.testing.factories import ApiClient, make_customer, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def calls() -> dict[str, Any]:
    make_customer("赵敏", phone="13700137000")
    pbx = Integration.objects.create(name="PBX", slug="pbx")
    known = services.handle_cti(
        pbx, {"event": "ring", "call_id": "u-1", "caller": "13700137000", "queue": "hotline"}
    )
    unknown = services.handle_cti(
        pbx, {"event": "ring", "call_id": "u-2", "caller": "13600136000", "queue": "hotline"}
    )
    assert known.customer_id is not None and unknown.customer_id is None
    return {"known": known, "unknown": unknown}


def _hits(user: Any, q: str) -> list[tuple[int, str]]:
    return [(h.object_id, h.title) for h in search.search(user, q).hits if h.kind == "call"]


def test_a_planner_finds_no_call_that_names_a_customer(calls: dict[str, Any]) -> None:
    # given
    planner = make_user(Role.PLANNER)
    # when
    by_name = _hits(planner, "赵敏")
    by_number = _hits(planner, "13700137000")
    other = _hits(planner, "13600136000")
    # then
    assert by_name == [] and by_number == []
    assert [pk for pk, _title in other] == [calls["unknown"].pk]


def test_an_agent_finds_the_call_with_its_customer(calls: dict[str, Any]) -> None:
    hits = _hits(make_user(Role.AGENT_L1), "13700137000")
    assert [pk for pk, _title in hits] == [calls["known"].pk]
    assert "赵敏" in hits[0][1]


def test_a_token_without_customers_read_finds_no_call_that_names_a_customer(
    calls: dict[str, Any],
) -> None:
    # given
    agent = make_user(Role.AGENT_L1)
    _t, narrow = create_api_token(actor=agent, user=agent, name="wall", scopes=["calls:read"])
    _t, wide = create_api_token(
        actor=agent, user=agent, name="crm", scopes=["calls:read", "customers:read"]
    )
    # when
    as_narrow = ApiClient(token=narrow).get("search", {"q": "13700137000"})
    as_wide = ApiClient(token=wide).get("search", {"q": "13700137000"})
    # then
    assert as_narrow.status_code == as_wide.status_code == 200
    assert [h["id"] for h in as_narrow.json()["hits"] if h["kind"] == "call"] == []
    assert "赵敏" not in as_narrow.content.decode()
    assert [h["id"] for h in as_wide.json()["hits"] if h["kind"] == "call"] == [calls["known"].pk]
