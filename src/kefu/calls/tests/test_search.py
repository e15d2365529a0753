"""Calls in search: by the caller's number, the customer and the agent's wrap-up, for those who
may see calls."""

from __future__ import annotations

from typing import Any

import pytest

from kefu.calls import services
from kefu.calls.models import Call, Integration, WrapUpCode
from kefu.core.permissions import Role
from kefu.search import services as search
from kefu.search.models import SearchDoc
from kefu.testing.factories import make_customer, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def calls() -> dict[str, Any]:
    customer = make_customer("赵敏", phone="13700137000")
    WrapUpCode.objects.create(code="outage", label="停电报修")
    pbx = Integration.objects.create(name="PBX", slug="pbx")
    live = services.handle_cti(
        pbx, {"event": "ring", "call_id": "u-9", "caller": "13700137000", "queue": "hotline"}
    )
    services.import_queue_log(
        ["1700000100|c1|hotline|NONE|ENTERQUEUE||13600136000|1",
         "1700000110|c1|hotline|SIP/8001|CONNECT|10|x|3",
         "1700000300|c1|hotline|SIP/8001|COMPLETECALLER|10|190|1",
         "1700000200|c2|hotline|NONE|ENTERQUEUE||13500135000|1",
         "1700000260|c2|hotline|NONE|ABANDON|1|1|60"],
        name="t", actor=None,
    )  # fmt: skip
    agent = make_user(Role.AGENT_L1)
    worked = Call.objects.get(external_id="c1")
    services.wrap_up(
        actor=agent, call=worked, code="outage", note="幸福小区3号楼整栋停电，已派抢修"
    )
    return {"agent": agent, "customer": customer, "live": live, "worked": worked}


def _kinds_and_ids(user: Any, q: str) -> list[tuple[str, int]]:
    return [(h.kind, h.object_id) for h in search.search(user, q).hits if h.kind == "call"]


def test_calls_are_found_by_number_customer_and_wrap_up(calls: dict[str, Any]) -> None:
    agent = calls["agent"]
    assert _kinds_and_ids(agent, "13700137000") == [("call", calls["live"].pk)]
    assert ("call", calls["live"].pk) in _kinds_and_ids(agent, "赵敏")
    assert _kinds_and_ids(agent, "幸福小区 停电") == [("call", calls["worked"].pk)]
    hit = next(h for h in search.search(agent, "13600136000").hits if h.kind == "call")
    assert hit.url == f"/calls/{calls['worked'].pk}/"


def test_untouched_imported_calls_stay_out_of_the_index(calls: dict[str, Any]) -> None:
    abandoned = Call.objects.get(external_id="c2")
    assert not SearchDoc.objects.filter(kind="call", object_id=abandoned.pk).exists()
    assert _kinds_and_ids(calls["agent"], "13500135000") == []


def test_who_may_not_see_calls_finds_none(calls: dict[str, Any]) -> None:
    liaison = make_user(Role.LIAISON)
    assert _kinds_and_ids(liaison, "13700137000") == []
    assert _kinds_and_ids(liaison, "幸福小区") == []
    assert _kinds_and_ids(make_user(Role.PLANNER), "幸福小区") == [("call", calls["worked"].pk)]


@pytest.mark.postgres  # the query plan is PostgreSQL's
def test_the_catch_up_query_reads_the_worked_calls_index() -> None:
    from django.db import connection
    from django.utils import timezone

    from kefu.calls.search import CallSource
    from kefu.search.registry import source

    calls_source = source("call")
    assert isinstance(calls_source, CallSource)
    query = calls_source.changed_since(timezone.now())
    sql, params = query.query.sql_with_params()  # type: ignore[attr-defined]
    with connection.cursor() as cur:
        cur.execute("SET LOCAL enable_seqscan = off")
        cur.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cur.fetchall())
    assert "calls_call_worked_idx" in plan
