"""The unified queue's rules: presence, enqueueing, dispatching, offers, finishing, reassigning.

Every change runs in one transaction with its event row; pushes to browsers and the next
dispatch run after commit. Two guards keep concurrent dispatchers honest, on SQLite and
PostgreSQL alike: an item is claimed with ``SELECT … FOR UPDATE SKIP LOCKED`` and a state check,
and an agent's capacity is taken by one conditional ``UPDATE … WHERE active < capacity``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Count, F, Min, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.models import AgentProfile, User
from kefu.core import events
from kefu.core.choices import WorkChannel
from kefu.core.jobs import enqueue as enqueue_job
from kefu.core.permissions import (
    AGENT_ROLES,
    has_perm,
    require_perm,
    require_perm_unless_system,
)
from kefu.core.realtime import broadcast, user_group
from kefu.routing import engine
from kefu.routing.models import (
    KIND_CHANNEL,
    AgentLoad,
    Kind,
    Presence,
    PresenceChange,
    QueueItem,
    RoutingQueue,
    Strategy,
)
from kefu.tickets.states import OPEN_STATES

log = logging.getLogger(__name__)
LIVE = (QueueItem.State.WAITING, QueueItem.State.OFFERED, QueueItem.State.ASSIGNED)


ACTIVE_KEY = "routing:active"


def routing_active() -> bool:
    """Whether this centre routes work at all (some queue is switched on); cached, and cleared
    whenever a queue changes. Without queues Kefu keeps no presence and shows no switcher."""
    value = cache.get(ACTIVE_KEY)
    if value is None:
        value = RoutingQueue.objects.filter(active=True).exists()
        cache.set(ACTIVE_KEY, value, 300)
    return bool(value)


# --- presence -------------------------------------------------------------------------------------


def presence_of(user: User) -> Presence:
    presence, _created = Presence.objects.get_or_create(
        user=user, defaults={"since": timezone.now(), "state": Presence.State.OFFLINE}
    )
    return presence


def sync_capacity(user: User) -> None:
    """Make the agent's load rows carry the capacity of their profile."""
    profile = AgentProfile.objects.filter(user=user).first()
    for channel in WorkChannel:
        capacity = profile.capacity_for(channel.value) if profile else 0
        row, created = AgentLoad.objects.get_or_create(
            user=user, channel=channel.value, defaults={"capacity": capacity}
        )
        if not created and row.capacity != capacity:
            AgentLoad.objects.filter(pk=row.pk).update(capacity=capacity)


@transaction.atomic
def set_presence(
    *,
    actor: User | None,
    user: User,
    state: str,
    reason: str = "",
    until: dt.datetime | None = None,
) -> Presence:
    """Change an agent's state (``actor`` None: Kefu itself, e.g. after-call work ending)."""
    if state not in Presence.State.values:
        raise ValidationError({"state": [_("Unknown state “%(s)s”.") % {"s": state}]})
    if state == Presence.State.BREAK:
        if reason not in Presence.Reason.values or not reason:
            raise ValidationError({"reason": [_("Choose a reason for the break.")]})
    else:
        reason = ""
    if actor is not None and actor.pk != user.pk:
        require_perm(actor, "routing.supervise")
    elif actor is not None and not has_perm(actor, "routing.supervise"):
        require_perm(actor, "routing.work")
    if user.role not in AGENT_ROLES and user.role != "supervisor":
        raise ValidationError({"state": [_("Only agents take work from the queues.")]})
    presence = Presence.objects.select_for_update().filter(user=user).first() or presence_of(user)
    now = timezone.now()
    if presence.state == state and presence.reason == reason:
        return presence
    before = {"state": presence.state, "reason": presence.reason}
    PresenceChange.objects.filter(user=user, ended_at__isnull=True).update(ended_at=now)
    PresenceChange.objects.create(
        user=user, state=state, reason=reason, started_at=now, by_system=actor is None
    )
    presence.state, presence.reason, presence.since = state, reason, now
    presence.auto = actor is None
    presence.until = until
    presence.save()
    if state == Presence.State.AVAILABLE:
        sync_capacity(user)
    events.record(
        "presence_changed",
        user,
        actor=actor,
        changes={k: [before[k], getattr(presence, k)] for k in before},
        object_type="user",
    )
    if state != Presence.State.AVAILABLE:
        # busy, wrapping up, on a break or gone: open offers go to someone who can take them
        for item in QueueItem.objects.select_for_update().filter(
            agent=user, state=QueueItem.State.OFFERED
        ):
            _back_to_queue(item, actor, state, declined=False)  # nobody will answer it here
    if state == Presence.State.AVAILABLE:
        _dispatch_soon()
    return presence


# --- queues and items -----------------------------------------------------------------------------


def queue_for_ticket(ticket: Any) -> RoutingQueue | None:
    for queue in RoutingQueue.objects.filter(active=True).prefetch_related("ticket_types", "teams"):
        if queue.kinds and Kind.TICKET not in queue.kinds:
            continue
        types = {t.pk for t in queue.ticket_types.all()}
        if types and ticket.ticket_type_id not in types:
            continue
        teams = {t.pk for t in queue.teams.all()}
        if teams and ticket.team_id is not None and ticket.team_id not in teams:
            continue
        return queue
    return None


def _bonus(customer: Any) -> int:
    tier = getattr(customer, "vip_tier", None) if customer is not None else None
    return int(tier.priority_weight) if tier is not None else 0


@transaction.atomic
def add_item(
    *,
    actor: User | None,
    queue: RoutingQueue,
    kind: str,
    title: str,
    ticket: Any = None,
    customer: Any = None,
    phone: str = "",
    business_type: str = "",
    required_skills: Sequence[str] = (),
    preferred_skills: Sequence[str] = (),
    language: str = "",
    priority: int = 3,
    not_before: dt.datetime | None = None,
    arrived_at: dt.datetime | None = None,
) -> QueueItem:
    """Put one piece of work in a queue."""
    require_perm_unless_system(actor, "routing.enqueue")
    if kind not in Kind.values:
        raise ValidationError({"kind": [_("Unknown kind of work “%(k)s”.") % {"k": kind}]})
    if not queue.active:
        raise ValidationError({"queue": [_("This queue is switched off.")]})
    if queue.kinds and kind not in queue.kinds:
        raise ValidationError({"kind": [_("This queue does not take this kind of work.")]})
    if not title.strip():
        raise ValidationError({"title": [_("Give the item a title.")]})
    if not_before is not None and kind != Kind.CALLBACK:
        raise ValidationError({"not_before": [_("Only callbacks are booked for a time.")]})
    arrived = arrived_at or timezone.now()
    bonus = _bonus(customer)
    item = QueueItem.objects.create(
        queue=queue,
        kind=kind,
        channel=KIND_CHANNEL[Kind(kind)].value,
        title=title.strip()[:200],
        ticket=ticket,
        customer=customer,
        phone=phone,
        business_type=business_type,
        required_skills=sorted(set(required_skills)),
        preferred_skills=sorted(set(preferred_skills)),
        language=language,
        priority=priority,
        bonus=bonus,
        arrived_at=arrived,
        rank_at=arrived - dt.timedelta(seconds=bonus),
        not_before=not_before,
    )
    events.record("queue_item_added", item, actor=actor, data={"queue": queue.code, "kind": kind})
    _dispatch_soon(queue.pk)
    return item


# --- dispatching ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    item_id: int
    agent_id: int
    offered: bool


def _pool(queue: RoutingQueue, overflow: bool) -> list[engine.Agent]:
    """Available agents who serve the queue (and its overflow teams), with skills and loads."""
    teams = list(queue.teams.values_list("pk", flat=True))
    if overflow:
        teams += list(queue.overflow_teams.values_list("pk", flat=True))
    users = User.objects.filter(is_active=True, presence__state=Presence.State.AVAILABLE)
    if teams:
        users = users.filter(memberships__team_id__in=teams)
    rows = list(users.distinct().values_list("pk", "presence__last_offered_at"))
    ids = [pk for pk, _at in rows]
    skills: dict[int, set[str]] = {pk: set() for pk in ids}
    languages: dict[int, set[str]] = {pk: set() for pk in ids}
    for user_id, code in AgentProfile.objects.filter(user_id__in=ids).values_list(
        "user_id", "agent_skills__skill__code"
    ):
        if code:
            skills[user_id].add(code)
    for user_id, langs in AgentProfile.objects.filter(user_id__in=ids).values_list(
        "user_id", "languages"
    ):
        languages[user_id] = set(langs or [])
    capacity: dict[int, dict[str, int]] = {pk: {} for pk in ids}
    load: dict[int, dict[str, int]] = {pk: {} for pk in ids}
    for user_id, channel, active, cap in AgentLoad.objects.filter(user_id__in=ids).values_list(
        "user_id", "channel", "active", "capacity"
    ):
        capacity[user_id][channel] = cap
        load[user_id][channel] = active
    return [
        engine.Agent(
            id=pk,
            skills=frozenset(skills[pk]),
            languages=frozenset(languages[pk]),
            capacity=capacity[pk],
            load=load[pk],
            last_offered=at.timestamp() if at else 0.0,
        )
        for pk, at in rows
    ]


def _sticky_agent(queue: RoutingQueue, item: QueueItem) -> int | None:
    if queue.strategy != Strategy.STICKY or item.customer_id is None:
        return None
    since = timezone.now() - dt.timedelta(days=queue.sticky_days)
    return (
        QueueItem.objects.filter(
            customer_id=item.customer_id,
            agent__isnull=False,
            assigned_at__gte=since,
            state__in=[QueueItem.State.ASSIGNED, QueueItem.State.DONE],
        )
        .exclude(pk=item.pk)
        .order_by("-assigned_at")
        .values_list("agent_id", flat=True)
        .first()
    )


def take_capacity(agent_id: int, channel: str) -> bool:
    """Book one unit of an agent's capacity; False when they are full (nothing changes)."""
    return bool(
        AgentLoad.objects.filter(
            user_id=agent_id, channel=channel, active__lt=F("capacity")
        ).update(active=F("active") + 1)
    )


def release_capacity(agent_id: int, channel: str) -> None:
    AgentLoad.objects.filter(user_id=agent_id, channel=channel, active__gt=0).update(
        active=F("active") - 1
    )


def dispatch(
    queue_id: int | None = None, *, now: dt.datetime | None = None, limit: int = 1000
) -> list[Decision]:
    """Give waiting items to agents, most urgent first, in every automatic queue (or one)."""
    decisions: list[Decision] = []
    queues = RoutingQueue.objects.filter(active=True).exclude(strategy=Strategy.MANUAL)
    if queue_id is not None:
        queues = queues.filter(pk=queue_id)
    for queue in queues:
        decisions += _dispatch_queue(queue, now or timezone.now(), limit)
    return decisions


BATCH = 16
"""Items one dispatcher claims and decides in one transaction: small enough that each
decision commits within a few milliseconds, large enough to share the statements."""


def _dispatch_queue(queue: RoutingQueue, now: dt.datetime, limit: int) -> list[Decision]:
    pools: dict[bool, engine.Pool] = {}
    decisions: list[Decision] = []
    passed: set[int] = set()  # items nobody could take in this run: do not claim them again
    while len(decisions) < limit and len(passed) < 5 * limit:
        batch = decide_batch(queue, now, pools, passed, min(BATCH, limit - len(decisions)))
        if batch is None:
            break
        decisions += batch
        if not batch and not any(pool.room() for pool in pools.values()):
            break  # everyone is full: the rest waits for the next change
    return decisions


def _without_closed_work_orders(items: list[QueueItem], now: dt.datetime) -> list[QueueItem]:
    """Lock the work orders of the claimed items (skipping those being changed right now, whose
    items wait for the next batch) and cancel items whose work order is closed already."""
    ticket_ids = [i.ticket_id for i in items if i.ticket_id is not None]
    if not ticket_ids:
        return items
    from kefu.tickets.models import Ticket

    locked = {
        pk: status
        for pk, status in Ticket.objects.select_for_update(skip_locked=True)
        .filter(pk__in=ticket_ids)
        .values_list("pk", "status")
    }
    keep: list[QueueItem] = []
    closed: list[QueueItem] = []
    for item in items:
        if item.ticket_id is None:
            keep.append(item)
        elif item.ticket_id in locked:
            (keep if locked[item.ticket_id] in OPEN_STATES else closed).append(item)
    if closed:
        QueueItem.objects.filter(pk__in=[i.pk for i in closed]).update(
            state=QueueItem.State.CANCELLED, finished_at=now
        )
        events.record_many(
            "queue_item_finished", ((i, {"state": "cancelled"}) for i in closed), actor=None
        )
    return keep


def _facts(queue: RoutingQueue, item: QueueItem) -> engine.Item:
    return engine.Item(
        id=item.pk,
        channel=item.channel,
        required_skills=frozenset(item.required_skills),
        preferred_skills=frozenset(item.preferred_skills),
        language=item.language,
        sticky_agent=_sticky_agent(queue, item),
        declined_by=frozenset(item.declined_by),
    )


@transaction.atomic
def decide_batch(
    queue: RoutingQueue,
    now: dt.datetime,
    pools: dict[bool, engine.Pool],
    passed: set[int],
    size: int = BATCH,
) -> list[Decision] | None:
    """Claim the most urgent waiting items (skipping those another dispatcher holds), choose
    an agent for each with the queue's strategy, and take the agents' capacity. Returns None
    when nothing is left to claim."""
    items = list(
        QueueItem.objects.select_for_update(skip_locked=True)
        .filter(queue=queue, state=QueueItem.State.WAITING)
        .filter(Q(not_before__isnull=True) | Q(not_before__lte=now))
        .exclude(pk__in=passed)
        .order_by("rank_at", "pk")[:size]
    )
    if not items:
        return None
    items = _without_closed_work_orders(items, now)
    plan: list[tuple[QueueItem, engine.Agent]] = []
    reoffered: list[int] = []
    for item in items:
        pool = pools.get(item.overflowed)
        if pool is None:
            pool = pools[item.overflowed] = engine.Pool(
                queue.strategy, _pool(queue, item.overflowed)
            )
        facts = _facts(queue, item)
        agent = pool.choose(facts)
        if agent is None and facts.declined_by:
            # everyone who could take it has declined it: start the round again
            agent = pool.choose(dataclasses.replace(facts, declined_by=frozenset()))
            if agent is not None:
                reoffered.append(item.pk)
        if agent is None:
            passed.add(item.pk)
            continue
        pool.take(agent, item.channel, now.timestamp())
        if item.channel == WorkChannel.VOICE:
            pool.busy(agent)  # on the phone now: nothing more in this run
        plan.append((item, agent))
    if not plan:
        return []
    # The picture may be stale (other dispatchers, presence changes, finished work): lock the
    # chosen agents' presence (still available?) and loads (still room?) and grant only what
    # really holds. Rows someone else holds right now are skipped, never waited for, so a
    # dispatcher cannot deadlock with another one or with a presence change; those items go to
    # someone else in the next batch.
    present = set(
        Presence.objects.select_for_update(skip_locked=True)
        .filter(pk__in={a.id for _i, a in plan}, state=Presence.State.AVAILABLE)
        .values_list("pk", flat=True)
    )
    loads = {
        (row.user_id, row.channel): row
        for row in AgentLoad.objects.select_for_update(skip_locked=True)
        .filter(user_id__in=present, channel__in={i.channel for i, _a in plan})
        .order_by("user_id", "channel")
    }
    granted: list[tuple[QueueItem, engine.Agent]] = []
    for item, agent in plan:
        row = loads.get((agent.id, item.channel))
        if row is None or row.active >= row.capacity:
            pools[item.overflowed].full(agent, item.channel)  # for the rest of this run
            continue
        row.active += 1
        granted.append((item, agent))
    if not granted:
        return []
    if reoffered:
        QueueItem.objects.filter(pk__in=reoffered).update(declined_by=[])
    rows = {id(r): r for r in (loads[(a.id, i.channel)] for i, a in granted)}.values()
    _update_by_id(AgentLoad, "active", {r.pk: r.active for r in rows})
    offered = queue.offer_timeout > 0
    fixed: dict[str, Any] = {"offered_at": now}
    if offered:
        fixed |= {
            "state": QueueItem.State.OFFERED.value,
            "offer_expires_at": now + dt.timedelta(seconds=queue.offer_timeout),
        }
    else:
        fixed |= {"state": QueueItem.State.ASSIGNED.value, "assigned_at": now}
    _update_by_id(QueueItem, "agent_id", {i.pk: a.id for i, a in granted}, fixed)
    for item, agent in granted:
        item.agent_id = agent.id
        for name, value in fixed.items():
            setattr(item, name, value)
    Presence.objects.filter(pk__in={a.id for _i, a in granted}).update(last_offered_at=now)
    events.record_many(
        "queue_item_offered" if offered else "queue_item_assigned",
        ((i, {"agent": a.id}) for i, a in granted),
        actor=None,
    )
    for item, agent in granted:
        if offered:
            item.queue = queue
            broadcast(user_group(agent.id), offer_payload(item))
        else:
            _follow_assignment(item)
    return [Decision(i.pk, a.id, offered) for i, a in granted]


def _update_by_id(
    model: Any, column: str, values: dict[int, Any], fixed: dict[str, Any] | None = None
) -> None:
    """One UPDATE that sets ``column`` per row id (and the ``fixed`` fields on all of them):
    much cheaper to build than bulk_update for the dispatcher's small batches."""
    if not values:
        return
    quote = connection.ops.quote_name
    cases = " ".join("WHEN %s THEN %s" for _ in values)
    params: list[Any] = [x for pair in values.items() for x in pair]
    sets = [f"{quote(column)} = CASE {quote('id')} {cases} END"]
    for name, value in (fixed or {}).items():
        field = model._meta.get_field(name)
        sets.append(f"{quote(field.column)} = %s")
        params.append(field.get_db_prep_save(value, connection))
    ids = ", ".join("%s" for _ in values)
    params += list(values)
    with connection.cursor() as cursor:
        # only quoted names of Kefu's own tables and columns go into the text; values are bound
        cursor.execute(
            f"UPDATE {quote(model._meta.db_table)} SET {', '.join(sets)} "  # noqa: S608
            f"WHERE {quote('id')} IN ({ids})",
            params,
        )


def offer_payload(item: QueueItem) -> dict[str, Any]:
    return {
        "type": "routing.offer",
        "item": item.pk,
        "kind": item.kind,
        "kind_label": str(Kind(item.kind).label),
        "title": item.title,
        "queue": item.queue.name,
        "expires_at": item.offer_expires_at.isoformat() if item.offer_expires_at else None,
        "timeout": item.queue.offer_timeout,
        "url": reverse("tickets:detail", args=[item.ticket.number]) if item.ticket else "",
    }


def _assigned(item: QueueItem, actor: User | None, now: dt.datetime) -> None:
    """The item is the agent's now (accepted, picked or given by a supervisor)."""
    item.state = QueueItem.State.ASSIGNED
    item.assigned_at = now
    item.offer_expires_at = None
    item.save(update_fields=["agent", "state", "assigned_at", "offered_at", "offer_expires_at"])
    events.record("queue_item_assigned", item, actor=actor, data={"agent": item.agent_id})
    _follow_assignment(item)


def _follow_assignment(item: QueueItem) -> None:
    """A work order is assigned through its own state machine; a call makes the agent busy."""
    if item.agent_id is None:
        return
    if item.ticket_id is not None:
        from kefu.tickets.models import Ticket
        from kefu.tickets.services import assign_ticket

        ticket = Ticket.objects.get(pk=item.ticket_id)
        if ticket.assignee_id != item.agent_id:
            agent = User.objects.get(pk=item.agent_id)
            assign_ticket(actor=None, ticket=ticket, assignee=agent, reason=_("Routing"))
    if item.channel == WorkChannel.VOICE:
        agent = User.objects.get(pk=item.agent_id)
        if presence_of(agent).state == Presence.State.AVAILABLE:
            set_presence(actor=None, user=agent, state=Presence.State.BUSY)


def _lock_work_order_first(item: QueueItem) -> None:
    """Work-order services lock the work order, then (in the ticket hook) its queue item;
    routing actions that may assign the work order take the locks in that same order."""
    ticket_id = QueueItem.objects.filter(pk=item.pk).values_list("ticket_id", flat=True).first()
    if ticket_id is not None:
        from kefu.tickets.models import Ticket

        Ticket.objects.select_for_update().filter(pk=ticket_id).values_list("pk").first()


def _lock_own(item: QueueItem, actor: User, state: str) -> QueueItem:
    _lock_work_order_first(item)
    locked = QueueItem.objects.select_for_update().select_related("queue").get(pk=item.pk)
    if locked.agent_id != actor.pk or locked.state != state:
        raise ValidationError(
            {"item": [_("This item is no longer offered to you.")]}
            if state == QueueItem.State.OFFERED
            else {"item": [_("This item is not yours to finish.")]}
        )
    return locked


@transaction.atomic
def accept(*, actor: User, item: QueueItem) -> QueueItem:
    item = _lock_own(item, actor, QueueItem.State.OFFERED)
    now = timezone.now()
    if item.offer_expires_at is not None and item.offer_expires_at < now:
        raise ValidationError({"item": [_("The offer ran out; it went back to the queue.")]})
    _assigned(item, actor, now)
    return item


def _back_to_queue(
    item: QueueItem, actor: User | None, reason: str, *, declined: bool = True
) -> None:
    """An offer comes back (declined, timed out, or the agent left): the next agent gets it.
    Whoever declined or let it time out is not offered it again until everyone else has."""
    agent_id = item.agent_id
    assert agent_id is not None
    release_capacity(agent_id, item.channel)
    if declined:
        item.declined_by = sorted({*item.declined_by, agent_id})
    item.state = QueueItem.State.WAITING
    item.agent = None
    item.offered_at = None
    item.offer_expires_at = None
    item.save(update_fields=["declined_by", "state", "agent", "offered_at", "offer_expires_at"])
    events.record(
        "queue_item_declined", item, actor=actor, data={"agent": agent_id, "reason": reason}
    )
    broadcast(user_group(agent_id), {"type": "routing.withdrawn", "item": item.pk})
    _dispatch_soon(item.queue_id)


@transaction.atomic
def decline(*, actor: User, item: QueueItem, reason: str = "") -> QueueItem:
    item = _lock_own(item, actor, QueueItem.State.OFFERED)
    _back_to_queue(item, actor, reason[:200] or "declined")
    return item


@transaction.atomic
def finish(*, actor: User | None, item: QueueItem, cancelled: bool = False) -> QueueItem:
    """The agent is done with it (or it went elsewhere): free the capacity; after a call the
    agent has the queue's after-call work time."""
    item = QueueItem.objects.select_for_update().select_related("queue").get(pk=item.pk)
    if actor is not None:
        if item.ticket_id is not None:
            raise ValidationError(
                {"item": [_("A work order leaves the queue when it is resolved or reassigned.")]}
            )
        supervisor = has_perm(actor, "routing.supervise")
        if not supervisor and (actor.pk != item.agent_id or item.state != QueueItem.State.ASSIGNED):
            raise ValidationError({"item": [_("This item is not yours to finish.")]})
        cancelled = cancelled or item.state != QueueItem.State.ASSIGNED
    if item.state not in LIVE:
        return item
    now = timezone.now()
    if item.agent_id is not None and item.state != QueueItem.State.WAITING:
        release_capacity(item.agent_id, item.channel)
    if item.state == QueueItem.State.OFFERED and item.agent_id is not None:
        broadcast(user_group(item.agent_id), {"type": "routing.withdrawn", "item": item.pk})
    was_assigned = item.state == QueueItem.State.ASSIGNED
    item.state = QueueItem.State.CANCELLED if cancelled else QueueItem.State.DONE
    item.finished_at = now
    item.offer_expires_at = None
    item.save(update_fields=["state", "finished_at", "offer_expires_at"])
    events.record("queue_item_finished", item, actor=actor, data={"state": item.state})
    if was_assigned and item.channel == WorkChannel.VOICE and item.agent_id is not None:
        agent = User.objects.get(pk=item.agent_id)
        if presence_of(agent).state in (Presence.State.BUSY, Presence.State.AVAILABLE):
            set_presence(
                actor=None,
                user=agent,
                state=Presence.State.AFTER_CALL,
                until=now + dt.timedelta(seconds=item.queue.wrap_up),
            )
    _dispatch_soon(item.queue_id)
    return item


@transaction.atomic
def pick(*, actor: User, item: QueueItem) -> QueueItem:
    """An agent takes a waiting item from the list themselves (manual queues, or any queue)."""
    require_perm(actor, "routing.work")
    _lock_work_order_first(item)
    claimed = (
        QueueItem.objects.select_for_update(skip_locked=True)
        .select_related("queue")
        .filter(pk=item.pk, state=QueueItem.State.WAITING)
        .first()
    )
    if claimed is None:
        raise ValidationError({"item": [_("Someone else has taken this item.")]})
    item = claimed
    teams = set(item.queue.teams.values_list("pk", flat=True))
    if item.overflowed:
        teams |= set(item.queue.overflow_teams.values_list("pk", flat=True))
    if teams and not teams & set(actor.memberships.values_list("team_id", flat=True)):
        raise PermissionDenied(_("This queue is served by other teams."))
    sync_capacity(actor)
    if not take_capacity(actor.pk, item.channel):
        raise ValidationError({"item": [_("You are at your capacity for this kind of work.")]})
    item.agent = actor
    item.offered_at = timezone.now()
    _assigned(item, actor, item.offered_at)
    return item


@transaction.atomic
def reassign(*, actor: User | None, item: QueueItem, agent: User) -> QueueItem:
    """A supervisor gives an item to a chosen agent (within that agent's capacity); ``actor``
    None is Kefu itself, e.g. the hotline when the PBX put a call through to an agent."""
    require_perm_unless_system(actor, "routing.supervise")
    _lock_work_order_first(item)
    item = QueueItem.objects.select_for_update().select_related("queue").get(pk=item.pk)
    if item.state not in LIVE:
        raise ValidationError({"item": [_("This item is finished.")]})
    if item.agent_id == agent.pk and item.state != QueueItem.State.WAITING:
        if item.state == QueueItem.State.OFFERED:  # already holds its capacity: make it theirs
            _assigned(item, actor, timezone.now())
        return item
    if agent.role not in AGENT_ROLES or not agent.is_active:
        raise ValidationError({"agent": [_("Items go to active agents.")]})
    sync_capacity(agent)
    holders = {agent.pk} | ({item.agent_id} if item.agent_id is not None else set())
    list(  # both agents' loads, in one order, so two reassignments cannot deadlock
        AgentLoad.objects.select_for_update()
        .filter(user_id__in=holders, channel=item.channel)
        .order_by("user_id")
        .values_list("pk")
    )
    if not take_capacity(agent.pk, item.channel):
        raise ValidationError(
            {
                "agent": [
                    _("%(n)s is at capacity for this kind of work.") % {"n": agent.display_label}
                ]
            }
        )
    if item.agent_id is not None and item.state != QueueItem.State.WAITING:
        release_capacity(item.agent_id, item.channel)
        broadcast(user_group(item.agent_id), {"type": "routing.withdrawn", "item": item.pk})
    item.agent = agent
    item.offered_at = timezone.now()
    _assigned(item, actor, item.offered_at)
    return item


ACTIONS = ("accept", "decline", "pick", "finish", "reassign")


def act(
    *, actor: User, item: QueueItem, action: str, reason: str = "", agent: User | None = None
) -> QueueItem:
    """One action on an item by a person, as the pages and the API offer them."""
    if action == "accept":
        return accept(actor=actor, item=item)
    if action == "decline":
        return decline(actor=actor, item=item, reason=reason)
    if action == "pick":
        return pick(actor=actor, item=item)
    if action == "finish":
        return finish(actor=actor, item=item)
    if action == "reassign" and agent is not None:
        return reassign(actor=actor, item=item, agent=agent)
    raise PermissionDenied


# --- the periodic tick ----------------------------------------------------------------------------


def expire_offers(now: dt.datetime | None = None) -> int:
    now = now or timezone.now()
    expired = 0
    due = list(
        QueueItem.objects.filter(state=QueueItem.State.OFFERED, offer_expires_at__lte=now)
        .order_by("offer_expires_at")
        .values_list("pk", flat=True)[:500]
    )
    for item_id in due:
        with transaction.atomic():
            item = (
                QueueItem.objects.select_for_update(skip_locked=True)
                .filter(pk=item_id, state=QueueItem.State.OFFERED, offer_expires_at__lte=now)
                .first()
            )
            if item is not None:
                _back_to_queue(item, None, "timeout")
                expired += 1
    return expired


def end_after_call_work(now: dt.datetime | None = None) -> int:
    now = now or timezone.now()
    ended = 0
    for user_id in Presence.objects.filter(
        state=Presence.State.AFTER_CALL, auto=True, until__lte=now
    ).values_list("pk", flat=True):
        with transaction.atomic():
            presence = (
                Presence.objects.select_for_update(skip_locked=True)
                .select_related("user")
                .filter(pk=user_id, state=Presence.State.AFTER_CALL, auto=True, until__lte=now)
                .first()
            )
            if presence is not None:  # not changed by the agent meanwhile
                set_presence(actor=None, user=presence.user, state=Presence.State.AVAILABLE)
                ended += 1
    return ended


def mark_overflow(now: dt.datetime | None = None) -> int:
    now = now or timezone.now()
    marked = 0
    for queue in RoutingQueue.objects.filter(active=True, overflow_after__gt=0):
        marked += QueueItem.objects.filter(
            queue=queue,
            state=QueueItem.State.WAITING,
            overflowed=False,
            arrived_at__lte=now - dt.timedelta(seconds=queue.overflow_after),
        ).update(overflowed=True)
    return marked


def tick(now: dt.datetime | None = None) -> list[Decision]:
    """What the periodic job does: expire offers, end after-call work, overflow, dispatch."""
    expire_offers(now)
    end_after_call_work(now)
    mark_overflow(now)
    return dispatch(now=now)


# --- work orders ----------------------------------------------------------------------------------


DONE_ACTIONS = {"ticket_status_changed", "ticket_merged", "ticket_merged_into"}
ROUTED_ACTIONS = {"ticket_created", "ticket_assigned", "ticket_escalated", *DONE_ACTIONS}


def on_ticket_event(ticket: Any, event: Any) -> None:
    """Ticket hook: new unassigned work orders join their queue; a work order assigned by hand
    or finished leaves it."""
    action = event.action
    if action not in ROUTED_ACTIONS or not routing_active():
        return  # a centre without queues pays nothing here
    if action == "ticket_created":
        if ticket.assignee_id is None and ticket.is_open:
            queue = queue_for_ticket(ticket)
            if queue is not None:
                add_item(
                    actor=None,
                    queue=queue,
                    kind=Kind.TICKET,
                    title=f"{ticket.number} {ticket.title}",
                    ticket=ticket,
                    customer=ticket.customer,
                    business_type=ticket.ticket_type.code if ticket.ticket_type_id else "",
                    priority=ticket.priority,
                    arrived_at=ticket.created_at,
                )
        return
    item = QueueItem.objects.select_for_update().filter(ticket_id=ticket.pk, state__in=LIVE).first()
    if item is None:
        return
    _leave_if_done(item, action, is_open=ticket.is_open, assignee_id=ticket.assignee_id)


def _leave_if_done(item: QueueItem, action: str, *, is_open: bool, assignee_id: int | None) -> bool:
    """Finish a work order's live queue item after a change that takes it out of the queue;
    whether it was finished."""
    if not is_open:
        finish(actor=None, item=item, cancelled=item.state != QueueItem.State.ASSIGNED)
    elif action == "ticket_escalated":
        finish(actor=None, item=item, cancelled=True)  # the second line takes it from here
    elif item.state == QueueItem.State.ASSIGNED and assignee_id != item.agent_id:
        finish(actor=None, item=item, cancelled=True)  # escalated, or handed to someone else
    elif assignee_id is not None and assignee_id != item.agent_id:
        finish(actor=None, item=item, cancelled=True)  # given to someone by hand
    else:
        return False
    return True


def on_ticket_events(tickets: Sequence[Any], events_: Sequence[Any]) -> None:
    """Batch version of :func:`on_ticket_event` (one reply to many work orders): the live
    queue items of the whole batch are read with one statement, and each leaves its queue
    as it would after that event one by one (the work order's state at each event is worked
    out backwards from its final state through the events' changes)."""
    by_pk = {t.pk: t for t in tickets}
    routed = [e for e in events_ if e.action in ROUTED_ACTIONS and e.object_id in by_pk]
    if not routed or not routing_active():
        return
    for event in routed:
        if event.action == "ticket_created":
            on_ticket_event(by_pk[event.object_id], event)
    later = [e for e in routed if e.action != "ticket_created"]
    items = {
        item.ticket_id: item
        for item in QueueItem.objects.select_for_update().filter(
            ticket_id__in={e.object_id for e in later}, state__in=LIVE
        )
    }
    if not items:
        return
    # (is_open, assignee) after each event, from the final state back through the changes
    after: dict[int, tuple[bool, int | None]] = {}
    state = {pk: (by_pk[pk].is_open, by_pk[pk].assignee_id) for pk in items}
    for event in reversed(events_):
        pk = event.object_id
        if pk not in state:
            continue
        is_open, assignee_id = state[pk]
        after[id(event)] = (is_open, assignee_id)
        changes = event.changes or {}
        if "status" in changes:
            is_open = changes["status"][0] in OPEN_STATES
        if "assignee" in changes:
            assignee_id = changes["assignee"][0]
        state[pk] = (is_open, assignee_id)
    for event in later:
        item = items.get(event.object_id)
        if item is None:
            continue
        is_open, assignee_id = after[id(event)]
        if _leave_if_done(item, event.action, is_open=is_open, assignee_id=assignee_id):
            del items[event.object_id]


# --- after commit ---------------------------------------------------------------------------------


def _dispatch_soon(queue_id: int | None = None) -> None:
    from kefu.routing.tasks import dispatch_task

    enqueue_job(dispatch_task, queue_id)


def waiting_summary(queues: Sequence[RoutingQueue], now: dt.datetime) -> dict[int, dict[str, Any]]:
    """Per queue: items waiting, offered, and the longest wait of those that can be served now
    (callbacks booked for later do not count yet). One query for all queues."""
    waiting = Q(state=QueueItem.State.WAITING)
    due = waiting & (Q(not_before__isnull=True) | Q(not_before__lte=now))
    rows: dict[int, Any] = {
        row["queue"]: row
        for row in QueueItem.objects.filter(
            queue__in=queues, state__in=[QueueItem.State.WAITING, QueueItem.State.OFFERED]
        )
        .values("queue")
        .annotate(
            waiting=Count("id", filter=waiting),
            offered=Count("id", filter=Q(state=QueueItem.State.OFFERED)),
            oldest=Min("arrived_at", filter=due),
        )
    }
    out: dict[int, dict[str, Any]] = {}
    for queue in queues:
        row = rows.get(queue.pk, {})
        oldest = row.get("oldest")
        out[queue.pk] = {
            "waiting": row.get("waiting", 0),
            "offered": row.get("offered", 0),
            "longest_wait": int((now - oldest).total_seconds()) if oldest else 0,
        }
    return out
