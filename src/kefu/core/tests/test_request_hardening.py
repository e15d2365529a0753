"""Bad requests get a 4xx that says what is wrong, and nothing is written."""

from __future__ import annotations

import os
import socket
import stat
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from kefu.accounts.models import ApiToken
from kefu.accounts.services import create_api_token, set_password
from kefu.core.models import Event
from kefu.customers.models import Customer
from kefu.testing.factories import ApiClient, make_customer, make_portal_user, make_ticket
from kefu.tickets.models import Attachment, Ticket

pytestmark = pytest.mark.django_db


def _error(response):
    return response.json()["error"]


# --- sizes -----------------------------------------------------------------------------------


def test_a_json_body_over_the_form_limit_is_a_413_not_a_500(centre):
    # given
    api = ApiClient(user=centre["agent"])
    before = Ticket.objects.count()
    # when
    huge = '{"title": "' + "电" * 1_000_000 + '", "type": "fault"}'
    response = api.post("tickets", raw=huge)
    # then
    assert response.status_code == 413
    assert _error(response)["code"] == "too_large"
    assert "MB" in _error(response)["message"]
    assert Ticket.objects.count() == before


def test_an_upload_over_the_request_limit_is_refused_before_its_body_is_read(asgi_server, settings):
    # given: a server that takes at most 1 MB per request
    settings.KEFU_MAX_REQUEST_BYTES = 1024 * 1024
    # when: a client announces 60 MB and sends only the headers and a first chunk
    with socket.create_connection(("127.0.0.1", asgi_server.port), timeout=10) as conn:
        conn.sendall(
            b"POST /api/v1/tickets/1/attachments HTTP/1.1\r\n"
            b"Host: 127.0.0.1\r\n"
            b"Content-Type: multipart/form-data; boundary=xyz\r\n"
            b"Content-Length: 62914560\r\n\r\n" + b"x" * 65536
        )
        # then: the answer comes at once, without waiting for the other 59.9 MB
        started = time.monotonic()
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
        head = answer.decode("utf-8", "replace")
    assert head.startswith("HTTP/1.1 413"), head[:200]
    assert "60.0 MB" in head and "1.0 MB" in head
    assert time.monotonic() - started < 5
    assert Attachment.objects.count() == 0


def test_an_upload_within_the_limit_is_stored_readable_by_the_owner_only(centre):
    # given
    ticket = make_ticket(actor=centre["agent"])
    client = Client()
    client.force_login(centre["agent"])
    old_umask = os.umask(0o022)
    try:
        # when
        response = client.post(
            f"/api/v1/tickets/{ticket.number}/attachments",
            {"file": SimpleUploadedFile("现场照片.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 64)},
        )
    finally:
        os.umask(old_umask)
    # then
    assert response.status_code == 201, response.content
    stored = Attachment.objects.get()
    mode = stat.S_IMODE(os.stat(stored.file.path).st_mode)
    assert mode & 0o007 == 0, oct(mode)
    assert stat.S_IMODE(os.stat(os.path.dirname(stored.file.path)).st_mode) & 0o007 == 0


# --- what the body is --------------------------------------------------------------------------


def test_a_text_plain_body_is_a_415_even_when_it_holds_json(centre):
    client = Client()
    client.force_login(centre["agent"])
    before = Ticket.objects.count()
    response = client.post(
        "/api/v1/tickets", '{"title": "停电", "type": "fault"}', content_type="text/plain"
    )
    assert response.status_code == 415
    assert "application/json" in _error(response)["message"]
    assert Ticket.objects.count() == before


def test_duplicate_json_keys_are_refused(centre):
    api = ApiClient(user=centre["agent"])
    before = Ticket.objects.count()
    response = api.post("tickets", raw='{"title": "停电", "type": "fault", "title": "改了"}')
    assert response.status_code == 400
    assert "title" in _error(response)["message"]
    assert Ticket.objects.count() == before


def test_a_repeated_query_parameter_is_refused_not_overwritten(centre):
    api = ApiClient(user=centre["agent"])
    response = api.client.get("/api/v1/tickets?priority=1&priority=4")
    assert response.status_code == 400
    assert "priority" in _error(response)["message"]
    # a parameter that takes a list still takes several values
    assert api.client.get("/api/v1/tickets?status=new&status=assigned").status_code == 200


# --- ids ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "customers/9223372036854775808",
        "customers/99999999999999999999999",
        "teams/9223372036854775808",
        "tickets/99999999999999999999999",
        "tickets/³",
    ],
)
def test_ids_past_64_bits_or_not_ascii_are_a_4xx(centre, path):
    response = ApiClient(user=centre["admin"]).get(path)
    assert response.status_code in (404, 422), response.content
    assert _error(response)["message"]


def test_true_and_huge_numbers_are_not_ids_in_bodies(centre):
    # given
    admin = centre["admin"]
    api = ApiClient(user=admin)
    from kefu.accounts.models import User

    users_before = User.objects.count()
    # when / then
    for payload in (
        {"title": "停电", "type": "fault", "team_id": True},
        {"title": "停电", "type": "fault", "customer_id": 2**63},
        {"title": "停电", "type": "fault", "priority": True},
    ):
        response = api.post("tickets", payload)
        assert response.status_code == 422, (payload, response.content)
    article = api.post("kb/articles", {"title": "电费", "body": "正文", "category_id": 2**63})
    assert article.status_code == 422
    user = api.post(
        "users",
        {
            "username": "newbie",
            "display_name": "新人",
            "role": "agent_l1",
            "team_ids": [2**64],
        },
    )
    assert user.status_code == 422
    assert Ticket.objects.count() == 0
    assert User.objects.count() == users_before


# --- who may set what --------------------------------------------------------------------------


def test_a_customer_cannot_set_priority_severity_or_tags(centre):
    # given
    portal_user = make_portal_user(email="wang@example.com")
    api = ApiClient(user=portal_user)
    # when
    for extra in ({"priority": 1}, {"severity": "down"}, {"tags": ["VIP"]}):
        response = api.post("tickets", {"title": "家里停电", "type": "fault", **extra})
        # then
        assert response.status_code == 422, response.content
        field = next(iter(extra))
        assert field in _error(response)["fields"]
    assert Ticket.objects.count() == 0
    # and without them the customer's request goes through
    assert api.post("tickets", {"title": "家里停电", "type": "fault"}).status_code == 201


def test_a_title_with_a_line_break_is_refused(centre):
    api = ApiClient(user=centre["agent"])
    response = api.post("tickets", {"title": "停电\r\nBcc: all@example.com", "type": "fault"})
    assert response.status_code == 422
    assert "title" in _error(response)["fields"]
    assert Ticket.objects.count() == 0


# --- tokens --------------------------------------------------------------------------------------


def test_a_bad_bearer_token_is_refused_even_with_a_valid_session(centre):
    # given: a signed-in browser session
    client = Client()
    client.force_login(centre["agent"])
    assert client.get("/api/v1/tickets").status_code == 200
    # when the same request carries a wrong token
    response = client.get("/api/v1/tickets", headers={"Authorization": "Bearer kefu_bad_token"})
    # then
    assert response.status_code == 401


def test_a_password_change_revokes_every_api_token(centre):
    # given
    agent = centre["agent"]
    _token, raw = create_api_token(actor=agent, user=agent, name="脚本", scopes=["tickets:read"])
    api = ApiClient(token=raw)
    assert api.get("tickets").status_code == 200
    # when
    set_password(user=agent, new_password="A-new-password-2026", action="password_changed")
    # then
    assert api.get("tickets").status_code == 401
    assert ApiToken.objects.get().revoked_at is not None
    assert Event.objects.filter(action="api_tokens_revoked", object_id=agent.pk).count() == 1


# --- rate limit ------------------------------------------------------------------------------------


def test_the_api_answers_429_with_retry_after_past_the_limit(centre, settings):
    # given
    settings.KEFU_API_RATE_LIMIT = 3
    api = ApiClient(user=centre["agent"])
    # when
    answers = [api.get("tickets") for _ in range(4)]
    # then
    assert [r.status_code for r in answers] == [200, 200, 200, 429]
    assert [r["RateLimit-Remaining"] for r in answers] == ["2", "1", "0", "0"]
    assert answers[0]["RateLimit-Limit"] == "3"
    last = answers[-1]
    assert 1 <= int(last["Retry-After"]) <= 60
    assert _error(last)["code"] == "throttled"
    # another caller has a window of its own
    assert ApiClient(user=centre["agent2"]).get("tickets").status_code == 200


# --- exports --------------------------------------------------------------------------------------


def test_csv_cells_that_would_run_as_formulas_are_written_as_text():
    import io

    from kefu.core.exports import SafeCsvWriter

    out = io.StringIO()
    SafeCsvWriter(out).writerow(
        ['=HYPERLINK("http://evil","点此")', "+1", "-2+3", "@SUM(A1)", "普通", 42, -7, None]
    )
    assert out.getvalue().strip() == (
        '"\'=HYPERLINK(""http://evil"",""点此"")",\'+1,\'-2+3,\'@SUM(A1),普通,42,-7,'
    )


def test_the_sla_breach_export_neutralises_formulas_in_titles(centre):
    # given: a breached work order whose title a customer wrote as a formula
    import datetime as dt

    from django.utils import timezone

    from kefu.sla.models import SlaClock

    ticket = make_ticket(actor=centre["agent"], title='=HYPERLINK("http://evil","点此")')
    clock = SlaClock.objects.filter(ticket=ticket).first()
    assert clock is not None
    SlaClock.objects.filter(pk=clock.pk).update(
        breached_at=timezone.now(), due_at=timezone.now() - dt.timedelta(hours=1)
    )
    client = Client()
    client.force_login(centre["supervisor"])
    # when
    body = client.get("/sla/breaches.csv").content.decode("utf-8-sig")
    # then
    assert "'=HYPERLINK" in body
    assert ",=HYPERLINK" not in body and '"=HYPERLINK' not in body


# --- headers and schema ---------------------------------------------------------------------------


def test_production_over_https_sends_hsts():
    import subprocess
    import sys

    env = {
        **os.environ,
        "KEFU_ENV": "production",
        "KEFU_DATABASE_URL": "postgres://kefu@127.0.0.1:5432/kefu",
        "KEFU_REDIS_URL": "redis://127.0.0.1:6379/0",
        "KEFU_SECRET_KEY": "x" * 50,
        "KEFU_ALLOWED_HOSTS": "kefu.example.com",
        "DJANGO_SETTINGS_MODULE": "kefu.config.settings",
    }
    code = "from django.conf import settings as s; print(s.SECURE_HSTS_SECONDS)"
    out = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); " + code],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "31536000"


def test_hsts_is_sent_over_https_when_configured(settings, centre):
    settings.SECURE_HSTS_SECONDS = 31536000
    client = Client()
    assert "Strict-Transport-Security" not in client.get("/login/")
    answer = client.get("/login/", secure=True)
    assert answer["Strict-Transport-Security"] == "max-age=31536000"


def test_made_up_tokens_count_against_the_address_and_spare_the_real_token(centre, settings):
    # given
    settings.KEFU_API_RATE_LIMIT = 3
    agent = centre["agent"]
    token, raw = create_api_token(actor=agent, user=agent, name="IVR", scopes=["tickets:read"])
    # when: someone who knows the token's public prefix sends made-up secrets
    for n in range(4):
        forged = ApiClient(token=f"kefu_{token.prefix}_forged{n}").get(
            "tickets", REMOTE_ADDR="203.0.113.9"
        )
    # then: those count against their address, which is now over the limit ...
    assert forged.status_code == 429
    # ... and the real integration still has its whole window
    real = ApiClient(token=raw).get("tickets")
    assert real.status_code == 200 and real["RateLimit-Remaining"] == "2"


def test_every_schema_name_in_the_openapi_document_is_one_model():
    from kefu.config.api import api

    seen: dict[str, type] = {}
    clashes = []
    for _prefix, router in api._routers:
        for path_view in router.path_operations.values():
            for operation in path_view.operations:
                models = [m for m in operation.models]
                responses = operation.response_models.values()
                for model in [*models, *responses]:
                    for sub in _models_in(model):
                        if seen.setdefault(sub.__name__, sub) is not sub:
                            clashes.append(sub.__name__)
    assert clashes == []


def _models_in(model):
    import typing

    from pydantic import BaseModel

    found = []
    stack = [model]
    while stack:
        current = stack.pop()
        if isinstance(current, type) and issubclass(current, BaseModel):
            if current in found:
                continue
            found.append(current)
            stack.extend(f.annotation for f in current.model_fields.values())
        else:
            stack.extend(typing.get_args(current))
    return [m for m in found if m.__module__.startswith("kefu.")]


def test_customer_events_match_their_schema(centre):
    customer = make_customer("李娜")
    response = ApiClient(user=centre["admin"]).get(f"customers/{customer.pk}/events")
    assert response.status_code == 200
    from kefu.config.api import api

    schema = api.get_openapi_schema()
    ok = schema["paths"]["/api/v1/customers/{customer_id}/events"]["get"]["responses"][200]
    ref = ok["content"]["application/json"]["schema"]["items"]["$ref"]
    component = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]
    for row in response.json():
        assert set(component["required"]) <= set(row)
    assert Customer.objects.filter(pk=customer.pk).exists()


# --- screens ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/users/99999999999999999999/",
        "/tickets/files/9223372036854775808/",
        "/tickets/?assignee=³&team=99999999999999999999",
        "/users/?team=³",
        "/audit/?actor=99999999999999999999&object_id=³",
        "/sla/calendars/{calendar}/?weeks=³",
    ],
)
def test_screens_with_odd_ids_are_not_server_errors(centre, url):
    from kefu.sla.models import BusinessCalendar

    url = url.format(calendar=BusinessCalendar.objects.values_list("pk", flat=True).first())
    client = Client()
    client.force_login(centre["admin"])
    assert client.get(url).status_code in (200, 302, 404)


def test_every_url_names_records_with_the_bounded_id_converter():
    from django.urls import URLPattern, URLResolver, get_resolver
    from django.urls.converters import IntConverter

    def walk(patterns, prefix=""):
        for entry in patterns:
            converters = getattr(entry.pattern, "converters", {})
            for name, converter in converters.items():
                if isinstance(converter, IntConverter):
                    yield f"{prefix}{entry.pattern} ({name})"
            if isinstance(entry, URLResolver):
                yield from walk(entry.url_patterns, f"{prefix}{entry.pattern}")
            else:
                assert isinstance(entry, URLPattern)

    assert list(walk(get_resolver().url_patterns)) == []


def test_a_notification_titled_with_a_line_break_is_still_mailed_on_one_line(
    centre, mailoutbox, django_capture_on_commit_callbacks
):
    from kefu.core.notifications import notify

    agent = centre["agent"]
    agent.email = "agent@example.com"
    agent.save(update_fields=["email"])
    with django_capture_on_commit_callbacks(execute=True):
        notify([agent], kind="ticket", title="工单 JC001\n已转派给您", email=True)
    assert [m.subject for m in mailoutbox] == ["工单 JC001 已转派给您"]


@pytest.mark.parametrize(
    ("method", "url", "data"),
    [
        ("get", "/tickets/new/?customer=³", None),
        ("get", "/tickets/new/?customer=99999999999999999999", None),
    ],
)
def test_desk_forms_with_odd_ids_are_not_server_errors(centre, method, url, data):
    client = Client()
    client.force_login(centre["supervisor"])
    response = getattr(client, method)(url, data or {})
    assert response.status_code < 500


def test_a_nul_character_in_a_query_or_a_json_string_is_a_400(centre):
    api = ApiClient(user=centre["admin"])
    assert api.client.get("/api/v1/organizations?q=%00abc").status_code == 400
    assert Client().get("/login/?next=%00").status_code == 400
    response = api.post("tickets", raw='{"title": "停电\\u0000", "type": "fault"}')
    assert response.status_code == 400
    assert "NUL" in _error(response)["message"]
    assert Ticket.objects.count() == 0
