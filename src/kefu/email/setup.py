"""What the e-mail channel adds when Kefu starts: its permission, the e-mail channel (ticket
panel, customer history, the reply hook), menus and event labels."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from kefu.core.permissions import Perm
from kefu.core.permissions import register as register_perm

ACTION_LABELS = {
    "mailbox_created": _("created the mailbox"),
    "mailbox_changed": _("changed the mailbox"),
    "email_received": _("e-mail received"),
    "email_ignored": _("automatic e-mail set aside"),
    "email_quarantined": _("e-mail put in quarantine"),
    "email_reprocessed": _("e-mail processed again"),
    "email_queued": _("e-mail queued"),
    "email_sent": _("e-mail sent"),
    "email_retry_scheduled": _("e-mail delivery to be retried"),
    "email_failed": _("e-mail delivery failed"),
    "email_bounced": _("e-mail bounced"),
    "email_resend": _("e-mail sent again"),
    "email_not_sent": _("e-mail not sent"),
    "email_template_changed": _("changed the e-mail template"),
}


def register() -> None:
    from kefu.core.interactions import ContactChannel, register_channel
    from kefu.core.labels import register_labels
    from kefu.core.navigation import NavItem, register_nav
    from kefu.email.services.outbound import on_ticket_event, on_ticket_events
    from kefu.email.views import customer_history, ticket_panel

    register_perm(
        Perm("email.manage", "admin", _("Manage mailboxes, e-mail templates and quarantine")), ()
    )
    register_labels(ACTION_LABELS)
    register_channel(
        ContactChannel(
            code="email",
            label=_("E-mail"),
            routing_kind="email",
            ticket_panel=ticket_panel,
            history=customer_history,
            ticket_hooks=(on_ticket_event,),
        )
    )
    from kefu.tickets.services.bulk import register_bulk_ticket_hook

    register_bulk_ticket_hook(on_ticket_events, replaces=on_ticket_event)
    register_nav(
        NavItem("email", _("Mailboxes"), "email:mailboxes", "envelope", "admin", order=76,
                perm="email.manage"),
        NavItem("email_quarantine", _("E-mail quarantine"), "email:quarantine", "shield-exclamation",
                "admin", order=77, perm="email.manage"),
    )  # fmt: skip
