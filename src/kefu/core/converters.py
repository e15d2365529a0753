"""URL path converters. ``<id:name>`` takes a record id: 1 to 19 ASCII digits, at most 2^63-1.

Django's ``<int:…>`` matches any run of digits, so ``/users/99999999999999999999/`` reached the
database and failed there (a 500 on SQLite, which cannot hold the number). With ``<id:…>`` such a
path matches nothing and is an ordinary 404. Every Kefu URL names records with ``<id:…>``.
"""

from __future__ import annotations

from kefu.core.validation import MAX_ID


class IdConverter:
    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if not 1 <= number <= MAX_ID:
            raise ValueError(value)  # Django reads this as "no match": a 404
        return number

    def to_url(self, value: int) -> str:
        return str(int(value))
