"""Start-page card: an engineer's visits of the day, and parts below their minimum for the
storekeepers."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from kefu.core.dashboard import Card
from kefu.core.permissions import Role, has_perm
from kefu.field import selectors


def field_card(request: HttpRequest) -> Card | None:
    user: Any = request.user
    engineer = has_perm(user, "field.work") and user.role != Role.ADMIN
    keeper = has_perm(user, "field.stock")
    if not (engineer or keeper):
        return None
    visits = selectors.my_visits(user, timezone.localdate())[:8] if engineer else []
    low = selectors.low_stock_count() if keeper else None
    return Card(
        order=12,
        template="field/_card.html",
        context={"visits": visits, "low": low, "engineer": engineer},
        width=6,
    )
