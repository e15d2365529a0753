"""The wall board: its snapshot, its alert colours, and who may watch it."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from kefu.reports import services
from kefu.reports.metrics import level
from kefu.reports.models import AlertThreshold
from kefu.reports.wallboard import compute_snapshot, current_snapshot

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("value", "warn", "alarm", "better", "expected"),
    [
        (85.0, 80, 70, "high", "ok"),
        (80.0, 80, 70, "high", "warn"),
        (69.9, 80, 70, "high", "alarm"),
        (4, 5, 10, "low", "ok"),
        (5, 5, 10, "low", "warn"),
        (12, 5, 10, "low", "alarm"),
        (None, 5, 10, "low", "ok"),
    ],
)
def test_alert_levels(value: Any, warn: float, alarm: float, better: str, expected: str) -> None:
    assert level(value, warn, alarm, better) == expected


def test_snapshot_lists_agents_with_state_and_reason(centre: dict[str, Any]) -> None:
    # given
    from kefu.routing.models import Presence
    from kefu.routing.services import set_presence

    agent = centre["agent"]
    set_presence(actor=agent, user=agent, state="break", reason="meal")
    # when
    snapshot = compute_snapshot()
    # then
    row = next(a for a in snapshot["agents"] if a["id"] == agent.pk)
    meal = str(Presence.Reason.MEAL.label)
    assert (row["state"], row["reason"]) == ("break", meal)
    assert snapshot["breaks"] == [(meal, 1)]
    tiles = {t["id"]: t for t in snapshot["centre"]}
    assert tiles["agents_break"]["value"] == 1


def test_the_snapshot_shows_live_chat(centre: dict[str, Any]) -> None:
    # given: one chat waiting in a chat queue of the first line
    from kefu.chat.models import Widget
    from kefu.chat.services import start_chat
    from kefu.routing.models import RoutingQueue

    queue = RoutingQueue.objects.create(code="chat", name="在线", strategy="manual", kinds=["chat"])
    queue.teams.set([centre["front"]])
    widget = Widget.objects.create(name="官网", allowed_origins=["https://shop.example.com"])
    start_chat(widget=widget, name="王女士")
    # when
    tiles = {t["id"]: t for t in compute_snapshot()["centre"]}
    # then
    assert (tiles["chats_waiting_now"]["value"], tiles["chats_active_now"]["value"]) == (1, 0)
    assert (tiles["chats_served"]["value"], tiles["chat_wait_avg_s"]["value"]) == (0, None)


def test_a_stored_threshold_colours_the_tile(centre: dict[str, Any]) -> None:
    # given
    from kefu.routing.services import set_presence

    set_presence(actor=centre["agent"], user=centre["agent"], state="break", reason="rest")
    services.set_threshold(
        actor=centre["supervisor"], metric="agents_break", queue=None, warn=1, alarm=2
    )
    # when
    tiles = {t["id"]: t for t in compute_snapshot()["centre"]}
    # then
    assert tiles["agents_break"]["level"] == "warn"


def test_thresholds_are_checked_and_need_the_permission(centre: dict[str, Any]) -> None:
    # when / then
    with pytest.raises(ValidationError):
        services.set_threshold(
            actor=centre["supervisor"], metric="service_level", queue=None, warn=70, alarm=80
        )
    with pytest.raises(PermissionDenied):
        services.set_threshold(
            actor=centre["agent"], metric="service_level", queue=None, warn=80, alarm=70
        )
    assert AlertThreshold.objects.count() == 0


def test_the_snapshot_is_computed_once_a_second_for_all_viewers(centre: dict[str, Any]) -> None:
    # when
    first = current_snapshot()
    second = current_snapshot()
    # then
    assert first["computed"] == second["computed"]


def test_pages_and_data_for_a_shift_leader_only(centre: dict[str, Any]) -> None:
    lead, agent = Client(), Client()
    lead.force_login(centre["supervisor"])
    agent.force_login(centre["agent"])
    assert lead.get("/reports/wallboard/").status_code == 200
    assert lead.get("/reports/wallboard/data.json").json()["centre"]
    assert agent.get("/reports/wallboard/").status_code == 403
    assert agent.get("/reports/wallboard/data.json").status_code == 403


def test_threshold_form_refuses_nonsense(centre: dict[str, Any]) -> None:
    lead = Client()
    lead.force_login(centre["supervisor"])
    response = lead.post(
        "/reports/wallboard/thresholds/", {"metric": "waiting_now", "warn": "nan", "alarm": "3"}
    )
    assert response.status_code == 422
    assert AlertThreshold.objects.count() == 0
    response = lead.post(
        "/reports/wallboard/thresholds/", {"metric": "waiting_now", "warn": "5", "alarm": "9"}
    )
    assert response.status_code == 302
    assert AlertThreshold.objects.get().alarm == 9


def test_the_socket_sends_the_snapshot_to_a_leader_and_refuses_an_agent(
    transactional_db: Any, django_db_serialized_rollback: Any
) -> None:
    from channels.testing import WebsocketCommunicator

    from kefu.config.asgi import application
    from kefu.testing.factories import frontline_setup
    from kefu.testing.fixtures import run_async

    people = frontline_setup()

    def cookie_for(user: Any) -> bytes:
        client = Client()
        client.force_login(user)
        return f"sessionid={client.cookies['sessionid'].value}".encode()

    async def talk(cookie: bytes) -> tuple[bool, Any]:
        communicator = WebsocketCommunicator(
            application,
            "/ws/wallboard/",
            headers=[
                (b"cookie", cookie),
                (b"host", b"testserver"),
                (b"origin", b"http://testserver"),
            ],
        )
        connected, _code = await communicator.connect()
        message = await communicator.receive_json_from(timeout=10) if connected else None
        await communicator.disconnect()
        return connected, message

    connected, message = run_async(talk(cookie_for(people["supervisor"])))
    assert connected
    assert message["type"] == "wallboard"
    assert any(t["id"] == "waiting_now" for t in message["centre"])
    connected, _message = run_async(talk(cookie_for(people["agent"])))
    assert not connected
