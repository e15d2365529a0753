"""The hotline: PBX integrations, raw queue events, one row per call, wrap-up codes, the links
between PBX agent names and Kefu users, import runs and followed files."""

from __future__ import annotations

import datetime as dt
import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


def new_secret() -> str:
    return secrets.token_urlsafe(32)


class Integration(models.Model):
    """A PBX or CTI server that sends call events to the webhook, signed with its secret."""

    name = models.CharField(_("name"), max_length=80)
    slug = models.SlugField(_("key"), max_length=40, unique=True)
    secret = models.CharField(_("secret"), max_length=80, default=new_secret)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("telephony integration")
        verbose_name_plural = _("telephony integrations")

    def __str__(self) -> str:
        return self.name


class WrapUpCode(models.Model):
    """How an agent sums up a call when it ends (话后小结)."""

    code = models.SlugField(_("code"), max_length=30, unique=True)
    label = models.CharField(_("label"), max_length=80)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("wrap-up code")
        verbose_name_plural = _("wrap-up codes")

    def __str__(self) -> str:
        return self.label


class AgentLink(models.Model):
    """Which Kefu user a PBX agent name stands for (``SIP/8007``, ``Agent/1001``, ``DORIT``)."""

    pbx_agent = models.CharField(_("PBX agent"), max_length=80, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="pbx_agents"
    )

    class Meta:
        verbose_name = _("PBX agent")
        verbose_name_plural = _("PBX agents")

    def __str__(self) -> str:
        return self.pbx_agent


AGENT_EVENTS = (
    "AGENTLOGIN", "ADDMEMBER", "AGENTLOGOFF", "REMOVEMEMBER",
    "PAUSE", "PAUSEALL", "UNPAUSE", "UNPAUSEALL",
)  # fmt: skip


class QueueLogEvent(models.Model):
    """One line of Asterisk's queue_log, data fields in a fixed order per event (see
    ``parsers.queue_log``). ``ts`` is the UNIX time (UTC seconds); ``(ts, h)`` is the natural
    key, so importing a line twice adds it once."""

    ts = models.BigIntegerField()
    h = models.BigIntegerField()
    callid = models.CharField(max_length=64)
    queue = models.CharField(max_length=64)
    agent = models.CharField(max_length=80)
    event = models.CharField(max_length=24)
    d1 = models.CharField(max_length=255, blank=True)
    d2 = models.CharField(max_length=255, blank=True)
    d3 = models.CharField(max_length=255, blank=True)
    d4 = models.CharField(max_length=255, blank=True)
    d5 = models.CharField(max_length=255, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["ts", "h"], name="calls_qlog_natural_key")]
        indexes = [
            models.Index(fields=["callid"], name="calls_qlog_callid_idx"),
            # agents' sessions for occupancy: a few rows per agent-day among millions
            models.Index(
                fields=["ts"], name="calls_qlog_agent_idx", condition=Q(event__in=AGENT_EVENTS)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ts}|{self.callid}|{self.event}"

    @property
    def at(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.ts, tz=dt.UTC)


class Outcome(models.TextChoices):
    ANSWERED = "answered", _("Answered")
    ABANDONED = "abandoned", _("Abandoned")
    IVR = "ivr", _("Ended in the voice menu")
    UNANSWERED = "unanswered", _("Not answered")
    FAILED = "failed", _("Failed")
    LIVE = "live", _("In progress")


WORKED = (
    Q(source__startswith="cti:")
    | Q(customer__isnull=False)
    | Q(ticket__isnull=False)
    | Q(wrapup__isnull=False)
    | ~Q(wrapup_note="")
)
"""Calls people work with: reported live by the CTI server, or linked or wrapped up by an agent
(search indexes these; untouched bulk history stays out)."""


class Call(models.Model):
    """One call. Rows come from the queue_log (derived from its events), from CDR files, from
    the bank log format, or from the CTI webhook as the call happens."""

    class State(models.TextChoices):
        RINGING = "ringing", _("Ringing")
        TALKING = "talking", _("Talking")
        HELD = "held", _("On hold")
        ENDED = "ended", _("Ended")

    source = models.CharField(_("source"), max_length=40)
    external_id = models.CharField(_("call id"), max_length=96)
    state = models.CharField(_("state"), max_length=8, choices=State, default=State.ENDED)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome, default=Outcome.LIVE)
    started_at = models.DateTimeField(_("started"))
    offered_at = models.DateTimeField(_("entered the queue"), null=True, blank=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    caller = models.CharField(_("caller"), max_length=40, blank=True)
    callee = models.CharField(_("called number"), max_length=40, blank=True)
    queue = models.CharField(_("queue"), max_length=64, blank=True)
    agent = models.CharField(_("PBX agent"), max_length=80, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("agent"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="calls",
        db_index=False,  # a partial index below: most calls have none
    )
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="calls",
        db_index=False,  # a partial index below: most calls have none
    )
    ticket = models.ForeignKey(
        "tickets.Ticket",
        verbose_name=_("work order"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="calls",
        db_index=False,  # a partial index below: most calls have none
    )
    ivr_s = models.PositiveIntegerField(_("time in the voice menu (s)"), default=0)
    wait_s = models.PositiveIntegerField(_("wait in the queue (s)"), default=0)
    ring_s = models.PositiveIntegerField(_("ringing at the agent (s)"), null=True, blank=True)
    talk_s = models.PositiveIntegerField(_("talk time (s)"), default=0)
    hold_s = models.PositiveIntegerField(_("hold time (s)"), default=0)
    acw_s = models.PositiveIntegerField(_("after-call work (s)"), default=0)
    transferred = models.BooleanField(_("transferred"), default=False)
    ivr_path = models.CharField(_("voice-menu path"), max_length=200, blank=True)
    recording_url = models.URLField(_("recording"), max_length=500, blank=True)
    wrapup = models.ForeignKey(
        WrapUpCode,
        verbose_name=_("wrap-up code"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # only read when a code is deleted
    )
    wrapup_note = models.TextField(_("wrap-up note"), blank=True)
    held_since = models.DateTimeField(null=True, blank=True)
    queue_item = models.ForeignKey(
        "routing.QueueItem",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,  # read from the call only; set for live calls while routing is on
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("call")
        verbose_name_plural = _("calls")
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], name="calls_call_natural_key")
        ]
        indexes = [
            models.Index(fields=["started_at"], name="calls_call_started_idx"),
            models.Index(
                fields=["offered_at", "queue"],
                name="calls_call_offered_idx",
                condition=Q(offered_at__isnull=False),
            ),
            models.Index(fields=["caller"], name="calls_call_caller_idx"),
            # partial: a bulk import of calls nobody has linked yet adds nothing to these
            models.Index(
                fields=["user", "started_at"],
                name="calls_call_user_idx",
                condition=Q(user__isnull=False),
            ),
            models.Index(
                fields=["customer"],
                name="calls_call_customer_idx",
                condition=Q(customer__isnull=False),
            ),
            models.Index(
                fields=["ticket"], name="calls_call_ticket_idx", condition=Q(ticket__isnull=False)
            ),
            # search's catch-up job looks for worked calls changed lately, every minute
            models.Index(fields=["updated_at"], name="calls_call_worked_idx", condition=WORKED),
        ]

    def __str__(self) -> str:
        return f"{self.caller or '—'} · {self.started_at:%Y-%m-%d %H:%M}"


class ImportRun(models.Model):
    """One import of a file: what it held, what was added, and the lines refused with reasons."""

    class Format(models.TextChoices):
        QUEUE_LOG = "queue_log", _("Asterisk queue_log")
        ASTERISK_CDR = "asterisk_cdr", _("Asterisk CDR (Master.csv)")
        FREESWITCH_CDR = "freeswitch_cdr", _("FreeSWITCH CDR (cdr_csv)")
        BANK = "bank", _("Call-by-call log (bank format)")

    format = models.CharField(_("format"), max_length=16, choices=Format)
    name = models.CharField(_("file"), max_length=255)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(auto_now_add=True)
    lines = models.PositiveIntegerField(default=0)
    added = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    rejects = models.JSONField(default=list)  # [[line number, reason], ...] (first 1000)
    calls = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return self.name


class FollowedFile(models.Model):
    """Where the queue_log follower stopped: a restart continues from here, and a rotated file
    (new inode, or shorter than the offset) is read from its start."""

    path = models.CharField(max_length=500, unique=True)
    inode = models.BigIntegerField(default=0)
    offset = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.path


# --- KPI sums kept as calls are written (see ``rollup``) --------------------------------------------

SHORT_ABANDON_SET = (3, 5, 8, 10, 15, 20, 30)
"""Short-abandon thresholds (s) the sums are kept for: abandoned after waiting less than this."""
SERVICE_LEVEL_SET = (10, 15, 20, 25, 30, 40, 45, 60, 90, 120, 180)
"""Service-level times Y (s): answered after waiting at most this."""
TIMELY_RING_SET = (5, 10, 15, 20, 30)
"""接听及时率 times R (s): picked up within this many seconds of ringing."""


class KpiSums(models.Model):
    """The sums of ``kpi.Totals`` for one group of calls, with the threshold counts for every
    threshold of the sets above (a report with other thresholds reads the calls instead)."""

    queue = models.CharField(max_length=64)
    offered = models.IntegerField(default=0)
    answered = models.IntegerField(default=0)
    abandoned = models.IntegerField(default=0)
    rung = models.IntegerField(default=0)
    wait_answered_s = models.BigIntegerField(default=0)
    talk_s = models.BigIntegerField(default=0)
    hold_s = models.BigIntegerField(default=0)
    acw_s = models.BigIntegerField(default=0)
    longest_wait_s = models.IntegerField(default=0)
    short_3 = models.IntegerField(default=0)
    short_5 = models.IntegerField(default=0)
    short_8 = models.IntegerField(default=0)
    short_10 = models.IntegerField(default=0)
    short_15 = models.IntegerField(default=0)
    short_20 = models.IntegerField(default=0)
    short_30 = models.IntegerField(default=0)
    within_10 = models.IntegerField(default=0)
    within_15 = models.IntegerField(default=0)
    within_20 = models.IntegerField(default=0)
    within_25 = models.IntegerField(default=0)
    within_30 = models.IntegerField(default=0)
    within_40 = models.IntegerField(default=0)
    within_45 = models.IntegerField(default=0)
    within_60 = models.IntegerField(default=0)
    within_90 = models.IntegerField(default=0)
    within_120 = models.IntegerField(default=0)
    within_180 = models.IntegerField(default=0)
    timely_5 = models.IntegerField(default=0)
    timely_10 = models.IntegerField(default=0)
    timely_15 = models.IntegerField(default=0)
    timely_20 = models.IntegerField(default=0)
    timely_30 = models.IntegerField(default=0)

    class Meta:
        abstract = True


class IntervalSums(KpiSums):
    """KPI sums per 15-minute interval (UTC, ``bucket`` = UNIX time // 900) and queue, over the
    offered calls that entered the queue in it."""

    bucket = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["bucket", "queue"], name="calls_interval_sums_key")
        ]

    def __str__(self) -> str:
        return f"{self.bucket}/{self.queue}"


class AgentDaySums(KpiSums):
    """KPI sums per UTC day (``day`` = UNIX time // 86400), PBX agent and queue, over the
    offered calls with an agent."""

    day = models.IntegerField()
    agent = models.CharField(max_length=80)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["day", "agent", "queue"], name="calls_agent_sums_key")
        ]

    def __str__(self) -> str:
        return f"{self.day}/{self.agent}/{self.queue}"
