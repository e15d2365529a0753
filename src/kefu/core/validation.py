"""Checking and normalising the values people type: phone numbers, e-mail addresses, text."""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Annotated, Any

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import validate_email as _django_validate_email
from django.utils.translation import gettext as _
from pydantic import Field, Strict

_SERVICE_NUMBER = re.compile(r"^(1\d{4}|9\d{4})$")  # 95598, 12345, 96789: hotline numbers
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LINE_BREAKS = re.compile(r"[\r\n\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")

MAX_ID = 2**63 - 1
"""The largest primary key a 64-bit integer column holds; anything larger names no record."""

PathId = Annotated[int, Field(ge=1, le=MAX_ID)]
"""A record id in a URL path or query: a decimal number from 1 to 2^63-1."""

BodyId = Annotated[int, Strict(), Field(ge=1, le=MAX_ID)]
"""A record id in a JSON body: a JSON integer from 1 to 2^63-1 (not ``true``, not ``"5"``)."""


def parse_id(value: Any) -> int | None:
    """The id a form or query value names, or None: ASCII digits only (not "³" or "٣"), at
    most 2^63-1, so a bad value is a 404 or a form error, never an overflow in the database."""
    text = str(value if value is not None else "").strip()
    if not text or len(text) > 19 or not (text.isascii() and text.isdigit()):
        return None
    number = int(text)
    return number if 1 <= number <= MAX_ID else None


class Conflict(Exception):
    """The record changed since the caller read it (optimistic locking)."""

    def __init__(self, message: str, *, current_version: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.current_version = current_version


def normalize_phone(raw: str, *, field: str = "phone", allow_service_numbers: bool = False) -> str:
    """E.164 form of a mainland-China (or international, with +) phone number.

    Accepts mobiles (13812345678), landlines with area code (027-87654321, 0755 1234 5678) and
    international numbers (+44 20 7946 0958); five-digit service numbers (95598) only where
    ``allow_service_numbers`` (a caller ID may be one; a customer's own number is not).
    """
    value = unicodedata.normalize("NFKC", raw or "").strip()
    compact = re.sub(r"[\s\-()（）]", "", value)
    if not compact:
        raise ValidationError({field: _("Enter a phone number.")})
    if _SERVICE_NUMBER.match(compact):
        if allow_service_numbers:
            return compact
        raise ValidationError(
            {
                field: _("“%(value)s” is a service number, not a personal phone number.")
                % {"value": raw}
            }
        )
    try:
        number = phonenumbers.parse(compact, "CN")
    except phonenumbers.NumberParseException:
        raise ValidationError(
            {field: _("“%(value)s” is not a valid phone number.") % {"value": raw}}
        ) from None
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(
            {field: _("“%(value)s” is not a valid phone number.") % {"value": raw}}
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@functools.lru_cache(maxsize=65536)
def display_phone(e164: str) -> str:
    """A readable form: mainland numbers without +86, others international."""
    if not e164.startswith("+"):
        return e164
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    if number.country_code == 86:
        national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
        return national.replace(" ", "")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def normalize_email(raw: str, *, field: str = "email") -> str:
    value = (raw or "").strip()
    try:
        _django_validate_email(value)
    except ValidationError:
        raise ValidationError(
            {field: _("“%(value)s” is not a valid e-mail address.") % {"value": raw}}
        ) from None
    local, _at, domain = value.rpartition("@")
    return f"{local}@{domain.lower()}"


def clean_text(
    raw: str | None,
    *,
    field: str,
    max_length: int,
    required: bool = False,
    single_line: bool = False,
) -> str:
    """Trimmed text without control characters; length checked in characters.

    ``single_line`` fields (titles, names, subjects) refuse line breaks: they end up in mail
    headers and one-line lists, where a break would cut the value or inject a header."""
    normalized = unicodedata.normalize("NFC", raw or "")
    if single_line and _LINE_BREAKS.search(normalized.strip()):
        raise ValidationError({field: _("This field must be one line: remove the line breaks.")})
    value = _CONTROL.sub("", normalized).strip()
    if required and not value:
        raise ValidationError({field: _("This field is required.")})
    if len(value) > max_length:
        raise ValidationError(
            {
                field: _("At most %(max)d characters (this has %(n)d).")
                % {"max": max_length, "n": len(value)}
            }
        )
    return value
