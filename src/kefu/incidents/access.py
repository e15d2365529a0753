"""Who may load which incident records. Screens, the API and exports come here."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from kefu.core.permissions import require_perm
from kefu.customers.access import customer_check
from kefu.incidents.models import Incident, Link


def visible_incidents(user: Any) -> QuerySet[Incident]:
    require_perm(user, "incidents.view")
    return Incident.objects.all()


def access_incident(user: Any, pk: int | None, *, perm: str = "incidents.view") -> Incident:
    require_perm(user, perm)
    incident = visible_incidents(user).filter(pk=pk).first() if pk else None
    if incident is None:
        raise Http404
    return incident


def visible_links(user: Any, incident: Incident) -> QuerySet[Link]:
    """The incident's contacts ``user`` may read: work orders they may see, and the other
    channels' contacts (whose records their own apps guard). Counts in the report cover all."""
    from kefu.tickets.access import visibility_q

    links = Link.objects.filter(incident=incident)
    q = visibility_q(user)
    if q is None:
        return links
    from kefu.tickets.access import visible_tickets

    return links.filter(Q(ticket__isnull=True) | Q(ticket__in=visible_tickets(user)))


def with_customers(user: Any, links: Iterable[Link]) -> list[Link]:
    """``links`` with ``shown_customer`` set: the linked customer when ``user`` may see them,
    else None. Screens and exports show ``shown_customer``, never ``customer``."""
    may_see = customer_check(user)
    rows = list(links)
    for link in rows:
        link.shown_customer = link.customer if may_see(link.customer_id) else None  # type: ignore[attr-defined]
    return rows
