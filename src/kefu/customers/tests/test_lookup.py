"""The 受理 customer lookup: a phone number typed the way Kefu shows it, or any other way
people write it, finds the customer whose number is stored in E.164."""

import pytest
from django.urls import reverse

from kefu.core.permissions import Role
from kefu.customers.selectors import phone_query
from kefu.testing.factories import make_customer, make_user

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("07168251639", ("+867168251639", "7168251639")),
        ("0716-825 1639", ("+867168251639", "7168251639")),
        ("(0716)8251639", ("+867168251639", "7168251639")),
        ("（０７１６）８２５１６３９", ("+867168251639", "7168251639")),
        ("+86 716 825 1639", ("+867168251639", "7168251639")),
        ("0086 716 8251639", ("+867168251639", "7168251639")),
        ("138 1234 5678", ("+8613812345678", "13812345678")),
        ("+86 138-1234-5678", ("+8613812345678", "13812345678")),
        ("0716825", ("", "716825")),  # a part: digits without the trunk 0
        ("8251639", ("", "8251639")),
        ("+86 716", ("", "716")),
        ("00007", ("", "00007")),  # no trunk 0 before an area code: kept
    ],
)
def test_phone_query_reads_every_way_of_writing_a_number(typed, expected):
    assert phone_query(typed) == expected


def _lookup(client, q):
    response = client.get(reverse("customers:lookup"), {"q": q})
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize(
    "typed",
    ["07168251639", "0716-8251639", "+86 716 825 1639", "(0716) 825-1639", "8251639", "0716825"],
)
def test_a_landline_as_kefu_shows_it_finds_the_customer(client, typed):
    # given a customer whose landline is stored as +867168251639 and another one
    make_customer("荆州王芳", phone="0716-8251639")
    make_customer("武汉李强", phone="027-87654321")
    client.force_login(make_user(Role.AGENT_L1))
    # when the agent types the number
    page = _lookup(client, typed)
    # then exactly that customer is offered
    assert "荆州王芳" in page
    assert "武汉李强" not in page


def test_a_mobile_in_any_format_finds_the_customer_and_a_wrong_number_nothing(client):
    make_customer("赵六", phone="13700137000")
    client.force_login(make_user(Role.AGENT_L1))
    for typed in ("13700137000", "137 0013 7000", "+86 137-0013-7000", "8613700137000"):
        assert "赵六" in _lookup(client, typed), typed
    assert 'data-testid="lookup-results"' not in _lookup(client, "13700137001")
