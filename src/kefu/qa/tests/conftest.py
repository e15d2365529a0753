from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone, translation

from kefu.core.permissions import Role
from kefu.qa import services
from kefu.qa.defaults import HOTLINE_SCORECARD, hotline_criteria
from kefu.testing.factories import make_team, make_ticket, make_user
from kefu.tickets.models import Message


def add_turns(ticket: Any, agent: Any, turns: list[tuple[str, str]]) -> None:
    start = ticket.created_at
    for n, (who, text) in enumerate(turns, start=1):
        Message.objects.create(
            ticket=ticket, kind=Message.Kind.CUSTOMER if who == "C" else Message.Kind.REPLY,
            author=None if who == "C" else agent, body=text,
            created_at=start + dt.timedelta(seconds=30 * n),
        )  # fmt: skip


@pytest.fixture(autouse=True)
def _english() -> Any:
    """Assertions read the English messages (the catalogue translates them)."""
    with translation.override("en"):
        yield


@pytest.fixture
def qa_centre(db: Any) -> dict[str, Any]:
    from kefu.tickets.defaults import install

    install()
    team = make_team("一线")
    admin = make_user(Role.ADMIN)
    inspector = make_user(Role.QA)
    inspector2 = make_user(Role.QA)
    supervisor = make_user(Role.SUPERVISOR, teams=[team])
    agent = make_user(Role.AGENT_L1, teams=[team])
    other = make_user(Role.AGENT_L1, teams=[team])
    card = services.create_scorecard(HOTLINE_SCORECARD, hotline_criteria(), actor=admin)
    ticket = make_ticket(actor=supervisor, title="停电咨询", team=team, assignee=agent,
                         description="你好，我家停电了，什么时候来电？")  # fmt: skip
    add_turns(ticket, agent, [
        ("A", "您好，很高兴为您服务。预计下午三点恢复供电。"),
        ("C", "好的，谢谢。发票能开吗？电费怎么交？"),
        ("A", "电费可以在网上国网缴纳，这是规定。"),
    ])  # fmt: skip
    return {
        "team": team, "admin": admin, "qa": inspector, "qa2": inspector2, "supervisor": supervisor,
        "agent": agent, "other": other, "card": card, "version": card.current_version(),
        "ticket": ticket, "now": timezone.now(),
    }  # fmt: skip
