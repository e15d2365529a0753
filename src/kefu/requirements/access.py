"""Who may load which requirement records. Screens, the API and the ticket panel come here."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from kefu.core.permissions import require_perm
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
