"""Periodic reports: templates, exactly one run per period, archived files, mail."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from kefu.reports import services
from kefu.reports.documents import default_sections
from kefu.reports.models import ReportRun, ReportTemplate

pytestmark = pytest.mark.django_db


def template(admin: Any, **fields: Any) -> ReportTemplate:
    values = {
        "name": "月度服务报告",
        "period": "monthly",
        "sections": default_sections(),
        "recipients": "boss@example.com\nclient@example.com",
        "active": True,
    }
    values.update(fields)
    return services.save_template(actor=admin, template=None, **values)


@pytest.mark.parametrize(
    ("period", "today", "expected"),
    [
        ("weekly", dt.date(2026, 12, 3), (dt.date(2026, 11, 23), dt.date(2026, 11, 29))),
        ("monthly", dt.date(2026, 12, 1), (dt.date(2026, 11, 1), dt.date(2026, 11, 30))),
        ("monthly", dt.date(2026, 3, 15), (dt.date(2026, 2, 1), dt.date(2026, 2, 28))),
        ("quarterly", dt.date(2026, 12, 3), (dt.date(2026, 7, 1), dt.date(2026, 9, 30))),
        ("quarterly", dt.date(2026, 1, 2), (dt.date(2025, 10, 1), dt.date(2025, 12, 31))),
        ("annual", dt.date(2026, 12, 3), (dt.date(2025, 1, 1), dt.date(2025, 12, 31))),
    ],
)
def test_last_complete_period(period: str, today: dt.date, expected: Any) -> None:
    assert services.last_complete_period(period, today) == expected


def test_a_period_is_generated_once_archived_and_mailed(
    known: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    # given
    admin = known["centre"]["admin"]
    t = template(admin)
    # when: the schedule fires twice in December
    with django_capture_on_commit_callbacks(execute=True):
        first = services.generate_due(dt.date(2026, 12, 1))
    with django_capture_on_commit_callbacks(execute=True):
        second = services.generate_due(dt.date(2026, 12, 2))
    # then
    assert [r.period_start for r in first] == [dt.date(2026, 11, 1)]
    assert second == []
    run = ReportRun.objects.get(template=t)
    with run.pdf.open("rb") as stored:
        assert stored.read().startswith(b"%PDF")
    assert run.xlsx.size > 0
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert sorted(message.bcc) == ["boss@example.com", "client@example.com"]
    assert [a[0].rsplit(".", 1)[1] for a in message.attachments] == ["pdf", "xlsx"]
    # making the run again changes nothing and mails nobody
    services.produce_run(run.pk)
    assert len(mail.outbox) == 1


def test_text_sections_fill_placeholders(known: dict[str, Any]) -> None:
    # given
    from kefu.reports.documents import resolve
    from kefu.reports.facts import Scope
    from kefu.reports.report import build
    from kefu.reports.tests.conftest import TZ

    report = build(Scope(dt.date(2026, 11, 1), dt.date(2026, 11, 30), TZ))
    sections = [
        {
            "kind": "text",
            "title": "{{ year }}年{{ month }}月",
            "body": "共受理 {{ tickets_created }} 件，服务水平 {{ service_level }}。",
        }
    ]
    # when
    blocks = resolve(report, sections, dt.datetime(2026, 12, 1, tzinfo=TZ))
    # then
    assert (blocks[0].title, blocks[0].text) == ("2026年11月", "共受理 6 件，服务水平 50.0%。")


@pytest.mark.parametrize(
    ("sections", "field"),
    [
        ([], "sections"),
        ([{"kind": "video"}], "sections"),
        ([{"kind": "text", "body": "{{ nonsense }}"}], "sections"),
        ([{"kind": "figures", "metrics": ["waiting_now"]}], "sections"),
        ([{"kind": "table", "table": "nope"}], "sections"),
        ([{"kind": "table", "table": []}], "sections"),
        ([{"kind": "figures", "metrics": [[1]]}], "sections"),
        ([{"kind": "figures", "metrics": [{"a": 1}]}], "sections"),
        ([{"kind": "figures", "metrics": ["csat"] * 101}], "sections"),
        ([{"kind": "chart", "chart": {}}], "sections"),
        ([{"kind": "chart", "chart": None}], "sections"),
    ],
)
def test_bad_sections_are_refused(centre: dict[str, Any], sections: Any, field: str) -> None:
    with pytest.raises(ValidationError) as raised:
        template(centre["admin"], sections=sections)
    assert field in raised.value.message_dict
    assert ReportTemplate.objects.count() == 0


def test_bad_recipients_and_permissions(centre: dict[str, Any]) -> None:
    with pytest.raises(ValidationError) as raised:
        template(centre["admin"], recipients="not-an-address")
    assert "recipients" in raised.value.message_dict
    with pytest.raises(PermissionDenied):
        template(centre["supervisor"])
    assert ReportTemplate.objects.count() == 0


def test_generate_now_from_the_page(
    known: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    # given
    t = template(known["centre"]["admin"], recipients="")
    lead = Client()
    lead.force_login(known["centre"]["supervisor"])
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = lead.post(
            f"/reports/periodic/{t.pk}/generate/", {"from": "2026-11-01", "to": "2026-11-15"}
        )
    # then
    assert response.status_code == 302
    run = ReportRun.objects.get(template=t)
    assert (run.trigger, run.period_end) == ("manual", dt.date(2026, 11, 15))
    download = lead.get(f"/reports/runs/{run.pk}.pdf")
    assert download.status_code == 200
    assert b"".join(download.streaming_content).startswith(b"%PDF")
    assert lead.get(f"/reports/runs/{run.pk}.exe").status_code == 404


def test_template_editor_saves_sections(centre: dict[str, Any]) -> None:
    import json

    admin = Client()
    admin.force_login(centre["admin"])
    assert admin.get("/reports/periodic/new/").status_code == 200
    response = admin.post(
        "/reports/periodic/new/",
        {
            "name": "周报",
            "period": "weekly",
            "recipients": "",
            "active": "on",
            "sections": json.dumps([{"kind": "chart", "title": "", "chart": "volume"}]),
        },
    )
    assert response.status_code == 302
    assert ReportTemplate.objects.get().sections == [
        {"kind": "chart", "title": "", "chart": "volume"}
    ]
    response = admin.post(
        "/reports/periodic/new/", {"name": "坏", "period": "weekly", "sections": "{"}
    )
    assert response.status_code == 422
    for bad in (
        [{"kind": "table", "table": []}],
        [{"kind": "figures", "metrics": [[1]]}],
        [{"kind": "chart", "chart": {}}],
    ):
        response = admin.post(
            "/reports/periodic/new/",
            {"name": "坏", "period": "weekly", "sections": json.dumps(bad)},
        )
        assert response.status_code == 422
    assert ReportTemplate.objects.count() == 1
