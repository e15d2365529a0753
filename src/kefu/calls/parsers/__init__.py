"""Parsers for telephony exports. Pure functions: no Django, no database, no clock.

Each parser turns one line (or row) into a value or raises :class:`LineError` with a reason a
person can act on; the importers collect those reasons with their line numbers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


class LineError(ValueError):
    """A line that cannot be read; the message says why."""


@dataclass(frozen=True)
class CallRecord:
    """One call as a CDR-style export describes it (the bank log, Asterisk and FreeSWITCH CDRs).

    ``offered_at`` is when the caller asked for an agent (entered the queue); ``wait_s`` is the
    time in the queue, ``talk_s`` the conversation with the agent. Outcomes: ``answered``,
    ``abandoned`` (left the queue), ``ivr`` (ended in the voice menu, never asked for an agent),
    ``failed`` (busy, unreachable).
    """

    source: str
    external_id: str
    started_at: dt.datetime
    offered_at: dt.datetime | None
    answered_at: dt.datetime | None
    ended_at: dt.datetime
    outcome: str
    caller: str = ""
    callee: str = ""
    queue: str = ""
    agent: str = ""
    ivr_s: int = 0
    wait_s: int = 0
    talk_s: int = 0
    ivr_path: str = ""
    extra: dict[str, str] = field(default_factory=dict)


def aware(text: str, tz: dt.tzinfo, *, what: str) -> dt.datetime:
    """``YYYY-MM-DD HH:MM:SS`` in ``tz`` as an aware datetime in UTC."""
    try:
        naive = dt.datetime.strptime(text.strip(), "%Y-%m-%d %H:%M:%S")  # noqa: DTZ007 - zone added below
    except ValueError as exc:
        raise LineError(f"{what}: not a date and time ({text!r})") from exc
    return naive.replace(tzinfo=tz).astimezone(dt.UTC)


def seconds(text: str, *, what: str) -> int:
    try:
        value = int(text.strip() or "0")
    except ValueError as exc:
        raise LineError(f"{what}: not a number of seconds ({text!r})") from exc
    if value < 0:
        raise LineError(f"{what}: negative ({value})")
    return value
