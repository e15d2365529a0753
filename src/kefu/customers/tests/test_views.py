import pytest
from django.urls import reverse

from kefu.core.permissions import Role
from kefu.customers.models import Customer
from kefu.testing.factories import make_customer, make_portal_user, make_user

pytestmark = pytest.mark.django_db

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_agents_find_create_and_edit_customers(client):
    agent = make_user(Role.AGENT_L1)
    client.force_login(agent)
    make_customer("赵六", phone="13700137000", account="0733333333")
    listed = client.get(reverse("customers:list"), {"q": "13700137000"})
    assert listed.status_code == 200
    assert "赵六" in listed.content.decode()
    created = client.post(
        reverse("customers:create"),
        {
            "kind": "person",
            "name": "钱七",
            "language": "zh-hans",
            "phone": "13600136000",
            "account_number": "0744444444",
            "tags": "老年用户，独居老人",
        },
    )
    assert created.status_code == 302
    customer = Customer.objects.get(name="钱七")
    assert sorted(customer.tags.values_list("name", flat=True)) == ["独居老人", "老年用户"]
    detail = client.get(reverse("customers:detail", args=[customer.pk]))
    assert detail.status_code == 200
    assert "0744444444" in detail.content.decode()
    edited = client.post(
        reverse("customers:edit", args=[customer.pk]),
        {
            "kind": "person",
            "name": "钱七",
            "language": "zh-hans",
            "address": "北城区",
            "version": customer.version,
        },
    )
    assert edited.status_code == 302
    customer.refresh_from_db()
    assert customer.address == "北城区"


def test_the_edit_form_reports_a_conflicting_change(client):
    agent = make_user(Role.AGENT_L1)
    client.force_login(agent)
    customer = make_customer("孙八")
    stale = customer.version
    client.post(
        reverse("customers:edit", args=[customer.pk]),
        {"kind": "person", "name": "孙八", "language": "zh-hans", "address": "A", "version": stale},
    )
    response = client.post(
        reverse("customers:edit", args=[customer.pk]),
        {"kind": "person", "name": "孙八", "language": "zh-hans", "address": "B", "version": stale},
    )
    assert response.status_code == 200
    customer.refresh_from_db()
    assert customer.address == "A"


def test_invalid_phone_on_the_form_is_shown_and_nothing_saved(client):
    client.force_login(make_user(Role.AGENT_L1))
    response = client.post(
        reverse("customers:create"),
        {"kind": "person", "name": "周九", "language": "zh-hans", "phone": "12"},
    )
    assert response.status_code == 200
    assert "12" in response.content.decode()
    assert not Customer.objects.filter(name="周九").exists()


def test_customer_text_is_escaped_on_every_screen(client):
    client.force_login(make_user(Role.ADMIN))
    customer = make_customer(XSS, address=XSS)
    for url in (
        reverse("customers:list"),
        reverse("customers:detail", args=[customer.pk]),
        reverse("customers:merge", args=[customer.pk]),
    ):
        html = client.get(url).content.decode()
        assert "<script>alert" not in html and "onerror=alert" not in html.replace(
            "onerror=alert(1)&gt;", ""
        )
        assert "&lt;script&gt;alert" in html


@pytest.mark.parametrize("role", [Role.PLANNER, Role.LIAISON])
def test_staff_without_customer_rights_get_403(client, role):
    client.force_login(make_user(role))
    customer = make_customer()
    assert client.get(reverse("customers:list")).status_code == 403
    assert client.get(reverse("customers:detail", args=[customer.pk])).status_code == 404


def test_portal_customers_cannot_open_staff_customer_pages(client):
    mine = make_customer("我")
    other = make_customer("别人")
    client.force_login(make_portal_user(mine))
    assert client.get(reverse("customers:list")).status_code == 403
    assert client.get(reverse("customers:detail", args=[other.pk])).status_code == 404
    assert (
        client.post(reverse("customers:note_add", args=[other.pk]), {"note-body": "x"}).status_code
        == 404
    )
    assert (
        client.post(reverse("customers:note_add", args=[mine.pk]), {"note-body": "x"}).status_code
        == 403
    )
    assert not other.notes.exists() and not mine.notes.exists()


def test_merge_screen_flow(client):
    client.force_login(make_user(Role.SUPERVISOR))
    target = make_customer("张三", phone="13800138000")
    source = make_customer("张三", phone="13800138000", account="0755555555")
    page = client.get(reverse("customers:merge", args=[target.pk]))
    assert f"?source={source.pk}" in page.content.decode()  # suggested duplicate
    assert (
        client.get(reverse("customers:merge", args=[target.pk]), {"source": source.pk}).status_code
        == 200
    )
    done = client.post(reverse("customers:merge", args=[target.pk]), {"source": source.pk})
    assert done.status_code == 302
    source.refresh_from_db()
    assert source.merged_into_id == target.pk


def test_invite_to_portal_sends_a_sign_in_link(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(make_user(Role.AGENT_L1))
    customer = make_customer("吴十")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("customers:invite", args=[customer.pk]), {"invite-email": "wushi@example.com"}
        )
    assert response.status_code == 302
    assert customer.portal_users.get().email == "wushi@example.com"
    assert len(mailoutbox) == 1 and "/portal/login/link/" in mailoutbox[0].body
