"""Reader for the "Anonymous Bank" call-by-call log (Technion service-engineering data).

Pure, no Django. One call per row, tab-separated, with a header; see the data's README. A call
asked for an agent when it reached the queue: it was answered (outcome ``AGENT``) or hung up
while queued (``HANG`` with a queue start). Its arrival is the moment it left the voice menu
(``vru_exit``). Handle times are ``ser_time`` of answered calls; patience observations are
``q_time`` of calls abandoned in the queue (censored by the answered calls' waits).
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

from kefu.wfm.forecast import Series

REQUIRED = ("date", "vru_exit", "q_start", "q_time", "outcome", "ser_time")
ZONE = ZoneInfo("Asia/Jerusalem")


class LogError(ValueError):
    """A malformed row: the message names the file and line."""


@dataclass(frozen=True)
class Call:
    day: dt.date
    second: int  # seconds after local midnight the call joined the queue
    answered: bool
    wait: int
    handle: int


@dataclass(frozen=True)
class CallLog:
    calls: list[Call]

    def series(self, interval_minutes: int, zone: ZoneInfo = ZONE) -> Series:
        """Agent-offered calls per interval over the whole days the log covers."""
        if not self.calls:
            raise ValueError("the log has no calls that asked for an agent")
        first = min(c.day for c in self.calls)
        last = max(c.day for c in self.calls)
        days = (last - first).days + 1
        spd = 1440 // interval_minutes
        values = np.zeros(days * spd)
        for c in self.calls:
            values[(c.day - first).days * spd + c.second // (interval_minutes * 60)] += 1
        start = dt.datetime.combine(first, dt.time(0), tzinfo=zone)
        return Series(start, interval_minutes, values)

    def handle_times(self) -> list[int]:
        return [c.handle for c in self.calls if c.answered and c.handle > 0]

    def mean_patience(self) -> float:
        """Maximum-likelihood mean of exponential patience from censored waits: total time
        spent waiting by everyone divided by the number who abandoned."""
        abandoned = sum(1 for c in self.calls if not c.answered)
        if abandoned == 0:
            raise ValueError("no abandoned calls: patience cannot be estimated")
        return sum(c.wait for c in self.calls) / abandoned


def _seconds(text: str, where: str) -> int:
    parts = text.strip().split(":")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise LogError(f"{where}: time {text!r} is not H:MM:SS")
    h, m, s = (int(p) for p in parts)
    if m > 59 or s > 59 or h > 47:
        raise LogError(f"{where}: time {text!r} is out of range")
    return h * 3600 + m * 60 + s


def read_bank_log(path: Path) -> CallLog:
    calls: list[Call] = []
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh, delimiter="\t")
        missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
        if missing:
            raise LogError(f"{path}:1: missing columns {', '.join(missing)}")
        for row in reader:
            where = f"{path}:{reader.line_num}"
            outcome = (row["outcome"] or "").strip()
            if outcome not in ("AGENT", "HANG", "PHANTOM"):
                raise LogError(f"{where}: unknown outcome {outcome!r}")
            date_text = (row["date"] or "").strip()
            try:
                day = dt.datetime.strptime(date_text, "%y%m%d").replace(tzinfo=dt.UTC).date()
            except ValueError:
                raise LogError(f"{where}: date {date_text!r} is not YYMMDD") from None
            queued = _seconds(row["q_start"] or "", where) > 0
            if outcome == "PHANTOM" or (outcome == "HANG" and not queued):
                continue
            try:
                wait, handle = int(row["q_time"]), int(row["ser_time"])
            except (TypeError, ValueError):
                raise LogError(f"{where}: q_time and ser_time must be whole seconds") from None
            if wait < 0 or handle < 0:
                raise LogError(f"{where}: negative duration")
            second = _seconds(row["vru_exit"] or "", where) % 86400
            calls.append(Call(day, second, outcome == "AGENT", wait, handle))
    return CallLog(calls)
