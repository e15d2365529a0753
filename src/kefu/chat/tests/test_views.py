"""The widget's HTTP side and the console's actions: origins, tokens, limits, access."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from kefu.chat import services
from kefu.chat.models import Conversation, Message

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def _start(client: Client, widget, **body):
    data = {"name": "王女士", "contact": "13800138000", "topic": "电费",
            "origin": "https://shop.example.com", **body}  # fmt: skip
    return client.post(f"/chat/w/{widget.key}/start/", json.dumps(data),
                       content_type="application/json")  # fmt: skip


def test_the_embed_script_is_served(client):
    response = client.get("/chat/widget.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert b"data-widget" in response.content


def test_the_frame_may_only_be_framed_by_the_allowed_origins(client, chat_centre):
    widget = chat_centre["widget"]
    ok = client.get(f"/chat/w/{widget.key}/?origin=https://shop.example.com")
    assert ok.status_code == 200
    assert "frame-ancestors 'self' https://shop.example.com;" in ok["Content-Security-Policy"]
    assert "X-Frame-Options" not in ok
    refused = client.get(f"/chat/w/{widget.key}/?origin=https://evil.example.net")
    assert refused.status_code == 403


def test_a_chat_starts_from_an_allowed_origin_and_gets_a_token(client, chat_centre):
    response = _start(client, chat_centre["widget"])
    assert response.status_code == 201
    data = response.json()
    assert services.conversation_for_token(data["token"]).pk == data["conv"]


def test_a_chat_from_another_website_is_refused_and_nothing_is_stored(client, chat_centre):
    response = _start(client, chat_centre["widget"], origin="https://evil.example.net")
    assert response.status_code == 403
    cross = client.post(
        f"/chat/w/{chat_centre['widget'].key}/start/", json.dumps({"name": "x"}),
        content_type="application/json", HTTP_ORIGIN="https://evil.example.net",
    )  # fmt: skip
    assert cross.status_code == 403
    assert not Conversation.objects.exists()


def test_the_pre_chat_form_says_what_is_wrong(client, chat_centre):
    response = _start(client, chat_centre["widget"], name="", topic="别的")
    assert response.status_code == 422
    assert set(response.json()["fields"]) == {"name"}
    response = _start(client, chat_centre["widget"], topic="别的")
    assert set(response.json()["fields"]) == {"topic"}


def test_without_agents_the_widget_offers_the_offline_form(client, chat_centre):
    from kefu.routing.services import set_presence

    set_presence(actor=None, user=chat_centre["agent"], state="offline")
    widget = chat_centre["widget"]
    assert client.get(f"/chat/w/{widget.key}/status/").json() == {"online": False}
    assert _start(client, widget).json() == {"offline": True}
    response = client.post(
        f"/chat/w/{widget.key}/offline/",
        json.dumps({"name": "赵", "contact": "13900139000", "body": "请回电",
                    "origin": "https://shop.example.com"}),
        content_type="application/json",
    )  # fmt: skip
    assert response.status_code == 201
    assert response.json()["ticket"]


def test_a_guest_uploads_an_image_and_only_that_guest_can_fetch_it(client, chat_centre):
    mine = services.start_chat(widget=chat_centre["widget"], name="甲")
    other = services.start_chat(widget=chat_centre["widget"], name="乙")
    token = services.guest_token(mine)
    response = client.post("/chat/g/upload/", {"file": SimpleUploadedFile("a.png", PNG),
                           "cid": "f1"}, HTTP_X_CHAT_TOKEN=token)  # fmt: skip
    assert response.status_code == 201
    message = Message.objects.get(conversation=mine)
    assert (message.file_name, message.content_type) == ("a.png", "image/png")
    fetched = client.get(f"/chat/g/file/{message.pk}/?t={token}")
    assert fetched.status_code == 200
    assert b"".join(fetched.streaming_content) == PNG
    other_token = services.guest_token(other)
    assert client.get(f"/chat/g/file/{message.pk}/?t={other_token}").status_code == 404
    assert client.get(f"/chat/g/file/{message.pk}/").status_code == 404
    # and a guest cannot upload into a chat without its token
    bad = client.post("/chat/g/upload/", {"file": SimpleUploadedFile("b.png", PNG)},
                      HTTP_X_CHAT_TOKEN=str(other.pk))  # fmt: skip
    assert bad.status_code == 403
    assert not Message.objects.filter(conversation=other).exists()


def test_an_agent_sees_only_their_chats_and_a_supervisor_any(client, chat_centre, at_once):
    chat = services.start_chat(widget=chat_centre["widget"], name="甲")
    services.accept_chat(actor=chat_centre["agent"], conversation=chat)
    outsider = Client()
    outsider.force_login(chat_centre["outsider"])
    assert outsider.get(f"/chat/{chat.pk}/").status_code == 404
    assert outsider.get(f"/chat/{chat.pk}/transcript/").status_code == 404
    assert (
        outsider.post(f"/chat/{chat.pk}/end/", {"wrap_up": chat_centre["code"].pk}).status_code
        == 404
    )
    chat.refresh_from_db()
    assert chat.state == "active"
    boss = Client()
    boss.force_login(chat_centre["supervisor"])
    assert boss.get(f"/chat/{chat.pk}/").status_code == 200
    agent = Client()
    agent.force_login(chat_centre["agent"])
    assert agent.get("/chat/").status_code == 200
    response = agent.post(f"/chat/{chat.pk}/end/", {"wrap_up": chat_centre["code"].pk})
    assert response.status_code == 200, response.content
    chat.refresh_from_db()
    assert chat.state == "ended"
