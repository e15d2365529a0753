"""Chat figures equal the figures worked out by hand from chats served at known times, through
the reports' metrics layer (the registry, ``facts.gather`` and the report)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings

from kefu.chat import metrics as chat_metrics
from kefu.chat import services
from kefu.chat.metrics import ChatSums
from kefu.chat.models import Conversation
from kefu.reports import facts as F
from kefu.reports.metrics import METRICS, values
from kefu.routing.services import set_presence

pytestmark = pytest.mark.django_db

TZ = ZoneInfo(settings.TIME_ZONE)
DAY = dt.date(2026, 11, 23)
SCOPE = F.Scope(start=DAY, end=DAY, tz=TZ)
PERIOD = ["chats_started", "chats_served", "chats_missed", "chat_wait_avg_s",
          "chat_first_response_avg_s", "chat_rating_avg", "chat_satisfaction"]  # fmt: skip
NOW = ["chats_waiting_now", "chat_longest_wait_now_s", "chats_active_now"]

# worked out by hand from the chats of ``known`` below
EXPECTED = {
    "chats_started": 5,  # c1-c5 (c6 started the evening before)
    "chats_served": 3,  # c1, c2, c4
    "chats_missed": 1,  # c3 left before anyone took it
    "chat_wait_avg_s": 70.0,  # (30 + 120 + 60) / 3; c2's wait after its transfer not counted
    "chat_first_response_avg_s": 105.0,  # (60 + 150) / 2; c4 has no agent message
    "chat_rating_avg": 4.0,  # (5 + 3) / 2
    "chat_satisfaction": 50.0,  # one of the two ratings is 4-5 stars
}
EXPECTED_NOW = {
    "chats_waiting_now": 1,  # c5
    "chat_longest_wait_now_s": 600,  # c5 has waited 12:30 -> 12:40
    "chats_active_now": 2,  # c4 and c6
}


def at(hour: int, minute: int = 0, second: int = 0, day: dt.date = DAY) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=TZ)


@pytest.fixture
def known(chat_centre: dict[str, Any], at_once: None, clock_at: Any) -> dict[str, Any]:
    agent, agent2, widget, code = (chat_centre[k] for k in ("agent", "agent2", "widget", "code"))
    set_presence(actor=None, user=agent2, state="available")

    def start(when: dt.datetime, name: str) -> Conversation:
        clock_at(when)
        return services.start_chat(widget=widget, name=name)

    def accept(when: dt.datetime, chat: Conversation, who: Any = agent) -> Conversation:
        clock_at(when)
        return services.accept_chat(actor=who, conversation=chat)

    def say(when: dt.datetime, chat: Conversation, who: Any = agent) -> None:
        clock_at(when)
        services.post_message(conversation_id=chat.pk, sender="agent", body="您好", author=who)

    def end(when: dt.datetime, chat: Conversation, who: Any = agent) -> Conversation:
        clock_at(when)
        return services.end_chat(actor=who, conversation=chat, wrap_up=code if who else None)

    # c6: the evening before, still active
    c6 = start(at(23, 50, day=DAY - dt.timedelta(days=1)), "六")
    c6 = accept(at(23, 55, day=DAY - dt.timedelta(days=1)), c6)
    # c1: waits 30 s, first answer after 60 s, rated 5
    c1 = start(at(9), "一")
    clock_at(at(9, 0, 10))
    services.post_message(conversation_id=c1.pk, sender="guest", body="停电了")
    c1 = accept(at(9, 0, 30), c1)
    say(at(9, 1), c1)
    c1 = end(at(9, 10), c1)
    services.rate_chat(conversation=c1, rating=5)
    # c2: waits 120 s, first answer after 150 s, transferred to agent2 at 10:05, rated 3
    c2 = start(at(10), "二")
    c2 = accept(at(10, 2), c2)
    say(at(10, 2, 30), c2)
    clock_at(at(10, 5))
    c2 = services.transfer_chat(actor=agent, conversation=c2, agent=agent2, note="转二线")
    say(at(10, 6), c2, agent2)
    c2 = end(at(10, 20), c2, agent2)
    services.rate_chat(conversation=c2, rating=3)
    # c3: the customer leaves while waiting
    c3 = start(at(11), "三")
    c3 = end(at(11, 3), c3, None)
    # c4: waits 60 s, no agent message yet, active
    c4 = start(at(12), "四")
    c4 = accept(at(12, 1), c4)
    # c5: waiting since 12:30
    c5 = start(at(12, 30), "五")
    clock_at(at(12, 40))
    return {**chat_centre, "chats": [c1, c2, c3, c4, c5, c6]}


def test_the_chats_are_as_the_story_says(known: dict[str, Any]) -> None:
    c1, c2, c3, c4, c5, c6 = (Conversation.objects.get(pk=c.pk) for c in known["chats"])
    assert [c.state for c in (c1, c2, c3, c4, c5, c6)] == [
        "ended", "ended", "ended", "active", "waiting", "active",
    ]  # fmt: skip
    # the transfer moved accepted_at: the figures must not read the wait from it
    assert c2.accepted_at == at(10, 5) and c2.agent_id == known["agent2"].pk


def test_every_chat_figure_equals_the_hand_count(known: dict[str, Any]) -> None:
    facts = F.gather(SCOPE)
    assert values(facts, PERIOD) == EXPECTED
    assert values(facts, NOW) == EXPECTED_NOW


def test_the_figures_are_registered_with_the_reports(known: dict[str, Any]) -> None:
    for metric_id in PERIOD:
        assert METRICS[metric_id].source == "chat"
    for metric_id in NOW:
        assert METRICS[metric_id].source == "live"  # wall board only
    assert {"chat", "chat_now"} <= set(F.EXTRA_SOURCES)
    from kefu.reports.report import build

    report = build(SCOPE)
    assert {m: report.values[m] for m in PERIOD} == EXPECTED
    assert not set(NOW) & set(report.values)


def test_agent_and_team_filters_narrow_the_figures(known: dict[str, Any]) -> None:
    mine = values(F.gather(replace(SCOPE, agent=known["agent"].pk), ["chat"]), PERIOD)
    assert mine == {
        "chats_started": 2,  # c1, c4 (c2 is agent2's now)
        "chats_served": 2,
        "chats_missed": 0,
        "chat_wait_avg_s": 45.0,  # (30 + 60) / 2
        "chat_first_response_avg_s": 60.0,
        "chat_rating_avg": 5.0,
        "chat_satisfaction": 100.0,
    }
    theirs = values(F.gather(replace(SCOPE, agent=known["agent2"].pk), ["chat"]), PERIOD)
    assert (theirs["chat_wait_avg_s"], theirs["chat_first_response_avg_s"]) == (120.0, 150.0)
    front = values(F.gather(replace(SCOPE, team=known["front"].pk), ["chat"]), PERIOD)
    assert front["chats_served"] == 3 and front["chats_missed"] == 0
    other = values(F.gather(replace(SCOPE, team=known["other"].pk), ["chat"]), PERIOD)
    assert other == {**dict.fromkeys(PERIOD, 0), **dict.fromkeys(
        ["chat_wait_avg_s", "chat_first_response_avg_s", "chat_rating_avg",
         "chat_satisfaction"], None)}  # fmt: skip


def test_work_order_filters_leave_chat_figures_out(known: dict[str, Any]) -> None:
    assert values(F.gather(replace(SCOPE, channel="chat"), ["chat"]), PERIOD) == EXPECTED
    for narrowed in (replace(SCOPE, channel="phone"), replace(SCOPE, area="north"),
                     replace(SCOPE, ticket_type=1)):  # fmt: skip
        assert values(F.gather(narrowed, ["chat"]), PERIOD) == dict.fromkeys(PERIOD)


def test_an_empty_day_shows_dashes_for_ratios(known: dict[str, Any]) -> None:
    empty = replace(SCOPE, start=DAY + dt.timedelta(days=1), end=DAY + dt.timedelta(days=1))
    got = values(F.gather(empty, ["chat"]), PERIOD)
    assert got["chats_started"] == 0 and got["chat_satisfaction"] is None
    assert got["chat_wait_avg_s"] is None


def test_the_day_before_counts_its_own_chat(known: dict[str, Any]) -> None:
    before = DAY - dt.timedelta(days=1)
    got = values(F.gather(replace(SCOPE, start=before, end=before), ["chat"]), PERIOD)
    assert (got["chats_started"], got["chats_served"], got["chat_wait_avg_s"]) == (1, 1, 300.0)


def test_the_arithmetic_is_pure() -> None:
    sums = ChatSums(started=4, served=2, missed=1, wait_s=90.0, responded=1, response_s=40.0,
                    rated=3, rating_sum=11, satisfied=2)  # fmt: skip
    assert chat_metrics.figures(sums) == {
        "chats_started": 4, "chats_served": 2, "chats_missed": 1, "chat_wait_avg_s": 45.0,
        "chat_first_response_avg_s": 40.0, "chat_rating_avg": 3.7, "chat_satisfaction": 66.7,
    }  # fmt: skip
    assert chat_metrics.figures(ChatSums())["chat_rating_avg"] is None
