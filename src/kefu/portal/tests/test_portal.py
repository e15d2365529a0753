import re

import pytest
from django.urls import reverse

from kefu.accounts.models import User
from kefu.core.permissions import Role
from kefu.customers.models import Customer
from kefu.testing.factories import PASSWORD, make_customer, make_portal_user, make_user

pytestmark = pytest.mark.django_db


def test_customers_sign_in_by_email_or_mobile(client):
    customer = make_customer("张三")
    user = make_portal_user(customer, email="zs@example.com")
    User.objects.filter(pk=user.pk).update(phone="+8613800138000")
    for login in ("zs@example.com", "138 0013 8000"):
        client.logout()
        response = client.post(reverse("portal:login"), {"login": login, "password": PASSWORD})
        assert response.status_code == 302, login
        assert client.session["_auth_user_id"] == str(user.pk)


def test_staff_cannot_sign_in_to_the_portal(client):
    make_user(Role.AGENT_L1, email="agent@example.com")
    response = client.post(
        reverse("portal:login"), {"login": "agent@example.com", "password": PASSWORD}
    )
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_sign_up_creates_a_customer_and_its_account(client):
    response = client.post(
        reverse("portal:register"),
        {
            "name": "新用户",
            "email": "new@example.com",
            "phone": "13500135000",
            "password": "Portal-pass-2026",
            "password2": "Portal-pass-2026",
        },
    )
    assert response.status_code == 302
    user = User.objects.get(email="new@example.com")
    assert user.role == Role.CUSTOMER
    assert user.customer.name == "新用户"
    assert sorted(user.customer.contacts.values_list("normalized", flat=True)) == [
        "+8613500135000",
        "new@example.com",
    ]
    assert client.get(reverse("portal:home")).status_code == 200


def test_a_refused_sign_up_writes_nothing(client):
    make_portal_user(email="taken@example.com")
    before = (Customer.objects.count(), User.objects.count())
    for data in (
        {
            "name": "x",
            "email": "taken@example.com",
            "password": "Portal-pass-2026",
            "password2": "Portal-pass-2026",
        },
        {
            "name": "x",
            "email": "ok@example.com",
            "phone": "123",
            "password": "Portal-pass-2026",
            "password2": "Portal-pass-2026",
        },
        {"name": "x", "email": "ok2@example.com", "password": "123", "password2": "123"},
    ):
        assert client.post(reverse("portal:register"), data).status_code == 200
    assert (Customer.objects.count(), User.objects.count()) == before


def test_one_time_sign_in_link_over_real_smtp(
    client, smtp_server, django_capture_on_commit_callbacks
):
    user = make_portal_user(email="link@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("portal:login_link_request"), {"email": "link@example.com"})
    body = smtp_server.wait(1)[0]["message"].get_content()
    link = re.search(r"http://testserver(/portal/login/link/\S+/)", body).group(1)
    assert client.get(link).status_code == 200  # a confirmation page; GET does not sign in
    assert "_auth_user_id" not in client.session
    assert client.post(link).status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)
    client.logout()
    assert client.post(link).status_code == 400  # used up


def test_portal_shows_only_the_signed_in_customers_own_details(client):
    mine = make_customer("我自己", account="0700000001")
    make_customer("别人", account="0700000002")
    client.force_login(make_portal_user(mine))
    home = client.get(reverse("portal:home")).content.decode()
    assert "0700000001" in home and "0700000002" not in home
    profile = client.get(reverse("portal:profile")).content.decode()
    assert "我自己" in profile and "别人" not in profile


def test_staff_are_sent_from_the_portal_to_their_workspace(client):
    client.force_login(make_user(Role.AGENT_L1))
    assert client.get(reverse("portal:home"))["Location"] == "/"
