"""Which SLA policy a work order falls under: the first active policy, in order, whose every
non-empty condition matches. Policies are compiled once per process (a change clears them here
at once, elsewhere within a minute)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from kefu.sla import calendars
from kefu.sla.models import Escalation, SlaPolicy, SlaTarget, target_seconds
from kefu.tickets.models import Category, Ticket

CACHE_SECONDS = 60


@dataclass(frozen=True)
class Target:
    metric: str
    seconds: int
    calendar_id: int
    warn_at: tuple[int, ...]
    escalations: tuple[tuple[int, str, int | None], ...]  # (level, action, team id)


@dataclass(frozen=True)
class CompiledPolicy:
    policy_id: int
    name: str
    types: frozenset[int] = frozenset()
    categories: frozenset[int] = frozenset()
    priorities: frozenset[int] = frozenset()
    severities: frozenset[str] = frozenset()
    channels: frozenset[str] = frozenset()
    areas: frozenset[str] = frozenset()
    tiers: frozenset[int] = frozenset()
    organizations: frozenset[int] = frozenset()
    pause_statuses: frozenset[str] = frozenset()
    targets: dict[str, Target] = field(default_factory=dict)

    def matches(self, ticket: Ticket, tier: int | None, organization: int | None) -> bool:
        return not (
            (self.types and ticket.ticket_type_id not in self.types)
            or (self.categories and ticket.category_id not in self.categories)
            or (self.priorities and ticket.priority not in self.priorities)
            or (self.severities and ticket.severity not in self.severities)
            or (self.channels and ticket.channel not in self.channels)
            or (self.areas and ticket.area not in self.areas)
            or (self.tiers and tier not in self.tiers)
            or (
                self.organizations
                and organization not in self.organizations
                and ticket.customer_id not in self.organizations
            )
        )


_lock = threading.Lock()
_cache: list[tuple[float, list[CompiledPolicy]]] = []


def _with_descendants(category_ids: Iterable[int]) -> frozenset[int]:
    ids = set(category_ids)
    frontier = set(ids)
    while frontier:
        frontier = (
            set(Category.objects.filter(parent_id__in=frontier).values_list("pk", flat=True)) - ids
        )
        ids |= frontier
    return frozenset(ids)


def _target(target: SlaTarget) -> Target:
    escalations: list[Escalation] = list(target.escalations.all())
    return Target(
        metric=target.metric,
        seconds=target_seconds(target, calendars.standard_day(target.calendar_id)),
        calendar_id=target.calendar_id,
        warn_at=tuple(sorted({int(x) for x in target.warn_at if 0 < int(x) < 100})),
        escalations=tuple((e.level, e.action, e.team_id) for e in escalations),
    )


def policies() -> list[CompiledPolicy]:
    """Active policies in matching order."""
    now = time.monotonic()
    if _cache and _cache[0][0] > now:
        return _cache[0][1]
    compiled = []
    for p in SlaPolicy.objects.filter(is_active=True).prefetch_related(
        "ticket_types", "categories", "vip_tiers", "organizations", "targets__escalations"
    ):
        compiled.append(
            CompiledPolicy(
                policy_id=p.pk,
                name=p.name,
                types=frozenset(t.pk for t in p.ticket_types.all()),
                categories=_with_descendants(c.pk for c in p.categories.all()),
                priorities=frozenset(int(x) for x in p.priorities),
                severities=frozenset(p.severities),
                channels=frozenset(p.channels),
                areas=frozenset(p.areas),
                tiers=frozenset(t.pk for t in p.vip_tiers.all()),
                organizations=frozenset(o.pk for o in p.organizations.all()),
                pause_statuses=frozenset(p.pause_statuses),
                targets={t.metric: _target(t) for t in p.targets.all()},
            )
        )
    with _lock:
        _cache[:] = [(now + CACHE_SECONDS, compiled)]
    return compiled


def forget() -> None:
    with _lock:
        _cache.clear()


def match(ticket: Ticket) -> CompiledPolicy | None:
    customer = ticket.customer if ticket.customer_id else None
    tier = customer.vip_tier_id if customer is not None else None
    organization = customer.organization_id if customer is not None else None
    for policy in policies():
        if policy.matches(ticket, tier, organization):
            return policy
    return None


def by_id(policy_id: int | None) -> CompiledPolicy | None:
    return next((p for p in policies() if p.policy_id == policy_id), None)
