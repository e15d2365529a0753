"""What routing adds when Kefu starts: permissions, navigation, the presence switcher, the ticket
hook, and presence on sign-in and sign-out."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from kefu.core.permissions import AGENT_ROLES, SCOPES, Perm, Role
from kefu.core.permissions import register as register_perm

ACTION_LABELS = {
    "presence_changed": _("changed presence"),
    "queue_item_added": _("joined a queue"),
    "queue_item_offered": _("offered to an agent"),
    "queue_item_assigned": _("given to an agent"),
    "queue_item_declined": _("went back to the queue"),
    "queue_item_finished": _("left the queue"),
}


def takes_work(user: Any) -> bool:
    """An agent in a centre that routes work (has an active queue)."""
    from kefu.routing.services import routing_active

    return bool(
        getattr(user, "is_authenticated", False) and user.role in AGENT_ROLES and routing_active()
    )


def register() -> None:
    from django.contrib.auth.signals import user_logged_in, user_logged_out

    from kefu.core.labels import register_labels
    from kefu.core.navigation import NavItem, register_nav, register_topbar
    from kefu.routing.services import on_ticket_event, on_ticket_events
    from kefu.tickets.services.bulk import register_bulk_ticket_hook
    from kefu.tickets.services.common import register_ticket_hook

    register_perm(
        Perm("routing.work", "routing:write", _("Take work from the queues")),
        (Role.AGENT_L1, Role.AGENT_L2),
    )
    register_perm(
        Perm("routing.supervise", "routing:write", _("Watch every queue and reassign its work")),
        (Role.SUPERVISOR,),
    )
    register_perm(
        Perm("routing.enqueue", "routing:write", _("Put calls, chats and callbacks in a queue")),
        (Role.SUPERVISOR, Role.AGENT_L1, Role.AGENT_L2),
    )
    SCOPES.setdefault("routing:write", _("Queues: presence, offers, callbacks"))
    register_labels(ACTION_LABELS)
    register_ticket_hook(on_ticket_event)
    register_bulk_ticket_hook(on_ticket_events, replaces=on_ticket_event)
    register_nav(
        NavItem("routing", _("Queues"), "routing:board", "people", "work", order=15,
                visible=lambda u: takes_work(u) or _supervises(u)),
    )  # fmt: skip
    register_topbar("routing/_presence.html", takes_work)
    user_logged_in.connect(_signed_in, dispatch_uid="routing-signed-in", weak=False)
    _forget_active_on_change()
    user_logged_out.connect(_signed_out, dispatch_uid="routing-signed-out", weak=False)


def _forget_active_on_change() -> None:
    from django.core.cache import cache
    from django.db.models.signals import post_delete, post_save

    from kefu.routing.models import RoutingQueue
    from kefu.routing.services import ACTIVE_KEY

    def forget(**_kwargs: Any) -> None:
        cache.delete(ACTIVE_KEY)

    post_save.connect(forget, sender=RoutingQueue, weak=False, dispatch_uid="routing-active-save")
    post_delete.connect(forget, sender=RoutingQueue, weak=False, dispatch_uid="routing-active-del")


def _supervises(user: Any) -> bool:
    from kefu.core.permissions import has_perm

    return bool(getattr(user, "is_authenticated", False) and has_perm(user, "routing.supervise"))


def _signed_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    from kefu.routing.models import Presence
    from kefu.routing.services import presence_of, set_presence

    if takes_work(user) and presence_of(user).state == Presence.State.OFFLINE:
        set_presence(actor=None, user=user, state=Presence.State.AVAILABLE)


def _signed_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    from kefu.routing.models import Presence
    from kefu.routing.services import set_presence

    if user is not None and takes_work(user):
        set_presence(actor=None, user=user, state=Presence.State.OFFLINE)
