import datetime as dt

import pytest
from django.utils import timezone

from kefu.core.pagination import CursorError, SortKey, paginate
from kefu.customers.models import Customer

pytestmark = pytest.mark.django_db

KEYS = {
    "name": SortKey("name"),
    "created_at": SortKey("created_at", "datetime"),
    "id": SortKey("id", "int"),
}


def _walk(sort: str, limit: int) -> list[int]:
    seen: list[int] = []
    cursor = None
    while True:
        page = paginate(Customer.objects.all(), sort=sort, keys=KEYS, cursor=cursor, limit=limit)
        seen.extend(c.pk for c in page.items)
        if page.next_cursor is None:
            return seen
        cursor = page.next_cursor


def test_walking_pages_returns_every_row_once_in_order_even_with_ties():
    base = timezone.now()
    names = ["王", "李", "王", "张", "王", "陈", "李"]
    rows = [
        Customer.objects.create(name=n, created_at=base - dt.timedelta(minutes=i % 3))
        for i, n in enumerate(names)
    ]
    by_name = [c.pk for c in sorted(rows, key=lambda c: (c.name, c.pk))]
    by_created_desc = [c.pk for c in sorted(rows, key=lambda c: (c.created_at, c.pk), reverse=True)]
    assert _walk("name", 2) == by_name
    assert _walk("-created_at", 3) == by_created_desc
    assert _walk("-id", 4) == sorted((c.pk for c in rows), reverse=True)


@pytest.mark.parametrize("cursor", ["garbage", "W10", "WyJuYW1lIiwxLCJ4Il0"])
def test_malformed_cursors_are_refused(cursor):
    Customer.objects.create(name="x")
    with pytest.raises(CursorError):
        paginate(Customer.objects.all(), sort="name", keys=KEYS, cursor=cursor, limit=1)


def test_a_cursor_from_another_sort_is_refused():
    Customer.objects.create(name="a")
    Customer.objects.create(name="b")
    page = paginate(Customer.objects.all(), sort="name", keys=KEYS, cursor=None, limit=1)
    with pytest.raises(CursorError, match="different sort"):
        paginate(Customer.objects.all(), sort="-name", keys=KEYS, cursor=page.next_cursor, limit=1)


def test_unknown_sort_names_the_choices():
    with pytest.raises(CursorError, match="choose one of: created_at, id, name"):
        paginate(Customer.objects.all(), sort="password", keys=KEYS, cursor=None, limit=1)
