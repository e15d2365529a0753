"""Who sees the customers who asked for a requirement: a planner sees requirements but not
customers, and neither does a token without ``customers:read``."""

import pytest
from django.utils import translation

from kefu.accounts.services import create_api_token
from kefu.core.permissions import Role
from kefu.requirements import services
from kefu.testing.factories import ApiClient, make_customer, make_user

NAME = "欧阳娜娜"


def _hidden() -> str:
    """ "A customer" as the screens and the API say it (in the centre's language)."""
    with translation.override("zh-hans"):
        return translation.gettext("A customer")


@pytest.fixture
def asked(centre):
    customer = make_customer(NAME, phone="13900139000")
    requirement = services.create_requirement(
        actor=centre["supervisor"], title="电子发票", kind="functional", customer=customer
    )
    return requirement, customer


def test_a_planner_sees_the_requirement_but_not_who_asked(centre, client, asked):
    # given
    requirement, customer = asked
    client.force_login(make_user(Role.PLANNER, username="planner"))
    # when
    page = client.get(f"/requirements/{requirement.pk}/")
    # then
    assert page.status_code == 200
    html = page.content.decode()
    assert "电子发票" in html and _hidden() in html
    assert NAME not in html and f"/customers/{customer.pk}/" not in html


def test_a_supervisor_still_sees_who_asked(centre, client, asked):
    requirement, customer = asked
    client.force_login(centre["supervisor"])
    html = client.get(f"/requirements/{requirement.pk}/").content.decode()
    assert NAME in html and f"/customers/{customer.pk}/" in html


def test_the_api_gives_who_asked_only_to_who_may_see_customers(centre, asked):
    # given
    requirement, customer = asked
    boss = centre["supervisor"]
    _t, narrow = create_api_token(actor=boss, user=boss, name="board", scopes=["requirements:read"])
    _t, wide = create_api_token(
        actor=boss, user=boss, name="crm", scopes=["requirements:read", "customers:read"]
    )
    path = f"requirements/{requirement.pk}"
    # when
    as_planner = ApiClient(make_user(Role.PLANNER, username="planner")).get(path)
    as_narrow = ApiClient(token=narrow).get(path)
    as_wide = ApiClient(token=wide).get(path)
    # then
    assert as_planner.status_code == as_narrow.status_code == as_wide.status_code == 200
    for hidden in (as_planner, as_narrow):
        assert [(s["customer_id"], s["label"]) for s in hidden.json()["sources"]] == [
            (None, _hidden())
        ]
        assert NAME not in hidden.content.decode()
    assert [(s["customer_id"], s["label"]) for s in as_wide.json()["sources"]] == [
        (customer.pk, NAME)
    ]
