"""FreeSWITCH ``mod_cdr_csv`` with its default template:

``caller_id_name, caller_id_number, destination_number, context, start_stamp, answer_stamp,
end_stamp, duration, billsec, hangup_cause, uuid, bleg_uuid, accountcode, read_codec,
write_codec`` (15 columns, stamps in the switch's local time).
"""

from __future__ import annotations

import datetime as dt

from kefu.calls.parsers import CallRecord, LineError, aware, seconds

COLUMNS = [
    "caller_id_name",
    "caller_id_number",
    "destination_number",
    "context",
    "start_stamp",
    "answer_stamp",
    "end_stamp",
    "duration",
    "billsec",
    "hangup_cause",
    "uuid",
    "bleg_uuid",
    "accountcode",
    "read_codec",
    "write_codec",
]
CALLER_GAVE_UP = {"ORIGINATOR_CANCEL", "NO_ANSWER", "NO_USER_RESPONSE", "ALLOTTED_TIMEOUT"}


def parse_row(row: list[str], tz: dt.tzinfo) -> CallRecord:
    if len(row) != len(COLUMNS):
        raise LineError(f"expected {len(COLUMNS)} columns (default template), got {len(row)}")
    f = dict(zip(COLUMNS, row, strict=True))
    if not f["uuid"].strip():
        raise LineError("uuid: empty")
    start = aware(f["start_stamp"], tz, what="start_stamp")
    end = aware(f["end_stamp"], tz, what="end_stamp")
    answer = (
        aware(f["answer_stamp"], tz, what="answer_stamp") if f["answer_stamp"].strip() else None
    )
    seconds(f["duration"], what="duration")
    billsec = seconds(f["billsec"], what="billsec")
    cause = f["hangup_cause"].strip().upper()
    if answer is not None:
        outcome = "answered"
    elif cause in CALLER_GAVE_UP:
        outcome = "abandoned"
    else:
        outcome = "failed"
    wait = int(((answer or end) - start).total_seconds())
    return CallRecord(
        source="freeswitch_cdr",
        external_id=f["uuid"].strip(),
        started_at=start,
        offered_at=start,
        answered_at=answer,
        ended_at=end,
        outcome=outcome,
        caller=f["caller_id_number"],
        callee=f["destination_number"],
        queue=f["context"],
        wait_s=max(wait, 0),
        talk_s=billsec if answer else 0,
        extra={"hangup_cause": cause, "bleg_uuid": f["bleg_uuid"]},
    )
