"""Who may load which field-service record. Every screen and API endpoint goes through here.

- a visit is visible to its engineer and to anyone who may see its work order (with
  ``field.view``); customers never see visits through these paths (they confirm with a link);
- an asset is visible to whoever may see its customer (``customers.access``) and holds
  ``field.view``;
- parts, stock and locations need ``field.view``; changing stock needs ``field.stock``.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from kefu.core.permissions import Role, has_perm, require_perm
from kefu.core.validation import parse_id
from kefu.customers.access import visible_customers
from kefu.field.models import Asset, Part, RemoteSession, Reservation, Visit
from kefu.tickets.access import visibility_q


def _staff_with(user: Any, perm: str) -> bool:
    return (
        user is not None
        and getattr(user, "is_authenticated", False)
        and user.is_active
        and user.role != Role.CUSTOMER
        and has_perm(user, perm)
    )


def _ticket_filter(user: Any, prefix: str = "ticket__") -> Q | None:
    q = visibility_q(user)
    if q is None:
        return None
    # re-root the work-order filter on the related work order
    return Q(**{f"{prefix}in": _visible_ticket_ids(q)})


def _visible_ticket_ids(q: Q) -> Any:
    from kefu.tickets.models import Ticket

    return Ticket.objects.filter(q).values("pk")


def visible_visits(user: Any) -> QuerySet[Visit]:
    if not _staff_with(user, "field.view"):
        return Visit.objects.none()
    q = _ticket_filter(user)
    if q is None:
        return Visit.objects.all()
    return Visit.objects.filter(q | Q(engineer_id=user.pk))


def access_visit(
    user: Any, pk: Any, *, perm: str = "field.view", for_update: bool = False
) -> Visit:
    """One visit for ``user``: 404 if they may not see it, 403 if they may not do ``perm``."""
    visit_id = parse_id(pk)
    if visit_id is None:
        raise Http404
    qs = visible_visits(user).filter(pk=visit_id)
    if for_update:
        qs = qs.select_for_update(of=("self",))
    visit = qs.select_related("ticket", "engineer", "asset", "asset__customer").first()
    if visit is None:
        raise Http404
    require_perm(user, perm)
    return visit


def visible_assets(user: Any) -> QuerySet[Asset]:
    if not _staff_with(user, "field.view"):
        return Asset.objects.none()
    if has_perm(user, "customers.view"):
        return Asset.objects.all()
    return Asset.objects.filter(customer__in=visible_customers(user))


def access_asset(user: Any, pk: Any, *, perm: str = "field.view") -> Asset:
    asset_id = parse_id(pk)
    if asset_id is None:
        raise Http404
    asset = (
        visible_assets(user)
        .select_related("customer", "service_level", "service_level__calendar")
        .filter(pk=asset_id)
        .first()
    )
    if asset is None:
        raise Http404
    require_perm(user, perm)
    return asset


def can_use_parts(user: Any) -> bool:
    return _staff_with(user, "field.view")


def access_part(user: Any, pk: Any, *, perm: str = "field.view") -> Part:
    part_id = parse_id(pk)
    if part_id is None or not _staff_with(user, "field.view"):
        raise Http404
    part = Part.objects.filter(pk=part_id).first()
    if part is None:
        raise Http404
    require_perm(user, perm)
    return part


def access_reservation(user: Any, pk: Any, *, perm: str = "field.parts") -> Reservation:
    reservation_id = parse_id(pk)
    if reservation_id is None or not _staff_with(user, "field.view"):
        raise Http404
    qs = Reservation.objects.select_related("ticket", "part", "location").filter(pk=reservation_id)
    q = _ticket_filter(user)
    if q is not None:
        qs = qs.filter(q | Q(ticket__visits__engineer_id=user.pk)).distinct()
    reservation = qs.first()
    if reservation is None:
        raise Http404
    require_perm(user, perm)
    return reservation


def access_remote_session(user: Any, pk: Any, *, perm: str = "field.remote") -> RemoteSession:
    session_id = parse_id(pk)
    if session_id is None or not _staff_with(user, "field.view"):
        raise Http404
    qs = RemoteSession.objects.select_related("ticket", "engineer").filter(pk=session_id)
    q = _ticket_filter(user)
    if q is not None:
        qs = qs.filter(q | Q(engineer_id=user.pk))
    session = qs.first()
    if session is None:
        raise Http404
    require_perm(user, perm)
    return session


def field_ticket(user: Any, ref: Any, *, perm: str) -> Any:
    """A work order for field actions: visible to ``user`` as a work order, or as the work
    order of one of their visits; 404 otherwise, 403 without ``perm``."""
    from kefu.tickets.access import _lookup
    from kefu.tickets.models import Ticket

    if not _staff_with(user, "field.view"):
        raise Http404
    qs = Ticket.objects.filter(_lookup(ref))
    q = visibility_q(user)
    if q is not None:
        qs = qs.filter(q | Q(pk__in=Visit.objects.filter(engineer_id=user.pk).values("ticket_id")))
    ticket = qs.select_related("customer", "assignee", "team").first()
    if ticket is None:
        raise Http404
    require_perm(user, perm)
    return ticket
