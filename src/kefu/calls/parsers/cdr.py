"""Asterisk CDR ``Master.csv`` (``cdr_csv``): one call leg per row.

Columns: accountcode, src, dst, dcontext, clid, channel, dstchannel, lastapp, lastdata, start,
answer, end, duration, billsec, disposition, amaflags (16); with ``loguniqueid`` a uniqueid (17);
with ``loguserfield`` also a userfield (18); newer exports add peeraccount, linkedid and sequence
(21). Times are the PBX's local time unless ``usegmtime`` is set; the caller passes the zone.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib

from kefu.calls.parsers import CallRecord, LineError, aware, seconds

BASE = [
    "accountcode",
    "src",
    "dst",
    "dcontext",
    "clid",
    "channel",
    "dstchannel",
    "lastapp",
    "lastdata",
    "start",
    "answer",
    "end",
    "duration",
    "billsec",
    "disposition",
    "amaflags",
]
LAYOUTS = {
    16: BASE,
    17: [*BASE, "uniqueid"],
    18: [*BASE, "uniqueid", "userfield"],
    21: [*BASE, "uniqueid", "userfield", "peeraccount", "linkedid", "sequence"],
}
DISPOSITIONS = {"ANSWERED", "NO ANSWER", "BUSY", "FAILED", "CONGESTION"}


def parse_row(row: list[str], tz: dt.tzinfo) -> CallRecord:
    layout = LAYOUTS.get(len(row))
    if layout is None:
        raise LineError(f"expected 16, 17, 18 or 21 columns, got {len(row)}")
    f = dict(zip(layout, row, strict=True))
    start = aware(f["start"], tz, what="start")
    end = aware(f["end"], tz, what="end")
    answer = aware(f["answer"], tz, what="answer") if f["answer"].strip() else None
    duration = seconds(f["duration"], what="duration")
    billsec = seconds(f["billsec"], what="billsec")
    disposition = f["disposition"].strip().upper()
    if disposition not in DISPOSITIONS:
        raise LineError(f"disposition: unknown value {f['disposition']!r}")
    if disposition == "ANSWERED" and answer is not None:
        outcome = "answered"
    elif disposition == "NO ANSWER":
        outcome = "abandoned" if f["lastapp"] == "Queue" else "unanswered"
    else:
        outcome = "failed"
    external = (
        f.get("uniqueid") or hashlib.blake2b("\x1f".join(row).encode(), digest_size=12).hexdigest()
    )
    if f.get("sequence"):
        external = f"{external}#{f['sequence']}"
    queue = f["lastdata"].split(",", 1)[0] if f["lastapp"] == "Queue" else ""
    wait = int((answer - start).total_seconds()) if answer else max(duration - billsec, 0)
    return CallRecord(
        source="asterisk_cdr",
        external_id=external,
        started_at=start,
        offered_at=start,
        answered_at=answer if outcome == "answered" else None,
        ended_at=end,
        outcome=outcome,
        caller=f["src"],
        callee=f["dst"],
        queue=queue,
        agent=f["dstchannel"],
        wait_s=max(wait, 0),
        talk_s=billsec if outcome == "answered" else 0,
        extra={"linkedid": f.get("linkedid", ""), "userfield": f.get("userfield", "")},
    )


def rows(text_lines: list[str]) -> list[list[str]]:
    """CSV rows of the lines (fields are quoted with double quotes; commas inside are kept)."""
    return list(csv.reader(text_lines))
