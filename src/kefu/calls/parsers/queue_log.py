"""Asterisk ``queue_log``: the file (``time|callid|queue|agent|event|data…``) and the realtime
table (``time, callid, queuename, agent, event`` plus either one ``data`` column joined with
``|`` or ``data1`` … ``data5``).

Every line becomes a tuple ``(ts, h, callid, queue, agent, event, d1, d2, d3, d4, d5)``: ``ts``
is the UNIX time, ``h`` a 64-bit hash of the line's content (with ``ts`` the natural key that makes
imports idempotent), and the data fields are put in one fixed order per event whatever the
Asterisk version wrote, so reports read them by position:

=================  ======================================================================
event              d1 … d5
=================  ======================================================================
ENTERQUEUE         url, callerid, position (``position`` only since Asterisk 16)
CONNECT            holdtime, bridged channel uniqueid, ringtime (``ringtime`` since 1.6)
COMPLETECALLER     holdtime, calltime, origposition
COMPLETEAGENT      holdtime, calltime, origposition
ABANDON            position, origposition, waittime
EXITWITHTIMEOUT    position, origposition, waittime (older: position only)
EXITEMPTY          position, origposition, waittime
EXITWITHKEY        key, position, origposition, waittime (older: key, position)
TRANSFER           extension, context, holdtime, calltime, origposition
BLINDTRANSFER      extension, context, holdtime, calltime, origposition
ATTENDEDTRANSFER   method (BRIDGE, APP, LINK, THREEWAY), target, holdtime, calltime,
                   origposition; LINK's two channels are joined with a comma
RINGNOANSWER       ringtime in milliseconds
RINGCANCELED       ringtime in milliseconds
AGENTLOGIN         channel
AGENTLOGOFF        channel, logintime
PAUSE, UNPAUSE     reason (empty before Asterisk 1.8)
PAUSEALL, …        reason
=================  ======================================================================

Other events (ADDMEMBER, REMOVEMEMBER, CONFIGRELOAD, QUEUESTART, DID, INFO, SYSCOMPAT, custom
``QueueLog()`` events, …) keep their data fields as written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from hashlib import blake2b
from typing import Any

from kefu.calls.parsers import LineError

QueueEvent = tuple[int, int, str, str, str, str, str, str, str, str, str]

NUMERIC: dict[str, tuple[int, ...]] = {
    "CONNECT": (0,),
    "COMPLETECALLER": (0, 1),
    "COMPLETEAGENT": (0, 1),
    "ABANDON": (2,),
    "EXITEMPTY": (2,),
    "EXITWITHTIMEOUT": (2,),
    "EXITWITHKEY": (3,),
    "TRANSFER": (2, 3),
    "BLINDTRANSFER": (2, 3),
    "ATTENDEDTRANSFER": (2, 3),
    "RINGNOANSWER": (0,),
    "RINGCANCELED": (0,),
}
"""Data fields (0-based, after normalising) that reports read as seconds: when present they
must be whole numbers, or the line is refused."""
NAMES = {
    "CONNECT": ("holdtime", "bridged channel", "ringtime"),
    "COMPLETECALLER": ("holdtime", "calltime"),
    "COMPLETEAGENT": ("holdtime", "calltime"),
    "ABANDON": ("position", "origposition", "waittime"),
    "EXITEMPTY": ("position", "origposition", "waittime"),
    "EXITWITHTIMEOUT": ("position", "origposition", "waittime"),
    "EXITWITHKEY": ("key", "position", "origposition", "waittime"),
    "TRANSFER": ("extension", "context", "holdtime", "calltime"),
    "BLINDTRANSFER": ("extension", "context", "holdtime", "calltime"),
    "ATTENDEDTRANSFER": ("method", "target", "holdtime", "calltime"),
    "RINGNOANSWER": ("ringtime",),
    "RINGCANCELED": ("ringtime",),
}

_EMPTY = ("", "", "", "", "")


def _key(text: str) -> int:
    return int.from_bytes(blake2b(text.encode(), digest_size=8).digest(), "big", signed=True)


def _attended(data: list[str]) -> tuple[str, str, str, str, str]:
    # ATTENDEDTRANSFER|method|target…|holdtime|calltime|origposition (LINK names two channels)
    if len(data) < 5:
        raise LineError(f"ATTENDEDTRANSFER: expected at least 5 data fields, got {len(data)}")
    return (data[0], ",".join(data[1:-3]), data[-3], data[-2], data[-1])


def _normalise(event: str, data: list[str]) -> tuple[str, str, str, str, str]:
    if event == "ATTENDEDTRANSFER":
        return _attended(data)
    if len(data) > 5:
        data = [*data[:4], "|".join(data[4:])]
    padded = (*data, *_EMPTY)
    return (padded[0], padded[1], padded[2], padded[3], padded[4])


LIMITS = (("callid", 64), ("queue", 64), ("agent", 80), ("event", 24))


def _check_lengths(callid: str, queue: str, agent: str, event: str, data: tuple[str, ...]) -> None:
    for (name, limit), value in zip(LIMITS, (callid, queue, agent, event), strict=True):
        if len(value) > limit:
            raise LineError(f"{name}: longer than {limit} characters")
    for i, value in enumerate(data, 1):
        if len(value) > 255:
            raise LineError(f"data field {i}: longer than 255 characters")


def parse_line(line: str) -> QueueEvent:
    """One line of the ``queue_log`` file."""
    text = line.rstrip("\r\n")
    parts = text.split("|")
    if len(parts) < 5:
        raise LineError(f"expected at least 5 fields separated by |, got {len(parts)}")
    stamp, callid, queue, agent, event = parts[0], parts[1], parts[2], parts[3], parts[4]
    try:
        ts = int(stamp.split(".", 1)[0])
    except ValueError as exc:
        raise LineError(f"time: not a UNIX timestamp ({stamp!r})") from exc
    if not event:
        raise LineError("event: empty")
    if not callid:
        raise LineError("callid: empty")
    data = parts[5:]
    if event == "ATTENDEDTRANSFER" or len(data) > 5:
        fields = _normalise(event, data)
    else:
        data += _EMPTY
        fields = (data[0], data[1], data[2], data[3], data[4])
    # the event's column is short enough for a short line to overflow it; the other columns
    # can only overflow in a line longer than 64 characters
    if len(event) > 24 or (
        len(text) > 64
        and (len(text) > 255 or len(callid) > 64 or len(queue) > 64 or len(agent) > 80)
    ):
        _check_lengths(callid, queue, agent, event, fields)
    check = NUMERIC.get(event)
    if check is not None:
        for i in check:
            value = fields[i]
            if value and not value.isdigit():
                raise LineError(f"{event}: {NAMES[event][i]} is not a whole number ({value!r})")
        if event == "CONNECT" and fields[2] and not fields[2].isdigit():
            raise LineError(f"CONNECT: ringtime is not a whole number ({fields[2]!r})")
    return (ts, _key(text), callid, queue, agent, event, *fields)


def realtime_line(row: Mapping[str, Any], tz: dt.tzinfo | None = None) -> str:
    """One row of the realtime ``queue_log`` table as the line Asterisk writes to the file, so a
    row and its file line are one event. ``time`` is a datetime, a UNIX time or ISO text; one
    without a zone is in ``tz`` (without ``tz``: text is UTC, a datetime is refused). Data is in
    ``data`` (pipes) or ``data1`` … ``data5``."""
    when = row.get("time")
    if isinstance(when, dt.datetime):
        if when.tzinfo is None:
            if tz is None:
                raise LineError("time: a date and time without a zone")
            when = when.replace(tzinfo=tz)
        ts = int(when.timestamp())
    else:
        text = str(when or "").strip()
        if text.replace(".", "", 1).isdigit():
            ts = int(float(text))
        else:
            try:
                parsed = dt.datetime.fromisoformat(text)
            except ValueError as exc:
                raise LineError(f"time: not a date and time ({text!r})") from exc
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=tz or dt.UTC)
            ts = int(parsed.timestamp())
    if "data1" in row:
        data = [str(row.get(f"data{i}") or "") for i in range(1, 6)]
        while data and not data[-1]:
            data.pop()
    else:
        raw = str(row.get("data") or "")
        data = raw.split("|") if raw else []
    head = [str(row.get(k) or "") for k in ("callid", "queuename", "agent", "event")]
    return "|".join([str(ts), *head, *data])


def parse_realtime_row(row: Mapping[str, Any], tz: dt.tzinfo | None = None) -> QueueEvent:
    """One row of the realtime ``queue_log`` table (see :func:`realtime_line`)."""
    return parse_line(realtime_line(row, tz))


def _copy_field(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\r", "\\r")


def to_copy(text: str, first_line: int) -> tuple[str, int, list[tuple[int, str]], list[int]]:
    """Parse a block of lines (each ending with ``\\n``) into PostgreSQL ``COPY`` text rows of
    ``(ts, h, callid, queue, agent, event, d1 … d5)``.

    Returns the rows, how many there are, the refused lines as ``(line number, reason)`` and the
    UTC days (UNIX time // 86400) the events fall on. Pure, so a process pool can run it."""
    out: list[str] = []
    append = out.append
    rejects: list[tuple[int, str]] = []
    days: set[int] = set()
    line_no = first_line
    # a block without NULs, backslashes, tabs or carriage returns (nearly all) needs no escaping
    plain = not any(c in text for c in ("\x00", "\\", "\t", "\r"))
    for line_no, line in enumerate(text.split("\n")[:-1], first_line):  # noqa: B007
        if not line or line.isspace():
            continue
        try:
            if not plain and "\x00" in line:
                raise LineError("a NUL character in the line")
            row = parse_line(line)
        except LineError as exc:
            rejects.append((line_no, str(exc)))
            continue
        days.add(row[0] // 86400)
        if not plain and ("\\" in line or "\t" in line or "\r" in line.rstrip("\r")):
            append("\t".join([str(row[0]), str(row[1]), *map(_copy_field, row[2:])]))
        else:
            append(f"{row[0]}\t{row[1]}\t" + "\t".join(row[2:]))
    if out:
        out.append("")
    return "\n".join(out), len(out) - 1 if out else 0, rejects, sorted(days)
