"""Chats as interactions a quality inspector samples and scores."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kefu.qa.checks import Speaker, Turn
from kefu.qa.sampling import Candidate
from kefu.qa.sources import Interaction, InteractionSource, register_source


def candidates(start: dt.datetime, end: dt.datetime) -> Iterable[Candidate]:
    from kefu.chat.models import Conversation

    rows = Conversation.objects.filter(
        created_at__gte=start, created_at__lt=end, agent__isnull=False, accepted_at__isnull=False
    ).values_list("pk", "agent_id", "team_id", "created_at", "rating")
    for pk, agent, team, created, rating in rows:
        yield Candidate("chat", pk, agent, created, channel="chat", team_id=team,
                        dissatisfied=rating is not None and rating <= 2)  # fmt: skip


def load(user: Any, pk: int) -> Interaction:
    from kefu.chat.access import access_sampled_chat
    from kefu.chat.models import Message
    from kefu.chat.services import messages_after

    conversation = access_sampled_chat(user, pk)
    turns: list[Turn] = []
    for message in messages_after(conversation.pk, 0, for_staff=False, limit=5000):
        if message.sender in (Message.Sender.GUEST, Message.Sender.AGENT) and message.body:
            speaker: Speaker = "customer" if message.sender == Message.Sender.GUEST else "agent"
            turns.append(Turn(speaker, message.body, message.created_at))
    timeline = [(conversation.created_at, _("Chat started"))]
    if conversation.accepted_at:
        timeline.append((conversation.accepted_at, _("Agent joined")))
    if conversation.ended_at:
        timeline.append((conversation.ended_at, _("Ended")))
    return Interaction(
        "chat", conversation.pk, str(conversation), "chat", conversation.agent_id,
        conversation.team_id, conversation.created_at, tuple(turns), tuple(timeline),
        url=reverse("chat:transcript", args=[conversation.pk]),
        facts=((_("Topic"), conversation.topic or "-"),
               (_("Rating"), str(conversation.rating or "-")),
               (_("Wrap-up"), str(conversation.wrap_up or "-"))),
    )  # fmt: skip


def register() -> None:
    register_source(InteractionSource("chat", gettext_lazy("Chat"), candidates, load))
