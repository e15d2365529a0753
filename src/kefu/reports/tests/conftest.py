"""Known data for the report tests: work orders, transfers, SLA clocks and calls of November
2026 (Asia/Shanghai), written straight into the tables with the times a report must see."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any
from zoneinfo import ZoneInfo

import pytest

TZ = ZoneInfo("Asia/Shanghai")
_numbers = itertools.count(1)


def at(day: int, hour: int = 10, minute: int = 0, month: int = 11) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=TZ)


def ticket(type_code: str, created: dt.datetime, **fields: Any) -> Any:
    from kefu.tickets.models import Ticket, TicketType

    status = fields.pop("status", "in_progress")
    return Ticket.objects.create(
        number=f"T{next(_numbers):08d}",
        title=fields.pop("title", "测试工单"),
        ticket_type=TicketType.objects.get(code=type_code),
        status=status,
        created_at=created,
        updated_at=created,
        **fields,
    )


def call(offered: dt.datetime, outcome: str, wait: int, **fields: Any) -> Any:
    from kefu.calls.models import Call

    n = next(_numbers)
    return Call.objects.create(
        source="test",
        external_id=f"c{n}",
        outcome=outcome,
        started_at=offered,
        offered_at=offered,
        answered_at=offered + dt.timedelta(seconds=wait) if outcome == "answered" else None,
        ended_at=offered + dt.timedelta(seconds=wait + fields.get("talk_s", 0)),
        queue=fields.pop("queue", "support"),
        wait_s=wait,
        **fields,
    )


def refresh_call_sums() -> None:
    """Rebuild the hotline's kept KPI sums, where the calls app keeps them, after calls were
    written straight into the table."""
    try:
        from kefu.calls import rollup
    except ImportError:
        return
    refresh = getattr(rollup, "refresh_all", None)
    if refresh is not None:
        refresh()


@pytest.fixture
def known(centre: dict[str, Any]) -> dict[str, Any]:
    """A month with every kind of record, and the figures worked out by hand."""
    from kefu.sla.models import BusinessCalendar, SlaClock
    from kefu.tickets.models import Transfer

    agent, agent2 = centre["agent"], centre["agent2"]
    front, dept = centre["front"], centre["dept"]
    rows = [
        # received in November: 6 (2 complaints, 1 sensitive, 1 cancelled)
        ticket("complaint", at(2), status="resolved", resolved_at=at(2, 14), first_response_at=at(2, 10, 30),
               assignee=agent, team=front, channel="phone", area="urban", subject="staff"),
        ticket("complaint", at(3), status="in_progress", first_response_at=at(3, 11), assignee=agent,
               team=front, channel="email", sensitive=True),
        ticket("fault", at(5), status="closed", resolved_at=at(6, 10), closed_at=at(7), reopen_count=1,
               first_response_at=at(5, 10, 10), assignee=agent2, team=front, channel="phone", area="rural"),
        ticket("fault", at(8), status="resolved", resolved_at=at(8, 12), line=2, assignee=agent2,
               team=front, channel="portal"),
        ticket("consultation", at(9), status="cancelled", channel="phone"),
        ticket("consultation", at(10), status="resolved", resolved_at=at(10, 11), assignee=agent,
               channel="phone", first_response_at=at(10, 10, 5)),
        # received in October, resolved in November (counts as resolved, not as received)
        ticket("fault", at(30, month=10), status="resolved", resolved_at=at(1, 9), assignee=agent,
               channel="phone", first_response_at=at(31, 9, month=10)),
        # received in December: outside
        ticket("fault", at(1, month=12), status="new", channel="phone"),
    ]  # fmt: skip
    Transfer.objects.create(ticket=rows[3], department=dept, instructions="请回复", created_at=at(8, 10),
                            due_at=at(9, 10), replied_at=at(8, 16), state="replied", reply="已处理")  # fmt: skip
    Transfer.objects.create(ticket=rows[2], department=dept, instructions="请回复", created_at=at(5, 11),
                            due_at=at(5, 12), replied_at=at(5, 14), state="accepted", reply="已处理")  # fmt: skip
    Transfer.objects.create(ticket=rows[1], department=dept, instructions="请回复",
                            created_at=at(3, 12), due_at=at(4, 12))  # fmt: skip
    calendar = BusinessCalendar.objects.first()
    for t, metric, state, stopped, breached in (
        (rows[0], "first_response", "met", at(2, 10, 30), None),
        (rows[0], "resolution", "met", at(2, 14), None),
        (rows[2], "resolution", "breached", at(6, 10), at(6, 9)),
        (rows[1], "resolution", "running", None, at(4, 10)),  # overdue in November, still running
        (rows[5], "first_response", "met", at(10, 10, 5), None),
        (rows[4], "first_response", "cancelled", at(9, 11), None),  # not counted
    ):
        SlaClock.objects.create(ticket=t, metric=metric, target_seconds=3600, calendar=calendar,
                                started_at=t.created_at, state=state, stopped_at=stopped,
                                breached_at=breached, elapsed_seconds=600)  # fmt: skip
    # calls: 5 offered; 3 answered (waits 5, 15, 30), 2 abandoned (waits 3 and 40)
    call(at(2, 9), "answered", 5, talk_s=100, acw_s=20, ring_s=4)
    call(at(2, 9, 10), "answered", 15, talk_s=200, hold_s=30, acw_s=10, ring_s=12)
    call(at(3, 15), "answered", 30, talk_s=60, acw_s=0, ring_s=6, queue="billing")
    call(at(4, 16), "abandoned", 3)
    call(at(4, 17), "abandoned", 40, queue="billing")
    call(at(1, 10, month=12), "answered", 5, talk_s=100)  # December: outside
    refresh_call_sums()
    return {"centre": centre, "tickets": rows}
