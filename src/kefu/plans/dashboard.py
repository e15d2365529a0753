"""The start-page card: the rectifications someone owns or must sign off, overdue ones first."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone

from kefu.core.dashboard import Card
from kefu.core.permissions import has_perm
from kefu.plans.models import Rectification

WAITING = (
    Rectification.State.OPEN,
    Rectification.State.RECTIFYING,
    Rectification.State.RETURNED,
)


def rectification_card(request: HttpRequest) -> Card | None:
    user: Any = request.user
    if not (has_perm(user, "plans.check") or has_perm(user, "plans.signoff")):
        return None
    rows = list(
        Rectification.objects.filter(
            Q(owner=user, state__in=WAITING)
            | Q(inspector=user, state=Rectification.State.SUBMITTED)
        )
        .select_related("ticket")
        .order_by("-escalation_level", "deadline")[:8]
    )
    if not rows:
        return None
    return Card(
        order=14,
        template="plans/_card.html",
        context={"rows": rows, "now": timezone.now(), "user_id": user.pk},
        width=6,
    )
