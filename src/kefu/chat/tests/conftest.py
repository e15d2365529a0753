from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _english():
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _chat_db_threads():
    """Each test's sockets run on their own event loop; the chat's database threads and their
    connections end with the test, so none outlives the test database."""
    yield
    from kefu.chat.consumers import close_db_threads

    close_db_threads()


@pytest.fixture
def chat_centre(centre: dict[str, Any]) -> dict[str, Any]:
    """The small centre plus a manual chat queue served by the first line, an available agent
    and a widget on https://shop.example.com."""
    from kefu.chat.models import Widget, WrapUpCode
    from kefu.routing.models import RoutingQueue
    from kefu.routing.services import set_presence

    queue = RoutingQueue.objects.create(code="chat", name="在线客服", strategy="manual",
                                        kinds=["chat"])  # fmt: skip
    queue.teams.set([centre["front"]])
    set_presence(actor=None, user=centre["agent"], state="available")
    widget = Widget.objects.create(
        name="官网", allowed_origins=["https://shop.example.com"], topics=["电费", "停电"]
    )
    code = WrapUpCode.objects.create(code="solved", label="已解决")
    return {**centre, "queue": queue, "widget": widget, "code": code}
