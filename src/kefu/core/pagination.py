"""Keyset ("cursor") pagination for lists that may hold millions of rows.

A page is fetched with ``WHERE (sort_key, id) > (last_key, last_id) ORDER BY sort_key, id
LIMIT n+1`` so every page costs the same however deep the reader goes, and rows inserted
while paging are neither skipped nor repeated. The cursor is an opaque base64 string holding
the sort name and the last row's key; a tampered or stale cursor is a 400, never a 500.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db import models
from django.db.models import Q

T = TypeVar("T", bound=models.Model)


class CursorError(ValueError):
    """The cursor or sort parameter is not valid for this list."""


@dataclass(frozen=True)
class SortKey:
    """One sortable column: a non-null field of the model itself (no joins)."""

    field: str
    kind: str = "str"  # str | int | datetime


@dataclass
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None
    sort: str


def _encode(sort: str, value: Any, pk: int) -> str:
    if isinstance(value, dt.datetime):
        value = value.isoformat()
    raw = json.dumps([sort, value, pk], ensure_ascii=False, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode(cursor: str, sort: str, key: SortKey) -> tuple[Any, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        payload = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
        cursor_sort, value, pk = payload
        if cursor_sort != sort or not isinstance(pk, int):
            raise CursorError("the cursor belongs to a different sort order")
        if key.kind == "datetime":
            value = dt.datetime.fromisoformat(value)
        elif key.kind == "int":
            value = int(value)
        elif not isinstance(value, str):
            raise CursorError("malformed cursor")
    except CursorError:
        raise
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise CursorError("malformed cursor") from None
    return value, pk


def paginate(
    queryset: models.QuerySet[T],
    *,
    sort: str,
    keys: Mapping[str, SortKey],
    cursor: str | None,
    limit: int,
) -> Page[T]:
    """One page of ``queryset`` ordered by ``sort`` (a key of ``keys``, ``-`` for descending)."""
    descending = sort.startswith("-")
    name = sort.lstrip("-")
    if name not in keys:
        allowed = ", ".join(sorted(keys))
        raise CursorError(f"cannot sort by {name!r}; choose one of: {allowed}")
    key = keys[name]
    field = key.field
    if cursor:
        value, pk = _decode(cursor, sort, key)
        if field == "id":
            queryset = queryset.filter(id__lt=pk) if descending else queryset.filter(id__gt=pk)
        elif descending:
            queryset = queryset.filter(
                Q(**{f"{field}__lt": value}) | Q(**{field: value}, id__lt=pk)
            )
        else:
            queryset = queryset.filter(
                Q(**{f"{field}__gt": value}) | Q(**{field: value}, id__gt=pk)
            )
    order = [f"-{field}", "-id"] if descending else [field, "id"]
    if field == "id":
        order = order[:1]
    rows = list(queryset.order_by(*order)[: limit + 1])
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = _encode(sort, getattr(last, field), last.pk)
    return Page(items=rows, next_cursor=next_cursor, sort=sort)
