"""Demo customers: 500 households and organisations of 江城市 with phones, e-mails, 户号 and tiers."""

from __future__ import annotations

import datetime as dt
from typing import Any

from kefu.accounts.models import User
from kefu.core import demo_names as names
from kefu.core import events
from kefu.core.demo import DEMO_PASSWORD, DemoContext, seeder
from kefu.core.models import Event
from kefu.core.permissions import Role
from kefu.core.validation import normalize_phone
from kefu.customers.models import AccountNumber, ContactPoint, Customer, CustomerNote, Tag, VipTier

TIERS = [
    (
        "special",
        "特级重要用户",
        3,
        600,
        "#b22222",
        "医院、地铁、机场、公安等中断供电将危及生命或公共安全的用户",
    ),
    ("first", "一级重要用户", 2, 300, "#d2691e", "中断供电将造成重大经济损失或社会影响的用户"),
    ("second", "二级重要用户", 1, 120, "#b8860b", "中断供电将造成较大损失的用户、长期病患家庭等"),
]
TAGS = [
    "老年用户",
    "独居老人",
    "重复来电",
    "敏感用户",
    "光伏用户",
    "充电桩用户",
    "欠费提醒",
    "媒体关注",
    "孕婴家庭",
    "听障用户",
]
NOTES = [
    "客户耳背，通话时请放慢语速、提高音量。",
    "客户家中有长期卧床病人，停电需提前电话告知。",
    "客户多次反映电表走字快，已安排校验，结果正常。",
    "客户对上次抢修到达时间不满意，回访时注意安抚。",
    "客户希望只通过短信联系，白天不方便接电话。",
    "该户为分布式光伏并网用户，上网电量每月结算。",
    "客户为小区业委会主任，代表业主反映问题较多。",
]


def _account_number(rng: Any, used: set[str]) -> str:
    while True:
        number = "07" + "".join(rng.choice("0123456789") for _ in range(8))
        if number not in used:
            used.add(number)
            return number


@seeder(20)
def seed_customers(ctx: DemoContext) -> None:
    rng = ctx.rng
    total = max(20, int(500 * ctx.scale))
    tiers = {
        code: VipTier.objects.create(
            code=code, name=name, rank=rank, priority_weight=weight, color=color, description=desc
        )
        for code, name, rank, weight, color, desc in TIERS
    }
    tags = {name: Tag.objects.create(name=name) for name in TAGS}
    used_accounts: set[str] = set()
    used_phones: set[str] = set()

    customers: list[Customer] = []
    contacts: list[tuple[int, ContactPoint]] = []
    accounts: list[tuple[int, AccountNumber]] = []
    tag_links: list[tuple[int, Tag]] = []
    org_of: dict[int, int] = {}

    def when() -> dt.datetime:
        return ctx.now - dt.timedelta(days=rng.uniform(30, 900), seconds=rng.randint(0, 86399))

    def add_phone(index: int, number: str, label: str, primary: bool) -> None:
        normalized = normalize_phone(number)
        if normalized in used_phones:
            return
        used_phones.add(normalized)
        contacts.append(
            (
                index,
                ContactPoint(
                    kind="phone",
                    value=number,
                    normalized=normalized,
                    label=label,
                    is_primary=primary,
                ),
            )
        )

    orgs = names.ORGANIZATIONS[: max(5, min(len(names.ORGANIZATIONS), int(70 * ctx.scale)))]
    for org_name, industry, tier in orgs:
        created = when()
        address, _kind = names.address(rng)
        index = len(customers)
        customers.append(
            Customer(
                kind=Customer.Kind.ORGANIZATION,
                name=org_name,
                industry=industry,
                credit_code=_credit_code(rng),
                vip_tier=tiers[tier] if tier else None,
                address=address.split("号")[0] + "号",
                created_at=created,
                updated_at=created,
            )
        )
        add_phone(index, names.landline(rng), "总机", True)
        for k in range(rng.randint(1, 3)):
            accounts.append(
                (
                    index,
                    AccountNumber(
                        number=_account_number(rng, used_accounts),
                        label=["主厂区", "办公楼", "宿舍区"][k],
                        address=address,
                        created_at=created,
                    ),
                )
            )
        slug = f"org{index}"
        contacts.append(
            (
                index,
                ContactPoint(
                    kind="email",
                    value=f"{slug}@corp.example.cn",
                    normalized=f"{slug}@corp.example.cn",
                    is_primary=True,
                ),
            )
        )

    org_indexes = list(range(len(customers)))
    while len(customers) < total:
        name, s_py, g_py = names.person_name(rng)
        created = when()
        address, kind = names.address(rng)
        index = len(customers)
        roll = rng.random()
        person_tier = tiers["second"] if roll < 0.04 else None
        customers.append(
            Customer(
                kind=Customer.Kind.PERSON,
                name=name,
                vip_tier=person_tier,
                address=address,
                created_at=created,
                updated_at=created,
            )
        )
        add_phone(index, names.mobile(rng), "手机", True)
        if rng.random() < 0.25:
            add_phone(index, names.landline(rng), "住宅", False)
        if rng.random() < 0.45:
            email = f"{g_py}.{s_py}{rng.randint(1, 999)}@{rng.choice(['example.com', 'example.cn', 'example.net'])}"
            contacts.append(
                (index, ContactPoint(kind="email", value=email, normalized=email, is_primary=True))
            )
        if rng.random() < 0.15:
            wechat = f"wx_{g_py}{rng.randint(10, 9999)}"
            contacts.append(
                (
                    index,
                    ContactPoint(
                        kind="wechat", value=wechat, normalized=wechat.lower(), is_primary=True
                    ),
                )
            )
        accounts.append(
            (
                index,
                AccountNumber(
                    number=_account_number(rng, used_accounts),
                    label="住宅",
                    address=address,
                    created_at=created,
                ),
            )
        )
        if rng.random() < 0.08:
            accounts.append(
                (
                    index,
                    AccountNumber(
                        number=_account_number(rng, used_accounts),
                        label="商铺",
                        address=address,
                        created_at=created,
                    ),
                )
            )
        if rng.random() < 0.1 and org_indexes:
            org_of[index] = rng.choice(org_indexes)
        for tag in rng.sample(list(tags.values()), k=rng.choice([0, 0, 0, 1, 1, 2])):
            tag_links.append((index, tag))

    created_customers = Customer.objects.bulk_create(customers)
    for index, org_index in org_of.items():
        created_customers[index].organization = created_customers[org_index]
    Customer.objects.bulk_update([created_customers[i] for i in org_of], ["organization"])
    for index, point in contacts:
        point.customer = created_customers[index]
    ContactPoint.objects.bulk_create([p for _i, p in contacts])
    for index, row in accounts:
        row.customer = created_customers[index]
    AccountNumber.objects.bulk_create([a for _i, a in accounts])
    through = Customer.tags.through
    through.objects.bulk_create(
        [through(customer_id=created_customers[i].pk, tag_id=t.pk) for i, t in tag_links]
    )
    note_rows = []
    for customer in rng.sample(
        created_customers, k=min(len(created_customers), int(60 * ctx.scale) + 3)
    ):
        note_rows.append(
            CustomerNote(
                customer=customer,
                author=rng.choice(ctx.data.get("agents") or [None]),
                body=rng.choice(NOTES),
                is_pinned=rng.random() < 0.3,
                created_at=customer.created_at + dt.timedelta(days=rng.uniform(1, 20)),
            )
        )
    CustomerNote.objects.bulk_create(note_rows)
    Event.objects.bulk_create(
        [
            Event(
                at=c.created_at,
                actor=None,
                actor_label=events.SYSTEM_LABEL,
                action="customer_created",
                object_type="customer",
                object_id=c.pk,
                object_repr=c.name,
                changes={"name": [None, c.name], "kind": [None, c.kind]},
                data={"imported": True},
                source="cli",
            )
            for c in created_customers
        ]
    )

    # A portal customer to sign in with.
    demo_customer = next(c for c in created_customers if c.kind == Customer.Kind.PERSON)
    portal_email = "customer@example.com"
    ContactPoint.objects.get_or_create(
        customer=demo_customer,
        kind="email",
        normalized=portal_email,
        defaults={"value": portal_email},
    )
    portal_user = User(
        username="c-demo",
        display_name=demo_customer.name,
        role=Role.CUSTOMER,
        email=portal_email,
        customer=demo_customer,
        language="zh-hans",
    )
    portal_user.set_password(DEMO_PASSWORD)
    portal_user.save()
    events.record(
        "user_created", portal_user, actor=None, data={"demo": True, "customer": demo_customer.pk}
    )
    ctx.data.update(
        {
            "customers": created_customers,
            "tiers": tiers,
            "tags": tags,
            "portal_customer": demo_customer,
            "portal_user": portal_user,
        }
    )
    ctx.accounts.append(
        (str(Role.CUSTOMER.label), f"{portal_email} ({demo_customer.name})", DEMO_PASSWORD)
    )


_CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def _credit_code(rng: Any) -> str:
    return (
        "91"
        + "".join(rng.choice("0123456789") for _ in range(6))
        + "".join(rng.choice(_CODE_CHARS) for _ in range(10))
    )
