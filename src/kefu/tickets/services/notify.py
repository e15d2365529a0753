"""Who hears about what: supervisors about sensitive matters, assignees, mentioned colleagues,
departments about transfers, agents about customer replies and department answers."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from kefu.accounts.models import Team, User
from kefu.core.notifications import notify
from kefu.core.permissions import Role
from kefu.tickets.models import Ticket, Transfer


def _url(ticket: Ticket) -> str:
    return reverse("tickets:detail", args=[ticket.number])


def alert_sensitive(ticket: Ticket, actor: User | None) -> None:
    """敏感事务 go to superiors at once: every active supervisor and administrator, by e-mail too."""
    supervisors = User.objects.filter(role__in=[Role.SUPERVISOR, Role.ADMIN], is_active=True)
    notify(
        supervisors,
        kind="ticket_sensitive",
        title=_("Sensitive work order %(n)s: %(t)s") % {"n": ticket.number, "t": ticket.title},
        body=_("Marked sensitive by %(who)s.")
        % {"who": actor.display_label if actor else _("the system")},
        url=_url(ticket),
        email=True,
    )


def tell_assignee(ticket: Ticket, actor: User | None) -> None:
    if ticket.assignee is None:
        return
    notify(
        [ticket.assignee],
        kind="ticket_assigned",
        title=_("Assigned to you: %(n)s %(t)s") % {"n": ticket.number, "t": ticket.title},
        body=_("By %(who)s.") % {"who": actor.display_label if actor else _("the system")},
        url=_url(ticket),
    )


def tell_mentioned(ticket: Ticket, actor: User, users: Iterable[User], text: str) -> None:
    notify(
        [u for u in users if u.pk != actor.pk],
        kind="ticket_mention",
        title=_("%(who)s mentioned you on %(n)s")
        % {"who": actor.display_label, "n": ticket.number},
        body=text[:300],
        url=_url(ticket),
    )


def tell_team(
    ticket: Ticket,
    team: Team,
    actor: User,
    title: str,
    *,
    url_name: str = "",
    url_args: list[Any] | None = None,
) -> None:
    members = User.objects.filter(memberships__team=team, is_active=True)
    url = reverse(url_name, args=url_args or []) if url_name else _url(ticket)
    notify(
        members,
        kind="team_work",
        title=title,
        body=_("From %(who)s.") % {"who": actor.display_label},
        url=url,
        email=team.kind == Team.Kind.DEPARTMENT,
    )


def tell_requester(transfer: Transfer, title: str) -> None:
    people = [u for u in (transfer.requested_by, transfer.ticket.assignee) if u is not None]
    notify(
        people,
        kind="transfer_answer",
        title=title,
        body=transfer.reply[:300],
        url=_url(transfer.ticket),
    )


def tell_customer_replied(ticket: Ticket) -> None:
    if ticket.assignee is None:
        return
    notify(
        [ticket.assignee],
        kind="customer_replied",
        title=_("The customer replied on %(n)s") % {"n": ticket.number},
        body=ticket.title,
        url=_url(ticket),
    )
