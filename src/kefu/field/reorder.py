"""Reorder suggestions for spare parts, from the minimum stock, the supply lead time and how
fast the part is used. Pure: no Django.

A location should hold, when a new order arrives, at least its minimum. What it will use while
the order is on its way is the daily use times the lead time, so the stock to aim for is
``minimum + ceil(daily use × lead time)``; the suggestion is what is missing from that after
what is available now (on hand minus reserved) and what is already ordered.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Suggestion:
    target: int  # stock to aim for
    order_qty: int  # how many to order now (0: nothing to order)
    daily_use: float
    arrives_on: dt.date | None  # when an order placed today would arrive (None: nothing to order)
    runs_out_on: dt.date | None  # when the available stock is used up at this pace


def daily_use(used: int, days: int) -> float:
    """Average use per day over a period of ``days`` days (0 for an empty period)."""
    if days <= 0 or used <= 0:
        return 0.0
    return used / days


def suggest(
    *,
    available: int,
    min_qty: int,
    lead_time_days: int,
    used: int,
    period_days: int,
    today: dt.date,
    on_order: int = 0,
) -> Suggestion:
    if min_qty < 0 or lead_time_days < 0 or period_days < 0 or on_order < 0:
        raise ValueError("quantities and days are never negative")
    per_day = daily_use(used, period_days)
    # round the expected use up: a part used 0.2 a day over 7 days means 2 on the shelf
    target = min_qty + math.ceil(round(per_day * lead_time_days, 9))
    order_qty = max(0, target - available - on_order)
    runs_out = None
    if per_day > 0:
        runs_out = today + dt.timedelta(days=max(0, math.floor(max(available, 0) / per_day)))
    arrives = today + dt.timedelta(days=lead_time_days) if order_qty else None
    return Suggestion(
        target=target,
        order_qty=order_qty,
        daily_use=round(per_day, 3),
        arrives_on=arrives,
        runs_out_on=runs_out,
    )
