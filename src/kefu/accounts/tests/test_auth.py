import re

import pytest
from django.conf import settings
from django.db import IntegrityError
from django.urls import reverse

from kefu.accounts.models import User
from kefu.core.models import Event
from kefu.core.permissions import Role
from kefu.testing.factories import PASSWORD, make_portal_user, make_user

pytestmark = pytest.mark.django_db


def _login(client, login, password=PASSWORD, next_url=""):
    return client.post(
        reverse("accounts:login") + (f"?next={next_url}" if next_url else ""),
        {"login": login, "password": password, "next": next_url},
    )


@pytest.mark.parametrize("field", ["username", "employee_no", "email"])
def test_staff_sign_in_by_user_name_employee_number_or_email(client, field):
    user = make_user(Role.AGENT_L1, username="lina", employee_no="A1001", email="lina@example.com")
    response = _login(client, getattr(user, field))
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.session["_auth_user_id"] == str(user.pk)
    assert Event.objects.filter(action="user_logged_in", object_id=user.pk).count() == 1


def test_wrong_password_is_refused_and_recorded(client):
    user = make_user(username="lina")
    response = _login(client, "lina", "wrong-password")
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert Event.objects.filter(action="login_failed", object_id=user.pk).count() == 1


def test_customers_and_deactivated_staff_cannot_use_the_staff_sign_in(client):
    portal = make_portal_user(email="kehu@example.com")
    gone = make_user(username="gone", is_active=False)
    assert _login(client, portal.email).status_code == 200
    assert _login(client, "gone").status_code == 200
    assert "_auth_user_id" not in client.session
    assert gone.pk  # still there, just inactive


def test_repeated_failures_lock_the_account_for_a_while(client):
    make_user(username="lina")
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        _login(client, "lina", "nope-nope")
    response = _login(client, "lina", PASSWORD)
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert (
        "Too many failed attempts" in response.content.decode()
        or "尝试次数过多" in response.content.decode()
    )


def test_next_parameter_only_redirects_within_the_site(client):
    make_user(username="lina")
    assert _login(client, "lina", next_url="/customers/")["Location"] == "/customers/"
    client.logout()
    assert _login(client, "lina", next_url="https://evil.example.com/")["Location"] == "/"


def test_passwords_are_stored_with_argon2():
    from kefu.config import settings as production_settings

    assert (
        production_settings.PASSWORD_HASHERS[0]
        == "django.contrib.auth.hashers.Argon2PasswordHasher"
    )
    user = make_user()
    assert user.password.startswith("argon2$argon2id$")


def test_password_change_checks_the_old_one_and_records_an_event(client):
    user = make_user(username="lina")
    client.force_login(user)
    bad = client.post(
        reverse("accounts:password_change"),
        {
            "pw-old_password": "wrong",
            "pw-new_password": "Brand-new-2026",
            "pw-new_password2": "Brand-new-2026",
        },
    )
    assert bad.status_code == 200
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    ok = client.post(
        reverse("accounts:password_change"),
        {
            "pw-old_password": PASSWORD,
            "pw-new_password": "Brand-new-2026",
            "pw-new_password2": "Brand-new-2026",
        },
    )
    assert ok.status_code == 302
    user.refresh_from_db()
    assert user.check_password("Brand-new-2026")
    event = Event.objects.get(action="password_changed", object_id=user.pk)
    assert "password" not in event.changes and "argon2" not in str(event.data)


def test_weak_new_passwords_are_refused(client):
    user = make_user()
    client.force_login(user)
    response = client.post(
        reverse("accounts:password_change"),
        {
            "pw-old_password": PASSWORD,
            "pw-new_password": "12345678",
            "pw-new_password2": "12345678",
        },
    )
    assert response.status_code == 200
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_password_reset_by_e_mailed_link_over_real_smtp(
    client, smtp_server, django_capture_on_commit_callbacks
):
    # given
    user = make_user(username="lina", email="lina@example.com")
    # when: the mail is a background job, sent once the request's transaction commits
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("accounts:password_reset"), {"email": "LINA@example.com"})
    # then
    assert response.status_code == 302
    messages = smtp_server.wait(1)
    assert len(messages) == 1 and messages[0]["to"] == ["lina@example.com"]
    body = messages[0]["message"].get_content()
    link = re.search(r"http://testserver(/password/reset/\S+/)", body).group(1)
    assert client.get(link).status_code == 200
    done = client.post(
        link, {"new_password": "Reset-pass-2026", "new_password2": "Reset-pass-2026"}
    )
    assert done.status_code == 302
    user.refresh_from_db()
    assert user.check_password("Reset-pass-2026")
    # the link works once
    assert client.get(link).status_code == 400
    assert Event.objects.filter(action="password_reset", object_id=user.pk).exists()


def test_password_reset_for_an_unknown_address_says_the_same_and_sends_nothing(client, smtp_server):
    response = client.post(
        reverse("accounts:password_reset"), {"email": "nobody@example.com"}, follow=True
    )
    assert response.status_code == 200
    assert smtp_server.messages == []


def test_sessions_expire_after_the_idle_time(client):
    user = make_user()
    client.force_login(user)
    assert client.get("/").status_code == 200
    session = client.session
    session.set_expiry(-1)
    session.save()
    response = client.get("/customers/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_logout_needs_post(client):
    user = make_user()
    client.force_login(user)
    assert client.get(reverse("accounts:logout")).status_code == 405
    assert client.post(reverse("accounts:logout")).status_code == 302
    assert "_auth_user_id" not in client.session


def test_unique_email_across_accounts():
    make_user(email="same@example.com")
    with pytest.raises(IntegrityError):
        User.objects.create(
            username="other", display_name="x", email="SAME@example.com", role=Role.AGENT_L1
        )
