"""Validating and changing a work order's fields, including administrator-defined ones."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from kefu.accounts.models import User
from kefu.core import events
from kefu.core.choices import Channel
from kefu.core.permissions import require_perm_unless_system
from kefu.core.validation import clean_text, normalize_email, normalize_phone
from kefu.customers.models import Customer
from kefu.tickets.models import (
    Area,
    Category,
    CustomField,
    Priority,
    Severity,
    Subject,
    Ticket,
    TicketTag,
    TicketType,
)
from kefu.tickets.services.common import check_version, lock, record, snapshot, touch

EDITABLE_FIELDS = (
    "title",
    "description",
    "ticket_type",
    "category",
    "subject",
    "channel",
    "priority",
    "severity",
    "customer",
    "contact_name",
    "contact_phone",
    "contact_email",
    "place",
    "area",
    "staff_concerned",
    "sensitive",
    "tags",
    "custom_fields",
)


def resolve_type(value: Any) -> TicketType:
    from kefu.tickets.selectors import type_options

    text = str(value)
    found = next(
        (t for t in type_options() if (str(t.pk) == text if text.isdigit() else t.code == text)),
        None,
    )
    if found is None:
        raise ValidationError(
            {"ticket_type": [_("No active work-order type “%(v)s”.") % {"v": value}]}
        )
    return found


def resolve_category(value: Any) -> Category | None:
    if value in (None, ""):
        return None
    from kefu.tickets.selectors import category_options

    found = next((c for c in category_options() if str(c.pk) == str(value)), None)
    if found is None:
        raise ValidationError({"category": [_("No active category “%(v)s”.") % {"v": value}]})
    return found


def clean_custom_fields(
    ticket_type: TicketType, values: Mapping[str, Any], *, partial: bool = False
) -> dict[str, Any]:
    """Check values against the type's field definitions: unknown keys, kinds, required ones."""
    if not isinstance(values, Mapping):
        raise ValidationError(
            {"custom_fields": [_("Custom fields must be an object of key: value.")]}
        )
    from kefu.tickets.selectors import custom_field_options

    fields = {f.key: f for f in custom_field_options(ticket_type.pk)}
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    for key in values:
        if key not in fields:
            errors[f"custom_fields.{key}"] = [
                _("“%(t)s” has no field “%(k)s”.") % {"t": ticket_type.label, "k": key}
            ]
    for key, field in fields.items():
        raw = values.get(key)
        if raw in (None, "", []):
            if field.required and not partial:
                errors[f"custom_fields.{key}"] = [
                    _("%(f)s is required.") % {"f": field.display_label}
                ]
            continue
        try:
            cleaned[key] = _clean_custom_value(field, raw)
        except ValueError as exc:
            errors[f"custom_fields.{key}"] = [str(exc)]
    if errors:
        raise ValidationError(errors)
    return cleaned


def _clean_custom_value(field: CustomField, raw: Any) -> Any:
    label = field.display_label
    if field.kind == CustomField.Kind.TEXT:
        text = str(raw).strip()
        if len(text) > 1000:
            raise ValueError(_("%(f)s is longer than 1,000 characters.") % {"f": label})
        return text
    if field.kind == CustomField.Kind.NUMBER:
        try:
            number = Decimal(str(raw).strip())
        except InvalidOperation:
            raise ValueError(_("%(f)s must be a number.") % {"f": label}) from None
        if not number.is_finite() or abs(number) > Decimal("1e12"):
            raise ValueError(_("%(f)s must be a number.") % {"f": label})
        return int(number) if number == number.to_integral_value() else float(number)
    if field.kind == CustomField.Kind.DATE:
        try:
            return dt.date.fromisoformat(str(raw).strip()).isoformat()
        except ValueError:
            raise ValueError(_("%(f)s must be a date (YYYY-MM-DD).") % {"f": label}) from None
    if field.kind == CustomField.Kind.CHOICE:
        options = [str(o) for o in field.choices]
        if str(raw) not in options:
            raise ValueError(
                _("%(f)s must be one of: %(o)s") % {"f": label, "o": "、".join(options)}
            )
        return str(raw)
    raise ValueError(_("Unknown field kind."))


def clean_tags(names: Any) -> list[TicketTag]:
    if not isinstance(names, list | tuple):
        raise ValidationError({"tags": [_("Tags must be a list of names.")]})
    tags = []
    for raw in names:
        name = clean_text(str(raw), field="tags", max_length=40, required=True, single_line=True)
        tag, _created = TicketTag.objects.get_or_create(name=name)
        tags.append(tag)
    return tags


def clean_fields(data: Mapping[str, Any], *, instance: Ticket | None) -> dict[str, Any]:
    """Validate the given fields (all of them, reporting every error at once)."""
    cleaned: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}

    def run(name: str, fn: Callable[[Any], Any]) -> None:
        if name not in data:
            return
        try:
            cleaned[name] = fn(data[name])
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for key, messages in exc.message_dict.items():
                    errors.setdefault(name if key in ("x", name) else key, []).extend(messages)
            else:
                errors.setdefault(name, []).extend(exc.messages)

    def choice(options: Iterable[str], label: str) -> Callable[[Any], str]:
        allowed = list(options)

        def check(value: Any) -> str:
            if value in (None, ""):
                return ""
            if value not in allowed:
                raise ValidationError(
                    {
                        "x": [
                            _("%(l)s must be one of: %(o)s") % {"l": label, "o": ", ".join(allowed)}
                        ]
                    }
                )
            return str(value)

        return check

    def priority(value: Any) -> int:
        try:
            number = int(value)
        except (TypeError, ValueError):
            number = 0
        if number not in Priority.values:
            raise ValidationError({"x": [_("Priority must be 1 (P1) to 4 (P4).")]})
        return number

    def channel(value: Any) -> str:
        if value not in Channel.values:
            raise ValidationError({"x": [_("Unknown channel “%(v)s”.") % {"v": value}]})
        return str(value)

    def customer(value: Any) -> Customer | None:
        if value in (None, ""):
            return None
        if isinstance(value, Customer) and value.pk:
            found: Customer | None = value  # the caller has just read or created it
        else:
            found = (
                next(iter(Customer.objects.filter(pk=value).order_by()[:1]), None)
                if str(value).isdigit()
                else None
            )
        if found is None:
            raise ValidationError({"x": [_("No customer with id %(id)s.") % {"id": value}]})
        if found.merged_into_id:
            found = Customer.objects.get(pk=found.merged_into_id)
        return found

    def sensitive(value: Any) -> bool:
        if not isinstance(value, bool):
            raise ValidationError({"x": [_("Must be true or false.")]})
        return value

    run(
        "title",
        lambda v: clean_text(v, field="x", max_length=200, required=True, single_line=True),
    )
    run("description", lambda v: clean_text(v, field="x", max_length=20000))
    run("ticket_type", resolve_type)
    run("category", resolve_category)
    run("subject", choice(Subject.values, _("Subject")))
    run("channel", channel)
    run("priority", priority)
    run("severity", choice(Severity.values, _("Severity")))
    run("customer", customer)
    run("contact_name", lambda v: clean_text(v, field="x", max_length=100, single_line=True))
    run(
        "contact_phone",
        lambda v: normalize_phone(v, field="x", allow_service_numbers=True) if v else "",
    )
    run("contact_email", lambda v: normalize_email(v, field="x") if v else "")
    run("place", lambda v: clean_text(v, field="x", max_length=200))
    run("area", choice(Area.values, _("Area")))
    run("staff_concerned", lambda v: clean_text(v, field="x", max_length=100))
    run("sensitive", sensitive)
    run("tags", clean_tags)
    if "custom_fields" in data:
        ticket_type = cleaned.get("ticket_type") or (instance.ticket_type if instance else None)
        if ticket_type is None:
            errors.setdefault("custom_fields", []).append(_("Choose the type first."))
        else:
            try:
                cleaned["custom_fields"] = clean_custom_fields(
                    ticket_type, data["custom_fields"] or {}
                )
            except ValidationError as exc:
                errors.update(exc.message_dict)
    elif (
        "ticket_type" in cleaned
        and instance is not None
        and cleaned["ticket_type"] != instance.ticket_type
    ):
        # A new type brings its own fields: keep the values that still apply, check the rest.
        kept = {
            k: v
            for k, v in instance.custom_fields.items()
            if CustomField.objects.filter(ticket_type=cleaned["ticket_type"], key=k).exists()
        }
        try:
            cleaned["custom_fields"] = clean_custom_fields(cleaned["ticket_type"], kept)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    return cleaned


@transaction.atomic
def update_ticket(
    *,
    actor: User | None,
    ticket: Ticket,
    changes: Mapping[str, Any],
    expected_version: int | None = None,
) -> Ticket:
    """Change fields. With ``expected_version`` a change based on stale data is a Conflict.
    ``actor`` None is Kefu itself (e.g. an SLA escalation raising the priority)."""
    require_perm_unless_system(actor, "tickets.edit")
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError(
            {f: [_("This field cannot be changed here.")] for f in sorted(unknown)}
        )
    ticket = lock(ticket)
    check_version(ticket, expected_version)
    if not ticket.is_open and set(changes) - {"tags", "sensitive"}:
        raise ValidationError(
            _("A finished work order can only be tagged; reopen it to change it.")
        )
    data = clean_fields(changes, instance=ticket)
    before = snapshot(ticket, tuple(data))
    tags = data.pop("tags", None)
    was_sensitive = ticket.sensitive
    for field, value in data.items():
        setattr(ticket, field, value)
    touch(ticket, list(data))
    if tags is not None:
        ticket.tags.set(tags)
    after = snapshot(ticket, tuple(before))
    changed = events.diff(before, after)
    if not changed:
        return ticket
    record("ticket_changed", ticket, actor=actor, changes=changed)
    if ticket.sensitive and not was_sensitive:
        from kefu.tickets.services.notify import alert_sensitive

        alert_sensitive(ticket, actor)
    return ticket
