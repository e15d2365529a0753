"""/api/v1: customers, organisations, contact points, account numbers, notes, merge."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import Http404, HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field

from kefu.accounts.models import User
from kefu.core.api_base import Input, Out
from kefu.core.permissions import require_perm
from kefu.core.validation import BodyId, PathId
from kefu.customers import selectors, services
from kefu.customers.access import access_customer, visible_customers
from kefu.customers.models import Customer, Tag, VipTier

router = Router(tags=["customers"])

ContactKind = Literal["phone", "email", "wechat", "qq", "im"]


class TierOut(Out):
    id: int
    code: str
    name: str
    rank: int
    priority_weight: int


class OrgRef(Out):
    id: int
    name: str


class ContactOut(Out):
    id: int
    kind: str
    value: str
    normalized: str
    label: str
    is_primary: bool


class AccountOut(Out):
    id: int
    number: str
    label: str
    address: str


class CustomerOut(Out):
    id: int
    kind: str
    name: str
    organization: OrgRef | None
    credit_code: str
    industry: str
    vip_tier: TierOut | None
    address: str
    language: str
    tags: list[str]
    contacts: list[ContactOut]
    accounts: list[AccountOut]
    is_active: bool
    merged_into: int | None
    created_at: dt.datetime
    updated_at: dt.datetime
    version: int


def _detail(user: Any, pk: int) -> dict[str, Any]:
    """One customer as the API shows it, if ``user`` may see it (else 404)."""
    found = selectors.customer_dicts([pk], base=visible_customers(user))
    if not found:
        raise Http404
    return found[0]


class CustomerPage(Out):
    items: list[CustomerOut]
    next_cursor: str | None


class CustomerFilterIn(Schema):
    q: str = Field(
        "",
        max_length=100,
        description="Name, any part of a phone number, e-mail, or account number",
    )
    kind: Literal["person", "organization"] | None = None
    vip_tier: str | None = Field(None, max_length=30, description="Tier code, or 'any' / 'none'")
    tag: str | None = Field(None, max_length=40)
    organization: PathId | None = None
    active: bool | None = True
    created_after: dt.datetime | None = None
    created_before: dt.datetime | None = None
    sort: str = Field(
        "-updated_at", description="id, name, created_at, updated_at; prefix - for descending"
    )
    cursor: str | None = None
    limit: int = Field(50, ge=1, le=200)


def _list(request: HttpRequest, f: CustomerFilterIn, kind: str | None = None) -> dict[str, Any]:
    filters = selectors.CustomerFilters(
        q=f.q,
        kind=kind or f.kind,
        vip_tier=f.vip_tier,
        tag=f.tag,
        organization=f.organization,
        active=f.active,
        created_after=f.created_after,
        created_before=f.created_before,
    )
    ids, next_cursor = selectors.page_ids(
        request.user, filters, sort=f.sort, cursor=f.cursor, limit=f.limit
    )
    return {"items": selectors.customer_dicts(ids), "next_cursor": next_cursor}


@router.get(
    "/customers", response=CustomerPage, summary="List customers (persons and organisations)"
)
def list_customers(request: HttpRequest, filters: Query[CustomerFilterIn]) -> dict[str, Any]:
    return _list(request, filters)


@router.get("/customers/{customer_id}", response=CustomerOut, summary="One customer")
def get_customer(request: HttpRequest, customer_id: PathId) -> dict[str, Any]:
    return _detail(request.user, customer_id)


class ContactIn(Input):
    kind: ContactKind
    value: str = Field(..., min_length=1, max_length=120)
    label: str = Field("", max_length=30)
    is_primary: bool = False


class AccountIn(Input):
    number: str = Field(..., min_length=6, max_length=20)
    label: str = Field("", max_length=40)
    address: str = Field("", max_length=200)


class CustomerCreate(Input):
    name: str = Field(..., min_length=1, max_length=100)
    kind: Literal["person", "organization"] = "person"
    organization_id: BodyId | None = None
    credit_code: str = Field("", max_length=18)
    industry: str = Field("", max_length=60)
    vip_tier_id: BodyId | None = None
    address: str = Field("", max_length=200)
    language: Literal["zh-hans", "en"] = "zh-hans"
    contacts: list[ContactIn] = Field([], max_length=20)
    accounts: list[AccountIn] = Field([], max_length=20)
    tags: list[str] = Field([], max_length=20)
    note: str = Field("", max_length=4000)


def _create(request: HttpRequest, payload: CustomerCreate, kind: str | None = None) -> Status[Any]:
    actor = request.user
    assert isinstance(actor, User)
    customer = services.create_customer(
        actor=actor,
        name=payload.name,
        kind=kind or payload.kind,
        organization=payload.organization_id,
        credit_code=payload.credit_code,
        industry=payload.industry,
        vip_tier=payload.vip_tier_id,
        address=payload.address,
        language=payload.language,
        contacts=[services.ContactInput(**c.model_dump()) for c in payload.contacts],
        accounts=[services.AccountInput(**a.model_dump()) for a in payload.accounts],
        tags=payload.tags,
        note=payload.note,
    )
    return Status(201, _detail(actor, customer.pk))


@router.post("/customers", response={201: CustomerOut}, summary="Create a customer")
def create_customer(request: HttpRequest, payload: CustomerCreate) -> Status[Any]:
    return _create(request, payload)


class CustomerUpdate(Input):
    version: int | None = Field(
        None, description="The version you read; a stale one gets 409 Conflict"
    )
    name: str | None = Field(None, min_length=1, max_length=100)
    kind: Literal["person", "organization"] | None = None
    organization_id: BodyId | None = None
    credit_code: str | None = Field(None, max_length=18)
    industry: str | None = Field(None, max_length=60)
    vip_tier_id: BodyId | None = None
    address: str | None = Field(None, max_length=200)
    language: Literal["zh-hans", "en"] | None = None
    is_active: bool | None = None
    tags: list[str] | None = Field(None, max_length=20)
    contacts: list[ContactIn] | None = Field(
        None, max_length=20, description="Replaces all contact points"
    )
    accounts: list[AccountIn] | None = Field(
        None, max_length=20, description="Replaces all account numbers"
    )


_RENAMES = {"organization_id": "organization", "vip_tier_id": "vip_tier"}


def _update(request: HttpRequest, customer_id: PathId, payload: CustomerUpdate) -> dict[str, Any]:
    actor = request.user
    assert isinstance(actor, User)
    customer = access_customer(actor, customer_id, perm="customers.edit")
    data = payload.model_dump(exclude_unset=True, exclude={"version", "contacts", "accounts"})
    for field in (
        "name",
        "kind",
        "credit_code",
        "industry",
        "address",
        "language",
        "is_active",
        "tags",
    ):
        if field in data and data[field] is None:
            data.pop(field)
    changes = {_RENAMES.get(k, k): v for k, v in data.items()}
    services.update_customer(
        actor=actor,
        customer=customer,
        changes=changes,
        expected_version=payload.version,
        contacts=[services.ContactInput(**c.model_dump()) for c in payload.contacts]
        if payload.contacts is not None
        else None,
        accounts=[services.AccountInput(**a.model_dump()) for a in payload.accounts]
        if payload.accounts is not None
        else None,
    )
    return _detail(actor, customer_id)


@router.patch("/customers/{customer_id}", response=CustomerOut, summary="Change a customer")
def update_customer(
    request: HttpRequest, customer_id: PathId, payload: CustomerUpdate
) -> dict[str, Any]:
    return _update(request, customer_id, payload)


@router.delete("/customers/{customer_id}", response={204: None}, summary="Archive a customer")
def archive_customer(request: HttpRequest, customer_id: PathId) -> Status[Any]:
    actor = request.user
    assert isinstance(actor, User)
    customer = access_customer(actor, customer_id, perm="customers.delete")
    services.update_customer(actor=actor, customer=customer, changes={"is_active": False})
    return Status(204, None)


@router.post(
    "/customers/{customer_id}/contacts", response={201: CustomerOut}, summary="Add a contact point"
)
def add_contact(request: HttpRequest, customer_id: PathId, payload: ContactIn) -> Status[Any]:
    actor = request.user
    assert isinstance(actor, User)
    customer = access_customer(actor, customer_id, perm="customers.edit")
    services.add_contact(
        actor=actor, customer=customer, contact=services.ContactInput(**payload.model_dump())
    )
    return Status(201, _detail(actor, customer_id))


@router.delete(
    "/customers/{customer_id}/contacts/{contact_id}",
    response=CustomerOut,
    summary="Remove a contact point",
)
def remove_contact(request: HttpRequest, customer_id: PathId, contact_id: PathId) -> dict[str, Any]:
    actor = request.user
    assert isinstance(actor, User)
    customer = access_customer(actor, customer_id, perm="customers.edit")
    services.remove_contact(actor=actor, customer=customer, contact_id=contact_id)
    return _detail(actor, customer_id)


@router.post(
    "/customers/{customer_id}/accounts",
    response={201: CustomerOut},
    summary="Add an account number (户号)",
)
def add_account(request: HttpRequest, customer_id: PathId, payload: AccountIn) -> Status[Any]:
    actor = request.user
    assert isinstance(actor, User)
    customer = access_customer(actor, customer_id, perm="customers.edit")
    services.add_account_number(
        actor=actor, customer=customer, account=services.AccountInput(**payload.model_dump())
    )
    return Status(201, _detail(actor, customer_id))


@router.delete(
    "/customers/{customer_id}/accounts/{account_id}",
    response=CustomerOut,
    summary="Remove an account number",
)
def remove_account(request: HttpRequest, customer_id: PathId, account_id: PathId) -> dict[str, Any]:
    actor = request.user
    assert isinstance(actor, User)
    customer = access_customer(actor, customer_id, perm="customers.edit")
    services.remove_account_number(actor=actor, customer=customer, account_id=account_id)
    return _detail(actor, customer_id)


class NoteIn(Input):
    body: str = Field(..., min_length=1, max_length=4000)
    pinned: bool = False


class NoteOut(Out):
    id: int
    body: str
    is_pinned: bool
    author: str | None
    created_at: dt.datetime


def note_out(note: Any) -> dict[str, Any]:
    return {
        "id": note.pk,
        "body": note.body,
        "is_pinned": note.is_pinned,
        "author": note.author.display_label if note.author else None,
        "created_at": note.created_at,
    }


@router.get("/customers/{customer_id}/notes", response=list[NoteOut], summary="A customer's notes")
def list_notes(request: HttpRequest, customer_id: PathId) -> list[dict[str, Any]]:
    customer = access_customer(request.user, customer_id)
    require_perm(request.user, "customers.view")
    return [note_out(n) for n in selectors.customer_notes(customer)]


@router.post("/customers/{customer_id}/notes", response={201: NoteOut}, summary="Add a note")
def add_note(request: HttpRequest, customer_id: PathId, payload: NoteIn) -> Status[Any]:
    actor = request.user
    assert isinstance(actor, User)
    customer = access_customer(actor, customer_id, perm="customers.edit")
    note = services.add_note(
        actor=actor, customer=customer, body=payload.body, pinned=payload.pinned
    )
    return Status(201, note_out(note))


class CustomerMergeIn(Input):
    source_id: BodyId = Field(..., description="The duplicate to fold into this customer")


@router.post(
    "/customers/{customer_id}/merge",
    response=CustomerOut,
    summary="Merge a duplicate into this customer",
)
def merge(request: HttpRequest, customer_id: PathId, payload: CustomerMergeIn) -> dict[str, Any]:
    actor = request.user
    assert isinstance(actor, User)
    target = access_customer(actor, customer_id, perm="customers.merge")
    source = access_customer(actor, payload.source_id, perm="customers.merge")
    services.merge_customers(actor=actor, source=source, target=target)
    return _detail(actor, customer_id)


class CustomerEventOut(Out):
    id: int
    at: dt.datetime
    actor: str
    action: str
    changes: dict[str, Any]
    data: dict[str, Any]
    source: str


@router.get(
    "/customers/{customer_id}/events",
    response=list[CustomerEventOut],
    summary="A customer's change history",
)
def customer_events(request: HttpRequest, customer_id: PathId) -> list[dict[str, Any]]:
    customer = access_customer(request.user, customer_id)
    require_perm(request.user, "customers.view")
    return [
        {
            "id": e.pk,
            "at": e.at,
            "actor": e.actor_label,
            "action": e.action,
            "changes": e.changes,
            "data": e.data,
            "source": e.source,
        }
        for e in selectors.customer_events(customer)
    ]


# --- organisations: the same records, kind=organization ---------------------------------------


class OrgFilterIn(CustomerFilterIn):
    kind: None = Field(None, exclude=True)


@router.get("/organizations", response=CustomerPage, summary="List organisations")
def list_organizations(request: HttpRequest, filters: Query[OrgFilterIn]) -> dict[str, Any]:
    return _list(request, filters, kind=Customer.Kind.ORGANIZATION)


def _org(user: Any, pk: int, perm: str = "customers.view") -> Customer:
    customer = access_customer(user, pk, perm=perm)
    if customer.kind != Customer.Kind.ORGANIZATION:
        raise Http404
    return customer


@router.get("/organizations/{org_id}", response=CustomerOut, summary="One organisation")
def get_organization(request: HttpRequest, org_id: PathId) -> dict[str, Any]:
    _org(request.user, org_id)
    return _detail(request.user, org_id)


class OrgCreate(CustomerCreate):
    kind: Literal["organization"] = "organization"
    organization_id: None = None


@router.post("/organizations", response={201: CustomerOut}, summary="Create an organisation")
def create_organization(request: HttpRequest, payload: OrgCreate) -> Status[Any]:
    return _create(request, payload, kind=Customer.Kind.ORGANIZATION)


@router.patch("/organizations/{org_id}", response=CustomerOut, summary="Change an organisation")
def update_organization(
    request: HttpRequest, org_id: PathId, payload: CustomerUpdate
) -> dict[str, Any]:
    _org(request.user, org_id, perm="customers.edit")
    return _update(request, org_id, payload)


@router.delete("/organizations/{org_id}", response={204: None}, summary="Archive an organisation")
def archive_organization(request: HttpRequest, org_id: PathId) -> Status[Any]:
    _org(request.user, org_id, perm="customers.delete")
    return archive_customer(request, org_id)


@router.get("/vip-tiers", response=list[TierOut], summary="VIP tiers")
def list_tiers(request: HttpRequest) -> list[VipTier]:
    require_perm(request.user, "customers.view")
    return list(VipTier.objects.filter(is_active=True))


@router.get("/tags", response=list[str], summary="Customer tags in use")
def list_tags(request: HttpRequest) -> list[str]:
    require_perm(request.user, "customers.view")
    return list(Tag.objects.values_list("name", flat=True))
