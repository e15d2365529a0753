"""The call-by-call log of the "Anonymous Bank" call centre (Technion service-engineering data):
tab-separated, one call per row::

    vru+line call_id customer_id priority type date vru_entry vru_exit vru_time q_start q_exit
    q_time outcome ser_start ser_exit ser_time server

``date`` is YYMMDD, the times are clock times of that date (a later stamp earlier than the one
before it has crossed midnight), ``q_start`` of ``0:00:00`` means the call never waited, and the
outcome is AGENT (served), HANG (hung up) or PHANTOM (a call the switch could not account for).
A call is known by its date, VRU line and call id (call ids repeat across lines). The log's
``customer_id`` is the bank's anonymised customer number, not a phone number, so it is kept as
extra data and the call has no caller number. A few rows have a negative ``vru_time`` (the
voice unit's clock is ahead of the switch's); the time in the voice menu is then 0.
"""

from __future__ import annotations

import datetime as dt

from kefu.calls.parsers import CallRecord, LineError

HEADER = [
    "vru+line",
    "call_id",
    "customer_id",
    "priority",
    "type",
    "date",
    "vru_entry",
    "vru_exit",
    "vru_time",
    "q_start",
    "q_exit",
    "q_time",
    "outcome",
    "ser_start",
    "ser_exit",
    "ser_time",
    "server",
]
TYPES = {
    "PS": "regular",
    "PE": "english",
    "IN": "internet",
    "NE": "stock",
    "NW": "prospect",
    "TT": "callback",
}
ZERO = "0:00:00"


def _clock(text: str, what: str) -> dt.time:
    try:
        h, m, s = (int(x) for x in text.strip().split(":"))
        return dt.time(h, m, s)
    except ValueError as exc:
        raise LineError(f"{what}: not a clock time ({text!r})") from exc


def _int(text: str, what: str) -> int:
    try:
        return int(text.strip())
    except ValueError as exc:
        raise LineError(f"{what}: not a whole number ({text!r})") from exc


def parse_row(row: list[str], tz: dt.tzinfo) -> CallRecord:
    if len(row) != len(HEADER):
        raise LineError(f"expected {len(HEADER)} tab-separated columns, got {len(row)}")
    f = dict(zip(HEADER, row, strict=True))
    try:
        day = dt.datetime.strptime(f["date"].strip(), "%y%m%d").date()  # noqa: DTZ007 - a date
    except ValueError as exc:
        raise LineError(f"date: not YYMMDD ({f['date']!r})") from exc
    outcome_code = f["outcome"].strip().upper()
    if outcome_code not in ("AGENT", "HANG", "PHANTOM"):
        raise LineError(f"outcome: expected AGENT, HANG or PHANTOM, got {f['outcome']!r}")
    call_type = f["type"].strip()
    if call_type not in TYPES:
        raise LineError(f"type: unknown call type {call_type!r}")
    vru_time = _int(f["vru_time"], "vru_time")
    q_time = _int(f["q_time"], "q_time")
    ser_time = _int(f["ser_time"], "ser_time")

    previous = dt.datetime.combine(day, dt.time(0), tzinfo=tz)

    def stamp(text: str, what: str) -> dt.datetime:
        nonlocal previous
        value = dt.datetime.combine(previous.date(), _clock(text, what), tzinfo=tz)
        if value < previous - dt.timedelta(hours=12):
            value += dt.timedelta(days=1)
        previous = value
        return value

    vru_entry = stamp(f["vru_entry"], "vru_entry")
    vru_exit = stamp(f["vru_exit"], "vru_exit")
    queued = f["q_start"].strip() != ZERO
    q_start = stamp(f["q_start"], "q_start") if queued else None
    q_exit = stamp(f["q_exit"], "q_exit") if queued else None
    served = outcome_code == "AGENT"
    ser_start = stamp(f["ser_start"], "ser_start") if served else None
    ser_exit = stamp(f["ser_exit"], "ser_exit") if served else None

    if outcome_code == "PHANTOM":
        outcome, offered = "failed", None
    elif served:
        outcome, offered = "answered", q_start or vru_exit
    elif queued:
        outcome, offered = "abandoned", q_start
    else:
        outcome, offered = "ivr", None
    ended = ser_exit or q_exit or vru_exit
    server = f["server"].strip()
    return CallRecord(
        source="bank",
        external_id=f"{day:%Y%m%d}-{f['vru+line'].strip()}-{f['call_id'].strip()}",
        started_at=vru_entry.astimezone(dt.UTC),
        offered_at=offered.astimezone(dt.UTC) if offered else None,
        answered_at=ser_start.astimezone(dt.UTC) if ser_start else None,
        ended_at=ended.astimezone(dt.UTC),
        outcome=outcome,
        queue=TYPES[call_type],
        agent=server if served and server != "NO_SERVER" else "",
        ivr_s=max(vru_time, 0),  # the voice unit's clock runs a little ahead on some lines
        wait_s=q_time if queued else 0,
        talk_s=ser_time if served else 0,
        ivr_path=f["vru+line"].strip(),
        extra={"priority": f["priority"].strip(), "customer_id": f["customer_id"].strip()},
    )
