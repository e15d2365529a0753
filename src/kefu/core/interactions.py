"""Contact channels (受理渠道) in one place.

A channel app (the hotline, e-mail, chat, …) describes itself once with a
:class:`ContactChannel` and calls :func:`register_channel` from its ``AppConfig.ready``. The
registry hands each part to the extension point that uses it — the ticket page's side panels,
the customer page's contact history, the search index and the work-order hooks — so a new channel
never edits ``tickets`` or ``customers``. Apps that are not channels (knowledge base, SLA) add
ticket-page panels with :func:`register_ticket_panel`.

``core`` imports no domain app at module level: the other apps' registries are imported inside
:func:`register_channel`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest

TicketPanel = Callable[[HttpRequest, Any], str]
"""(request, ticket) -> HTML for the ticket page's side column, already escaped; "" for none."""

HistoryProvider = Callable[[Any, Any], list[Any]]
"""(customer, user) -> ``customers.selectors.HistoryItem`` rows of that customer's contacts."""

TicketHook = Callable[[Any, Any], None]
"""(ticket, event) -> None, run inside the transaction after every change to a work order."""


@dataclass(frozen=True)
class ContactChannel:
    """What one channel contributes to the shared screens."""

    code: str  # a ``core.choices.Channel`` value: "phone", "email", ...
    label: Any
    routing_kind: str = ""  # the ``routing.models.Kind`` its contacts queue as ("" for none)
    ticket_panel: TicketPanel | None = None
    history: HistoryProvider | None = None
    search_source: Any = None  # a ``search.registry.Source``
    ticket_hooks: Sequence[TicketHook] = field(default_factory=tuple)


CHANNELS: dict[str, ContactChannel] = {}
TICKET_PANELS: list[TicketPanel] = []


def register_ticket_panel(panel: TicketPanel) -> None:
    """Add a side panel to the ticket page (once, however often ``ready`` runs)."""
    if panel not in TICKET_PANELS:
        TICKET_PANELS.append(panel)


def register_channel(channel: ContactChannel) -> None:
    """Make ``channel`` known and wire its parts into the screens that show them."""
    from kefu.core.choices import Channel

    if channel.code not in Channel.values:
        raise ValueError(f"unknown channel code {channel.code!r}")
    CHANNELS[channel.code] = channel
    if channel.ticket_panel is not None:
        register_ticket_panel(channel.ticket_panel)
    if channel.history is not None:
        from kefu.customers.selectors import register_history_provider

        register_history_provider(channel.history)
    if channel.search_source is not None:
        from kefu.search.registry import register_source

        register_source(channel.search_source)
    if channel.ticket_hooks:
        from kefu.tickets.services.common import register_ticket_hook

        for hook in channel.ticket_hooks:
            register_ticket_hook(hook)


def channels() -> list[ContactChannel]:
    """The registered channels, in registration order."""
    return list(CHANNELS.values())


def get_channel(code: str) -> ContactChannel | None:
    return CHANNELS.get(code)


def ticket_panels(request: HttpRequest, ticket: Any) -> list[str]:
    """The ticket page's side panels for this work order (empty ones left out)."""
    return [html for panel in TICKET_PANELS if (html := panel(request, ticket))]


def last_contacts(customer: Any, user: Any, limit: int = 10) -> list[Any]:
    """The customer's latest contacts on every channel, newest first, as ``user`` may see them
    (the customer card and the hotline's screen pop show these)."""
    from kefu.customers.selectors import customer_history

    return customer_history(customer, user, limit=limit)


# --- What every channel tells a contact, and who hears about a new contact --------------------


@dataclass(frozen=True)
class Notice:
    """A message the centre publishes on its channels (an outage, a holiday timetable): the
    portal banner, the chat greeting, the e-mail auto-reply and the IVR announcement read it."""

    key: str  # stable id of what publishes it, e.g. "incident:12"
    title: str
    text: str  # plain text; every screen escapes it
    severity: str = "info"  # "info" | "warning" | "critical"
    ivr_text: str = ""  # shorter wording for the IVR's text-to-speech, "" to reuse ``text``


NoticeProvider = Callable[[str], list[Notice]]
"""(channel code) -> the notices that channel should show now."""

ContactListener = Callable[["ContactReceived"], None]
"""Called inside the transaction that stored a new contact."""


@dataclass(frozen=True)
class ContactReceived:
    """A new contact on any channel, announced by the channel that took it."""

    channel: str  # a ``core.choices.Channel`` value
    obj: Any  # the stored record: a Ticket, a Chat conversation, a Call, ...
    customer: Any = None
    text: str = ""  # what the customer said first (subject, first message, IVR transcript)
    area: str = ""  # the place the contact concerns (地区/台区/站点), "" when unknown
    ticket: Any = None  # the work order the contact opened or joined, if any


NOTICE_PROVIDERS: list[NoticeProvider] = []
CONTACT_LISTENERS: list[ContactListener] = []


def register_notice_provider(provider: NoticeProvider) -> None:
    if provider not in NOTICE_PROVIDERS:
        NOTICE_PROVIDERS.append(provider)


def current_notices(channel: str) -> list[Notice]:
    """What ``channel`` should tell a contact now, most severe first."""
    order = {"critical": 0, "warning": 1, "info": 2}
    found = [notice for provider in NOTICE_PROVIDERS for notice in provider(channel)]
    return sorted(found, key=lambda n: order.get(n.severity, 3))


def register_contact_listener(listener: ContactListener) -> None:
    if listener not in CONTACT_LISTENERS:
        CONTACT_LISTENERS.append(listener)


def contact_received(contact: ContactReceived) -> None:
    """Channels call this when they store a new contact (a live call, a chat, an e-mail that
    opened a work order); listeners such as major incidents link it."""
    for listener in CONTACT_LISTENERS:
        listener(contact)
