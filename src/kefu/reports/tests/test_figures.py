"""The report's figures equal the figures worked out by hand from known records."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from kefu.reports import facts as F
from kefu.reports.metrics import METRICS, values
from kefu.reports.report import build
from kefu.reports.tests.conftest import TZ

pytestmark = pytest.mark.django_db

NOVEMBER = F.Scope(start=__import__("datetime").date(2026, 11, 1),
                   end=__import__("datetime").date(2026, 11, 30), tz=TZ)  # fmt: skip

EXPECTED = {
    "tickets_created": 6,
    "complaints": 2,
    "complaint_rate": 33.3,
    "sensitive_created": 1,
    "resolution_rate": 80.0,
    "tickets_resolved": 5,
    "fcr_rate": 60.0,
    "reopen_rate": 20.0,
    "resolution_avg_s": 56160.0,
    "first_response_avg_s": 1575.0,
    "sla_compliance": 60.0,
    "sla_first_response": 100.0,
    "sla_resolution": 33.3,
    "sla_breached": 2,
    "transfers": 3,
    "transfer_reply_avg_s": 16200.0,
    "transfer_late_rate": 50.0,
    "calls_offered": 5,
    "calls_answered": 3,
    "calls_abandoned": 2,
    "answer_rate": 60.0,
    "abandon_rate": 25.0,
    "service_level": 50.0,
    "asa_s": 16.7,
    "aht_s": 140.0,
    "acw_avg_s": 10.0,
    "timely_rate": 66.7,
    "call_longest_wait_s": 40,
    "csat": None,
    "nps": None,
    "qa_score": None,
    "qa_reviews": 0,
}


def test_every_figure_equals_the_hand_count(known: dict[str, Any]) -> None:
    # when
    report = build(NOVEMBER)
    # then
    assert {k: report.values[k] for k in EXPECTED} == EXPECTED


def test_gather_and_report_agree_for_every_metric(known: dict[str, Any]) -> None:
    # given
    chosen = [m for m, d in METRICS.items() if d.source != "live"]
    # when
    direct = values(
        F.gather(
            NOVEMBER,
            sources=["tickets", "sla", "transfers", "calls", "surveys", "qa", *F.EXTRA_SOURCES],
        ),
        chosen,
    )
    # then
    assert direct == {m: build(NOVEMBER).values[m] for m in chosen}


def test_breakdowns_add_up_to_the_totals(known: dict[str, Any]) -> None:
    # when
    report = build(NOVEMBER)
    # then every ticket table's counts sum to the total
    for key in ("type", "channel", "category", "subject", "area", "team"):
        rows = report.tables[key].rows
        assert sum(r.values["tickets_created"] for r in rows) == 6, key
        assert sum(r.values["tickets_resolved"] for r in rows) == 5, key
    by_type = {r.label: r.values for r in report.tables["type"].rows}
    assert by_type["投诉"]["tickets_created"] == 2
    assert by_type["投诉"]["resolution_rate"] == 50.0
    queues = {r.key: r.values for r in report.tables["queues"].rows}
    assert queues["support"]["calls_offered"] == 3
    assert queues["billing"]["calls_abandoned"] == 1
    departments = report.tables["departments"].rows
    assert [
        (r.label, r.values["transfers"], r.values["transfer_late_rate"]) for r in departments
    ] == [("营销部", 3, 50.0)]


def test_scorecards_per_agent(known: dict[str, Any]) -> None:
    # given
    agent, agent2 = known["centre"]["agent"], known["centre"]["agent2"]
    # when
    cards = {r.key: r.values for r in build(NOVEMBER).tables["scorecards"].rows}
    # then: agent resolved rows 0, 5 and the October one; agent2 rows 2 and 3
    assert cards[agent.pk]["tickets_resolved"] == 3
    assert cards[agent.pk]["fcr_rate"] == 100.0
    assert cards[agent2.pk]["tickets_resolved"] == 2
    assert cards[agent2.pk]["fcr_rate"] == 0.0
    assert cards[agent.pk]["sla_compliance"] == pytest.approx(100 * 3 / 4, abs=0.05)


def test_filters_narrow_the_figures(known: dict[str, Any]) -> None:
    # when
    phone = build(replace(NOVEMBER, channel="phone"))
    rural = build(replace(NOVEMBER, area="rural"))
    # then
    assert phone.values["tickets_created"] == 4
    assert phone.values["calls_offered"] is None  # calls have no work-order channel
    assert "queues" not in phone.tables
    assert rural.values["tickets_created"] == 1
    assert rural.values["reopen_rate"] == 100.0


def test_an_empty_period_shows_dashes_not_zero_percent(known: dict[str, Any]) -> None:
    # when
    report = build(replace(NOVEMBER, start=__import__("datetime").date(2025, 1, 1),
                           end=__import__("datetime").date(2025, 1, 31)))  # fmt: skip
    # then
    assert report.values["tickets_created"] == 0
    assert report.values["fcr_rate"] is None
    assert report.values["service_level"] is None
    assert report.formatted("fcr_rate") == "—"


def _direct(scope: F.Scope, dims: list[str]) -> tuple[Any, Any, Any]:
    return (
        {d: F.ticket_groups(scope, [d])[d] for d in dims},
        F.ticket_days(scope),
        {d: F.sla_groups(scope, d) for d in ("type", "agent")},
    )


def _combined(scope: F.Scope, dims: list[str]) -> tuple[Any, Any, Any]:
    with F.report_queries():
        breakdown = F.ticket_breakdown(scope, dims)
        return breakdown.groups, breakdown.days, F.sla_groups_by(scope, ["type", "agent"])


def test_one_scan_equals_a_query_per_grouping(
    centre: dict[str, Any], known: dict[str, Any]
) -> None:
    """The report's single scan for every table gives what a grouped query per table gives,
    also for a filtered scope and after a work order changes."""
    from kefu.sla.reports import counted
    from kefu.tickets.models import Ticket

    dims = ["type", "channel", "category", "subject", "area", "team", "agent"]
    assert _combined(NOVEMBER, dims) == _direct(NOVEMBER, dims)
    assert counted(*NOVEMBER.bounds).exists()
    filtered = replace(NOVEMBER, channel="phone")
    assert _combined(filtered, dims) == _direct(filtered, dims)
    # a work order changes hands and is resolved on another day
    ticket = Ticket.objects.filter(created_at__gte=NOVEMBER.bounds[0]).order_by("pk").first()
    assert ticket is not None
    Ticket.objects.filter(pk=ticket.pk).update(
        assignee=centre["agent2"] if ticket.assignee_id != centre["agent2"].pk else centre["agent"],
        resolved_at=NOVEMBER.bounds[0] + __import__("datetime").timedelta(days=20),
    )
    combined = _combined(NOVEMBER, dims)
    assert combined == _direct(NOVEMBER, dims)
