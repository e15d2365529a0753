"""Who may load which requirement records. Screens, the API and the ticket panel come here."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from kefu.core.permissions import require_perm
from kefu.customers.access import customer_check
from kefu.requirements.models import Requirement, Source


def visible_requirements(user: Any) -> QuerySet[Requirement]:
    require_perm(user, "requirements.view")
    return Requirement.objects.all()


def access_requirement(
    user: Any, pk: int | None, *, perm: str = "requirements.view"
) -> Requirement:
    require_perm(user, perm)
    found = visible_requirements(user).filter(pk=pk).first() if pk else None
    if found is None:
        raise Http404
    return found


def visible_sources(user: Any, requirement: Requirement) -> QuerySet[Source]:
    """The requirement's sources ``user`` may read: work orders they may see and the other
    contacts (counts of askers cover all)."""
    from kefu.tickets.access import visibility_q, visible_tickets

    sources = Source.objects.filter(requirement=requirement)
    if visibility_q(user) is None:
        return sources
    return sources.filter(Q(ticket__isnull=True) | Q(ticket__in=visible_tickets(user)))


def hidden_label() -> str:
    return _("A customer")


def with_customers(user: Any, sources: Iterable[Source]) -> list[Source]:
    """``sources`` as ``user`` may read them: ``shown_customer`` is the customer who asked when
    ``user`` may see them, else None; a source that is just a customer (its label is their
    name) gets ``shown_label`` "A customer" then. Screens and the API show these two only."""
    may_see = customer_check(user)
    rows = list(sources)
    for source in rows:
        seen = may_see(source.customer_id)
        source.shown_customer = source.customer if seen else None  # type: ignore[attr-defined]
        just_customer = source.object_id is None and source.customer_id is not None
        source.shown_label = (  # type: ignore[attr-defined]
            hidden_label() if just_customer and not seen else source.label
        )
    return rows


def readable_timeline(user: Any, events: Iterable[Any]) -> list[Any]:
    """The requirement's timeline as ``user`` may read it: a source's label is left out of
    entries about a customer they may not see (it can be the customer's name)."""
    may_see = customer_check(user)
    rows = list(events)
    for event in rows:
        data = event.data if isinstance(event.data, dict) else None
        if data and data.get("source") and data.get("customer") and not may_see(data["customer"]):
            event.data = {**data, "source": hidden_label()}
    return rows
