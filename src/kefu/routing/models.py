"""The unified queue: queues with their strategy, the items waiting in them, agents' presence
with its history, and each agent's load per channel."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kefu.accounts.models import Team
from kefu.core.choices import WorkChannel
from kefu.tickets.models import TicketType


class Strategy(models.TextChoices):
    MANUAL = "manual", _("Manual pick")
    ROUND_ROBIN = "round_robin", _("Round robin")
    LEAST_LOADED = "least_loaded", _("Least loaded")
    SKILLS = "skills", _("Skill based")
    STICKY = "sticky", _("Sticky (last agent)")


STRATEGY_HELP: dict[str, Any] = {
    Strategy.MANUAL: _(
        "Nobody is offered anything; agents take items from the list themselves "
        "(e.g. letters that a senior agent hands out)."
    ),
    Strategy.ROUND_ROBIN: _(
        "Each item goes to the agent who was offered work longest ago, so with agents A, B and "
        "C the items go A, B, C, A, B, C."
    ),
    Strategy.LEAST_LOADED: _(
        "Each item goes to the agent using the smallest share of their capacity: with 3 of 20 "
        "work orders open, A gets the next one before B with 10 of 20."
    ),
    Strategy.SKILLS: _(
        "Only agents with every must-have skill qualify; among them the one with the most "
        "preferred skills wins, e.g. a 电费 dispute in English goes to the agent with both."
    ),
    Strategy.STICKY: _(
        "A returning customer goes back to the agent who last helped them within the set days "
        "if that agent can take it now; otherwise the least loaded agent."
    ),
}


class Kind(models.TextChoices):
    TICKET = "ticket", _("Work order")
    CALL = "call", _("Phone call")
    CHAT = "chat", _("Chat")
    EMAIL = "email", _("E-mail")
    CALLBACK = "callback", _("Callback")


KIND_CHANNEL = {
    Kind.TICKET: WorkChannel.TICKET,
    Kind.CALL: WorkChannel.VOICE,
    Kind.CHAT: WorkChannel.CHAT,
    Kind.EMAIL: WorkChannel.EMAIL,
    Kind.CALLBACK: WorkChannel.VOICE,
}
"""Which of the agent's capacities an item uses."""


class RoutingQueue(models.Model):
    code = models.SlugField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=60, unique=True)
    strategy = models.CharField(
        _("strategy"),
        max_length=16,
        choices=Strategy.choices,
        default=Strategy.LEAST_LOADED,
        help_text=_("How waiting items are handed out to agents."),
    )
    order = models.PositiveSmallIntegerField(
        _("order"), default=100, help_text=_("New items join the first queue that matches.")
    )
    teams = models.ManyToManyField(
        Team, related_name="routing_queues", verbose_name=_("served by"), blank=True
    )
    ticket_types = models.ManyToManyField(
        TicketType,
        blank=True,
        related_name="routing_queues",
        verbose_name=_("business types"),
        help_text=_("Work orders of these types join this queue (分类排队); empty: any type."),
    )
    kinds = models.JSONField(
        _("kinds of work"), default=list, blank=True, help_text=_("Empty: every kind.")
    )
    overflow_after = models.PositiveIntegerField(
        _("overflow after (seconds)"),
        default=0,
        help_text=_(
            "After this long waiting, agents of the overflow teams may take it too; 0: never."
        ),
    )
    overflow_teams = models.ManyToManyField(
        Team, related_name="overflow_queues", verbose_name=_("overflow teams"), blank=True
    )
    sticky_days = models.PositiveSmallIntegerField(
        _("sticky for (days)"), default=7, help_text=_("For the sticky strategy.")
    )
    offer_timeout = models.PositiveSmallIntegerField(
        _("offer timeout (seconds)"),
        default=30,
        help_text=_("An offer not accepted in time goes to the next agent."),
    )
    wrap_up = models.PositiveSmallIntegerField(
        _("after-call work (seconds)"),
        default=30,
        help_text=_("After a phone call or callback the agent is in after-call work this long."),
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["order", "pk"]
        verbose_name = _("routing queue")
        verbose_name_plural = _("routing queues")

    def __str__(self) -> str:
        return self.name


class QueueItem(models.Model):
    class State(models.TextChoices):
        WAITING = "waiting", _("Waiting")
        OFFERED = "offered", _("Offered")
        ASSIGNED = "assigned", _("Assigned")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    queue = models.ForeignKey(RoutingQueue, on_delete=models.PROTECT, related_name="items")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    channel = models.CharField(max_length=8, choices=WorkChannel.choices, editable=False)
    title = models.CharField(_("title"), max_length=200)
    ticket = models.ForeignKey(
        "tickets.Ticket", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    customer = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    business_type = models.CharField(_("business type"), max_length=30, blank=True)
    required_skills = models.JSONField(_("must-have skills"), default=list, blank=True)
    preferred_skills = models.JSONField(_("preferred skills"), default=list, blank=True)
    language = models.CharField(_("language"), max_length=10, blank=True)
    priority = models.PositiveSmallIntegerField(_("priority"), default=3)
    bonus = models.PositiveIntegerField(_("bonus (seconds)"), default=0)
    arrived_at = models.DateTimeField(_("arrived"))
    rank_at = models.DateTimeField(editable=False)
    not_before = models.DateTimeField(
        _("appointment"), null=True, blank=True, help_text=_("A callback booked for this time.")
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.WAITING)
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="queue_items",
    )
    offered_at = models.DateTimeField(null=True, blank=True)
    offer_expires_at = models.DateTimeField(null=True, blank=True)
    assigned_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    declined_by = models.JSONField(default=list, blank=True)
    overflowed = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("queue item")
        verbose_name_plural = _("queue items")
        indexes = [
            models.Index(
                fields=["queue", "rank_at", "id"],
                name="routing_waiting_idx",
                condition=Q(state="waiting"),
            ),
            models.Index(
                fields=["offer_expires_at"], name="routing_offer_idx", condition=Q(state="offered")
            ),
            models.Index(fields=["agent", "state"], name="routing_agent_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket"],
                condition=Q(state__in=["waiting", "offered", "assigned"]),
                name="routing_one_live_item_per_ticket",
            )
        ]

    def __str__(self) -> str:
        return self.title


class Presence(models.Model):
    class State(models.TextChoices):
        AVAILABLE = "available", _("Available")
        BUSY = "busy", _("Busy")
        AFTER_CALL = "after_call", _("After-call work")
        BREAK = "break", _("On break")
        OFFLINE = "offline", _("Offline")

    class Reason(models.TextChoices):
        NONE = "", _("(none)")
        MEAL = "meal", _("Meal")
        TRAINING = "training", _("Training")
        MEETING = "meeting", _("Meeting")
        COACHING = "coaching", _("Coaching")
        REST = "rest", _("Short rest")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="presence",
    )
    state = models.CharField(max_length=12, choices=State.choices, default=State.OFFLINE)
    reason = models.CharField(max_length=12, choices=Reason.choices, blank=True, default="")
    since = models.DateTimeField()
    auto = models.BooleanField(
        default=False, help_text="Set by Kefu (busy at capacity, after-call work), not the agent."
    )
    until = models.DateTimeField(null=True, blank=True)
    last_offered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("agent presence")
        verbose_name_plural = _("agent presence")

    def __str__(self) -> str:
        return f"{self.user_id}: {self.state}"


class PresenceChange(models.Model):
    """One stretch of time in one state: the history for the wall board and adherence."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="presence_history"
    )
    state = models.CharField(max_length=12, choices=Presence.State.choices)
    reason = models.CharField(max_length=12, blank=True, default="")
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    by_system = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["user", "started_at"], name="routing_presence_hist_idx")]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.state} from {self.started_at:%Y-%m-%d %H:%M}"


class AgentLoad(models.Model):
    """How many items an agent holds on a channel, and how many they may hold. Taking an item is
    one conditional UPDATE (``active < capacity``), so no dispatcher can overfill an agent."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="loads"
    )
    channel = models.CharField(max_length=8, choices=WorkChannel.choices)
    active = models.PositiveIntegerField(default=0)
    capacity = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "channel"], name="routing_load_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.channel}: {self.active}/{self.capacity}"
