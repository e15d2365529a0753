from __future__ import annotations

import datetime as dt

from django.db.models import Count, Q
from django.http import HttpRequest
from django.utils import timezone

from kefu.core.dashboard import Card
from kefu.core.permissions import has_perm
from kefu.customers.models import Customer


def customer_card(request: HttpRequest) -> Card | None:
    if not has_perm(request.user, "customers.view"):
        return None
    week_ago = timezone.now() - dt.timedelta(days=7)
    stats = Customer.objects.filter(is_active=True).aggregate(
        total=Count("id"),
        vip=Count("id", filter=Q(vip_tier__isnull=False)),
        organizations=Count("id", filter=Q(kind=Customer.Kind.ORGANIZATION)),
        new=Count("id", filter=Q(created_at__gte=week_ago)),
    )
    return Card(order=50, template="customers/_card.html", context=stats, width=6)
