"""Screens and the API: declaring from the form, the incident page, the portal banner, the
ticket panel, the IVR text, and refusals that change nothing."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from kefu.incidents import services
from kefu.incidents.models import Incident, Link
from kefu.testing.factories import ApiClient, make_customer, make_ticket


def _declare(centre, **kw):
    return services.declare_incident(
        actor=centre["supervisor"],
        title="朝阳区大面积停电",
        public_text="朝阳区部分区域停电，抢修中。",
        areas=["朝阳区"],
        keywords=["停电"],
        **kw,
    )


def test_declare_from_the_form_and_follow_it(centre, client):
    ticket = make_ticket(actor=centre["agent"], title="停电了", place="朝阳区望京")
    client.force_login(centre["supervisor"])
    page = client.post(
        "/incidents/declare/",
        {
            "title": "朝阳区大面积停电",
            "severity": "critical",
            "areas": "朝阳区\n望京",
            "keywords": "停电",
            "public_text": "朝阳区部分区域停电，抢修中。",
            "ivr_text": "朝阳区停电抢修中",
            "auto_link": "on",
        },
    )
    incident = Incident.objects.get()
    assert page.status_code == 302 and page["Location"] == f"/incidents/{incident.pk}/"
    assert incident.areas == ["朝阳区", "望京"] and incident.severity == "critical"
    assert Link.objects.get(incident=incident).ticket_id == ticket.pk
    with CaptureQueriesContext(connection) as ctx:
        detail = client.get(f"/incidents/{incident.pk}/")
    assert detail.status_code == 200
    assert len(ctx) <= 25
    html = detail.content.decode()
    assert ticket.number in html and "朝阳区部分区域停电" in html
    assert client.get("/incidents/").status_code == 200
    assert client.get(f"/incidents/{incident.pk}/progress/").status_code == 200
    export = client.get(f"/incidents/{incident.pk}/export/").content.decode("utf-8-sig")
    assert ticket.number in export


def test_a_bad_declaration_shows_the_form_again(centre, client):
    client.force_login(centre["supervisor"])
    page = client.post("/incidents/declare/", {"title": "", "public_text": "x", "areas": "朝阳区"})
    assert page.status_code == 422
    assert not Incident.objects.exists()


def test_agents_cannot_declare_but_see_and_link(centre, client):
    client.force_login(centre["agent"])
    assert client.get("/incidents/declare/").status_code == 403
    assert client.post("/incidents/declare/", {"title": "停电"}).status_code == 403
    assert not Incident.objects.exists()
    incident = _declare(centre, auto_link=False)
    ticket = make_ticket(
        actor=centre["agent"], title="电压低", place="海淀区", team=centre["front"]
    )
    panel = client.get(f"/tickets/{ticket.number}/").content.decode()
    assert 'data-testid="incident-panel"' in panel
    page = client.post(
        f"/incidents/{incident.pk}/link/", {"numbers": ticket.number, "back": "ticket"}
    )
    assert page.status_code == 302 and page["Location"] == f"/tickets/{ticket.number}/"
    assert Link.objects.filter(incident=incident, ticket=ticket, how="manual").exists()
    assert client.post(f"/incidents/{incident.pk}/resolve/", {"text": "好了"}).status_code == 403
    incident.refresh_from_db()
    assert incident.status == "declared"


def test_portal_banner_shows_active_incidents_to_everyone(centre, client):
    assert 'data-testid="portal-notice"' not in client.get("/portal/login/").content.decode()
    incident = _declare(centre)
    html = client.get("/portal/login/").content.decode()
    assert 'data-testid="portal-notice"' in html and "朝阳区部分区域停电，抢修中。" in html
    services.resolve_incident(actor=centre["supervisor"], incident=incident, text="已恢复")
    assert 'data-testid="portal-notice"' not in client.get("/portal/login/").content.decode()


def test_api_declare_ivr_and_answer(centre):
    api = ApiClient(centre["supervisor"])
    customer = make_customer(name="钱七")
    ticket = make_ticket(
        actor=centre["agent"], title="家里停电", place="朝阳区", customer=customer.pk
    )
    created = api.post(
        "incidents",
        {
            "title": "朝阳区停电",
            "public_text": "朝阳区停电抢修中。",
            "ivr_text": "朝阳区停电抢修中",
            "areas": ["朝阳区"],
            "keywords": ["停电"],
        },
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["report"]["linked"] == 1 and body["report"]["customers"] == 1
    ivr = ApiClient(centre["agent"]).get("incidents/ivr").json()
    assert ivr == {"text": "朝阳区停电抢修中。", "incidents": [body["id"]]}
    resolved = api.post(
        f"incidents/{body['id']}/resolve",
        {"text": "已恢复", "closing_reply": "已恢复供电，感谢您的耐心。"},
    )
    assert resolved.status_code == 200
    assert resolved.json()["report"]["replies"] == {"sent": 1}
    ticket.refresh_from_db()
    assert ticket.status == "resolved"
    links = api.get(f"incidents/{body['id']}/links").json()
    assert [link["ticket"] for link in links] == [ticket.number]


def test_api_refusals(centre):
    agent = ApiClient(centre["agent"])
    denied = agent.post("incidents", {"title": "x", "public_text": "y", "areas": ["a"]})
    assert denied.status_code == 403
    api = ApiClient(centre["supervisor"])
    bad = api.post(
        "incidents", {"title": "x", "public_text": "y", "severity": "huge", "areas": ["a"]}
    )
    assert bad.status_code == 422 and "severity" in bad.json()["error"]["fields"]
    typo = api.post("incidents", {"title": "x", "public_text": "y", "area": ["a"]})
    assert typo.status_code == 422
    assert not Incident.objects.exists()
    assert api.get("incidents/99999").status_code == 404
    assert ApiClient(centre["liaison"]).get("incidents/ivr").status_code == 403
