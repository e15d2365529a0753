"""Interactions a quality inspector can sample and score, whatever channel they came on.

Each kind of interaction is an :class:`InteractionSource` registered with
:func:`register_source`: work orders with their replies (whatever channel they came in on —
e-mail threads are work orders too), and calls with their recording link. A chat app registers
its own source the same way from its ``AppConfig.ready``. A source lists candidates for a
period (for sampling) and loads one interaction for a user, through that channel's own access
helper, as turns (for the automatic checks), a timeline and a recording link.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from kefu.qa.checks import Speaker, Turn
from kefu.qa.sampling import Candidate


@dataclass(frozen=True)
class Interaction:
    source: str
    object_id: int
    title: str
    channel: str
    agent_id: int | None
    team_id: int | None
    occurred_at: dt.datetime
    turns: tuple[Turn, ...] = ()
    timeline: tuple[tuple[dt.datetime, str], ...] = ()
    recording_url: str = ""
    url: str = ""
    facts: tuple[tuple[str, str], ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class InteractionSource:
    kind: str
    label: Any
    candidates: Callable[[dt.datetime, dt.datetime], Iterable[Candidate]]
    load: Callable[[Any, int], Interaction]  # (user, id) -> Interaction; Http404 if not visible


SOURCES: dict[str, InteractionSource] = {}


def register_source(source: InteractionSource) -> None:
    SOURCES[source.kind] = source


def get_source(kind: str) -> InteractionSource | None:
    return SOURCES.get(kind)


def all_candidates(start: dt.datetime, end: dt.datetime) -> list[Candidate]:
    found: list[Candidate] = []
    for source in SOURCES.values():
        found.extend(source.candidates(start, end))
    return found


# ---- work orders ------------------------------------------------------------------------------


def ticket_candidates(start: dt.datetime, end: dt.datetime) -> Iterable[Candidate]:
    from kefu.tickets.models import Ticket

    rows = (
        Ticket.objects.filter(created_at__gte=start, created_at__lt=end, assignee__isnull=False)
        .values_list("pk", "assignee_id", "team_id", "created_at", "channel",
                     "ticket_type__code", "followup_result")
    )  # fmt: skip
    for pk, agent, team, created, channel, type_code, followup in rows:
        yield Candidate("ticket", pk, agent, created, channel=channel, team_id=team,
                        type_code=type_code or "", complaint=type_code == "complaint",
                        dissatisfied=followup == "dissatisfied")  # fmt: skip


def load_ticket(user: Any, pk: int) -> Interaction:
    from kefu.core.events import history
    from kefu.core.labels import action_label
    from kefu.tickets.access import access_ticket
    from kefu.tickets.models import Message

    ticket = access_ticket(user, pk)
    turns: list[Turn] = []
    if ticket.description:
        turns.append(Turn("customer", ticket.description, ticket.created_at))
    for message in ticket.messages.exclude(kind=Message.Kind.NOTE).order_by("created_at", "id"):
        speaker: Speaker = "customer" if message.kind == Message.Kind.CUSTOMER else "agent"
        turns.append(Turn(speaker, message.body, message.created_at))
    timeline = tuple(
        (event.at, f"{event.actor_label} · {action_label(event.action)}")
        for event in reversed(history("ticket", ticket.pk, limit=50))
    )
    return Interaction(
        "ticket", ticket.pk, f"{ticket.number} {ticket.title}", ticket.channel,
        ticket.assignee_id, ticket.team_id, ticket.created_at, tuple(turns), timeline,
        url=reverse("tickets:detail", args=[ticket.number]),
        facts=((_("Type"), str(ticket.ticket_type)), (_("Status"), ticket.get_status_display())),
    )  # fmt: skip


# ---- calls ------------------------------------------------------------------------------------


def call_candidates(start: dt.datetime, end: dt.datetime) -> Iterable[Candidate]:
    from kefu.calls.models import Call, Outcome

    rows = Call.objects.filter(
        started_at__gte=start, started_at__lt=end, user__isnull=False, outcome=Outcome.ANSWERED
    ).values_list("pk", "user_id", "started_at", "ticket__ticket_type__code")
    for pk, agent, started, type_code in rows:
        yield Candidate("call", pk, agent, started, channel="phone", type_code=type_code or "",
                        complaint=type_code == "complaint")  # fmt: skip


def load_call(user: Any, pk: int) -> Interaction:
    from kefu.calls.access import access_call

    call = access_call(user, pk)
    timeline = [(call.started_at, _("Call started"))]
    if call.answered_at:
        timeline.append((call.answered_at, _("Answered")))
    if call.ended_at:
        timeline.append((call.ended_at, _("Ended")))
    turns = (Turn("agent", call.wrapup_note, call.ended_at),) if call.wrapup_note else ()
    return Interaction(
        "call", call.pk, str(call), "phone", call.user_id, None, call.started_at, turns,
        tuple(timeline), recording_url=call.recording_url,
        url=reverse("calls:detail", args=[call.pk]),
        facts=((_("Queue"), call.queue), (_("Talk time (s)"), str(call.talk_s)),
               (_("Caller"), call.caller)),
    )  # fmt: skip


def register_defaults() -> None:
    register_source(InteractionSource("ticket", _("Work order"), ticket_candidates, load_ticket))
    register_source(InteractionSource("call", _("Call"), call_candidates, load_call))
