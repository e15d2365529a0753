"""Who sees the customers linked to an incident (a planner sees incidents but not customers),
and incident times outside the years a service centre works in."""

import datetime as dt

import pytest
from django.utils import translation

from kefu.accounts.services import create_api_token
from kefu.core.permissions import Role
from kefu.incidents import services
from kefu.incidents.models import Incident, Link
from kefu.testing.factories import ApiClient, make_customer, make_user

NAME = "王秀英"


def _year_message() -> str:
    """The refusal as the screens and the API say it (in the centre's language)."""
    with translation.override("zh-hans"):
        return translation.gettext("Give a time in the years %(a)d to %(b)d.") % {
            "a": 2000,
            "b": 2100,
        }


@pytest.fixture
def linked(centre):
    incident = services.declare_incident(
        actor=centre["supervisor"],
        title="朝阳区大面积停电",
        public_text="朝阳区部分区域停电，抢修中。",
        areas=["朝阳区"],
        keywords=["停电"],
    )
    customer = make_customer(NAME, phone="13800138000")
    link = services.link_contact(
        incident=incident,
        channel="phone",
        obj=customer,
        how="manual",
        label="来电 010-5555",
        customer=customer,
    )
    assert link is not None
    return incident, customer, link


def test_a_planner_sees_the_incident_but_not_who_was_affected(centre, client, linked):
    # given
    incident, _customer, _link = linked
    planner = make_user(Role.PLANNER, username="planner")
    client.force_login(planner)
    # when
    page = client.get(f"/incidents/{incident.pk}/")
    export = client.get(f"/incidents/{incident.pk}/export/")
    # then
    assert page.status_code == 200 and export.status_code == 200
    html = page.content.decode()
    assert "来电 010-5555" in html and NAME not in html
    rows = export.content.decode("utf-8-sig").splitlines()
    assert len(rows) == 2 and "来电 010-5555" in rows[1] and NAME not in rows[1]


def test_a_supervisor_still_sees_the_customer(centre, client, linked):
    incident, _customer, _link = linked
    client.force_login(centre["supervisor"])
    assert NAME in client.get(f"/incidents/{incident.pk}/").content.decode()
    assert NAME in client.get(f"/incidents/{incident.pk}/export/").content.decode("utf-8-sig")


def test_the_api_gives_the_customer_only_to_who_may_see_customers(centre, linked):
    # given
    incident, customer, _link = linked
    planner = make_user(Role.PLANNER, username="planner")
    boss = centre["supervisor"]
    _t, narrow = create_api_token(actor=boss, user=boss, name="wall", scopes=["incidents:read"])
    _t, wide = create_api_token(
        actor=boss, user=boss, name="crm", scopes=["incidents:read", "customers:read"]
    )
    path = f"incidents/{incident.pk}/links"
    # when
    as_planner = ApiClient(planner).get(path)
    as_narrow = ApiClient(token=narrow).get(path)
    as_wide = ApiClient(token=wide).get(path)
    # then
    assert as_planner.status_code == as_narrow.status_code == as_wide.status_code == 200
    assert [r["customer_id"] for r in as_planner.json()] == [None]
    assert [r["customer_id"] for r in as_narrow.json()] == [None]
    assert [r["customer_id"] for r in as_wide.json()] == [customer.pk]


@pytest.mark.parametrize("when", ["0001-01-01T00:00", "9999-12-31T23:59", "1999-12-31T23:59"])
def test_declaring_with_a_year_out_of_range_is_refused(centre, client, when):
    # given
    client.force_login(centre["supervisor"])
    # when
    page = client.post(
        "/incidents/declare/",
        {
            "title": "朝阳区大面积停电",
            "severity": "major",
            "areas": "朝阳区",
            "public_text": "朝阳区部分区域停电，抢修中。",
            "started_at": when,
        },
    )
    # then
    assert page.status_code == 422
    assert _year_message() in page.content.decode()
    assert not Incident.objects.exists() and not Link.objects.exists()


@pytest.mark.parametrize(
    ("field", "when"),
    [("started_at", "0001-01-01T00:00:00+08:00"), ("expected_end_at", "9999-12-31T23:59:00-08:00")],
)
def test_the_api_refuses_a_year_out_of_range(centre, field, when):
    # given
    api = ApiClient(centre["supervisor"])
    # when
    response = api.post(
        "incidents",
        {"title": "停电", "public_text": "抢修中。", "areas": ["朝阳区"], field: when},
    )
    # then
    assert response.status_code == 422
    assert _year_message() in response.content.decode()
    assert not Incident.objects.exists()


def test_updating_with_a_year_out_of_range_is_refused(centre, client, linked):
    # given
    incident, _customer, _link = linked
    client.force_login(centre["supervisor"])
    before = incident.updates.count()
    # when
    client.post(
        f"/incidents/{incident.pk}/publish/",
        {"text": "抢修中", "expected_end_at": "0001-01-01T00:00", "version": incident.version},
    )
    api = ApiClient(centre["supervisor"]).post(
        f"incidents/{incident.pk}/updates",
        {"text": "抢修中", "expected_end_at": "0001-01-01T00:00:00+08:00"},
    )
    # then
    assert api.status_code == 422
    incident.refresh_from_db()
    assert incident.updates.count() == before and incident.expected_end_at is None


def test_a_time_in_range_is_kept(centre, client):
    client.force_login(centre["supervisor"])
    page = client.post(
        "/incidents/declare/",
        {
            "title": "朝阳区大面积停电",
            "severity": "major",
            "areas": "朝阳区",
            "public_text": "朝阳区部分区域停电，抢修中。",
            "started_at": "2026-12-03T08:00",
        },
    )
    assert page.status_code == 302
    started = Incident.objects.get().started_at
    assert started == dt.datetime(2026, 12, 3, 0, 0, tzinfo=dt.UTC)
