"""The life of a visit, in one table: which state follows which, and by what move."""

from __future__ import annotations

from kefu.field.models import Visit

S = Visit.State

TRANSITIONS: dict[tuple[str, str], str] = {
    (S.SCHEDULED, S.EN_ROUTE): "start_travel",
    (S.SCHEDULED, S.ON_SITE): "check_in",  # the engineer was already nearby
    (S.EN_ROUTE, S.ON_SITE): "check_in",
    (S.ON_SITE, S.DONE): "check_out",
    (S.DONE, S.CONFIRMED): "confirm",
    (S.SCHEDULED, S.CANCELLED): "cancel",
    (S.EN_ROUTE, S.CANCELLED): "cancel",
}

EVENTS: dict[str, str] = {
    "start_travel": "visit_travel_started",
    "check_in": "visit_arrived",
    "check_out": "visit_departed",
    "confirm": "visit_confirmed",
    "cancel": "visit_cancelled",
}

ENGINEER_MOVES = frozenset({"start_travel", "check_in", "check_out", "confirm"})
"""Moves the visit's engineer makes from the phone; dispatchers may also cancel."""


def move(current: str, to: str) -> str | None:
    return TRANSITIONS.get((current, to))


def next_states(current: str) -> list[str]:
    return [to for (frm, to) in TRANSITIONS if frm == current]
