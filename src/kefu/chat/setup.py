"""What live chat adds when Kefu starts: permissions, the chat channel (ticket panel, customer
history, transcript search), the QA interaction source, the socket routes, menus and labels."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from kefu.core.permissions import Perm, Role
from kefu.core.permissions import register as register_perm

ACTION_LABELS = {
    "chat_started": _("started a chat"),
    "chat_accepted": _("took the chat"),
    "chat_transferred": _("transferred the chat"),
    "chat_ticket_linked": _("linked a work order to the chat"),
    "chat_ended": _("ended the chat"),
    "chat_wrapped_up": _("wrapped up the chat"),
    "chat_rated": _("rated the chat"),
    "chat_widget_changed": _("changed the chat widget"),
}


def register() -> None:
    from django.urls import path

    from kefu.chat import metrics, qa_source, views
    from kefu.chat.consumers import AgentConsumer, GuestConsumer
    from kefu.config.routing import register as register_ws
    from kefu.config.routing import websocket_urlpatterns
    from kefu.core.interactions import ContactChannel, register_channel
    from kefu.core.labels import register_labels
    from kefu.core.navigation import NavItem, register_nav
    from kefu.core.permissions import SCOPES, has_perm

    register_perm(
        Perm("chat.work", "chat:write", _("Serve live chats")),
        (Role.AGENT_L1, Role.AGENT_L2, Role.SUPERVISOR),
    )
    register_perm(
        Perm("chat.view", "chat:read", _("Read chat transcripts")),
        (Role.AGENT_L1, Role.AGENT_L2, Role.SUPERVISOR, Role.QA),
    )
    register_perm(
        Perm("chat.supervise", "chat:write", _("Watch any live chat, whisper, transfer")),
        (Role.SUPERVISOR,),
    )
    register_perm(Perm("chat.manage", "admin", _("Configure chat widgets")), ())
    SCOPES.setdefault("chat:read", _("Read chat transcripts"))
    SCOPES.setdefault("chat:write", _("Serve live chats"))
    register_labels(ACTION_LABELS)
    register_channel(
        ContactChannel(
            code="chat",
            label=_("Live chat"),
            routing_kind="chat",
            ticket_panel=views.ticket_panel,
            history=views.customer_history,
        )
    )
    qa_source.register()
    metrics.register()
    if not any(getattr(p, "name", "") == "chat-guest" for p in websocket_urlpatterns):
        register_ws(
            [
                path("ws/chat/guest/", GuestConsumer.as_asgi(), name="chat-guest"),
                path("ws/chat/agent/", AgentConsumer.as_asgi(), name="chat-agent"),
            ]
        )
    register_nav(
        NavItem("chat", _("Live chat"), "chat:console", "chat-dots", "work", order=14,
                visible=lambda u: has_perm(u, "chat.work") or has_perm(u, "chat.supervise")),
        NavItem("chat_widgets", _("Chat widgets"), "admin:chat_widget_changelist", "window", "admin", order=78,
                perm="chat.manage"),
    )  # fmt: skip
