"""Reading the values of the field-service forms (dates typed in the centre's zone)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.core.validation import parse_id


def local_datetime(raw: Any, field: str, *, required: bool = True) -> dt.datetime | None:
    """A ``datetime-local`` value ("2026-12-03T09:30") read in the centre's time zone."""
    text = str(raw or "").strip()
    if not text:
        if required:
            raise ValidationError({field: [_("This field is required.")]})
        return None
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValidationError(
            {field: [_("“%(v)s” is not a date and time.") % {"v": text[:40]}]}
        ) from None
    if value.year < 2000 or value.year > 2100:
        raise ValidationError({field: [_("“%(v)s” is not a date and time.") % {"v": text[:40]}]})
    if timezone.is_naive(value):
        value = timezone.make_aware(value, timezone.get_current_timezone())
    return value


def local_date(raw: Any, field: str) -> dt.date | None:
    text = str(raw or "").strip()
    if not text:
        return None
    try:
        value = dt.date.fromisoformat(text)
    except ValueError:
        raise ValidationError({field: [_("“%(v)s” is not a date.") % {"v": text[:40]}]}) from None
    if value.year < 1950 or value.year > 2100:
        raise ValidationError({field: [_("“%(v)s” is not a date.") % {"v": text[:40]}]})
    return value


def optional_id(raw: Any, field: str) -> int | None:
    """The id chosen in a form's list, None when nothing was chosen."""
    if not str(raw or "").strip():
        return None
    return form_id(raw, field)


def form_id(raw: Any, field: str) -> int:
    """The id chosen in a form's list (required)."""
    pk = parse_id(raw)
    if pk is None:
        raise ValidationError({field: [_("Choose one from the list.")]})
    return pk


def messages_of(exc: ValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {k: list(v) for k, v in exc.message_dict.items()}
    return {"general": list(exc.messages)}
