"""Screens, exports, drill-down and the API: who may see what, and what they get."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.test import Client

from kefu.testing.factories import ApiClient

pytestmark = pytest.mark.django_db

NOV = {"from": "2026-11-01", "to": "2026-11-30"}


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_report_page_shows_the_figures_to_a_supervisor(known: dict[str, Any]) -> None:
    # when
    response = client_for(known["centre"]["supervisor"]).get("/reports/", NOV)
    # then
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-testid="fig-tickets_created"><div class="value">6</div>' in body
    assert 'data-testid="table-scorecards"' in body


def test_an_agent_may_not_open_the_report(known: dict[str, Any]) -> None:
    # when
    response = client_for(known["centre"]["agent"]).get("/reports/", NOV)
    # then
    assert response.status_code == 403


def test_bad_filters_fall_back_with_a_message(known: dict[str, Any]) -> None:
    # when
    response = client_for(known["centre"]["supervisor"]).get(
        "/reports/", {"from": "2026-13-01", "type": "³", "to": "x"}
    )
    # then
    assert response.status_code == 200
    assert "YYYY-MM-DD" in response.content.decode()


def test_drill_down_lists_the_records_behind_a_row(known: dict[str, Any]) -> None:
    # given
    from kefu.tickets.models import TicketType

    complaint = TicketType.objects.get(code="complaint")
    # when
    response = client_for(known["centre"]["supervisor"]).get(
        "/reports/records/", {**NOV, "type": complaint.pk}
    )
    # then
    assert response.status_code == 200
    numbers = [t.number for t in response.context["page"].rows]
    assert sorted(numbers) == sorted(t.number for t in known["tickets"][:2])


def test_drill_down_shows_only_what_the_user_may_see(known: dict[str, Any]) -> None:
    # given: a QA inspector reads reports but sees work orders as the role allows
    from kefu.core.permissions import Role
    from kefu.testing.factories import make_user
    from kefu.tickets.access import visible_tickets

    inspector = make_user(Role.QA)
    # when
    response = client_for(inspector).get("/reports/records/", {**NOV, "basis": "resolved"})
    # then
    visible = set(visible_tickets(inspector).values_list("number", flat=True))
    assert {t.number for t in response.context["page"].rows} <= visible


def test_excel_export_holds_the_figures(known: dict[str, Any]) -> None:
    # given
    from django.utils import translation
    from openpyxl import load_workbook

    from kefu.reports.report import metric_label

    # when
    response = client_for(known["centre"]["supervisor"]).get("/reports/export.xlsx", NOV)
    # then
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    figures = book.worksheets[1]  # after the summary: the key figures
    rows = {r[0]: r[1] for r in figures.iter_rows(values_only=True)}
    with translation.override(response.headers.get("Content-Language", "zh-hans")):
        assert rows[metric_label("tickets_created")] == "6"
        assert rows[metric_label("sla_compliance")] == "60.0%"


def test_pdf_export_embeds_the_cjk_font(known: dict[str, Any]) -> None:
    # when
    response = client_for(known["centre"]["supervisor"]).get("/reports/export.pdf", NOV)
    # then
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF")
    assert b"/FontFile3" in response.content  # the font travels inside the file
    assert b"NotoSansCJK" in response.content


def test_unknown_export_format_is_404(known: dict[str, Any]) -> None:
    response = client_for(known["centre"]["supervisor"]).get("/reports/export.doc", NOV)
    assert response.status_code == 404


def test_api_figures_match_the_report(known: dict[str, Any]) -> None:
    # when
    response = ApiClient(known["centre"]["supervisor"]).get("reports/figures", NOV)
    # then
    assert response.status_code == 200
    data = response.json()
    assert data["start"] == "2026-11-01"
    assert data["figures"]["tickets_created"] == 6
    assert data["figures"]["service_level"] == 50.0
    # registered sources too (live chat: no chats in the known month), not the wall board's
    assert (data["figures"]["chats_started"], data["figures"]["chat_satisfaction"]) == (0, None)
    assert "chats_waiting_now" not in data["figures"]


def test_an_unknown_category_filter_counts_nothing(known: dict[str, Any]) -> None:
    # an id no category has (PostgreSQL refused the old way of matching nothing with a 500)
    response = ApiClient(known["centre"]["supervisor"]).get(
        "reports/figures", {**NOV, "category": 5000}
    )
    assert response.status_code == 200
    assert response.json()["figures"]["tickets_created"] == 0


def test_api_refuses_a_reversed_period_and_an_agent(known: dict[str, Any]) -> None:
    supervisor = ApiClient(known["centre"]["supervisor"])
    assert (
        supervisor.get("reports/figures", {"from": "2026-11-30", "to": "2026-11-01"}).status_code
        == 422
    )
    assert ApiClient(known["centre"]["agent"]).get("reports/figures", NOV).status_code == 403


def test_api_metric_definitions_and_a_table(known: dict[str, Any]) -> None:
    api = ApiClient(known["centre"]["supervisor"])
    definitions = api.get("reports/metrics").json()
    assert {"id": "fcr_rate", "unit": "percent", "source": "tickets"}.items() <= next(
        d for d in definitions if d["id"] == "fcr_rate"
    ).items()
    table = api.get("reports/table", {**NOV, "table": "departments"}).json()
    assert table["rows"][0]["figures"]["transfers"] == 3


def test_start_page_cards_per_role(known: dict[str, Any]) -> None:
    # when
    agent_page = client_for(known["centre"]["agent"]).get("/")
    lead_page = client_for(known["centre"]["supervisor"]).get("/")
    # then
    assert 'data-testid="card-my-figures"' in agent_page.content.decode()
    assert 'data-testid="card-centre-now"' not in agent_page.content.decode()
    assert 'data-testid="card-centre-now"' in lead_page.content.decode()
    assert 'data-testid="card-month"' in lead_page.content.decode()
