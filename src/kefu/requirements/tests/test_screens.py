"""Screens and the API: the ranked list, a requirement's page, the ticket panel's "raise as
requirement", the export, and refusals that change nothing."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from kefu.requirements import services
from kefu.requirements.models import Requirement, Source
from kefu.testing.factories import ApiClient, make_customer, make_ticket


def _ticket(centre, name="吴十"):
    return make_ticket(
        actor=centre["agent"],
        title="希望增加电子发票",
        type_code="suggestion",
        team=centre["front"],
        customer=make_customer(name=name).pk,
    )


def test_raise_from_the_ticket_panel(centre, client):
    ticket = _ticket(centre)
    client.force_login(centre["agent"])
    page = client.get(f"/tickets/{ticket.number}/").content.decode()
    assert 'data-testid="requirement-panel"' in page
    done = client.post(
        f"/requirements/from-ticket/{ticket.number}/",
        {"requirement": "", "title": "电子发票", "kind": "functional", "note": "报销要用"},
    )
    assert done.status_code == 302 and done["Location"] == f"/tickets/{ticket.number}/"
    requirement = Requirement.objects.get()
    assert requirement.title == "电子发票"
    assert Source.objects.get().note == "报销要用"
    other = _ticket(centre, "郑一")
    client.post(f"/requirements/from-ticket/{other.number}/", {"requirement": requirement.pk})
    assert len(services.asking_customers(requirement)) == 2


def test_list_detail_and_export(centre, client):
    for i in range(3):
        r = services.raise_from_ticket(
            actor=centre["agent"], ticket=_ticket(centre, f"客户{i}"), kind="service"
        )
        services.score_requirement(
            actor=centre["supervisor"], requirement=r, importance=i + 1, feasibility=3, benefit=3
        )
    client.force_login(centre["supervisor"])
    with CaptureQueriesContext(connection) as ctx:
        page = client.get("/requirements/")
    assert page.status_code == 200 and len(ctx) <= 12
    html = page.content.decode()
    top, low = Requirement.objects.order_by("-score")[0], Requirement.objects.order_by("score")[0]
    assert html.index(top.reference) < html.index(low.reference)
    with CaptureQueriesContext(connection) as ctx:
        detail = client.get(f"/requirements/{top.pk}/")
    assert detail.status_code == 200 and len(ctx) <= 20
    csv = client.get("/requirements/export/").content.decode("utf-8-sig")
    assert top.reference in csv and "50.0" in csv


def test_agents_raise_but_do_not_move(centre, client):
    r = services.raise_from_ticket(actor=centre["agent"], ticket=_ticket(centre), kind="service")
    client.force_login(centre["agent"])
    assert client.post(f"/requirements/{r.pk}/move/", {"to": "organise"}).status_code == 403
    r.refresh_from_db()
    assert r.status == "collect"
    client.force_login(centre["liaison"])
    assert client.get("/requirements/").status_code == 403


def test_api(centre):
    ticket = _ticket(centre)
    agent, lead = ApiClient(centre["agent"]), ApiClient(centre["supervisor"])
    created = agent.post(
        "requirements", {"title": "夜间在线客服", "kind": "service", "ticket": ticket.pk}
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["askers"] == 1 and body["sources"][0]["ticket"] == ticket.number
    rid = body["id"]
    assert agent.post(f"requirements/{rid}/move", {"to": "organise"}).status_code == 403
    scored = lead.post(
        f"requirements/{rid}/score", {"importance": 5, "feasibility": 5, "benefit": 5}
    )
    assert scored.json()["score"] == "100.0"
    bad = lead.post(f"requirements/{rid}/score", {"importance": 9})
    assert bad.status_code == 422
    wrong = lead.post(f"requirements/{rid}/move", {"to": "track"})
    assert wrong.status_code == 422
    assert lead.post(f"requirements/{rid}/move", {"to": "organise"}).json()["status"] == "organise"
    other = make_customer(name="王十一")
    joined = agent.post(f"requirements/{rid}/sources", {"customer": other.pk, "note": "也要"})
    assert joined.status_code == 201 and joined.json()["askers"] == 2
    listed = agent.get("requirements").json()
    assert [r["id"] for r in listed] == [rid]
    assert agent.post("requirements", {"title": "x", "kind": "wish"}).status_code == 422
    assert Requirement.objects.count() == 1
