"""Customer rules: create, change, contact points, account numbers, notes, merge, portal access."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.models import User
from kefu.core import events
from kefu.core.permissions import Role, require_perm
from kefu.core.validation import Conflict, clean_text, normalize_email, normalize_phone
from kefu.customers.models import (
    AccountNumber,
    ContactPoint,
    Customer,
    CustomerNote,
    Tag,
    VipTier,
)

CUSTOMER_FIELDS = (
    "kind",
    "name",
    "organization",
    "credit_code",
    "industry",
    "vip_tier",
    "address",
    "language",
    "is_active",
)
_ACCOUNT_NO = re.compile(r"^[0-9A-Za-z-]{6,20}$")
_CREDIT_CODE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")
_QQ = re.compile(r"^[1-9]\d{4,11}$")


@dataclass(frozen=True)
class ContactInput:
    kind: str
    value: str
    label: str = ""
    is_primary: bool = False


@dataclass(frozen=True)
class AccountInput:
    number: str
    label: str = ""
    address: str = ""


def normalize_contact(kind: str, value: str, *, field: str = "contacts") -> tuple[str, str]:
    """(display value, normalised value) of a contact point, or a ValidationError."""
    if kind == ContactPoint.Kind.PHONE:
        normalized = normalize_phone(value, field=field)
        return value.strip(), normalized
    if kind == ContactPoint.Kind.EMAIL:
        normalized = normalize_email(value, field=field)
        return normalized, normalized.lower()
    if kind == ContactPoint.Kind.QQ:
        text = value.strip()
        if not _QQ.match(text):
            raise ValidationError({field: _("“%(v)s” is not a QQ number.") % {"v": value}})
        return text, text
    if kind in (ContactPoint.Kind.WECHAT, ContactPoint.Kind.IM):
        text = clean_text(value, field=field, max_length=120, required=True)
        return text, text.lower()
    raise ValidationError({field: _("Unknown contact kind “%(k)s”.") % {"k": kind}})


def _clean_account_number(number: str) -> str:
    value = (number or "").strip()
    if not _ACCOUNT_NO.match(value):
        raise ValidationError(
            {
                "accounts": _("“%(v)s” is not an account number (6–20 letters or digits).")
                % {"v": number}
            }
        )
    return value


def _clean_fields(data: Mapping[str, Any], instance: Customer | None) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}

    def run(field: str, fn: Callable[[Any], Any]) -> None:
        if field not in data:
            return
        try:
            cleaned[field] = fn(data[field])
        except ValidationError as exc:
            for key, messages in exc.message_dict.items():
                errors.setdefault(key, []).extend(messages)

    def kind(v: Any) -> str:
        if v not in Customer.Kind.values:
            raise ValidationError({"kind": _("Kind must be person or organization.")})
        return str(v)

    def organization(v: Any) -> Customer | None:
        if v in (None, ""):
            return None
        org = Customer.objects.filter(pk=v, kind=Customer.Kind.ORGANIZATION, is_active=True).first()
        if org is None:
            raise ValidationError(
                {"organization": _("No active organisation with id %(id)s.") % {"id": v}}
            )
        if instance is not None and org.pk == instance.pk:
            raise ValidationError({"organization": _("An organisation cannot belong to itself.")})
        return org

    def credit_code(v: Any) -> str:
        text = str(v or "").strip().upper()
        if text and not _CREDIT_CODE.match(text):
            raise ValidationError(
                {"credit_code": _("A unified social credit code has 18 characters.")}
            )
        return text

    def vip_tier(v: Any) -> VipTier | None:
        if v in (None, ""):
            return None
        tier = VipTier.objects.filter(pk=v, is_active=True).first()
        if tier is None:
            raise ValidationError({"vip_tier": _("No active VIP tier with id %(id)s.") % {"id": v}})
        return tier

    def language(v: Any) -> str:
        if v not in ("zh-hans", "en"):
            raise ValidationError({"language": _("Choose zh-hans or en.")})
        return str(v)

    def is_active(v: Any) -> bool:
        if not isinstance(v, bool):
            raise ValidationError({"is_active": _("Must be true or false.")})
        return v

    run("kind", kind)
    run(
        "name",
        lambda v: clean_text(v, field="name", max_length=100, required=True, single_line=True),
    )
    run("organization", organization)
    run("credit_code", credit_code)
    run("industry", lambda v: clean_text(v, field="industry", max_length=60))
    run("vip_tier", vip_tier)
    run("address", lambda v: clean_text(v, field="address", max_length=200))
    run("language", language)
    run("is_active", is_active)
    final_kind = cleaned.get("kind", instance.kind if instance else Customer.Kind.PERSON)
    if final_kind == Customer.Kind.ORGANIZATION and cleaned.get("organization") is not None:
        errors.setdefault("organization", []).append(
            _("Only a person can belong to an organisation.")
        )
    if errors:
        raise ValidationError(errors)
    return cleaned


def _clean_tags(names: Iterable[str]) -> list[Tag]:
    tags = []
    for raw in names:
        name = clean_text(raw, field="tags", max_length=40, required=True, single_line=True)
        tag, _created = Tag.objects.get_or_create(name=name)
        tags.append(tag)
    return tags


def _customer_snapshot(customer: Customer) -> dict[str, Any]:
    snap = events.snapshot(customer, CUSTOMER_FIELDS)
    snap["tags"] = sorted(customer.tags.values_list("name", flat=True)) if customer.pk else []
    return snap


def _clean_contacts(contacts: Sequence[ContactInput]) -> list[ContactPoint]:
    seen: set[tuple[str, str]] = set()
    points: list[ContactPoint] = []
    errors: list[str] = []
    for item in contacts:
        try:
            value, normalized = normalize_contact(item.kind, item.value)
        except ValidationError as exc:
            errors.extend(m for ms in exc.message_dict.values() for m in ms)
            continue
        if (item.kind, normalized) in seen:
            continue
        seen.add((item.kind, normalized))
        label = clean_text(item.label, field="contacts", max_length=30)
        points.append(
            ContactPoint(
                kind=item.kind,
                value=value,
                normalized=normalized,
                label=label,
                is_primary=item.is_primary,
            )
        )
    if errors:
        raise ValidationError({"contacts": errors})
    # exactly one primary per kind
    for kind in {p.kind for p in points}:
        of_kind = [p for p in points if p.kind == kind]
        if not any(p.is_primary for p in of_kind):
            of_kind[0].is_primary = True
        first = True
        for p in of_kind:
            if p.is_primary and not first:
                p.is_primary = False
            first = first and not p.is_primary
    return points


def _clean_accounts(
    accounts: Sequence[AccountInput], customer: Customer | None
) -> list[AccountNumber]:
    rows: list[AccountNumber] = []
    errors: list[str] = []
    numbers = set()
    for item in accounts:
        try:
            number = _clean_account_number(item.number)
        except ValidationError as exc:
            errors.extend(exc.message_dict["accounts"])
            continue
        if number in numbers:
            continue
        numbers.add(number)
        holder = (
            AccountNumber.objects.filter(number=number)
            .exclude(customer=customer)
            .select_related("customer")
            .first()
            if customer
            else AccountNumber.objects.filter(number=number).select_related("customer").first()
        )
        if holder is not None:
            errors.append(
                _("Account number %(n)s already belongs to %(c)s.")
                % {"n": number, "c": holder.customer.name}
            )
            continue
        rows.append(
            AccountNumber(
                number=number,
                label=clean_text(item.label, field="accounts", max_length=40),
                address=clean_text(item.address, field="accounts", max_length=200),
            )
        )
    if errors:
        raise ValidationError({"accounts": errors})
    return rows


@transaction.atomic
def create_customer(
    *,
    actor: User | None,
    name: str,
    kind: str = Customer.Kind.PERSON,
    organization: int | None = None,
    credit_code: str = "",
    industry: str = "",
    vip_tier: int | None = None,
    address: str = "",
    language: str = "zh-hans",
    contacts: Sequence[ContactInput] = (),
    accounts: Sequence[AccountInput] = (),
    tags: Iterable[str] = (),
    note: str = "",
    check_permission: bool = True,
) -> Customer:
    if check_permission:
        require_perm(actor, "customers.edit")
    elif actor is not None:
        raise ValueError("check_permission=False is only for sign-up, which has no actor")
    data = _clean_fields(
        {
            "kind": kind,
            "name": name,
            "organization": organization,
            "credit_code": credit_code,
            "industry": industry,
            "vip_tier": vip_tier,
            "address": address,
            "language": language,
        },
        None,
    )
    errors: dict[str, list[str]] = {}
    try:
        points = _clean_contacts(contacts)
    except ValidationError as exc:
        errors.update(exc.message_dict)
        points = []
    try:
        account_rows = _clean_accounts(accounts, None)
    except ValidationError as exc:
        errors.update(exc.message_dict)
        account_rows = []
    try:
        tag_objs = _clean_tags(tags)
        note = clean_text(note, field="note", max_length=4000)
    except ValidationError as exc:
        errors.update(exc.message_dict)
        tag_objs = []
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    customer = Customer.objects.create(
        **data, created_by=actor if actor and actor.pk else None, created_at=now, updated_at=now
    )
    for point in points:
        point.customer = customer
    ContactPoint.objects.bulk_create(points)
    for row in account_rows:
        row.customer = customer
    try:
        with transaction.atomic():
            AccountNumber.objects.bulk_create(account_rows)
    except IntegrityError:
        raise ValidationError(
            {"accounts": [_("An account number was just taken by another customer.")]}
        ) from None
    if tag_objs:
        customer.tags.set(tag_objs)
    if note:
        CustomerNote.objects.create(
            customer=customer, author=actor if actor and actor.pk else None, body=note
        )
    after = _customer_snapshot(customer)
    after["contacts"] = [f"{p.kind}:{p.value}" for p in points]
    after["accounts"] = [a.number for a in account_rows]
    events.record("customer_created", customer, actor=actor, changes=events.diff({}, after))
    return customer


def _check_version(customer: Customer, expected_version: int | None) -> None:
    if expected_version is not None and customer.version != expected_version:
        raise Conflict(
            _(
                "This customer was changed by someone else since you opened it "
                "(your version %(mine)s, now %(now)s). Reload to see their change, then try again."
            )
            % {"mine": expected_version, "now": customer.version},
            current_version=customer.version,
        )


def _lock(customer: Customer) -> Customer:
    return Customer.objects.select_for_update().get(pk=customer.pk)


@transaction.atomic
def update_customer(
    *,
    actor: User,
    customer: Customer,
    changes: Mapping[str, Any],
    expected_version: int | None = None,
    contacts: Sequence[ContactInput] | None = None,
    accounts: Sequence[AccountInput] | None = None,
) -> Customer:
    """Change fields (and optionally replace contacts/accounts/tags). With
    ``expected_version`` a change based on stale data is refused with :class:`Conflict`."""
    require_perm(actor, "customers.edit")
    customer = _lock(customer)
    _check_version(customer, expected_version)
    if customer.merged_into_id:
        raise ValidationError(_("This customer was merged into another record; edit that one."))
    allowed = set(CUSTOMER_FIELDS) | {"tags"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError({f: _("This field cannot be changed here.") for f in sorted(unknown)})
    if "is_active" in changes:
        require_perm(actor, "customers.delete")
    if changes.get("kind") == Customer.Kind.PERSON and customer.people.exists():
        raise ValidationError({"kind": _("This organisation has people linked to it.")})
    data = _clean_fields({k: v for k, v in changes.items() if k != "tags"}, customer)
    before = _customer_snapshot(customer)
    before_contacts = sorted(f"{c.kind}:{c.value}" for c in customer.contacts.all())
    before_accounts = sorted(customer.accounts.values_list("number", flat=True))
    for field, value in data.items():
        setattr(customer, field, value)
    errors: dict[str, list[str]] = {}
    new_points = new_accounts = None
    if contacts is not None:
        try:
            new_points = _clean_contacts(contacts)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if accounts is not None:
        try:
            new_accounts = _clean_accounts(accounts, customer)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    tag_objs = None
    if "tags" in changes:
        if not isinstance(changes["tags"], list | tuple):
            errors["tags"] = [_("Tags must be a list of names.")]
        else:
            tag_objs = _clean_tags(changes["tags"])
    if errors:
        raise ValidationError(errors)
    customer.version += 1
    customer.updated_at = timezone.now()
    customer.save()
    if tag_objs is not None:
        customer.tags.set(tag_objs)
    if new_points is not None:
        customer.contacts.all().delete()
        for p in new_points:
            p.customer = customer
        ContactPoint.objects.bulk_create(new_points)
    if new_accounts is not None:
        keep = {a.number for a in new_accounts}
        customer.accounts.exclude(number__in=keep).delete()
        existing = set(customer.accounts.values_list("number", flat=True))
        for a in new_accounts:
            if a.number in existing:
                AccountNumber.objects.filter(number=a.number).update(
                    label=a.label, address=a.address
                )
            else:
                a.customer = customer
                a.save()
    after = _customer_snapshot(customer)
    if contacts is not None:
        before["contacts"] = before_contacts
        after["contacts"] = sorted(f"{c.kind}:{c.value}" for c in customer.contacts.all())
    if accounts is not None:
        before["accounts"] = before_accounts
        after["accounts"] = sorted(customer.accounts.values_list("number", flat=True))
    diff = events.diff(before, after)
    action = "customer_changed"
    if list(diff) == ["is_active"]:
        action = "customer_archived" if not customer.is_active else "customer_restored"
    events.record(action, customer, actor=actor, changes=diff)
    return customer


@transaction.atomic
def add_contact(*, actor: User, customer: Customer, contact: ContactInput) -> ContactPoint:
    require_perm(actor, "customers.edit")
    customer = _lock(customer)
    value, normalized = normalize_contact(contact.kind, contact.value, field="value")
    if customer.contacts.filter(kind=contact.kind, normalized=normalized).exists():
        raise ValidationError({"value": _("This customer already has %(v)s.") % {"v": value}})
    label = clean_text(contact.label, field="label", max_length=30)
    if contact.is_primary:
        customer.contacts.filter(kind=contact.kind).update(is_primary=False)
    is_primary = contact.is_primary or not customer.contacts.filter(kind=contact.kind).exists()
    point = ContactPoint.objects.create(
        customer=customer,
        kind=contact.kind,
        value=value,
        normalized=normalized,
        label=label,
        is_primary=is_primary,
    )
    _touch(customer)
    events.record(
        "customer_contact_added",
        customer,
        actor=actor,
        changes={"contacts": [None, f"{point.kind}:{point.value}"]},
    )
    return point


@transaction.atomic
def remove_contact(*, actor: User, customer: Customer, contact_id: int) -> None:
    require_perm(actor, "customers.edit")
    customer = _lock(customer)
    point = customer.contacts.filter(pk=contact_id).first()
    if point is None:
        raise ValidationError(
            {"contact": _("This customer has no contact point %(id)s.") % {"id": contact_id}}
        )
    point.delete()
    if point.is_primary:
        successor = customer.contacts.filter(kind=point.kind).order_by("id").first()
        if successor:
            successor.is_primary = True
            successor.save(update_fields=["is_primary"])
    _touch(customer)
    events.record(
        "customer_contact_removed",
        customer,
        actor=actor,
        changes={"contacts": [f"{point.kind}:{point.value}", None]},
    )


@transaction.atomic
def add_account_number(*, actor: User, customer: Customer, account: AccountInput) -> AccountNumber:
    require_perm(actor, "customers.edit")
    customer = _lock(customer)
    rows = _clean_accounts([account], customer)
    if not rows:
        raise ValidationError({"accounts": [_("This customer already has this account number.")]})
    row = rows[0]
    row.customer = customer
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:
        raise ValidationError(
            {"accounts": [_("This account number was just taken by another customer.")]}
        ) from None
    _touch(customer)
    events.record(
        "customer_account_added", customer, actor=actor, changes={"accounts": [None, row.number]}
    )
    return row


@transaction.atomic
def remove_account_number(*, actor: User, customer: Customer, account_id: int) -> None:
    require_perm(actor, "customers.edit")
    customer = _lock(customer)
    row = customer.accounts.filter(pk=account_id).first()
    if row is None:
        raise ValidationError({"accounts": [_("This customer has no such account number.")]})
    row.delete()
    _touch(customer)
    events.record(
        "customer_account_removed", customer, actor=actor, changes={"accounts": [row.number, None]}
    )


@transaction.atomic
def add_note(*, actor: User, customer: Customer, body: str, pinned: bool = False) -> CustomerNote:
    require_perm(actor, "customers.edit")
    text = clean_text(body, field="body", max_length=4000, required=True)
    note = CustomerNote.objects.create(customer=customer, author=actor, body=text, is_pinned=pinned)
    events.record(
        "customer_note_added", customer, actor=actor, data={"note": note.pk, "body": text[:200]}
    )
    return note


def _touch(customer: Customer) -> None:
    Customer.objects.filter(pk=customer.pk).update(
        version=models.F("version") + 1, updated_at=timezone.now()
    )


# --- merge --------------------------------------------------------------------------------------

MergeHandler = Callable[[Customer, Customer, User], int]
MERGE_HANDLERS: dict[str, MergeHandler] = {}
"""Apps whose records point at customers and need more than re-pointing the foreign key
(for example, to write their own event) register a handler by model label."""


def register_merge_handler(model_label: str, handler: MergeHandler) -> None:
    MERGE_HANDLERS[model_label] = handler


@transaction.atomic
def merge_customers(*, actor: User, source: Customer, target: Customer) -> Customer:
    """Fold ``source`` into ``target``: everything that pointed at the source now points at
    the target, details the target lacks are copied over, and the source is kept, inactive,
    with ``merged_into`` set, so old links still lead somewhere."""
    require_perm(actor, "customers.merge")
    if source.pk == target.pk:
        raise ValidationError(_("Choose two different customers to merge."))
    first, second = sorted([source.pk, target.pk])
    locked = {c.pk: c for c in Customer.objects.select_for_update().filter(pk__in=[first, second])}
    source, target = locked[source.pk], locked[target.pk]
    if source.merged_into_id or target.merged_into_id:
        raise ValidationError(_("One of these customers has already been merged."))
    if source.kind != target.kind:
        raise ValidationError(_("A person and an organisation cannot be merged."))
    before_target = _customer_snapshot(target)
    moved: dict[str, int] = {}

    # Contact points: keep one of each distinct (kind, value); the target's primaries win.
    existing = set(target.contacts.values_list("kind", "normalized"))
    for point in source.contacts.all():
        if (point.kind, point.normalized) in existing:
            point.delete()
            moved["contacts_deduplicated"] = moved.get("contacts_deduplicated", 0) + 1
        else:
            point.customer = target
            point.is_primary = (
                point.is_primary
                and not target.contacts.filter(kind=point.kind, is_primary=True).exists()
            )
            point.save()
            moved["contacts"] = moved.get("contacts", 0) + 1
    target.tags.add(*source.tags.all())
    moved["tags"] = source.tags.count()
    source.tags.clear()

    skip = {("customers", "contactpoint")}
    for relation in Customer._meta.related_objects:
        model = relation.related_model
        label = (model._meta.app_label, model._meta.model_name)
        if label in skip or relation.many_to_many:
            continue
        field_name = relation.field.name
        model_label = f"{model._meta.app_label}.{model._meta.model_name}"
        if model_label in MERGE_HANDLERS:
            count = MERGE_HANDLERS[model_label](source, target, actor)
        elif model is Customer and field_name == "merged_into":
            count = Customer.objects.filter(merged_into=source).update(merged_into=target)
        else:
            count = model._base_manager.filter(**{field_name: source}).update(
                **{field_name: target}
            )
        if count:
            moved[f"{model_label}.{field_name}"] = count

    filled = []
    for field in ("address", "credit_code", "industry", "organization_id"):
        if (
            not getattr(target, field)
            and getattr(source, field)
            and getattr(source, field) != target.pk
        ):
            setattr(target, field, getattr(source, field))
            filled.append(field)
    if source.vip_tier_id and (
        target.vip_tier is None or source.vip_tier.rank > target.vip_tier.rank  # type: ignore[union-attr]
    ):
        target.vip_tier = source.vip_tier
        filled.append("vip_tier")
    target.version += 1
    target.updated_at = timezone.now()
    target.save()
    CustomerNote.objects.create(
        customer=target,
        author=actor,
        body=_("Merged from customer #%(id)s %(name)s.") % {"id": source.pk, "name": source.name},
    )
    source_before = _customer_snapshot(source)
    source.is_active = False
    source.merged_into = target
    source.version += 1
    source.updated_at = timezone.now()
    source.save()
    events.record(
        "customer_merged",
        target,
        actor=actor,
        changes=events.diff(before_target, _customer_snapshot(target)),
        data={"source": source.pk, "source_name": source.name, "moved": moved, "filled": filled},
    )
    events.record(
        "customer_merged_away",
        source,
        actor=actor,
        changes=events.diff(
            source_before, {**_customer_snapshot(source), "merged_into": target.pk}
        ),
        data={"target": target.pk, "target_name": target.name},
    )
    return target


# --- portal accounts ----------------------------------------------------------------------------


def _portal_username() -> str:
    return f"c-{secrets.token_hex(6)}"


@transaction.atomic
def invite_to_portal(*, actor: User, customer: Customer, email: str) -> User:
    """Give a customer a portal account on ``email`` and send them a one-time sign-in link."""
    from kefu.accounts.services import create_user, send_login_link

    require_perm(actor, "customers.edit")
    if customer.merged_into_id or not customer.is_active:
        raise ValidationError(_("This customer record is archived."))
    user = create_user(
        actor=actor,
        username=_portal_username(),
        display_name=customer.name,
        role=Role.CUSTOMER,
        email=email,
        customer=customer,
        language=customer.language,
    )
    address = user.email
    transaction.on_commit(lambda: send_login_link(address))
    return user


@transaction.atomic
def register_portal_customer(
    *, name: str, email: str, password: str, phone: str = "", language: str = "zh-hans"
) -> User:
    """Self-service sign-up: a new customer record with its portal account."""
    from kefu.accounts.services import create_user

    contacts = [ContactInput(ContactPoint.Kind.EMAIL, email)]
    if phone:
        contacts.append(ContactInput(ContactPoint.Kind.PHONE, phone))
    # Validate the account first so a refused sign-up writes no customer.
    normalized_email = normalize_email(email)
    if User.objects.filter(email__iexact=normalized_email).exists():
        raise ValidationError(
            {"email": _("This e-mail address is already used by another account.")}
        )
    customer = create_customer(
        actor=None,
        name=name,
        contacts=contacts,
        language=language if language in ("zh-hans", "en") else "zh-hans",
        check_permission=False,
    )
    return create_user(
        actor=None,
        username=_portal_username(),
        display_name=customer.name,
        role=Role.CUSTOMER,
        email=normalized_email,
        phone=normalize_phone(phone) if phone else "",
        password=password,
        customer=customer,
        language=customer.language,
    )
