"""The report's figures equal a direct count of the stored answers; API, export, screens."""

import datetime as dt
import random

import pytest
from django.db import transaction

from kefu.surveys import selectors, services
from kefu.surveys.metrics import figures, tally_answers
from kefu.surveys.models import Delivery, Invitation, Response, SurveyTemplate, Trigger
from kefu.testing.factories import ApiClient, make_customer

STARS_ONLY = [
    {"key": "stars", "kind": "stars", "text": "请打分"},
    {"key": "note", "kind": "text", "text": "意见", "required": False},
]


@pytest.fixture
def answered(centre, survey):
    """60 invitations over two agents and two scales, 45 answered, with known random values."""
    rng = random.Random(7)
    stars = SurveyTemplate.objects.create(code="stars", name="星级")
    services.create_version(actor=None, template=stars, questions=STARS_ONLY)
    customer = make_customer()
    base = dt.datetime(2026, 11, 2, 3, tzinfo=dt.UTC)
    with transaction.atomic():
        for i in range(60):
            template = survey if i % 2 else stars
            agent = centre["agent"] if i % 3 else centre["agent2"]
            inv = services.invite(
                template=template,
                trigger=Trigger.TICKET_RESOLVED,
                delivery=Delivery.PORTAL,
                customer=customer,
                agent=agent,
                channel="phone" if i % 4 else "email",
            )
            at = base + dt.timedelta(days=i % 20, hours=i % 5)
            Invitation.objects.filter(pk=inv.pk).update(sent_at=at - dt.timedelta(hours=1))
            if i % 4 == 3:
                continue
            if template == survey:
                csat = rng.randint(1, 4)
                raw = {"csat": csat, "nps": rng.randint(0, 10)}
                if csat <= 2:
                    raw["why"] = f"原因{i}" if i != 5 else '=HYPERLINK("http://x")'
            else:
                raw = {"stars": rng.randint(1, 5), "note": "" if i % 6 else f"星级意见{i}"}
            services.submit_answer(
                invitation=inv, raw=raw, via="portal", answered_at=at, close_loop=False
            )
    return centre


def _direct(rows, sent):
    return figures(tally_answers(((r.csat_scale, r.csat_score, r.nps_score) for r in rows), sent))


def test_report_equals_a_direct_count(answered):
    # when
    total, by_agent = selectors.report(selectors.Filters(), "agent")
    # then
    assert total == _direct(Response.objects.all(), Invitation.objects.count())
    assert total.answered == 45
    assert total.sent == 60
    assert total.response_rate == 75.0
    for agent_id, f in by_agent:
        assert f == _direct(
            Response.objects.filter(agent_id=agent_id),
            Invitation.objects.filter(agent_id=agent_id).count(),
        )
    assert [k for k, _f in by_agent] == sorted(
        [answered["agent"].pk, answered["agent2"].pk], key=str
    )


def test_report_by_week_and_channel_filter(answered):
    filters = selectors.Filters(channel="email")
    total, weeks = selectors.report(filters, "week")
    assert total == _direct(
        Response.objects.filter(channel="email"), Invitation.objects.filter(channel="email").count()
    )
    assert sum(f.answered for _k, f in weeks) == total.answered


def test_api_report_and_permissions(answered):
    api = ApiClient(answered["supervisor"])
    r = api.get("/api/v1/surveys/report?by=channel")
    assert r.status_code == 200
    body = r.json()
    total = selectors.report(selectors.Filters())[0]
    assert body["total"]["csat"] == total.csat
    assert body["total"]["nps"] == total.nps
    assert {g["key"] for g in body["groups"]} == {"phone", "email"}
    assert ApiClient(answered["agent"]).get("/api/v1/surveys/report").status_code == 403
    assert api.get("/api/v1/surveys/report?by=nonsense").status_code == 422


def test_export_is_formula_safe_and_matches(answered, client):
    client.force_login(answered["supervisor"])
    text = client.get("/surveys/report/export/?by=agent").content.decode("utf-8-sig")
    total = selectors.report(selectors.Filters())[0]
    assert text.splitlines()[-1].split(",")[1:] == [
        "60",
        "45",
        "75.0",
        str(total.csat),
        str(total.nps),
    ]
    page = client.get("/surveys/report/?q=HYPERLINK").content.decode()
    assert "=HYPERLINK(&quot;http://x&quot;)" in page
    assert "原因7" not in page
    client.force_login(answered["agent"])
    assert client.get("/surveys/report/export/").status_code == 403


def test_old_answers_keep_their_wording(answered, survey):
    first = survey.current()
    services.create_version(
        actor=None,
        template=survey,
        questions=[{"key": "csat", "kind": "level4", "text": "新的措辞"}],
    )
    assert survey.current().number == first.number + 1
    assert {r.version_id for r in Response.objects.filter(csat_scale="level4")} == {first.pk}
