"""The contact-channel registry wires a channel's parts into the shared screens."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import RequestFactory

from kefu.core import interactions
from kefu.core.interactions import ContactChannel


@pytest.fixture
def clean_registry() -> Iterator[None]:
    from kefu.customers.selectors import HISTORY_PROVIDERS
    from kefu.tickets.services.common import TICKET_HOOKS

    saved = (
        dict(interactions.CHANNELS),
        list(interactions.TICKET_PANELS),
        list(HISTORY_PROVIDERS),
        list(TICKET_HOOKS),
    )
    interactions.TICKET_PANELS.clear()
    yield
    interactions.CHANNELS.clear()
    interactions.CHANNELS.update(saved[0])
    interactions.TICKET_PANELS[:] = saved[1]
    HISTORY_PROVIDERS[:] = saved[2]
    TICKET_HOOKS[:] = saved[3]


def test_register_channel_wires_panel_history_and_hooks(clean_registry: None) -> None:
    # given
    from kefu.customers.selectors import HISTORY_PROVIDERS
    from kefu.tickets.services.common import TICKET_HOOKS

    def panel(request: Any, ticket: Any) -> str:
        return f"<p>{ticket}</p>" if ticket == "T1" else ""

    def history(customer: Any, user: Any) -> list[Any]:
        return []

    def hook(ticket: Any, event: Any) -> None:
        return None

    channel = ContactChannel(
        code="letter", label="来信", ticket_panel=panel, history=history, ticket_hooks=(hook,)
    )
    # when
    interactions.register_channel(channel)
    interactions.register_channel(channel)  # ready() may run twice
    # then
    assert interactions.get_channel("letter") is channel
    assert interactions.TICKET_PANELS.count(panel) == 1
    assert HISTORY_PROVIDERS.count(history) == 1
    assert TICKET_HOOKS.count(hook) == 1
    request = RequestFactory().get("/")
    assert interactions.ticket_panels(request, "T1") == ["<p>T1</p>"]
    assert interactions.ticket_panels(request, "T2") == []


def test_unknown_channel_code_is_refused(clean_registry: None) -> None:
    with pytest.raises(ValueError, match="unknown channel code 'fax'"):
        interactions.register_channel(ContactChannel(code="fax", label="传真"))
    assert "fax" not in interactions.CHANNELS


def test_kb_and_sla_panels_are_registered() -> None:
    from kefu.kb.views import ticket_panel as kb_panel
    from kefu.sla.badges import ticket_panel as sla_panel

    assert kb_panel in interactions.TICKET_PANELS
    assert sla_panel in interactions.TICKET_PANELS
