"""Imports through the services: every file twice adds nothing the second time; calls are
derived from queue events; rejects name the line; KPIs come from what was imported."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from kefu.calls import services
from kefu.calls.models import Call, ImportRun, QueueLogEvent
from kefu.calls.selectors import KpiQuery, kpi_report
from kefu.core.models import Event

DATA = Path(__file__).parent / "data"
UTC = ZoneInfo("UTC")
pytestmark = pytest.mark.django_db


def _import_queue_log() -> ImportRun:
    with open(DATA / "queue_log", "rb") as handle:
        return services.import_file("queue_log", handle, name="queue_log", actor=None, tz=UTC)


def test_queue_log_import_derives_one_call_per_queued_caller() -> None:
    # when
    run = _import_queue_log()
    # then
    assert (run.lines, run.added, run.duplicates, run.rejected) == (41, 41, 0, 0)
    assert run.calls == 11
    assert QueueLogEvent.objects.count() == 41
    answered = Call.objects.get(external_id="1700000100.1")
    assert (answered.outcome, answered.state, answered.queue, answered.agent) == (
        "answered", "ended", "support", "SIP/8001",
    )  # fmt: skip
    assert (answered.caller, answered.wait_s, answered.ring_s, answered.talk_s) == (
        "13800138000", 20, 4, 180,
    )  # fmt: skip
    assert answered.offered_at == dt.datetime.fromtimestamp(1700000100, tz=dt.UTC)
    assert answered.answered_at == dt.datetime.fromtimestamp(1700000120, tz=dt.UTC)
    assert answered.ended_at == dt.datetime.fromtimestamp(1700000300, tz=dt.UTC)
    abandoned = Call.objects.get(external_id="1700000200.2")
    assert (abandoned.outcome, abandoned.wait_s, abandoned.answered_at) == ("abandoned", 30, None)
    by_key = Call.objects.get(external_id="1700000500.4")
    assert (by_key.outcome, by_key.wait_s) == ("abandoned", 3)
    transferred = Call.objects.get(external_id="1700000900.7")
    assert (transferred.transferred, transferred.talk_s) == (True, 60)
    linked = Call.objects.get(external_id="1700001200.10")
    assert (linked.transferred, linked.talk_s, linked.wait_s) == (True, 20, 2)
    event = Event.objects.get(action="calls_imported")
    assert event.data["added"] == 41


def test_reimporting_the_queue_log_adds_nothing() -> None:
    # given
    _import_queue_log()
    before = list(Call.objects.order_by("id").values_list("id", "outcome", "wait_s", "talk_s"))
    # when
    again = _import_queue_log()
    # then
    assert (again.lines, again.added, again.duplicates, again.calls) == (41, 0, 41, 0)
    assert QueueLogEvent.objects.count() == 41
    assert (
        list(Call.objects.order_by("id").values_list("id", "outcome", "wait_s", "talk_s")) == before
    )


def test_a_later_part_of_a_call_updates_it_and_keeps_the_agents_work() -> None:
    services.import_queue_log(
        ["1700000100|c1|support|NONE|ENTERQUEUE||13800138000|1"], name="a", actor=None
    )
    call = Call.objects.get(external_id="c1")
    assert (call.outcome, call.state) == ("live", "ringing")
    Call.objects.filter(pk=call.pk).update(wrapup_note="已解释电费构成")
    services.import_queue_log(
        [
            "1700000110|c1|support|SIP/8001|CONNECT|10|x|2",
            "1700000200|c1|support|SIP/8001|COMPLETEAGENT|10|90|1",
        ],
        name="b",
        actor=None,
    )
    call.refresh_from_db()
    assert (call.outcome, call.state, call.wait_s, call.talk_s) == ("answered", "ended", 10, 90)
    assert call.wrapup_note == "已解释电费构成"


def test_rejected_lines_are_listed_with_numbers_and_the_rest_is_imported() -> None:
    lines = [
        "1700000100|c1|support|NONE|ENTERQUEUE||138|1",
        "garbage",
        "",
        "1700000110|c1|support|SIP/8001|CONNECT|ten|x|2",
        "1700000200|c1|support|SIP/8001|COMPLETEAGENT|10|90|1",
    ]
    run = services.import_queue_log(lines, name="mixed", actor=None)
    assert (run.lines, run.added, run.rejected) == (5, 2, 2)
    assert run.rejects == [
        [2, "expected at least 5 fields separated by |, got 1"],
        [4, "CONNECT: holdtime is not a whole number ('ten')"],
    ]


BANK = """vru+line\tcall_id\tcustomer_id\tpriority\ttype\tdate\tvru_entry\tvru_exit\tvru_time\tq_start\tq_exit\tq_time\toutcome\tser_start\tser_exit\tser_time\tserver
AA0101\t1\t0\t0\tPS\t990201\t7:02:47\t7:02:56\t9\t0:00:00\t0:00:00\t0\tAGENT\t7:02:55\t7:05:41\t166\tDORIT
AA0101\t2\t0\t0\tPS\t990201\t7:10:00\t7:10:05\t5\t7:10:05\t7:10:35\t30\tAGENT\t7:10:35\t7:12:35\t120\tTOVA
AA0101\t3\t23317894\t2\tPS\t990201\t7:20:00\t7:20:06\t6\t7:20:06\t7:20:09\t3\tHANG\t0:00:00\t0:00:00\t0\tNO_SERVER
AA0101\t4\t0\t0\tNE\t990201\t7:40:00\t7:40:06\t6\t7:40:06\t7:41:46\t100\tHANG\t0:00:00\t0:00:00\t0\tNO_SERVER
AA0101\t5\t0\t0\tPS\t990201\t8:10:00\t8:10:20\t20\t0:00:00\t0:00:00\t0\tHANG\t0:00:00\t0:00:00\t0\tNO_SERVER
AA0101\t6\t0\t0\tXX\t990201\t8:10:00\t8:10:20\t20\t0:00:00\t0:00:00\t0\tHANG\t0:00:00\t0:00:00\t0\tNO_SERVER
"""


def test_bank_import_twice_and_its_kpis() -> None:
    jerusalem = ZoneInfo("Asia/Jerusalem")
    run = services.import_file(
        "bank", io.BytesIO(BANK.encode()), name="bank.tsv", actor=None, tz=jerusalem
    )
    assert (run.lines, run.added, run.rejected, run.rejects) == (
        7, 5, 1, [[7, "type: unknown call type 'XX'"]],
    )  # fmt: skip
    again = services.import_file(
        "bank", io.BytesIO(BANK.encode()), name="bank.tsv", actor=None, tz=jerusalem
    )
    assert (again.added, again.duplicates) == (0, 5)
    assert Call.objects.count() == 5

    report = kpi_report(
        KpiQuery(start=dt.date(1999, 2, 1), end=dt.date(1999, 2, 1), tz=jerusalem, interval_min=60)
    )
    k = report.total
    # 4 offered (call 5 ended in the voice menu); 2 answered after 0 and 30 s; 2 abandoned
    # after 3 s (short) and 100 s
    assert (k.offered, k.answered, k.abandoned, k.short_abandoned) == (4, 2, 2, 1)
    assert k.answer_rate == 0.5
    assert k.abandon_rate == 1 / 3
    assert k.asa_s == 15.0
    assert k.talk_avg_s == 143.0
    assert k.sl_answered == 0.5  # 1 of 2 within 20 s
    assert k.sl_offered == 1 / 3
    assert k.longest_wait_s == 100
    assert k.timely_rate is None
    assert [(h, v.offered) for h, v in report.by_hour] == [(7, 4)]
    assert [(q, v.offered) for q, v in report.by_queue] == [("regular", 3), ("stock", 1)]
    assert [(a, v.answered) for a, v in report.by_agent] == [("DORIT", 1), ("TOVA", 1)]


CDR = """"","13800138000","95598","from-pstn","<13800138000>","SIP/t-1","SIP/8001-2","Queue","support,t","2024-03-01 09:00:00","2024-03-01 09:00:25","2024-03-01 09:03:25",205,180,"ANSWERED","DOCUMENTATION","1709254800.1","",
"","13900139000","95598","from-pstn","<13900139000>","SIP/t-3","","Queue","support,t","2024-03-01 09:10:00","","2024-03-01 09:10:40",40,0,"NO ANSWER","DOCUMENTATION","1709255400.2",""
"","139","95598","from-pstn","<139>","SIP/t-3","","Queue","support,t","yesterday","","2024-03-01 09:10:40",40,0,"NO ANSWER","DOCUMENTATION","1709255400.3",""
"""


def test_cdr_import_twice() -> None:
    shanghai = ZoneInfo("Asia/Shanghai")
    run = services.import_file(
        "asterisk_cdr", io.BytesIO(CDR.encode()), name="Master.csv", actor=None, tz=shanghai
    )
    assert (run.lines, run.added, run.rejected) == (3, 1, 2)
    assert run.rejects == [
        [1, "expected 16, 17, 18 or 21 columns, got 19"],
        [3, "start: not a date and time ('yesterday')"],
    ]
    again = services.import_file(
        "asterisk_cdr", io.BytesIO(CDR.encode()), name="Master.csv", actor=None, tz=shanghai
    )
    assert (again.added, again.duplicates) == (0, 1)
    call = Call.objects.get()
    assert (call.source, call.external_id, call.outcome, call.wait_s) == (
        "asterisk_cdr", "1709255400.2", "abandoned", 40,
    )  # fmt: skip


FS = """"李四","13900139000","95598","default","2024-03-01 10:00:00","2024-03-01 10:00:12","2024-03-01 10:04:12","252","240","NORMAL_CLEARING","a1b2c3d4-1","","","PCMA","PCMA"
"王五","13700137000","95598","default","2024-03-01 10:05:00","","2024-03-01 10:05:30","30","0","ORIGINATOR_CANCEL","a1b2c3d4-2","","","PCMA","PCMA"
"""


def test_freeswitch_import_twice() -> None:
    shanghai = ZoneInfo("Asia/Shanghai")
    for expected in (2, 0):
        run = services.import_file(
            "freeswitch_cdr", io.BytesIO(FS.encode()), name="fs.csv", actor=None, tz=shanghai
        )
        assert run.added == expected
    assert sorted(Call.objects.values_list("outcome", "talk_s")) == [
        ("abandoned", 0), ("answered", 240),
    ]  # fmt: skip


def test_follow_continues_where_it_stopped_and_restarts_after_rotation(tmp_path: Path) -> None:
    path = tmp_path / "queue_log"
    path.write_text("1700000100|c1|support|NONE|ENTERQUEUE||138|1\n1700000110|c1|sup")
    first = services.follow_queue_log(path)
    assert first is not None and first.added == 1  # the half-written line waits
    assert services.follow_queue_log(path) is None
    with open(path, "a") as handle:
        handle.write("port|SIP/8001|CONNECT|10|x|2\n")
    second = services.follow_queue_log(path)
    assert second is not None and (second.added, second.rejected) == (1, 0)
    assert Call.objects.get(external_id="c1").outcome == "answered"
    # rotation: a new, shorter file is read from its start
    path.unlink()
    path.write_text("1700000300|c2|support|NONE|ENTERQUEUE||139|1\n")
    third = services.follow_queue_log(path)
    assert third is not None and third.added == 1
    assert QueueLogEvent.objects.count() == 3


FIELDS = ("external_id", "state", "outcome", "started_at", "offered_at", "answered_at",
          "ended_at", "caller", "queue", "agent", "wait_s", "ring_s", "talk_s", "transferred")  # fmt: skip


@pytest.mark.parametrize("split", [9, 12, 24, 33])
def test_a_file_in_two_parts_gives_the_same_calls_as_in_one(split: int) -> None:
    # given the calls of the whole file imported at once (derived in Python)
    lines = (DATA / "queue_log").read_text().splitlines()
    services.import_queue_log(lines, name="whole", actor=None)
    whole = list(Call.objects.order_by("external_id").values_list(*FIELDS))
    Call.objects.all().delete()
    QueueLogEvent.objects.all().delete()
    # when the file comes in two parts (calls cut in two are rebuilt in SQL)
    services.import_queue_log(lines[:split], name="part 1", actor=None)
    services.import_queue_log(lines[split:], name="part 2", actor=None)
    # then
    assert list(Call.objects.order_by("external_id").values_list(*FIELDS)) == whole


BANK_FILE = Path(__file__).resolve().parents[5] / "shared" / "data" / "anonymous-bank-1999-02.tsv"


@pytest.mark.skipif(not BANK_FILE.is_file(), reason="the shared bank call log is not here")
def test_the_bank_month_kpis() -> None:
    jerusalem = ZoneInfo("Asia/Jerusalem")
    with open(BANK_FILE, "rb") as handle:
        run = services.import_file("bank", handle, name="bank", actor=None, tz=jerusalem)
    assert (run.lines, run.added, run.rejected) == (33345, 33344, 0)
    report = kpi_report(
        KpiQuery(start=dt.date(1999, 2, 1), end=dt.date(1999, 2, 28), tz=jerusalem, interval_min=60)
    )
    k = report.total
    assert (k.offered, k.answered, k.abandoned) == (31125, 27162, 3963)
    assert round(k.asa_s or 0, 1) == 40.8
    assert round((k.sl_offered or 0) * 100, 1) == 52.4
    assert k.longest_wait_s == 908
    assert len(report.by_day) == 28
