"""Live chat through /api/v1: lists and transcripts as the screens show them, the live queue,
ending, transferring and work orders through the chat services, and who may do what."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from kefu.accounts.services import create_api_token
from kefu.chat import services
from kefu.chat.models import Conversation, Message, Widget
from kefu.core.models import Event
from kefu.routing.models import RoutingQueue
from kefu.routing.services import set_presence
from kefu.testing.factories import ApiClient, make_customer, make_ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(chat_centre: dict[str, Any], at_once: None) -> dict[str, Any]:
    """The chat centre plus a second team's queue and widget served by the outsider, a chat
    served by the first line's agent (with a whisper) and one served by the other team."""
    other_queue = RoutingQueue.objects.create(code="chat2", name="分公司在线", strategy="manual",
                                              kinds=["chat"])  # fmt: skip
    other_queue.teams.set([chat_centre["other"]])
    other_widget = Widget.objects.create(
        name="分公司", allowed_origins=["https://branch.example.com"], queue=other_queue
    )
    set_presence(actor=None, user=chat_centre["outsider"], state="available")
    ours = _served(chat_centre["widget"], chat_centre["agent"], "王女士")
    services.post_message(conversation_id=ours.pk, sender="guest", body="停电了")
    services.post_message(conversation_id=ours.pk, sender="agent", body="正在查询",
                          author=chat_centre["agent"])  # fmt: skip
    services.post_message(conversation_id=ours.pk, sender="whisper", body="内部：先查台区",
                          author=chat_centre["supervisor"])  # fmt: skip
    theirs = _served(other_widget, chat_centre["outsider"], "李先生")
    return {**chat_centre, "ours": ours, "theirs": theirs, "other_widget": other_widget,
            "other_queue": other_queue}  # fmt: skip


def _served(widget: Widget, agent: Any, name: str) -> Conversation:
    chat = services.start_chat(widget=widget, name=name, contact="13800138000", topic="")
    return services.accept_chat(actor=agent, conversation=chat)


def _api(user: Any = None, token: str | None = None) -> ApiClient:
    """An API client that asks for English (the messages below are the English ones)."""
    client = ApiClient(user, token=token)
    client.headers["Accept-Language"] = "en"
    return client


def _ids(response: Any) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["items"]]


def _login(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- who sees what ------------------------------------------------------------------------------


def test_an_agent_lists_their_own_chats_and_a_supervisor_every_chat(world: dict[str, Any]) -> None:
    # given: two chats, one served by each team, neither linked to a customer
    ours, theirs = world["ours"].pk, world["theirs"].pk
    # then
    assert _ids(_api(world["agent"]).get("chats")) == [ours]
    assert _ids(_api(world["outsider"]).get("chats")) == [theirs]
    assert _ids(_api(world["agent2"]).get("chats")) == []
    assert _ids(_api(world["supervisor"]).get("chats")) == [theirs, ours]
    assert _api(world["agent"]).get(f"chats/{theirs}").status_code == 404
    assert _api(world["agent"]).get(f"chats/{ours}").status_code == 200


def test_the_list_shows_exactly_the_chats_the_screens_open(world: dict[str, Any]) -> None:
    # given: the other team's chat now belongs to a confirmed customer, so transcript readers
    # who may see that customer open it on the screens
    customer = make_customer("李华", phone="13900139000")
    services.confirm_customer(actor=world["outsider"], conversation=world["theirs"],
                              customer=customer)  # fmt: skip
    chats = [world["ours"], world["theirs"]]
    for who in ("agent", "agent2", "outsider", "engineer", "liaison", "supervisor", "admin"):
        user = world[who]
        # when
        response = _api(user).get("chats")
        listed = set(_ids(response)) if response.status_code == 200 else set()
        # then: listed exactly when the chat's page opens for them
        page = _login(user)
        opens = {c.pk for c in chats if page.get(f"/chat/{c.pk}/").status_code == 200}
        assert listed == opens, who
        for c in chats:
            one = _api(user).get(f"chats/{c.pk}").status_code
            assert one == (200 if c.pk in opens else 404), (who, c.pk)
    assert set(_ids(_api(world["agent"]).get("chats"))) == {c.pk for c in chats}


def test_people_without_chat_rights_are_refused(world: dict[str, Any]) -> None:
    response = _api(world["liaison"]).get("chats")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    assert _api(world["liaison"]).get(f"chats/{world['ours'].pk}").status_code == 404
    assert _api(world["agent"]).get("chats/queue").status_code == 403


def test_a_guest_token_never_opens_staff_endpoints(world: dict[str, Any], client: Client) -> None:
    # given: the guest's own signed chat token
    token = services.guest_token(world["ours"])
    chat = world["ours"].pk
    # then: it is not an API token, and without one nobody is signed in
    for path in ("chats", f"chats/{chat}", f"chats/{chat}/transcript.csv", "chats/queue"):
        assert _api(token=token).get(path).status_code == 401
        assert client.get(f"/api/v1/{path}", headers={"X-Chat-Token": token}).status_code == 401
    ended = _api(token=token).post(f"chats/{chat}/end", {"wrap_up": "solved"})
    assert ended.status_code == 401
    world["ours"].refresh_from_db()
    assert world["ours"].state == "active"


def test_a_read_only_token_reads_but_cannot_end_the_chat(world: dict[str, Any]) -> None:
    # given: the serving agent's token with only the chat:read scope
    agent = world["agent"]
    _t, raw = create_api_token(actor=agent, user=agent, name="ro", scopes=["chat:read"])
    api = _api(token=raw)
    chat = world["ours"].pk
    # then
    assert _ids(api.get("chats")) == [chat]
    assert api.get(f"chats/{chat}").json()["right"] == "read"
    assert api.post(f"chats/{chat}/end", {"wrap_up": "solved"}).status_code == 404
    world["ours"].refresh_from_db()
    assert world["ours"].state == "active"
    _t, other = create_api_token(actor=agent, user=agent, name="c", scopes=["customers:read"])
    assert _api(token=other).get("chats").status_code == 403


# --- lists ----------------------------------------------------------------------------------------


def test_list_filters(world: dict[str, Any]) -> None:
    api = _api(world["supervisor"])
    ours, theirs = world["ours"].pk, world["theirs"].pk
    waiting = services.start_chat(widget=world["widget"], name="赵", topic="电费").pk
    assert _ids(api.get("chats", {"status": "waiting"})) == [waiting]
    assert _ids(api.get("chats", {"status": "active"})) == [theirs, ours]
    assert _ids(api.get("chats", {"agent": world["outsider"].pk})) == [theirs]
    assert _ids(api.get("chats", {"team": world["front"].pk})) == [ours]
    assert _ids(api.get("chats", {"widget": world["other_widget"].pk})) == [theirs]
    # a chat started two days ago falls outside "today"
    Conversation.objects.filter(pk=ours).update(created_at=timezone.now() - dt.timedelta(days=2))
    today = timezone.localdate()
    assert _ids(api.get("chats", {"from": today.isoformat(), "to": today.isoformat()})) == [
        waiting, theirs,
    ]  # fmt: skip
    earlier = (today - dt.timedelta(days=2)).isoformat()
    assert _ids(api.get("chats", {"from": earlier, "to": earlier})) == [ours]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "open"}, "status"),
        ({"to": "2026-01-01", "from": "2026-02-01"}, "to"),
        ({"agent": "abc"}, "agent"),
        ({"team": "99999999999999999999"}, "team"),
        ({"from": "yesterday"}, "from"),
        ({"limit": 500}, "limit"),
        ({"cursor": "not-a-cursor"}, None),
    ],
)
def test_bad_list_parameters_are_refused_with_a_reason(
    world: dict[str, Any], params: dict[str, Any], field: str | None
) -> None:
    response = _api(world["supervisor"]).get("chats", params)
    assert response.status_code in (400, 422), response.content
    error = response.json()["error"]
    assert error["message"]
    if field is not None:
        assert field in error["fields"]


def test_the_list_pages_within_a_query_budget(
    world: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    # given: 30 more chats, some with customers
    customer = make_customer("周", phone="13700137000")
    for n in range(30):
        chat = services.start_chat(widget=world["widget"], name=f"客{n}")
        if n % 3 == 0:
            Conversation.objects.filter(pk=chat.pk).update(customer=customer)
    api = _api(world["agent2"])
    # when
    with django_assert_max_num_queries(8):
        first = api.get("chats", {"limit": 4})
    # then: agent2 reads the chats of customers they may see, newest first, four at a time
    body = first.json()
    assert len(body["items"]) == 4 and body["next_cursor"]
    assert {row["customer"] for row in body["items"]} == {customer.pk}
    second = api.get("chats", {"limit": 4, "cursor": body["next_cursor"]}).json()
    assert len(second["items"]) == 4
    assert not {r["id"] for r in body["items"]} & {r["id"] for r in second["items"]}
    supervisor = _api(world["supervisor"])
    with django_assert_max_num_queries(8):
        assert len(supervisor.get("chats", {"limit": 50}).json()["items"]) == 32


# --- one chat and its transcript ------------------------------------------------------------------


def test_the_serving_agent_reads_the_transcript_in_order_with_whispers(
    world: dict[str, Any],
) -> None:
    body = _api(world["agent"]).get(f"chats/{world['ours'].pk}").json()
    assert (body["state"], body["agent"], body["right"]) == ("active", world["agent"].pk, "agent")
    assert body["whispers_shown"] is True
    rows = [(m["seq"], m["sender"], m["body"]) for m in body["messages"]]
    assert [seq for seq, _s, _b in rows] == list(range(1, len(rows) + 1))
    assert rows[-3:] == [(rows[-3][0], "guest", "停电了"), (rows[-2][0], "agent", "正在查询"),
                         (rows[-1][0], "whisper", "内部：先查台区")]  # fmt: skip
    assert body["messages"][-2]["author_name"] == world["agent"].display_name


def test_one_chat_and_its_export_within_a_query_budget(
    world: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    # given: a long chat
    chat = world["ours"]
    for n in range(40):
        services.post_message(conversation_id=chat.pk, sender="guest", body=f"第{n}条")
    api = _api(world["supervisor"])
    # when / then
    with django_assert_max_num_queries(9):
        body = api.get(f"chats/{chat.pk}").json()
    assert len(body["messages"]) == Message.objects.filter(conversation=chat).count() == 44
    with django_assert_max_num_queries(9):
        assert api.get(f"chats/{chat.pk}/transcript.csv").status_code == 200


def test_a_transcript_reader_never_sees_whispers(world: dict[str, Any]) -> None:
    # given: the chat has ended, so its agent now only reads it
    services.end_chat(actor=world["agent"], conversation=world["ours"], wrap_up=world["code"])
    # when
    body = _api(world["agent"]).get(f"chats/{world['ours'].pk}").json()
    # then
    assert (body["right"], body["whispers_shown"]) == ("read", False)
    assert "whisper" not in {m["sender"] for m in body["messages"]}
    csv_text = _api(world["agent"]).get(f"chats/{world['ours'].pk}/transcript.csv")
    assert "内部" not in csv_text.content.decode("utf-8-sig")
    boss = _api(world["supervisor"]).get(f"chats/{world['ours'].pk}").json()
    assert "whisper" in {m["sender"] for m in boss["messages"]}


def test_the_transcript_exports_as_csv_with_formulas_written_as_text(world: dict[str, Any]) -> None:
    chat = world["ours"]
    services.post_message(conversation_id=chat.pk, sender="guest", body='=HYPERLINK("x")')
    response = _api(world["supervisor"]).get(f"chats/{chat.pk}/transcript.csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="chat-{chat.pk}.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["No.", "Time", "Sender", "Name", "Content", "File"]
    bodies = [(r[2], r[3], r[4]) for r in rows[1:]]
    assert ("Customer", "王女士", "停电了") in bodies
    assert ("Whisper", world["supervisor"].display_name, "内部：先查台区") in bodies
    assert ("Customer", "王女士", '\'=HYPERLINK("x")') in bodies
    assert [int(r[0]) for r in rows[1:]] == sorted(int(r[0]) for r in rows[1:])
    other = _api(world["agent"]).get(f"chats/{world['theirs'].pk}/transcript.csv")
    assert other.status_code == 404


# --- the live queue -------------------------------------------------------------------------------


def test_supervisors_see_the_waiting_chats_with_position_and_wait(world: dict[str, Any]) -> None:
    # given: two chats waiting in the first line's queue, one in the other team's
    first = services.start_chat(widget=world["widget"], name="甲")
    second = services.start_chat(widget=world["widget"], name="乙")
    elsewhere = services.start_chat(widget=world["other_widget"], name="丙")
    # when
    body = _api(world["supervisor"]).get("chats/queue").json()
    # then: first in line first, with the estimate the customer sees
    rows = {row["chat"]["id"]: row for row in body["items"]}
    assert [row["chat"]["id"] for row in body["items"]] == [first.pk, second.pk, elsewhere.pk]
    for chat in (first, second, elsewhere):
        chat.refresh_from_db()
        state = services.queue_state(chat)
        row = rows[chat.pk]
        assert (row["position"], row["estimated_wait_s"]) == (
            state.position, state.wait_seconds,
        )  # fmt: skip
        assert row["waited_s"] >= 0 and row["chat"]["state"] == "waiting"
    assert [rows[c.pk]["position"] for c in (first, second, elsewhere)] == [1, 2, 1]
    assert rows[elsewhere.pk]["queue"] == world["other_queue"].pk


def test_the_live_queue_reads_all_chats_at_once(
    world: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    for n in range(20):
        services.start_chat(widget=world["widget"], name=f"客{n}")
    # and a chat with a work order, transferred back to the queue
    services.create_ticket_from_chat(actor=world["agent"], conversation=world["ours"],
                                     ticket_type="consultation", title="停电")  # fmt: skip
    services.transfer_chat(actor=world["supervisor"], conversation=world["ours"],
                           team=world["front"])  # fmt: skip
    api = _api(world["supervisor"])
    with django_assert_max_num_queries(8):
        body = api.get("chats/queue").json()
    assert [row["position"] for row in body["items"]] == list(range(1, 22))
    assert body["items"][-1]["chat"]["ticket"] is not None


# --- acting ---------------------------------------------------------------------------------------


def test_the_agent_ends_the_chat_with_a_wrap_up_code(world: dict[str, Any]) -> None:
    chat = world["ours"]
    response = _api(world["agent"]).post(
        f"chats/{chat.pk}/end", {"wrap_up": "solved", "note": "已告知抢修时间"}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["state"], body["wrap_up"], body["wrap_up_note"]) == ("ended", "solved",
                                                                       "已告知抢修时间")  # fmt: skip
    assert Event.objects.filter(action="chat_ended", object_id=chat.pk).count() == 1


def test_a_write_only_token_is_told_the_chat_it_ended_has_ended(world: dict[str, Any]) -> None:
    # given: the serving agent's token with only the chat:write scope (may work on a chat it
    # serves, may not read ended chats)
    agent = world["agent"]
    _t, raw = create_api_token(actor=agent, user=agent, name="w", scopes=["chat:write"])
    chat = world["ours"]
    # when
    response = _api(token=raw).post(f"chats/{chat.pk}/end", {"wrap_up": "solved"})
    # then: the answer is the ended chat, not "not found"
    assert response.status_code == 200, response.content
    assert (response.json()["id"], response.json()["state"]) == (chat.pk, "ended")
    chat.refresh_from_db()
    assert chat.state == "ended"


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({}, "wrap_up", "Choose a wrap-up code."),
        ({"wrap_up": "nope"}, "wrap_up", "Unknown wrap-up code “nope”."),
        ({"wrap_up": "solved", "note": "x" * 501}, "note", None),
        ({"wrap_up": "solved", "extra": 1}, "extra", None),
        ({"wrap_up": 5}, "wrap_up", None),
    ],
)
def test_a_bad_end_is_refused_and_changes_nothing(
    world: dict[str, Any], payload: dict[str, Any], field: str | None, message: str | None
) -> None:
    chat = world["ours"]
    response = _api(world["agent"]).post(f"chats/{chat.pk}/end", payload)
    assert response.status_code == 422, response.content
    fields = response.json()["error"]["fields"]
    assert field in fields
    if message:
        assert fields[field] == [message]
    chat.refresh_from_db()
    assert (chat.state, chat.wrap_up_id) == ("active", None)
    assert not Event.objects.filter(action="chat_ended", object_id=chat.pk).exists()


def test_another_teams_agent_may_not_act_on_the_chat(world: dict[str, Any]) -> None:
    chat = world["ours"]
    api = _api(world["outsider"])
    assert api.post(f"chats/{chat.pk}/end", {"wrap_up": "solved"}).status_code == 404
    assert api.post(f"chats/{chat.pk}/transfer", {"agent": world["agent2"].pk}).status_code == 404
    ticket = api.post(f"chats/{chat.pk}/ticket", {"type": "consultation", "title": "停电"})
    assert ticket.status_code == 404
    # a colleague of the same team who does not serve it may not either
    assert (
        _api(world["agent2"]).post(f"chats/{chat.pk}/end", {"wrap_up": "solved"}).status_code == 404
    )
    chat.refresh_from_db()
    assert (chat.state, chat.agent_id, chat.ticket_id) == ("active", world["agent"].pk, None)
    assert not Event.objects.filter(
        object_id=chat.pk, action__in=["chat_ended", "chat_transferred", "chat_ticket_linked"]
    ).exists()


def test_the_agent_transfers_the_chat_to_a_colleague(world: dict[str, Any]) -> None:
    # given
    chat = world["ours"]
    set_presence(actor=None, user=world["agent2"], state="available")
    # when
    response = _api(world["agent"]).post(
        f"chats/{chat.pk}/transfer", {"agent": world["agent2"].pk, "note": "客户要求回电"}
    )
    # then
    assert response.status_code == 200, response.content
    assert (response.json()["agent"], response.json()["state"]) == (world["agent2"].pk, "active")
    note = Message.objects.filter(conversation=chat, sender="whisper").order_by("-seq").first()
    assert note is not None and note.body.endswith("客户要求回电")
    assert Event.objects.filter(action="chat_transferred", object_id=chat.pk).count() == 1


def test_a_supervisor_transfers_a_chat_to_a_team(world: dict[str, Any]) -> None:
    chat = world["ours"]
    response = _api(world["supervisor"]).post(
        f"chats/{chat.pk}/transfer", {"team": world["other"].pk}
    )
    assert response.status_code == 200, response.content
    chat.refresh_from_db()
    assert (chat.state, chat.agent_id) == ("waiting", None)
    assert chat.queue_item.queue_id == world["other_queue"].pk


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "to"),
        ({"agent": 1, "team": 1}, "to"),
        ({"agent": 9_000_000}, "agent"),
        ({"agent": "5"}, "agent"),
        ({"agent": True}, "request"),  # the base schema names the field in its message
        ({"team": 9_000_000}, "team"),
        ({"team": "second"}, "team"),
    ],
)
def test_a_bad_transfer_is_refused_and_changes_nothing(
    world: dict[str, Any], payload: dict[str, Any], field: str
) -> None:
    chat = world["ours"]
    if payload.get("team") == "second":
        payload = {"team": world["second"].pk}  # a team without a chat queue
    if payload == {"agent": 1, "team": 1}:
        payload = {"agent": world["agent2"].pk, "team": world["front"].pk}
    response = _api(world["agent"]).post(f"chats/{chat.pk}/transfer", payload)
    assert response.status_code == 422, response.content
    assert field in response.json()["error"]["fields"], response.json()
    chat.refresh_from_db()
    assert (chat.state, chat.agent_id) == ("active", world["agent"].pk)
    assert not Event.objects.filter(action="chat_transferred", object_id=chat.pk).exists()


def test_a_work_order_from_the_chat_carries_its_transcript(world: dict[str, Any]) -> None:
    chat = world["ours"]
    api = _api(world["agent"])
    response = api.post(f"chats/{chat.pk}/ticket", {"type": "consultation", "title": "停电咨询"})
    assert response.status_code == 201, response.content
    number = response.json()["ticket"]
    from kefu.tickets.models import Ticket

    ticket = Ticket.objects.get(number=number)
    assert (ticket.title, ticket.channel) == ("停电咨询", "chat")
    assert "停电了" in ticket.description and "内部" not in ticket.description
    again = api.post(f"chats/{chat.pk}/ticket", {"type": "consultation", "title": "再一次"})
    assert again.status_code == 422
    assert again.json()["error"]["fields"] == {"ticket": ["This chat already has a work order."]}
    assert Ticket.objects.filter(title="再一次").count() == 0


def test_bad_work_order_input_is_refused(world: dict[str, Any]) -> None:
    chat = world["ours"]
    api = _api(world["agent"])
    assert api.post(f"chats/{chat.pk}/ticket", {"type": "consultation", "title": ""}
                    ).status_code == 422  # fmt: skip
    unknown = api.post(f"chats/{chat.pk}/ticket", {"type": "nope", "title": "停电"})
    assert unknown.status_code == 422
    chat.refresh_from_db()
    assert chat.ticket_id is None


def test_link_an_existing_work_order(world: dict[str, Any]) -> None:
    chat = world["ours"]
    ticket = make_ticket(title="台区停电")
    api = _api(world["agent"])
    missing = api.post(f"chats/{chat.pk}/link", {"ticket": "NOPE-1"})
    assert missing.status_code == 422
    assert missing.json()["error"]["fields"] == {"ticket": ["No work order NOPE-1."]}
    response = api.post(f"chats/{chat.pk}/link", {"ticket": ticket.number})
    assert response.status_code == 200, response.content
    assert response.json()["ticket"] == ticket.number
    assert Event.objects.filter(action="chat_ticket_linked", object_id=chat.pk).count() == 1


# --- the schema -----------------------------------------------------------------------------------


def test_the_openapi_schema_lists_the_chat_endpoints(client: Client) -> None:
    schema = client.get("/api/v1/openapi.json").json()
    expected = {
        "/api/v1/chats": {"get"},
        "/api/v1/chats/queue": {"get"},
        "/api/v1/chats/{chat_id}": {"get"},
        "/api/v1/chats/{chat_id}/transcript.csv": {"get"},
        "/api/v1/chats/{chat_id}/end": {"post"},
        "/api/v1/chats/{chat_id}/transfer": {"post"},
        "/api/v1/chats/{chat_id}/ticket": {"post"},
        "/api/v1/chats/{chat_id}/link": {"post"},
    }
    for path, methods in expected.items():
        assert set(schema["paths"][path]) == methods, path
        for method in methods:
            assert schema["paths"][path][method]["tags"] == ["Live chat"]
    assert "ChatDetailOut" in schema["components"]["schemas"]
