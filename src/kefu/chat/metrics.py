"""Live-chat figures for the wall board, the dashboards, the reports and the API.

Each figure has one definition here, registered with the reports' metrics layer
(:func:`kefu.reports.metrics.define`); its values come from two sources registered with
:func:`kefu.reports.facts.register_source`: ``chat`` (a period: chats started in it) and
``chat_now`` (the present moment, on the wall board only, so its metrics carry the source
``live`` that every report screen already keeps for the wall board). :func:`figures` and
:func:`now_figures` turn sums into figures and are pure; :func:`chat_sums` and
:func:`now_sums` read the sums.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext_noop as _

from kefu.reports.metrics import Metric, avg, define, pct

if TYPE_CHECKING:
    from kefu.reports.facts import Scope

SOURCE = "chat"
NOW_SOURCE = "chat_now"
SATISFIED_FROM = 4  # stars: 4–5 of five count as satisfied, as in surveys.metrics


@dataclass
class ChatSums:
    """Chats started in the period, and what became of them."""

    started: int = 0
    served: int = 0  # ... that an agent took
    missed: int = 0  # ... that ended before any agent took them
    wait_s: float = 0.0  # ... served: sum of (first taken - started) in seconds
    responded: int = 0  # ... with an agent message
    response_s: float = 0.0  # ... sum of (first agent message - started) in seconds
    rated: int = 0  # ... that the customer rated
    rating_sum: int = 0  # ... sum of the stars
    satisfied: int = 0  # ... rated 4 or 5 stars


@dataclass
class ChatNow:
    waiting: int = 0  # chats waiting for an agent now
    longest_wait_s: int = 0  # how long the first in line has waited in its queue
    active: int = 0  # chats being served now


def figures(s: ChatSums) -> dict[str, float | int | None]:
    return {
        "chats_started": s.started,
        "chats_served": s.served,
        "chats_missed": s.missed,
        "chat_wait_avg_s": avg(s.wait_s, s.served),
        "chat_first_response_avg_s": avg(s.response_s, s.responded),
        "chat_rating_avg": avg(s.rating_sum, s.rated),
        "chat_satisfaction": pct(s.satisfied, s.rated),
    }


def now_figures(n: ChatNow) -> dict[str, float | int | None]:
    return {
        "chats_waiting_now": n.waiting,
        "chat_longest_wait_now_s": n.longest_wait_s,
        "chats_active_now": n.active,
    }


def _extra(metric_id: str) -> Any:
    """A registered source's figure is read from ``Facts.extra``."""
    return lambda f: f.extra.get(metric_id)


def _metric(
    metric_id: str, label: str, unit: str, source: str, text: str, better: str = ""
) -> Metric:
    return Metric(metric_id, label, unit, source, text, _extra(metric_id), better)


METRICS: list[Metric] = [
    _metric("chats_started", _("Chats started"), "count", SOURCE,
            _("Chats customers started in the period (the pre-chat form sent), every widget.")),
    _metric("chats_served", _("Chats served"), "count", SOURCE,
            _("Chats started in the period that an agent took."), "high"),
    _metric("chats_missed", _("Chats missed"), "count", SOURCE,
            _("Chats started in the period that ended before any agent took them."), "low"),
    _metric("chat_wait_avg_s", _("Average chat wait"), "seconds", SOURCE,
            _("Mean clock time from the start of a chat to the first agent taking it, over chats "
              "served (a transfer's second wait is not counted)."), "low"),
    _metric("chat_first_response_avg_s", _("Average first chat response"), "seconds", SOURCE,
            _("Mean clock time from the start of a chat to the first agent message, over chats "
              "started in the period that have one."), "low"),
    _metric("chat_rating_avg", _("Average chat rating"), "score", SOURCE,
            _("Mean stars (1–5) customers gave the chats started in the period."), "high"),
    _metric("chat_satisfaction", _("Chat satisfaction"), "percent", SOURCE,
            _("Chats rated 4–5 stars / chats rated × 100 (CSAT's five-star rule), over chats "
              "started in the period."), "high"),
    _metric("chats_waiting_now", _("Chats waiting now"), "count", "live",
            _("Chats waiting for an agent now (started or transferred, not yet taken)."), "low"),
    _metric("chat_longest_wait_now_s", _("Longest chat wait now"), "seconds", "live",
            _("How long the chat waiting longest has been in its queue (since a transfer, for a "
              "transferred one); 0 when none waits."), "low"),
    _metric("chats_active_now", _("Chats active now"), "count", "live",
            _("Chats an agent is serving now.")),
]  # fmt: skip

PERIOD_IDS = [m.id for m in METRICS if m.source == SOURCE]


def applies(scope: Scope) -> bool:
    """Chats follow the team and agent filters (the serving agent and their team); a filter
    on work orders only (type, category, subject, region, a channel other than chat) leaves
    chat figures out."""
    if scope.ticket_type or scope.category or scope.subject or scope.area:
        return False
    return scope.channel in ("", "chat")


def chat_sums(scope: Scope) -> ChatSums:
    from django.db.models import Count, DateTimeField, OuterRef, Q, Subquery, Sum
    from django.db.models.functions import Coalesce

    from kefu.chat.models import Conversation, Message
    from kefu.core.models import Event

    start, end = scope.bounds
    chats = Conversation.objects.filter(created_at__gte=start, created_at__lt=end)
    if scope.team:
        chats = chats.filter(team_id=scope.team)
    if scope.agent:
        chats = chats.filter(agent_id=scope.agent)
    first_taken = (
        Event.objects.filter(
            action="chat_accepted", object_type="conversation", object_id=OuterRef("pk")
        )
        .order_by("at")
        .values("at")[:1]
    )
    first_reply = (
        Message.objects.filter(conversation=OuterRef("pk"), sender=Message.Sender.AGENT)
        .order_by("seq")
        .values("created_at")[:1]
    )
    served = Q(accepted_at__isnull=False)
    # the first acceptance (a transfer's later one moves accepted_at) and the first agent
    # message of each chat, summed in the same query as the counts
    row = chats.annotate(
        taken=Coalesce(Subquery(first_taken, output_field=DateTimeField()), "accepted_at"),
        replied=Subquery(first_reply, output_field=DateTimeField()),
    ).aggregate(
        started=Count("id"),
        served=Count("id", filter=served),
        missed=Count("id", filter=Q(accepted_at__isnull=True, state=Conversation.State.ENDED)),
        wait=Sum(_since_start("taken"), filter=served),
        responded=Count("id", filter=served & Q(replied__isnull=False)),
        response=Sum(_since_start("replied"), filter=served),
        rated=Count("id", filter=Q(rating__isnull=False)),
        rating_sum=Sum("rating"),
        satisfied=Count("id", filter=Q(rating__gte=SATISFIED_FROM)),
    )
    return ChatSums(
        started=row["started"],
        served=row["served"],
        missed=row["missed"],
        wait_s=_seconds(row["wait"]),
        responded=row["responded"],
        response_s=_seconds(row["response"]),
        rated=row["rated"],
        rating_sum=row["rating_sum"] or 0,
        satisfied=row["satisfied"],
    )


def _since_start(column: str) -> Any:
    from django.db.models import DurationField, ExpressionWrapper, F

    return ExpressionWrapper(F(column) - F("created_at"), output_field=DurationField())


def _seconds(total: dt.timedelta | None) -> float:
    return total.total_seconds() if total is not None else 0.0


def now_sums(now: dt.datetime | None = None) -> ChatNow:
    from django.db.models import Count, Min, Q
    from django.utils import timezone

    from kefu.chat.models import Conversation
    from kefu.routing.models import QueueItem

    now = now or timezone.now()
    waiting = Q(
        state=Conversation.State.WAITING,
        queue_item__state__in=(QueueItem.State.WAITING, QueueItem.State.OFFERED),
    )
    row = Conversation.objects.filter(waiting | Q(state=Conversation.State.ACTIVE)).aggregate(
        waiting=Count("id", filter=waiting),
        first=Min("queue_item__arrived_at", filter=waiting),
        active=Count("id", filter=Q(state=Conversation.State.ACTIVE)),
    )
    first = row["first"]
    longest = max(int((now - first).total_seconds()), 0) if first is not None else 0
    return ChatNow(waiting=row["waiting"], longest_wait_s=longest, active=row["active"])


def period_source(scope: Scope) -> dict[str, float | int | None]:
    if not applies(scope):
        return dict.fromkeys(PERIOD_IDS)
    return figures(chat_sums(scope))


def now_source(scope: Scope) -> dict[str, float | int | None]:
    return now_figures(now_sums())


def register() -> None:
    from kefu.reports import facts
    from kefu.reports.metrics import SOURCE_TITLES

    for metric in METRICS:
        define(metric)
    SOURCE_TITLES.setdefault(SOURCE, "Live chat")
    facts.register_source(SOURCE, period_source)
    facts.register_source(NOW_SOURCE, now_source)
