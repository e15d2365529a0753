"""Sign-in throttling per account and per real client, without letting anyone lock an agent out;
throttled account mails whose request does the same work for known and unknown addresses."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kefu.accounts import services
from kefu.core.middleware import client_ip
from kefu.testing.factories import PASSWORD, make_portal_user, make_user

pytestmark = pytest.mark.django_db


def _login(client: Client, login: str, password: str = PASSWORD, ip: str = "10.0.0.1"):
    return client.post(
        reverse("accounts:login"), {"login": login, "password": password}, REMOTE_ADDR=ip
    )


def _signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_failures_from_one_address_do_not_lock_the_agent_out_elsewhere():
    # given: someone guesses lina's password from one address
    make_user(username="lina")
    attacker = Client()
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        _login(attacker, "lina", "guess-guess", ip="203.0.113.9")
    # then: that address may not try lina any more, even with the right password
    _login(attacker, "lina", ip="203.0.113.9")
    assert not _signed_in(attacker)
    # but lina, from her own desk, signs in
    desk = Client()
    assert _login(desk, "lina", ip="10.1.1.20").status_code == 302
    assert _signed_in(desk)


def test_a_guess_from_many_addresses_stops_new_devices_but_not_the_owners_browser():
    # given: lina signed in on her desk browser before (it holds the device cookie)
    make_user(username="lina")
    desk = Client()
    assert _login(desk, "lina", ip="10.1.1.20").status_code == 302
    assert services.DEVICE_COOKIE in desk.cookies
    desk.post(reverse("accounts:logout"))  # signs out; the device cookie stays
    # when: a distributed guess, a few tries from each of many addresses
    attacker = Client()
    for n in range(settings.LOGIN_ACCOUNT_FAILURE_LIMIT):
        _login(attacker, "lina", "guess-guess", ip=f"198.51.100.{n % 250 + 1}")
    # then: an unknown device with the right password is held back ...
    stranger = Client()
    _login(stranger, "lina", ip="10.1.1.99")
    assert not _signed_in(stranger)
    # ... while lina's own browser still signs in
    assert _login(desk, "lina", ip="10.1.1.20").status_code == 302
    assert _signed_in(desk)


def test_a_known_device_is_throttled_on_its_own_failures():
    make_user(username="lina")
    desk = Client()
    _login(desk, "lina", ip="10.1.1.20")
    desk.post(reverse("accounts:logout"))  # signs out; the device cookie stays
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        _login(desk, "lina", "typo-typo", ip="10.1.1.20")
    _login(desk, "lina", ip="10.1.1.20")
    assert not _signed_in(desk)
    # another of her colleagues on the same office address is not affected
    make_user(username="wang")
    colleague = Client()
    assert _login(colleague, "wang", ip="10.1.1.20").status_code == 302


def test_a_device_cookie_of_another_account_counts_for_nothing():
    make_user(username="lina")
    make_user(username="wang")
    desk = Client()
    _login(desk, "wang", ip="10.1.1.20")
    desk.post(reverse("accounts:logout"))  # signs out; the device cookie stays
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        _login(desk, "lina", "guess-guess", ip="10.1.1.20")
    _login(desk, "lina", ip="10.1.1.20")
    assert not _signed_in(desk)


# --- the client's address behind a proxy -----------------------------------------------------


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        ("127.0.0.1", "192.0.2.7", "192.0.2.7"),  # through the trusted proxy
        ("127.0.0.1", "6.6.6.6, 192.0.2.7", "192.0.2.7"),  # a forged left-most hop is ignored
        ("203.0.113.5", "192.0.2.7", "203.0.113.5"),  # anyone else's header is ignored
        ("127.0.0.1", "not-an-address", "127.0.0.1"),
        ("127.0.0.1", "", "127.0.0.1"),
    ],
)
def test_the_client_address_trusts_forwarded_for_only_from_the_proxy(
    settings, peer, forwarded, expected
):
    import ipaddress

    settings.KEFU_TRUSTED_PROXIES = (ipaddress.ip_network("127.0.0.1/32"),)
    request = RequestFactory().get("/", REMOTE_ADDR=peer, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


def test_without_a_configured_proxy_forwarded_for_is_ignored(settings):
    settings.KEFU_TRUSTED_PROXIES = ()
    request = RequestFactory().get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="192.0.2.7")
    assert client_ip(request) == "127.0.0.1"


def test_sign_in_throttling_keys_on_the_real_client_behind_the_proxy(settings):
    import ipaddress

    settings.KEFU_TRUSTED_PROXIES = (ipaddress.ip_network("127.0.0.1/32"),)
    make_user(username="lina")
    attacker = Client()
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        attacker.post(
            reverse("accounts:login"),
            {"login": "lina", "password": "guess-guess"},
            REMOTE_ADDR="127.0.0.1",
            HTTP_X_FORWARDED_FOR="203.0.113.9",
        )
    desk = Client()
    response = desk.post(
        reverse("accounts:login"),
        {"login": "lina", "password": PASSWORD},
        REMOTE_ADDR="127.0.0.1",
        HTTP_X_FORWARDED_FOR="10.1.1.20",
    )
    assert response.status_code == 302


# --- password-reset and sign-in-link mails ----------------------------------------------------


def _reset(client: Client, email: str, ip: str = "10.0.0.1"):
    return client.post(reverse("accounts:password_reset"), {"email": email}, REMOTE_ADDR=ip)


def test_a_reset_request_does_the_same_work_for_known_and_unknown_addresses(
    django_capture_on_commit_callbacks,
):
    # given
    make_user(username="lina", email="lina@example.com")
    runs = {}
    for email in ("lina@example.com", "nobody@example.com"):
        # when
        with (
            CaptureQueriesContext(connection) as queries,
            django_capture_on_commit_callbacks() as callbacks,
        ):
            response = _reset(Client(), email, ip=f"10.0.0.{len(runs) + 1}")
        runs[email] = (response.status_code, len(callbacks), [q["sql"] for q in queries])
    # then: same answer, one queued job each, and no query of the accounts in the request
    known, unknown = runs.values()
    assert known[:2] == unknown[:2] == (302, 1)
    assert len(known[2]) == len(unknown[2])
    assert not any("accounts_user" in sql for sql in known[2] + unknown[2])


def test_reset_mails_to_one_address_are_capped_per_hour(
    mailoutbox, django_capture_on_commit_callbacks
):
    make_user(username="lina", email="lina@example.com")
    for n in range(settings.ACCOUNT_MAIL_RECIPIENT_LIMIT + 3):
        with django_capture_on_commit_callbacks(execute=True):
            response = _reset(Client(), "lina@example.com", ip=f"10.0.1.{n + 1}")
        assert response.status_code == 302  # the page says the same every time
    assert len(mailoutbox) == settings.ACCOUNT_MAIL_RECIPIENT_LIMIT


def test_reset_requests_from_one_address_are_capped_with_a_message(mailoutbox):
    client = Client()
    answers = [
        _reset(client, f"user{n}@example.com", ip="203.0.113.9").status_code
        for n in range(settings.ACCOUNT_MAIL_ADDRESS_LIMIT + 1)
    ]
    assert answers[:-1] == [302] * settings.ACCOUNT_MAIL_ADDRESS_LIMIT
    assert answers[-1] == 200
    last = _reset(client, "again@example.com", ip="203.0.113.9").content.decode()
    assert "Too many requests" in last or "请求过多" in last


def test_portal_sign_in_links_are_capped_per_recipient(
    mailoutbox, django_capture_on_commit_callbacks
):
    make_portal_user(email="kehu@example.com")
    for n in range(settings.ACCOUNT_MAIL_RECIPIENT_LIMIT + 2):
        with django_capture_on_commit_callbacks(execute=True):
            Client().post(
                reverse("portal:login_link_request"),
                {"email": "kehu@example.com"},
                REMOTE_ADDR=f"10.0.2.{n + 1}",
            )
    assert len(mailoutbox) == settings.ACCOUNT_MAIL_RECIPIENT_LIMIT


def test_every_spelling_of_a_login_counts_against_one_account():
    # given: lina can sign in by user name, employee number or e-mail, in any case
    make_user(username="lina", employee_no="A1001", email="lina@example.com")
    attacker = Client()
    spellings = ["lina", "LINA", "A1001", "lina@example.com", "Lina@Example.com"]
    for login in spellings[: settings.LOGIN_FAILURE_LIMIT]:
        _login(attacker, login, "guess-guess", ip="203.0.113.9")
    # then: the address is held back for lina whichever way it types her name
    _login(attacker, " lina ", ip="203.0.113.9")
    assert not _signed_in(attacker)


def test_a_new_password_forgets_the_devices_the_old_one_knew():
    from kefu.accounts.models import User

    make_user(username="lina")
    desk = Client()
    _login(desk, "lina", ip="10.1.1.20")
    desk.post(reverse("accounts:logout"))
    services.set_password(user=User.objects.get(username="lina"), new_password="Brand-new-2026!")
    attacker = Client()
    for n in range(settings.LOGIN_ACCOUNT_FAILURE_LIMIT):
        _login(attacker, "lina", "guess-guess", ip=f"198.51.100.{n % 250 + 1}")
    # the cookie was issued under the old password: this browser is unknown now
    _login(desk, "lina", "Brand-new-2026!", ip="10.1.1.20")
    assert not _signed_in(desk)


def test_a_shared_desk_browser_remembers_several_agents():
    make_user(username="lina")
    make_user(username="wang")
    desk = Client()
    for name in ("lina", "wang"):
        _login(desk, name, ip="10.1.1.20")
        desk.post(reverse("accounts:logout"))
    attacker = Client()
    for n in range(settings.LOGIN_ACCOUNT_FAILURE_LIMIT):
        _login(attacker, "lina", "guess-guess", ip=f"198.51.100.{n % 250 + 1}")
    assert _login(desk, "lina", ip="10.1.1.20").status_code == 302


def test_ipv6_addresses_of_one_subscriber_share_a_counter():
    make_user(username="lina")
    attacker = Client()
    for n in range(settings.LOGIN_FAILURE_LIMIT):
        _login(attacker, "lina", "guess-guess", ip=f"2001:db8:1:2::{n + 1:x}")
    _login(attacker, "lina", ip="2001:db8:1:2::ffff")
    assert not _signed_in(attacker)
    assert _login(Client(), "lina", ip="2001:db8:9:9::1").status_code == 302


def test_inside_a_trusted_network_the_first_hop_is_the_client(settings):
    import ipaddress

    settings.KEFU_TRUSTED_PROXIES = (
        ipaddress.ip_network("127.0.0.1/32"),
        ipaddress.ip_network("10.0.0.0/8"),
    )
    request = RequestFactory().get(
        "/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="10.1.1.20, 10.0.0.2"
    )
    assert client_ip(request) == "10.1.1.20"


def test_the_served_stack_does_not_take_the_client_address_from_forwarded_for(asgi_server):
    # given: Kefu served by uvicorn with no trusted proxy (the default)
    import httpx

    make_user(username="lina")

    def attempt(forwarded: str, password: str) -> httpx.Response:
        with httpx.Client(base_url=asgi_server.url) as http:
            http.get("/login/")
            return http.post(
                "/login/",
                data={
                    "login": "lina",
                    "password": password,
                    "csrfmiddlewaretoken": http.cookies["csrftoken"],
                },
                headers={"X-Forwarded-For": forwarded, "Referer": f"{asgi_server.url}/login/"},
            )

    # when: five wrong passwords, each claiming another address
    for n in range(settings.LOGIN_FAILURE_LIMIT):
        attempt(f"192.0.2.{n + 1}", "guess-guess")
    # then: a sixth claimed address does not reset the count: the right password is held back
    answer = attempt("192.0.2.99", PASSWORD)
    assert answer.status_code == 200
    assert "Too many failed attempts" in answer.text or "尝试次数过多" in answer.text


def test_the_server_runs_uvicorn_without_its_proxy_header_handling():
    from kefu.cli import uvicorn_options

    assert uvicorn_options()["proxy_headers"] is False
