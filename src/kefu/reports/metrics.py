"""The metrics layer: every figure Kefu shows on the wall board, the dashboards, the reports and
the API, defined once.

A :class:`Metric` names a figure (id, label, unit, help text with the way it is computed) and
reads it from :class:`Facts`, the sums that :mod:`kefu.reports.facts` gathers for one scope (a
period and filters) from the apps that own the records: work orders (``tickets``), SLA clocks
(``sla.reports``), transfers to departments, calls (``calls.kpi`` over the hourly rollup),
satisfaction answers (``surveys.metrics``), QA reviews (``qa``) and the live queues and agent
states (``routing``). The figures are ratios of those sums, computed here and nowhere else;
``docs/metrics.md`` lists the same definitions (a test checks the two agree).

This module is pure: no Django, no database.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kefu.calls import kpi
from kefu.surveys.metrics import Figures, Tally, figures


def _(text: str) -> str:
    """Marks a label for translation; :func:`kefu.reports.labels.label` translates it."""
    return text


@dataclass
class TicketSums:
    """Work-order counts for one group. "In the period" is the period of the scope."""

    created: int = 0  # created in the period
    complaints: int = 0  # ... of the complaint type
    sensitive: int = 0  # ... marked sensitive
    cancelled: int = 0  # ... since cancelled or merged
    done: int = 0  # ... since resolved, followed up or closed
    resolved: int = 0  # resolved in the period
    first_contact: int = 0  # ... never reopened, never escalated or transferred
    reopened: int = 0  # ... reopened at least once
    resolution_s: float = 0.0  # ... sum of (resolved - created) in seconds
    responded: int = 0  # first answered in the period
    response_s: float = 0.0  # ... sum of (first response - created) in seconds

    def add(self, other: TicketSums) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class SlaSums:
    counted: int = 0  # clocks finished in the period, or overdue in it while running
    met: int = 0
    breached: int = 0
    first_response_counted: int = 0
    first_response_met: int = 0
    resolution_counted: int = 0
    resolution_met: int = 0


@dataclass
class TransferSums:
    created: int = 0  # transfers to departments sent in the period
    replied: int = 0  # replies received in the period
    reply_s: float = 0.0  # ... sum of (reply - sent) in seconds
    replied_late: int = 0  # ... after the reply deadline


@dataclass
class QaSums:
    reviews: int = 0
    score_sum: float = 0.0
    failed_critical: int = 0


@dataclass
class LiveSums:
    """The present moment: queues and agents (wall board only)."""

    waiting: int = 0
    longest_wait_s: int = 0
    agents: dict[str, int] = field(default_factory=dict)  # presence state -> agents
    sensitive_open: int = 0
    sla_due_soon: int = 0  # open work orders whose SLA deadline is within the warning window
    sla_overdue: int = 0  # open work orders past their SLA deadline


@dataclass
class Facts:
    tickets: TicketSums = field(default_factory=TicketSums)
    sla: SlaSums = field(default_factory=SlaSums)
    transfers: TransferSums = field(default_factory=TransferSums)
    calls: kpi.Kpis | None = None  # None: calls do not apply (a work-order filter is set)
    surveys: Figures = field(default_factory=lambda: figures(Tally()))
    qa: QaSums = field(default_factory=QaSums)
    live: LiveSums = field(default_factory=LiveSums)
    extra: dict[str, float | None] = field(default_factory=dict)  # registered sources


def pct(part: float, whole: float) -> float | None:
    """A share in per cent, one decimal; ``None`` (shown "—") when nothing was counted."""
    return round(100.0 * part / whole, 1) if whole else None


def avg(total: float, n: int) -> float | None:
    return round(total / n, 1) if n else None


def _times100(value: float | None) -> float | None:
    return None if value is None else round(100.0 * value, 1)


@dataclass(frozen=True)
class Metric:
    id: str
    label: str
    unit: str  # count | percent | seconds | score
    source: str  # tickets | sla | transfers | calls | surveys | qa | live | <registered>
    help: str  # what it means and how it is computed, for the screens and the docs
    compute: Callable[[Facts], Any]
    better: str = ""  # "high" or "low": which way is good, for alert colours and arrows


UNITS = {"count": _("count"), "percent": "%", "seconds": _("seconds"), "score": _("points")}

METRICS: dict[str, Metric] = {}


def define(metric: Metric) -> Metric:
    """Add a metric to the registry (other apps, e.g. chat, add theirs from ``ready()``)."""
    METRICS[metric.id] = metric
    return metric


def _kpi(name: str, *, rate: bool = False) -> Callable[[Facts], Any]:
    def compute(f: Facts) -> Any:
        if f.calls is None:
            return None
        value = getattr(f.calls, name)
        if rate:
            return _times100(value)
        return round(value, 1) if isinstance(value, float) else value

    return compute


def _sla_pct(counted: str, met: str) -> Callable[[Facts], Any]:
    return lambda f: pct(getattr(f.sla, met), getattr(f.sla, counted))


for _m in (
    # --- work orders ---
    Metric("tickets_created", _("Work orders received"), "count", "tickets",
           _("Work orders created in the period (every channel and type)."),
           lambda f: f.tickets.created),
    Metric("complaints", _("Complaints"), "count", "tickets",
           _("Work orders of the complaint type (投诉) created in the period."),
           lambda f: f.tickets.complaints, "low"),
    Metric("complaint_rate", _("Complaint rate"), "percent", "tickets",
           _("Complaints / work orders received × 100."),
           lambda f: pct(f.tickets.complaints, f.tickets.created), "low"),
    Metric("tickets_resolved", _("Work orders resolved"), "count", "tickets",
           _("Work orders whose resolution falls in the period."),
           lambda f: f.tickets.resolved, "high"),
    Metric("resolution_rate", _("Resolution rate"), "percent", "tickets",
           _("Work orders received in the period that are now resolved, followed up or closed / "
             "work orders received, not counting cancelled or merged ones × 100."),
           lambda f: pct(f.tickets.done, f.tickets.created - f.tickets.cancelled), "high"),
    Metric("fcr_rate", _("First-contact resolution"), "percent", "tickets",
           _("Work orders resolved in the period that were never reopened, never escalated to "
             "the second line and never transferred to a department / work orders resolved "
             "× 100 (一次解决率)."),
           lambda f: pct(f.tickets.first_contact, f.tickets.resolved), "high"),
    Metric("reopen_rate", _("Reopen rate"), "percent", "tickets",
           _("Work orders resolved in the period that had been reopened at least once / work "
             "orders resolved × 100."),
           lambda f: pct(f.tickets.reopened, f.tickets.resolved), "low"),
    Metric("first_response_avg_s", _("Average first response"), "seconds", "tickets",
           _("Mean clock time from creation to the first reply, over work orders first "
             "answered in the period."),
           lambda f: avg(f.tickets.response_s, f.tickets.responded), "low"),
    Metric("resolution_avg_s", _("Average resolution time"), "seconds", "tickets",
           _("Mean clock time from creation to resolution, over work orders resolved in the "
             "period."),
           lambda f: avg(f.tickets.resolution_s, f.tickets.resolved), "low"),
    Metric("sensitive_created", _("Sensitive work orders"), "count", "tickets",
           _("Work orders marked sensitive (敏感) created in the period."),
           lambda f: f.tickets.sensitive, "low"),
    # --- SLA ---
    Metric("sla_compliance", _("SLA compliance"), "percent", "sla",
           _("SLA clocks met / SLA clocks counted × 100. A clock counts in the period it "
             "finished in, or, still running, the period its deadline passed in (the SLA "
             "report's rule)."),
           _sla_pct("counted", "met"), "high"),
    Metric("sla_first_response", _("First response on time"), "percent", "sla",
           _("First-response clocks met / first-response clocks counted × 100."),
           _sla_pct("first_response_counted", "first_response_met"), "high"),
    Metric("sla_resolution", _("Resolution on time"), "percent", "sla",
           _("Resolution clocks met / resolution clocks counted × 100."),
           _sla_pct("resolution_counted", "resolution_met"), "high"),
    Metric("sla_breached", _("SLA breaches"), "count", "sla",
           _("SLA clocks counted in the period that missed their deadline."),
           lambda f: f.sla.breached, "low"),
    # --- transfers to departments ---
    Metric("transfers", _("Transfers to departments"), "count", "transfers",
           _("Transfers (转办) sent to responsible departments in the period."),
           lambda f: f.transfers.created),
    Metric("transfer_reply_avg_s", _("Average department reply time"), "seconds", "transfers",
           _("Mean clock time from sending a transfer to the department's reply, over replies "
             "received in the period."),
           lambda f: avg(f.transfers.reply_s, f.transfers.replied), "low"),
    Metric("transfer_late_rate", _("Late department replies"), "percent", "transfers",
           _("Replies received after the reply deadline / replies received in the period × 100."),
           lambda f: pct(f.transfers.replied_late, f.transfers.replied), "low"),
    # --- calls (definitions in calls.kpi) ---
    Metric("calls_offered", _("Calls offered"), "count", "calls",
           _("Calls that asked for an agent (entered a queue or were put through)."),
           _kpi("offered")),
    Metric("calls_answered", _("Calls answered"), "count", "calls",
           _("Offered calls an agent picked up."), _kpi("answered"), "high"),
    Metric("calls_abandoned", _("Calls abandoned"), "count", "calls",
           _("Offered calls the caller left before an agent picked up."),
           _kpi("abandoned"), "low"),
    Metric("answer_rate", _("Answer rate"), "percent", "calls",
           _("Answered / offered × 100 (人工接通率)."), _kpi("answer_rate", rate=True), "high"),
    Metric("abandon_rate", _("Abandonment rate"), "percent", "calls",
           _("(Abandoned − short abandoned) / (offered − short abandoned) × 100; short abandoned: "
             "left within 5 s."),
           _kpi("abandon_rate", rate=True), "low"),
    Metric("service_level", _("Service level (20 s)"), "percent", "calls",
           _("Calls answered within 20 s / (offered − short abandoned) × 100 (the 80/20 target)."),
           _kpi("sl_offered", rate=True), "high"),
    Metric("asa_s", _("Average speed of answer"), "seconds", "calls",
           _("Total queue wait of answered calls / answered calls (ASA)."), _kpi("asa_s"), "low"),
    Metric("aht_s", _("Average handle time"), "seconds", "calls",
           _("(Talk + hold + after-call work) / answered calls (AHT)."), _kpi("aht_s"), "low"),
    Metric("acw_avg_s", _("Average after-call work"), "seconds", "calls",
           _("After-call work / answered calls (ACW)."), _kpi("acw_avg_s"), "low"),
    Metric("timely_rate", _("Timely pick-up"), "percent", "calls",
           _("Answered calls the agent picked up within 10 s of ringing / answered calls whose "
             "ring time is known × 100 (接听及时率)."),
           _kpi("timely_rate", rate=True), "high"),
    Metric("call_longest_wait_s", _("Longest call wait"), "seconds", "calls",
           _("The longest queue wait of any offered call."), _kpi("longest_wait_s"), "low"),
    # --- satisfaction (definitions in surveys.metrics) ---
    Metric("csat", _("CSAT"), "percent", "surveys",
           _("Satisfied answers / answers on a satisfaction scale × 100; satisfied: 非常满意 or "
             "满意 of four levels, 4–5 of five stars."),
           lambda f: f.surveys.csat, "high"),
    Metric("nps", _("NPS"), "score", "surveys",
           _("% promoters (9–10) − % detractors (0–6) of the 0–10 answers."),
           lambda f: f.surveys.nps, "high"),
    Metric("survey_response_rate", _("Survey response rate"), "percent", "surveys",
           _("Answered invitations / sent invitations × 100."),
           lambda f: f.surveys.response_rate, "high"),
    # --- quality inspection ---
    Metric("qa_score", _("QA score"), "score", "qa",
           _("Mean score (0–100) of the internal QA reviews submitted in the period."),
           lambda f: avg(f.qa.score_sum, f.qa.reviews), "high"),
    Metric("qa_reviews", _("QA reviews"), "count", "qa",
           _("Internal QA reviews submitted in the period."), lambda f: f.qa.reviews),
    # --- live (wall board) ---
    Metric("waiting_now", _("Waiting now"), "count", "live",
           _("Items waiting in the queues now that can be served (callbacks booked for later "
             "are not counted)."),
           lambda f: f.live.waiting, "low"),
    Metric("longest_wait_now_s", _("Longest wait now"), "seconds", "live",
           _("How long the oldest item that can be served now has been waiting."),
           lambda f: f.live.longest_wait_s, "low"),
    Metric("agents_available", _("Agents available"), "count", "live",
           _("Agents whose state is available now."),
           lambda f: f.live.agents.get("available", 0), "high"),
    Metric("agents_busy", _("Agents busy"), "count", "live",
           _("Agents whose state is busy now (on a contact or at capacity)."),
           lambda f: f.live.agents.get("busy", 0)),
    Metric("agents_after_call", _("Agents in after-call work"), "count", "live",
           _("Agents in after-call work (ACW) now."),
           lambda f: f.live.agents.get("after_call", 0)),
    Metric("agents_break", _("Agents on break"), "count", "live",
           _("Agents on a break now, whatever the reason."),
           lambda f: f.live.agents.get("break", 0), "low"),
    Metric("sensitive_open", _("Sensitive work orders open"), "count", "live",
           _("Open work orders marked sensitive, now."), lambda f: f.live.sensitive_open, "low"),
    Metric("sla_due_soon", _("SLA due soon"), "count", "live",
           _("Open work orders whose SLA deadline falls within the next hour."),
           lambda f: f.live.sla_due_soon, "low"),
    Metric("sla_overdue", _("SLA breached, still open"), "count", "live",
           _("Open work orders past their SLA deadline, now."),
           lambda f: f.live.sla_overdue, "low"),
):  # fmt: skip
    define(_m)

SOURCES = ("tickets", "sla", "transfers", "calls", "surveys", "qa", "live")


def values(facts: Facts, ids: list[str] | None = None) -> dict[str, Any]:
    """The value of each metric (all of them, or ``ids``) for these facts."""
    chosen = ids if ids is not None else list(METRICS)
    out: dict[str, Any] = {}
    for metric_id in chosen:
        metric = METRICS[metric_id]
        if metric.source in SOURCES:
            out[metric_id] = metric.compute(facts)
        else:
            out[metric_id] = facts.extra.get(metric_id)
    return out


def level(value: float | None, warn: float, alarm: float, better: str) -> str:
    """``ok``, ``warn`` or ``alarm`` for a value against its thresholds. For a figure where low
    is good the colour turns at or above the threshold; where high is good, at or below."""
    if value is None:
        return "ok"
    if better == "high":
        if value <= alarm:
            return "alarm"
        return "warn" if value <= warn else "ok"
    if value >= alarm:
        return "alarm"
    return "warn" if value >= warn else "ok"


def format_value(value: Any, unit: str) -> str:
    """How a figure is written in tables, PDFs and the wall board."""
    if value is None:
        return "—"
    if unit == "percent":
        return f"{value:.1f}%"
    if unit == "seconds":
        seconds = round(float(value))
        if seconds < 60:
            return f"{seconds} s"
        if seconds < 3600:
            return f"{seconds // 60}:{seconds % 60:02d}"
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    if unit == "score":
        return f"{value:.1f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


SOURCE_TITLES = {
    "tickets": "Work orders",
    "sla": "SLA clocks",
    "transfers": "Transfers to departments",
    "calls": "Calls (definitions in `calls.kpi`)",
    "surveys": "Satisfaction (definitions in `surveys.metrics`)",
    "qa": "Quality inspection",
    "live": "Now (wall board only)",
}


def markdown_table() -> str:
    """Every metric as the docs list it (``docs/metrics.md`` holds this text between its
    markers; a test keeps the two equal)."""
    lines: list[str] = []
    sources = list(dict.fromkeys([*SOURCE_TITLES, *(m.source for m in METRICS.values())]))
    for source in sources:
        chosen = [m for m in METRICS.values() if m.source == source]
        if not chosen:
            continue
        lines += [f"### {SOURCE_TITLES.get(source, source)}", ""]
        lines += ["| id | figure | unit | good when | definition |", "|---|---|---|---|---|"]
        for m in chosen:
            good = {"high": "high", "low": "low"}.get(m.better, "—")
            lines.append(f"| `{m.id}` | {m.label} | {m.unit} | {good} | {m.help} |")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
