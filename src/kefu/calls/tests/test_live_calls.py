"""Live calls from the CTI webhook in the unified queue: the phone item, the agent's presence
following the call, and the new-contact announcement."""

from __future__ import annotations

from typing import Any

import pytest

from kefu.calls import services
from kefu.calls.models import AgentLink, Call, Integration, WrapUpCode
from kefu.core import interactions
from kefu.core.permissions import Role
from kefu.routing import services as routing
from kefu.routing.models import Presence, QueueItem, RoutingQueue
from kefu.testing.factories import make_customer, make_team, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    team = make_team("热线一组")
    first = make_user(Role.AGENT_L1, username="li", teams=[team])
    second = make_user(Role.AGENT_L1, username="wang", teams=[team])
    AgentLink.objects.create(pbx_agent="SIP/8001", user=first)
    AgentLink.objects.create(pbx_agent="SIP/8002", user=second)
    queue = RoutingQueue.objects.create(
        code="hotline", name="95598 热线", strategy="manual", kinds=["call"], wrap_up=30
    )
    queue.teams.set([team])
    for agent in (first, second):
        routing.set_presence(actor=agent, user=agent, state=Presence.State.AVAILABLE)
    heard: list[interactions.ContactReceived] = []
    monkeypatch.setattr(interactions, "CONTACT_LISTENERS", [heard.append])
    WrapUpCode.objects.create(code="done", label="已解答")
    return {
        "pbx": Integration.objects.create(name="PBX", slug="pbx"),
        "first": first,
        "second": second,
        "customer": make_customer("李华", phone="13800138000"),
        "heard": heard,
    }


def _cti(desk: dict[str, Any], event: str, **fields: Any) -> Call:
    payload = {"event": event, "call_id": "u-1", **fields}
    return services.handle_cti(desk["pbx"], payload)


def _state(user: Any) -> str:
    return Presence.objects.get(user=user).state


def test_a_call_waits_in_the_queue_then_the_agent_is_busy_then_wrapping_up(
    desk: dict[str, Any],
) -> None:
    # when a call rings in the hotline queue
    call = _cti(desk, "ring", caller="13800138000", queue="hotline", area="朝阳区", ivr_path="1>3")
    # then it waits in the unified queue as a phone call, and the contact is announced
    item = QueueItem.objects.get(pk=call.queue_item_id)
    assert (item.kind, item.state, item.phone, item.customer) == (
        "call", "waiting", "13800138000", desk["customer"],
    )  # fmt: skip
    assert item.title == "Call from 13800138000"
    [contact] = desk["heard"]
    assert (contact.channel, contact.obj, contact.customer, contact.area, contact.text) == (
        "phone", call, desk["customer"], "朝阳区", "1>3",
    )  # fmt: skip

    # when the agent answers: the item is theirs and they are busy on the phone
    _cti(desk, "answer", agent="SIP/8001")
    item.refresh_from_db()
    assert (item.state, item.agent) == ("assigned", desk["first"])
    assert _state(desk["first"]) == Presence.State.BUSY

    # when the caller hangs up: the item is done, the agent in after-call work
    _cti(desk, "hangup")
    item.refresh_from_db()
    assert item.state == "done"
    presence = Presence.objects.get(user=desk["first"])
    assert presence.state == Presence.State.AFTER_CALL and presence.until is not None

    # when the agent wraps the call up: available again
    services.wrap_up(actor=desk["first"], call=Call.objects.get(pk=call.pk), code="done")
    assert _state(desk["first"]) == Presence.State.AVAILABLE
    assert len(desk["heard"]) == 1  # announced once, when the call was stored


def test_a_transfer_moves_the_item_and_a_missed_call_is_cancelled(desk: dict[str, Any]) -> None:
    call = _cti(desk, "ring", caller="13900139000", queue="hotline", agent="SIP/8001")
    _cti(desk, "answer", agent="SIP/8001")
    _cti(desk, "transfer", target="SIP/8002")
    item = QueueItem.objects.get(pk=call.queue_item_id)
    assert (item.state, item.agent) == ("assigned", desk["second"])
    assert _state(desk["second"]) == Presence.State.BUSY
    assert _state(desk["first"]) == Presence.State.AFTER_CALL

    missed = services.handle_cti(
        desk["pbx"], {"event": "ring", "call_id": "u-2", "caller": "", "queue": "hotline"}
    )
    services.handle_cti(desk["pbx"], {"event": "hangup", "call_id": "u-2"})
    gone = QueueItem.objects.get(pk=missed.queue_item_id)
    assert (gone.state, gone.title) == ("cancelled", "Call from an unknown number")


def test_without_routing_queues_nothing_is_queued(desk: dict[str, Any]) -> None:
    RoutingQueue.objects.update(active=False)
    from django.core.cache import cache

    cache.clear()
    call = _cti(desk, "ring", caller="13800138000", queue="hotline")
    _cti(desk, "answer", agent="SIP/8001")
    assert call.queue_item_id is None and not QueueItem.objects.exists()
    assert len(desk["heard"]) == 1
