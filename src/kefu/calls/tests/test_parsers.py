"""Parsers on fixture lines: every queue_log event, the version variants, CDRs, the bank log."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from kefu.calls.parsers import LineError, bank, cdr, freeswitch
from kefu.calls.parsers.queue_log import parse_line, parse_realtime_row, to_copy

DATA = Path(__file__).parent / "data"
SHANGHAI = ZoneInfo("Asia/Shanghai")


def fields(line: str) -> tuple[object, ...]:
    ts, _h, callid, queue, agent, event, *data = parse_line(line)
    return (ts, callid, queue, agent, event, *data)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        # queue and system events
        ("1700000000|NONE|NONE|NONE|QUEUESTART|", (1700000000, "NONE", "NONE", "NONE", "QUEUESTART", "", "", "", "", "")),
        ("1700000001|NONE|NONE|NONE|CONFIGRELOAD|", (1700000001, "NONE", "NONE", "NONE", "CONFIGRELOAD", "", "", "", "", "")),
        # members and agents
        ("1700000002|NONE|support|SIP/8001|ADDMEMBER|", (1700000002, "NONE", "support", "SIP/8001", "ADDMEMBER", "", "", "", "", "")),
        ("1700002000|NONE|support|SIP/8001|REMOVEMEMBER|", (1700002000, "NONE", "support", "SIP/8001", "REMOVEMEMBER", "", "", "", "", "")),
        ("1700000003|NONE|NONE|Agent/1001|AGENTLOGIN|SIP/8001-00000001", (1700000003, "NONE", "NONE", "Agent/1001", "AGENTLOGIN", "SIP/8001-00000001", "", "", "", "")),
        ("1700002001|NONE|NONE|Agent/1001|AGENTLOGOFF|SIP/8001-00000001|1998", (1700002001, "NONE", "NONE", "Agent/1001", "AGENTLOGOFF", "SIP/8001-00000001", "1998", "", "", "")),
        ("1700000004|NONE|support|SIP/8001|PAUSE|meal", (1700000004, "NONE", "support", "SIP/8001", "PAUSE", "meal", "", "", "", "")),
        # PAUSE without a reason (before Asterisk 1.8) and without a trailing separator
        ("1700000004|NONE|support|SIP/8001|PAUSE", (1700000004, "NONE", "support", "SIP/8001", "PAUSE", "", "", "", "", "")),
        ("1700000005|NONE|support|SIP/8001|UNPAUSE|", (1700000005, "NONE", "support", "SIP/8001", "UNPAUSE", "", "", "", "", "")),
        ("1700000006|NONE|NONE|SIP/8001|PAUSEALL|training", (1700000006, "NONE", "NONE", "SIP/8001", "PAUSEALL", "training", "", "", "", "")),
        ("1700000007|NONE|NONE|SIP/8001|UNPAUSEALL|", (1700000007, "NONE", "NONE", "SIP/8001", "UNPAUSEALL", "", "", "", "", "")),
        # ENTERQUEUE: url|callerid (older) and url|callerid|position (Asterisk 16+)
        ("1700000200|c2|support|NONE|ENTERQUEUE||13900139000", (1700000200, "c2", "support", "NONE", "ENTERQUEUE", "", "13900139000", "", "", "")),
        ("1700000100|c1|support|NONE|ENTERQUEUE||13800138000|1", (1700000100, "c1", "support", "NONE", "ENTERQUEUE", "", "13800138000", "1", "", "")),
        # CONNECT: holdtime|bridged uniqueid (1.4) and …|ringtime (1.6+)
        ("1700000120|c1|support|SIP/8001|CONNECT|20|1700000119.5", (1700000120, "c1", "support", "SIP/8001", "CONNECT", "20", "1700000119.5", "", "", "")),
        ("1700000120|c1|support|SIP/8001|CONNECT|20|1700000119.5|4", (1700000120, "c1", "support", "SIP/8001", "CONNECT", "20", "1700000119.5", "4", "", "")),
        ("1700000101|c1|support|SIP/8001|RINGNOANSWER|15000", (1700000101, "c1", "support", "SIP/8001", "RINGNOANSWER", "15000", "", "", "", "")),
        ("1700000116|c1|support|SIP/8002|RINGCANCELED|3000", (1700000116, "c1", "support", "SIP/8002", "RINGCANCELED", "3000", "", "", "", "")),
        ("1700000300|c1|support|SIP/8001|COMPLETECALLER|20|180|1", (1700000300, "c1", "support", "SIP/8001", "COMPLETECALLER", "20", "180", "1", "", "")),
        ("1700000800|c6|support|SIP/8002|COMPLETEAGENT|10|90|1", (1700000800, "c6", "support", "SIP/8002", "COMPLETEAGENT", "10", "90", "1", "", "")),
        ("1700000230|c2|support|NONE|ABANDON|2|3|30", (1700000230, "c2", "support", "NONE", "ABANDON", "2", "3", "30", "", "")),
        # EXITWITHTIMEOUT: position (older) and position|origposition|waittime
        ("1700000460|c3|support|NONE|EXITWITHTIMEOUT|1", (1700000460, "c3", "support", "NONE", "EXITWITHTIMEOUT", "1", "", "", "", "")),
        ("1700000460|c3|support|NONE|EXITWITHTIMEOUT|1|1|60", (1700000460, "c3", "support", "NONE", "EXITWITHTIMEOUT", "1", "1", "60", "", "")),
        # EXITWITHKEY: key|position (older) and key|position|origposition|waittime
        ("1700000503|c4|billing|NONE|EXITWITHKEY|5|1", (1700000503, "c4", "billing", "NONE", "EXITWITHKEY", "5", "1", "", "", "")),
        ("1700000503|c4|billing|NONE|EXITWITHKEY|5|1|1|3", (1700000503, "c4", "billing", "NONE", "EXITWITHKEY", "5", "1", "1", "3", "")),
        ("1700000610|c5|billing|NONE|EXITEMPTY|1|1|10", (1700000610, "c5", "billing", "NONE", "EXITEMPTY", "1", "1", "10", "", "")),
        # TRANSFER: extension|context (1.2), …|holdtime|calltime (1.4), …|origposition (1.6+)
        ("1700000965|c7|support|SIP/8001|TRANSFER|8100|from-internal", (1700000965, "c7", "support", "SIP/8001", "TRANSFER", "8100", "from-internal", "", "", "")),
        ("1700000965|c7|support|SIP/8001|TRANSFER|8100|from-internal|5|60", (1700000965, "c7", "support", "SIP/8001", "TRANSFER", "8100", "from-internal", "5", "60", "")),
        ("1700000965|c7|support|SIP/8001|TRANSFER|8100|from-internal|5|60|1", (1700000965, "c7", "support", "SIP/8001", "TRANSFER", "8100", "from-internal", "5", "60", "1")),
        ("1700001034|c8|support|SIP/8001|BLINDTRANSFER|8200|from-internal|4|30|1", (1700001034, "c8", "support", "SIP/8001", "BLINDTRANSFER", "8200", "from-internal", "4", "30", "1")),
        # ATTENDEDTRANSFER (Asterisk 12+): BRIDGE, APP and LINK (two channels) forms
        ("1700001146|c9|support|SIP/8002|ATTENDEDTRANSFER|BRIDGE|3c1d6f0e-aaaa|6|40|1", (1700001146, "c9", "support", "SIP/8002", "ATTENDEDTRANSFER", "BRIDGE", "3c1d6f0e-aaaa", "6", "40", "1")),
        ("1700001323|c11|support|SIP/8001|ATTENDEDTRANSFER|APP|Voicemail|3|20|1", (1700001323, "c11", "support", "SIP/8001", "ATTENDEDTRANSFER", "APP", "Voicemail", "3", "20", "1")),
        ("1700001222|c10|support|SIP/8002|ATTENDEDTRANSFER|LINK|SIP/8002-11|SIP/8300-12|2|20|1", (1700001222, "c10", "support", "SIP/8002", "ATTENDEDTRANSFER", "LINK", "SIP/8002-11,SIP/8300-12", "2", "20", "1")),
        # other events keep their data; more than five fields are kept in the last one
        ("1700000099|c1|support|NONE|DID|95598", (1700000099, "c1", "support", "NONE", "DID", "95598", "", "", "", "")),
        ("1700000099|c1|support|NONE|INFO|a|b|c|d|e|f", (1700000099, "c1", "support", "NONE", "INFO", "a", "b", "c", "d", "e|f")),
        # a fractional time (some builds log microseconds) and a Windows line ending
        ("1700000120.123456|c1|support|SIP/8001|CONNECT|20|x|4\r\n", (1700000120, "c1", "support", "SIP/8001", "CONNECT", "20", "x", "4", "", "")),
    ],
)  # fmt: skip
def test_queue_log_events(line: str, expected: tuple[object, ...]) -> None:
    assert fields(line) == expected


def test_every_line_of_the_fixture_file_parses() -> None:
    lines = (DATA / "queue_log").read_text().splitlines()
    events = {parse_line(line)[5] for line in lines}
    assert events == {
        "QUEUESTART", "CONFIGRELOAD", "ADDMEMBER", "REMOVEMEMBER", "AGENTLOGIN", "AGENTLOGOFF",
        "PAUSE", "UNPAUSE", "PAUSEALL", "UNPAUSEALL", "ENTERQUEUE", "RINGNOANSWER",
        "RINGCANCELED", "CONNECT", "COMPLETECALLER", "COMPLETEAGENT", "ABANDON",
        "EXITWITHTIMEOUT", "EXITWITHKEY", "EXITEMPTY", "TRANSFER", "BLINDTRANSFER",
        "ATTENDEDTRANSFER",
    }  # fmt: skip


def test_the_key_is_the_content() -> None:
    a = parse_line("1700000120|c1|support|SIP/8001|CONNECT|20|x|4")
    b = parse_line("1700000120|c1|support|SIP/8001|CONNECT|20|x|4\n")
    c = parse_line("1700000120|c1|support|SIP/8001|CONNECT|21|x|4")
    assert a[1] == b[1]
    assert a[1] != c[1]


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("1700000120|c1|support|SIP/8001", "expected at least 5 fields separated by |, got 4"),
        ("yesterday|c1|support|SIP/8001|CONNECT|20", "time: not a UNIX timestamp ('yesterday')"),
        ("1700000120|c1|support|SIP/8001||20", "event: empty"),
        ("1700000120||support|SIP/8001|CONNECT|20", "callid: empty"),
        (
            "1700000120|c1|support|SIP/8001|CONNECT|soon|x|4",
            "CONNECT: holdtime is not a whole number ('soon')",
        ),
        (
            "1700000120|c1|support|SIP/8001|CONNECT|20|x|4s",
            "CONNECT: ringtime is not a whole number ('4s')",
        ),
        (
            "1700000230|c2|support|NONE|ABANDON|2|3|-1",
            "ABANDON: waittime is not a whole number ('-1')",
        ),
        (
            "1700001146|c9|q|SIP/8002|ATTENDEDTRANSFER|BRIDGE|6|40",
            "ATTENDEDTRANSFER: expected at least 5 data fields, got 3",
        ),
        (
            "1700000300|c1|support|SIP/8001|COMPLETECALLER|20|long|1",
            "COMPLETECALLER: calltime is not a whole number ('long')",
        ),
        (
            "1700000300|" + "c" * 65 + "|support|SIP/8001|PAUSE|",
            "callid: longer than 64 characters",
        ),
        (  # a short line with an event name too long for its column
            "1700000300|c1|q|a|" + "E" * 25,
            "event: longer than 24 characters",
        ),
        (
            "1700000300|c1|support|SIP/8001|INFO|" + "x" * 256,
            "data field 1: longer than 255 characters",
        ),
    ],
)
def test_queue_log_refusals_name_the_problem(line: str, reason: str) -> None:
    with pytest.raises(LineError) as caught:
        parse_line(line)
    assert str(caught.value) == reason


def test_realtime_table_rows_with_data_columns_and_with_one_data_column() -> None:
    when = dt.datetime(2023, 11, 14, 22, 15, 20, tzinfo=dt.UTC)
    split = {"time": when, "callid": "c1", "queuename": "support", "agent": "SIP/8001",
             "event": "CONNECT", "data1": "20", "data2": "1700000119.5", "data3": "4",
             "data4": "", "data5": ""}  # fmt: skip
    joined = {"time": when.isoformat(), "callid": "c1", "queuename": "support",
              "agent": "SIP/8001", "event": "CONNECT", "data": "20|1700000119.5|4"}  # fmt: skip
    from_file = parse_line(f"{int(when.timestamp())}|c1|support|SIP/8001|CONNECT|20|1700000119.5|4")
    assert parse_realtime_row(split) == from_file
    assert parse_realtime_row(joined) == from_file


def test_realtime_row_without_a_zone_is_refused() -> None:
    row = {"time": dt.datetime(2023, 11, 14, 22, 15, 20), "callid": "c1", "queuename": "q",  # noqa: DTZ001 - the case under test
           "agent": "a", "event": "PAUSE", "data": ""}  # fmt: skip
    with pytest.raises(LineError, match="without a zone"):
        parse_realtime_row(row)


# --- Asterisk CDR ---------------------------------------------------------------------------------

CDR16 = ["", "13800138000", "95598", "from-pstn", '"张三" <13800138000>', "SIP/trunk-0001",
         "SIP/8001-0002", "Queue", "support,t", "2024-03-01 09:00:00", "2024-03-01 09:00:25",
         "2024-03-01 09:03:25", "205", "180", "ANSWERED", "DOCUMENTATION"]  # fmt: skip


def test_cdr_16_columns() -> None:
    r = cdr.parse_row(CDR16, SHANGHAI)
    assert (r.outcome, r.caller, r.callee, r.queue, r.agent) == (
        "answered", "13800138000", "95598", "support", "SIP/8001-0002",
    )  # fmt: skip
    assert r.started_at == dt.datetime(2024, 3, 1, 1, 0, 0, tzinfo=dt.UTC)
    assert r.answered_at == dt.datetime(2024, 3, 1, 1, 0, 25, tzinfo=dt.UTC)
    assert (r.wait_s, r.talk_s) == (25, 180)
    assert len(r.external_id) == 24  # a hash of the row: no uniqueid column


def test_cdr_18_columns_use_the_uniqueid() -> None:
    r = cdr.parse_row([*CDR16, "1709254800.17", "vip"], SHANGHAI)
    assert (r.external_id, r.extra["userfield"]) == ("1709254800.17", "vip")


def test_cdr_17_columns() -> None:
    assert cdr.parse_row([*CDR16, "1709254800.17"], SHANGHAI).external_id == "1709254800.17"


def test_cdr_21_columns_add_peeraccount_linkedid_sequence() -> None:
    r = cdr.parse_row([*CDR16, "1709254800.17", "", "", "1709254800.16", "42"], SHANGHAI)
    assert (r.external_id, r.extra["linkedid"]) == ("1709254800.17#42", "1709254800.16")


def test_cdr_abandoned_in_queue_and_failed() -> None:
    row = list(CDR16)
    row[10], row[13], row[14] = "", "0", "NO ANSWER"
    r = cdr.parse_row(row, SHANGHAI)
    assert (r.outcome, r.answered_at, r.wait_s, r.talk_s) == ("abandoned", None, 205, 0)
    row[14] = "BUSY"
    assert cdr.parse_row(row, SHANGHAI).outcome == "failed"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"cols": 15}, "expected 16, 17, 18 or 21 columns, got 15"),
        ({9: "01/03/2024 09:00"}, "start: not a date and time ('01/03/2024 09:00')"),
        ({12: "abc"}, "duration: not a number of seconds ('abc')"),
        ({14: "MAYBE"}, "disposition: unknown value 'MAYBE'"),
    ],
)
def test_cdr_refusals(change: dict[object, str], reason: str) -> None:
    row = list(CDR16)
    if "cols" in change:
        row = row[:15]
    for k, v in change.items():
        if isinstance(k, int):
            row[k] = v
    with pytest.raises(LineError) as caught:
        cdr.parse_row(row, SHANGHAI)
    assert str(caught.value) == reason


def test_cdr_rows_keep_quoted_commas() -> None:
    line = '"","1001","95598","from","""Li, Wei"" <1001>","SIP/a","SIP/b","Queue","support,t","2024-03-01 09:00:00","","2024-03-01 09:00:05",5,0,"NO ANSWER","DOCUMENTATION"'
    (row,) = cdr.rows([line])
    assert len(row) == 16
    assert row[4] == '"Li, Wei" <1001>'


# --- FreeSWITCH -----------------------------------------------------------------------------------

FS = ["李四", "13900139000", "95598", "default", "2024-03-01 10:00:00", "2024-03-01 10:00:12",
      "2024-03-01 10:04:12", "252", "240", "NORMAL_CLEARING",
      "a1b2c3d4-0000-4000-8000-000000000001", "", "", "PCMA", "PCMA"]  # fmt: skip


def test_freeswitch_default_template() -> None:
    r = freeswitch.parse_row(FS, SHANGHAI)
    assert (r.external_id, r.outcome, r.caller, r.wait_s, r.talk_s) == (
        "a1b2c3d4-0000-4000-8000-000000000001", "answered", "13900139000", 12, 240,
    )  # fmt: skip
    assert r.ended_at == dt.datetime(2024, 3, 1, 2, 4, 12, tzinfo=dt.UTC)


def test_freeswitch_caller_gave_up_and_refusals() -> None:
    row = list(FS)
    row[5], row[8], row[9] = "", "0", "ORIGINATOR_CANCEL"
    r = freeswitch.parse_row(row, SHANGHAI)
    assert (r.outcome, r.wait_s, r.talk_s) == ("abandoned", 252, 0)
    with pytest.raises(LineError, match=r"^expected 15 columns \(default template\), got 14$"):
        freeswitch.parse_row(row[:14], SHANGHAI)
    row[10] = " "
    with pytest.raises(LineError, match="^uuid: empty$"):
        freeswitch.parse_row(row, SHANGHAI)


# --- the bank log ---------------------------------------------------------------------------------

JERUSALEM = ZoneInfo("Asia/Jerusalem")


def bank_row(line: str) -> list[str]:
    return line.split("\t")


def test_bank_served_without_waiting() -> None:
    r = bank.parse_row(
        bank_row(
            "AA0101\t34536\t0\t0\tPS\t990201\t7:02:47\t7:02:56\t9\t0:00:00\t0:00:00\t0\tAGENT\t7:02:55\t7:05:41\t166\tDORIT"
        ),
        JERUSALEM,
    )
    assert (r.outcome, r.queue, r.agent, r.wait_s, r.talk_s, r.ivr_s, r.ivr_path) == (
        "answered", "regular", "DORIT", 0, 166, 9, "AA0101",
    )  # fmt: skip
    assert r.offered_at == dt.datetime(1999, 2, 1, 5, 2, 56, tzinfo=dt.UTC)
    assert r.answered_at == dt.datetime(1999, 2, 1, 5, 2, 55, tzinfo=dt.UTC)
    assert r.external_id == "19990201-AA0101-34536"


def test_bank_abandoned_in_queue_ivr_only_and_phantom() -> None:
    hang = bank.parse_row(
        bank_row(
            "AA0101\t34539\t23317894\t2\tPS\t990201\t8:09:16\t8:09:22\t6\t8:09:22\t8:09:27\t5\tHANG\t0:00:00\t0:00:00\t0\tNO_SERVER"
        ),
        JERUSALEM,
    )
    assert (hang.outcome, hang.wait_s, hang.agent) == ("abandoned", 5, "")
    assert (hang.caller, hang.extra["customer_id"]) == ("", "23317894")
    ivr = bank.parse_row(
        bank_row(
            "AA0101\t1\t0\t0\tNW\t990201\t8:00:00\t8:00:30\t30\t0:00:00\t0:00:00\t0\tHANG\t0:00:00\t0:00:00\t0\tNO_SERVER"
        ),
        JERUSALEM,
    )
    assert (ivr.outcome, ivr.offered_at) == ("ivr", None)
    phantom = bank.parse_row(
        bank_row(
            "AA0101\t2\t0\t0\tPS\t990201\t8:00:00\t8:00:05\t5\t8:00:05\t8:00:09\t4\tPHANTOM\t0:00:00\t0:00:00\t0\tNO_SERVER"
        ),
        JERUSALEM,
    )
    assert (phantom.outcome, phantom.offered_at) == ("failed", None)


def test_bank_call_across_midnight() -> None:
    r = bank.parse_row(
        bank_row(
            "AA0101\t9\t0\t0\tPS\t990201\t23:59:50\t23:59:58\t8\t23:59:58\t0:00:10\t12\tAGENT\t0:00:10\t0:02:10\t120\tTOVA"
        ),
        JERUSALEM,
    )
    assert r.answered_at == dt.datetime(1999, 2, 1, 22, 0, 10, tzinfo=dt.UTC)
    assert r.ended_at == dt.datetime(1999, 2, 1, 22, 2, 10, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("AA0101\t1\t0", "expected 17 tab-separated columns, got 3"),
        ("AA0101\t1\t0\t0\tPS\t990231\t8:00:00\t8:00:30\t30\t0:00:00\t0:00:00\t0\tHANG\t0:00:00\t0:00:00\t0\tX", "date: not YYMMDD ('990231')"),
        ("AA0101\t1\t0\t0\tXX\t990201\t8:00:00\t8:00:30\t30\t0:00:00\t0:00:00\t0\tHANG\t0:00:00\t0:00:00\t0\tX", "type: unknown call type 'XX'"),
        ("AA0101\t1\t0\t0\tPS\t990201\t8:00:00\t8:00:30\t30\t0:00:00\t0:00:00\t0\tLOST\t0:00:00\t0:00:00\t0\tX", "outcome: expected AGENT, HANG or PHANTOM, got 'LOST'"),
        ("AA0101\t1\t0\t0\tPS\t990201\t8:00\t8:00:30\t30\t0:00:00\t0:00:00\t0\tHANG\t0:00:00\t0:00:00\t0\tX", "vru_entry: not a clock time ('8:00')"),
        ("AA0101\t1\t0\t0\tPS\t990201\t8:00:00\t8:00:30\tabc\t0:00:00\t0:00:00\t0\tHANG\t0:00:00\t0:00:00\t0\tX", "vru_time: not a whole number ('abc')"),
    ],
)  # fmt: skip
def test_bank_refusals(line: str, reason: str) -> None:
    with pytest.raises(LineError) as caught:
        bank.parse_row(bank_row(line), JERUSALEM)
    assert str(caught.value) == reason


def _copy_rows(text: str) -> list[list[str]]:
    """COPY text rows split back into their fields, escapes undone."""
    unescape = {"\\\\": "\\", "\\t": "\t", "\\r": "\r"}
    rows = []
    for row in text.split("\n")[:-1]:
        fields = []
        for field in row.split("\t"):
            out, i = [], 0
            while i < len(field):
                pair = field[i : i + 2]
                if pair in unescape:
                    out.append(unescape[pair])
                    i += 2
                else:
                    out.append(field[i])
                    i += 1
            fields.append("".join(out))
        rows.append(fields)
    return rows


def test_a_plain_block_becomes_copy_rows_with_its_days() -> None:
    text = "1700000000|1.1|support|NONE|ENTERQUEUE||138|1\n1700086400|1.1|support|SIP/1|ABANDON|1|1|9\n"
    copied, count, rejects, days = to_copy(text, 1)
    assert (count, rejects, days) == (2, [], [19675, 19676])
    rows = _copy_rows(copied)
    assert [r[:6] for r in rows] == [
        ["1700000000", rows[0][1], "1.1", "support", "NONE", "ENTERQUEUE"],
        ["1700086400", rows[1][1], "1.1", "support", "SIP/1", "ABANDON"],
    ]
    assert rows[0][6:] == ["", "138", "1", "", ""]


def test_tabs_backslashes_and_nuls_in_a_block_are_escaped_or_refused_by_line() -> None:
    # given a block with a backslash, a tab and a carriage return inside data fields, and a NUL
    text = (
        "1700000000|1.1|support|NONE|ENTERQUEUE|C:\\ivr\\1|138|1\n"
        "1700000001|1.1|support|NONE|INFO|a\tb|c\rd\n"
        "1700000002|1.1|support|NONE|INFO|bad\x00line\n"
        "1700000003|1.1|support|NONE|INFO|plain\n"
    )
    # when
    copied, count, rejects, _days = to_copy(text, 10)
    # then each field comes back as written, and the NUL line is refused by its number
    assert count == 3
    assert rejects == [(12, "a NUL character in the line")]
    rows = _copy_rows(copied)
    assert [len(r) for r in rows] == [11, 11, 11]
    assert rows[0][6] == "C:\\ivr\\1"
    assert rows[1][6:8] == ["a\tb", "c\rd"]
    assert rows[2][6] == "plain"
