"""Live calls in the unified queue, and the agents' presence following them.

The PBX routes the call; Kefu mirrors it so supervisors see every channel in one queue and the
agents' states are right: a call ringing in a queue waits there as a phone item; when an agent
answers, the item is theirs (they are busy on the phone); a transfer moves it to the new agent
(the first goes to after-call work); the hang-up finishes it, which gives the agent the queue's
after-call work time, and the agent's wrap-up ends that early. Without routing queues (a
centre that does not route work) nothing is queued.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.calls.models import Call


def _queue_for(name: str) -> Any:
    """The routing queue a PBX queue's calls wait in: the active one whose code is the PBX
    queue's name, else the first active one that takes phone calls."""
    from kefu.routing.models import Kind, RoutingQueue
    from kefu.routing.services import routing_active

    if not routing_active():
        return None
    queues = list(RoutingQueue.objects.filter(active=True))
    named = [q for q in queues if name and q.code == name]
    for queue in named + queues:
        if not queue.kinds or Kind.CALL in queue.kinds:
            return queue
    return None


def enqueue(call: Call) -> None:
    """A new call ringing in a queue or at an agent joins the unified queue."""
    from kefu.routing.models import Kind
    from kefu.routing.services import add_item

    queue = _queue_for(call.queue)
    if queue is None:
        return
    title = (
        _("Call from %(caller)s") % {"caller": call.caller}
        if call.caller
        else _("Call from an unknown number")
    )
    call.queue_item = add_item(
        actor=None,
        queue=queue,
        kind=Kind.CALL,
        title=title,
        customer=call.customer,
        phone=call.caller[:32],
        arrived_at=call.offered_at or call.started_at,
    )
    Call.objects.filter(pk=call.pk).update(queue_item=call.queue_item)


def _item(call: Call) -> Any:
    from kefu.routing.models import QueueItem

    if call.queue_item_id is None:
        return None
    return QueueItem.objects.select_related("queue").filter(pk=call.queue_item_id).first()


def answered(call: Call) -> None:
    """The agent who picked up holds the call's item: capacity taken, busy on the phone."""
    from kefu.routing.services import LIVE, reassign

    item = _item(call)
    if item is None or item.state not in LIVE or call.user is None:
        return
    if item.agent_id == call.user_id and item.state == item.State.ASSIGNED:
        return
    # not an agent, or at capacity: the call goes on, the queue item stays as it was
    with contextlib.suppress(ValidationError):
        reassign(actor=None, item=item, agent=call.user)


def transferred(call: Call, previous_user: Any) -> None:
    """The new agent holds the item; the one who transferred goes to after-call work."""
    from kefu.routing.models import Presence
    from kefu.routing.services import presence_of, set_presence

    answered(call)
    if previous_user is None or previous_user.pk == call.user_id:
        return
    item = _item(call)
    if presence_of(previous_user).state == Presence.State.BUSY:
        wrap_up_s = item.queue.wrap_up if item is not None else 0
        with contextlib.suppress(ValidationError):  # e.g. no longer an agent
            set_presence(
                actor=None,
                user=previous_user,
                state=Presence.State.AFTER_CALL,
                until=timezone.now() + dt.timedelta(seconds=wrap_up_s),
            )


def ended(call: Call) -> None:
    """The hang-up finishes the item: an answered call leaves its agent in after-call work, an
    unanswered one is cancelled."""
    from kefu.routing.services import LIVE, finish

    item = _item(call)
    if item is None or item.state not in LIVE:
        return
    finish(actor=None, item=item, cancelled=call.answered_at is None)


def wrapped_up(call: Call, actor: Any) -> None:
    """The agent's wrap-up of their call ends the after-call work the hang-up started."""
    from kefu.routing.models import Presence
    from kefu.routing.services import presence_of, set_presence

    if call.user_id is None or actor is None or actor.pk != call.user_id:
        return
    presence = presence_of(actor)
    if presence.state == Presence.State.AFTER_CALL and presence.auto:
        set_presence(actor=None, user=actor, state=Presence.State.AVAILABLE)
