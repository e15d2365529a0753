import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from kefu.core.models import Event
from kefu.core.permissions import Role
from kefu.core.validation import Conflict
from kefu.customers import services
from kefu.customers.models import AccountNumber, ContactPoint, Customer, CustomerNote, Tag
from kefu.testing.factories import make_customer, make_portal_user, make_tier, make_user

pytestmark = pytest.mark.django_db


def _counts():
    return (
        Customer.objects.count(),
        ContactPoint.objects.count(),
        AccountNumber.objects.count(),
        Event.objects.count(),
        Tag.objects.count(),
    )


def test_create_stores_normalised_contacts_accounts_tags_and_an_event():
    agent = make_user(Role.AGENT_L1)
    customer = services.create_customer(
        actor=agent,
        name=" 张三 ",
        contacts=[
            services.ContactInput("phone", "138-0013-8000"),
            services.ContactInput("phone", "027 8765 4321", label="住宅"),
            services.ContactInput("email", "ZhangSan@Example.COM"),
        ],
        accounts=[services.AccountInput("0712345678", label="住宅")],
        tags=["老年用户"],
        note="耳背，请放慢语速",
    )
    assert customer.name == "张三"
    phones = list(customer.contacts.filter(kind="phone").values_list("normalized", "is_primary"))
    assert phones == [("+8613800138000", True), ("+862787654321", False)]
    assert customer.contacts.get(kind="email").normalized == "zhangsan@example.com"
    assert list(customer.accounts.values_list("number", flat=True)) == ["0712345678"]
    assert list(customer.tags.values_list("name", flat=True)) == ["老年用户"]
    assert customer.notes.get().body == "耳背，请放慢语速"
    event = Event.objects.get(action="customer_created", object_id=customer.pk)
    assert event.actor_id == agent.pk
    assert event.changes["name"] == [None, "张三"]
    assert event.changes["accounts"] == [None, ["0712345678"]]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "x", "contacts": [services.ContactInput("phone", "12")]}, "contacts"),
        ({"name": "x", "contacts": [services.ContactInput("email", "a@")]}, "contacts"),
        ({"name": "x", "contacts": [services.ContactInput("fax", "1")]}, "contacts"),
        ({"name": "x", "accounts": [services.AccountInput("12")]}, "accounts"),
        ({"name": "x", "vip_tier": 9999}, "vip_tier"),
        ({"name": "x", "organization": 9999}, "organization"),
        ({"name": "x", "kind": "robot"}, "kind"),
        ({"name": "x", "kind": "organization", "credit_code": "123"}, "credit_code"),
    ],
)
def test_invalid_input_names_the_field_and_writes_nothing(kwargs, field):
    agent = make_user(Role.AGENT_L1)
    before = _counts()
    with pytest.raises(ValidationError) as info:
        services.create_customer(actor=agent, **kwargs)
    assert field in info.value.message_dict
    assert _counts() == before


def test_an_account_number_belongs_to_one_customer():
    agent = make_user(Role.AGENT_L1)
    make_customer("李四", account="0712345678")
    with pytest.raises(ValidationError, match="李四"):
        services.create_customer(
            actor=agent, name="王五", accounts=[services.AccountInput("0712345678")]
        )
    assert not Customer.objects.filter(name="王五").exists()


def test_roles_without_customer_rights_are_refused():
    for role in (Role.QA, Role.PLANNER, Role.LIAISON, Role.CUSTOMER):
        with pytest.raises(PermissionDenied):
            services.create_customer(actor=make_user(role), name="x")
    assert not Customer.objects.filter(name="x").exists()


def test_a_change_based_on_stale_data_is_a_conflict_and_changes_nothing():
    agent_a, agent_b = make_user(Role.AGENT_L1), make_user(Role.AGENT_L1)
    customer = make_customer("张三", address="旧地址")
    version = customer.version
    services.update_customer(
        actor=agent_a, customer=customer, changes={"address": "新地址A"}, expected_version=version
    )
    with pytest.raises(Conflict) as info:
        services.update_customer(
            actor=agent_b,
            customer=customer,
            changes={"address": "新地址B"},
            expected_version=version,
        )
    assert info.value.current_version == version + 1
    customer.refresh_from_db()
    assert customer.address == "新地址A"
    assert Event.objects.filter(action="customer_changed", object_id=customer.pk).count() == 1


def test_update_records_before_and_after():
    agent = make_user(Role.AGENT_L1)
    tier = make_tier()
    customer = make_customer("张三")
    services.update_customer(
        actor=agent, customer=customer, changes={"vip_tier": tier.pk, "tags": ["光伏用户"]}
    )
    event = Event.objects.get(action="customer_changed", object_id=customer.pk)
    assert event.changes == {"vip_tier": [None, tier.pk], "tags": [[], ["光伏用户"]]}


def test_merge_moves_everything_and_loses_nothing():
    # given
    supervisor = make_user(Role.SUPERVISOR)
    gold, silver = make_tier("gold", "金卡", 2), make_tier("silver", "银卡", 1)
    target = make_customer("张三", phone="13800138000", vip_tier=silver)
    source = make_customer(
        "张三",
        phone="13800138000",
        email="zs@example.com",
        account="0711111111",
        address="东湖区1号",
        vip_tier=gold,
    )
    source.tags.add(Tag.objects.create(name="重复来电"))
    CustomerNote.objects.create(customer=source, body="老客户")
    portal = make_portal_user(source)
    # when
    merged = services.merge_customers(actor=supervisor, source=source, target=target)
    # then
    source.refresh_from_db()
    assert (source.is_active, source.merged_into_id) == (False, target.pk)
    assert sorted(merged.contacts.values_list("normalized", flat=True)) == [
        "+8613800138000",
        "zs@example.com",
    ]
    assert list(merged.accounts.values_list("number", flat=True)) == ["0711111111"]
    assert list(merged.tags.values_list("name", flat=True)) == ["重复来电"]
    assert merged.notes.filter(body="老客户").exists()
    assert merged.address == "东湖区1号"
    assert merged.vip_tier_id == gold.pk
    portal.refresh_from_db()
    assert portal.customer_id == target.pk
    assert not source.contacts.exists() and not source.accounts.exists()
    event = Event.objects.get(action="customer_merged", object_id=target.pk)
    assert event.data["source"] == source.pk
    assert (
        event.data["moved"]["contacts"] == 1 and event.data["moved"]["contacts_deduplicated"] == 1
    )
    assert Event.objects.filter(action="customer_merged_away", object_id=source.pk).exists()


def test_merge_refuses_odd_pairs():
    supervisor = make_user(Role.SUPERVISOR)
    person = make_customer("张三")
    org = make_customer("江城钢铁", kind="organization")
    with pytest.raises(ValidationError):
        services.merge_customers(actor=supervisor, source=person, target=person)
    with pytest.raises(ValidationError):
        services.merge_customers(actor=supervisor, source=person, target=org)
    other = make_customer("张三")
    services.merge_customers(actor=supervisor, source=other, target=person)
    with pytest.raises(ValidationError):
        services.merge_customers(actor=supervisor, source=other, target=person)
    with pytest.raises(PermissionDenied):
        services.merge_customers(
            actor=make_user(Role.AGENT_L1), source=make_customer("a"), target=make_customer("b")
        )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "pk", ["99999999999999999999", 2**63, "-1", "0", "1e3", "³", "", None, True, 10**30]
)
def test_access_customer_answers_404_for_ids_that_are_not_a_stored_row(pk):
    from django.http import Http404

    from kefu.customers.access import access_customer

    make_customer()
    with pytest.raises(Http404):
        access_customer(make_user(role=Role.SUPERVISOR), pk)


@pytest.mark.django_db
def test_access_customer_takes_an_id_as_a_number_or_as_text():
    from kefu.customers.access import access_customer

    customer = make_customer()
    user = make_user(role=Role.SUPERVISOR)
    assert access_customer(user, customer.pk) == customer
    assert access_customer(user, f" {customer.pk} ") == customer
