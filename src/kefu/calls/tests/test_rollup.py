"""The KPI sums kept per interval, queue and agent-day equal the sums computed from the calls."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from kefu.calls import rollup, selectors, services
from kefu.calls.models import Call, IntervalSums, WrapUpCode
from kefu.calls.selectors import KpiQuery, kpi_report
from kefu.testing.factories import make_user

pytestmark = pytest.mark.django_db

START = int(dt.datetime(2025, 3, 1, tzinfo=dt.UTC).timestamp())
AGENTS = ("SIP/8001", "SIP/8002", "SIP/8003", "Agent/1004")
QUEUES = ("support", "billing", "outage")


def _log(calls: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    lines = []
    for agent in AGENTS:
        lines.append(f"{START + 60}|NONE|NONE|{agent}|AGENTLOGIN|{agent}")
        lines.append(f"{START + 3 * 86400 - 60}|NONE|NONE|{agent}|AGENTLOGOFF|{agent}|1")
    for i in range(calls):
        t = START + rng.randrange(0, 3 * 86400)
        callid = f"{t}.{i}"
        queue = QUEUES[i % 3]
        agent = AGENTS[rng.randrange(len(AGENTS))]
        wait = rng.choice([0, 2, 3, 4, 5, 9, 10, 15, 20, 21, 30, 31, 60, 200])
        lines.append(f"{t}|{callid}|{queue}|NONE|ENTERQUEUE||1380013{i:04d}|1")
        if rng.random() < 0.25:
            lines.append(f"{t + wait}|{callid}|{queue}|NONE|ABANDON|1|1|{wait}")
        else:
            ring = rng.choice(["", "3", "5", "10", "11", "30"])
            talk = rng.randrange(5, 600)
            lines.append(f"{t + wait}|{callid}|{queue}|{agent}|CONNECT|{wait}|x{i}|{ring}")
            end = rng.choice(["COMPLETECALLER", "COMPLETEAGENT"])
            lines.append(f"{t + wait + talk}|{callid}|{queue}|{agent}|{end}|{wait}|{talk}|1")
    return lines


def _reports(query: KpiQuery, monkeypatch: Any) -> tuple[Any, Any]:
    kept = kpi_report(query)
    with monkeypatch.context() as m:
        m.setattr(selectors, "_kept", lambda q: False)
        direct = kpi_report(query)
    return kept, direct


QUERIES = [
    dict(tz=dt.UTC, interval_min=15),
    dict(tz=ZoneInfo("Asia/Shanghai"), interval_min=30),
    dict(tz=ZoneInfo("Asia/Kolkata"), interval_min=60, queue="billing"),
    dict(tz=ZoneInfo("Asia/Kathmandu"), interval_min=15, short_abandon_s=3, service_level_s=30,
         timely_ring_s=5),
    dict(tz=dt.UTC, interval_min=30, short_abandon_s=0, service_level_s=10, timely_ring_s=30),
]  # fmt: skip


@pytest.mark.parametrize("params", QUERIES)
def test_kept_sums_equal_the_calls(params: dict[str, Any], monkeypatch: Any) -> None:
    # given three days of calls, imported in two parts, one call's ENTERQUEUE arriving late
    lines = _log(400, seed=3)
    services.import_queue_log(lines[:500], name="a", actor=None)
    services.import_queue_log(lines[500:], name="b", actor=None)
    late = START + 2 * 86400 + 7000
    services.import_queue_log(
        [f"{late + 5}|late.1|support|SIP/8001|CONNECT|5|y|3",
         f"{late + 50}|late.1|support|SIP/8001|COMPLETEAGENT|5|45|1"],
        name="c", actor=None,
    )  # fmt: skip
    services.import_queue_log(
        [f"{late - 2000}|late.1|support|NONE|ENTERQUEUE||13900139000|1"], name="d", actor=None
    )
    # and an agent's after-call work added on one call
    WrapUpCode.objects.create(code="done", label="Done")
    call = Call.objects.filter(outcome="answered").order_by("id").first()
    assert call is not None
    services.wrap_up(actor=make_user("agent_l1"), call=call, code="done", acw_s=45)

    # when the month is asked with the kept sums and straight from the calls
    query = KpiQuery(start=dt.date(2025, 2, 28), end=dt.date(2025, 3, 3), **params)
    kept, direct = _reports(query, monkeypatch)

    # then every figure is the same
    assert rollup.covers(query.short_abandon_s, query.service_level_s, query.timely_ring_s)
    assert kept.total.offered > 100
    assert kept.total == direct.total
    assert kept.by_interval == direct.by_interval
    assert kept.by_day == direct.by_day
    assert kept.by_hour == direct.by_hour
    assert kept.by_queue == direct.by_queue
    assert kept.by_agent == direct.by_agent


def test_a_threshold_outside_the_set_reads_the_calls(monkeypatch: Any) -> None:
    services.import_queue_log(_log(50, seed=5), name="a", actor=None)
    query = KpiQuery(
        start=dt.date(2025, 3, 1), end=dt.date(2025, 3, 3), tz=dt.UTC, service_level_s=17
    )
    assert not rollup.covers(5, 17, 10)
    kept, direct = _reports(query, monkeypatch)
    assert kept == direct


def test_rebuilding_changes_nothing() -> None:
    services.import_queue_log(_log(80, seed=9), name="a", actor=None)
    before = sorted(IntervalSums.objects.values_list("bucket", "queue", "offered", "within_20"))
    rollup.refresh_all()
    after = sorted(IntervalSums.objects.values_list("bucket", "queue", "offered", "within_20"))
    assert before == after
    assert sum(row[2] for row in after) == Call.objects.exclude(outcome="live").count()


def test_parsing_in_processes_gives_the_same_result(monkeypatch: Any) -> None:
    # given a log cut into many blocks, with a refused line and a line twice
    from kefu.calls import bulk

    monkeypatch.setattr(bulk, "BLOCK_LINES", 40)
    lines = [f"{line}\n" for line in _log(60, seed=11)]
    lines[7:7] = ["1741000000|x|support|NONE|CONNECT|soon|y|1\n", lines[3]]
    # when it is imported by two worker processes
    run = services.import_queue_log(lines, name="a", actor=None, workers=2)
    # then every line is accounted for, once
    assert (run.lines, run.rejected, run.added, run.duplicates) == (
        len(lines), 1, len(lines) - 2, 1,
    )  # fmt: skip
    assert run.rejects == [[8, "CONNECT: holdtime is not a whole number ('soon')"]]
    assert Call.objects.count() == 60
    again = services.import_queue_log(lines, name="b", actor=None, workers=2)
    assert (again.added, again.calls) == (0, 0)


def test_backslashes_and_tabs_in_a_line_are_kept_as_written() -> None:
    from kefu.calls.models import QueueLogEvent

    line = "1741000000|NONE|support|SIP/8001|INFO|C:\\rec\\a.wav|x\ty|\\N"
    run = services.import_queue_log([line], name="a", actor=None)
    assert (run.added, run.rejected) == (1, 0)
    event = QueueLogEvent.objects.get()
    assert (event.d1, event.d2, event.d3) == ("C:\\rec\\a.wav", "x\ty", "\\N")
