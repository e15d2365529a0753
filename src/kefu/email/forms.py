"""Forms of the e-mail screens; the services check everything again."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kefu.accounts.models import Team
from kefu.core.forms import StyledForm
from kefu.email.models import Mailbox, Security
from kefu.tickets.models import TicketType


class MailboxForm(StyledForm):
    name = forms.CharField(label=_("Name"), max_length=80)
    address = forms.EmailField(label=_("Address"))
    team = forms.ModelChoiceField(label=_("Team"), queryset=Team.objects.filter(is_active=True))
    ticket_type = forms.ModelChoiceField(
        label=_("Default type"), queryset=TicketType.objects.filter(is_active=True)
    )
    protocol = forms.ChoiceField(label=_("Incoming protocol"), choices=Mailbox.Protocol.choices)
    in_host = forms.CharField(label=_("Incoming server"), max_length=200)
    in_port = forms.IntegerField(label=_("Port"), min_value=1, max_value=65535, initial=993)
    in_security = forms.ChoiceField(label=_("Security"), choices=Security.choices)
    in_username = forms.CharField(label=_("User name"), max_length=200)
    in_password = forms.CharField(
        label=_("Password"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Leave empty to keep the stored password."),
    )
    folder = forms.CharField(label=_("IMAP folder"), max_length=100, initial="INBOX")
    out_host = forms.CharField(label=_("Outgoing (SMTP) server"), max_length=200)
    out_port = forms.IntegerField(label=_("Port"), min_value=1, max_value=65535, initial=465)
    out_security = forms.ChoiceField(label=_("Security"), choices=Security.choices)
    out_username = forms.CharField(label=_("User name"), max_length=200, required=False)
    out_password = forms.CharField(
        label=_("Password"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Leave empty to keep the stored password."),
    )
    max_message_bytes = forms.IntegerField(
        label=_("Largest message (bytes)"), min_value=1024, initial=25 * 1024 * 1024
    )
    poll_seconds = forms.IntegerField(
        label=_("Fetch every (seconds)"), min_value=10, max_value=86400, initial=60
    )
    use_idle = forms.BooleanField(
        label=_("Use IMAP IDLE where offered"), required=False, initial=True
    )
    send_acknowledgement = forms.BooleanField(
        label=_("Acknowledge new work orders by e-mail"), required=False, initial=True
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def to_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["team"] = data["team"].pk
        data["ticket_type"] = data["ticket_type"].pk
        return data


def initial_for(mailbox: Mailbox) -> dict[str, Any]:
    from kefu.email.services.mailboxes import FIELDS

    values = {name: getattr(mailbox, name) for name in FIELDS}
    values["team"] = mailbox.team_id
    values["ticket_type"] = mailbox.ticket_type_id
    return values


class TemplateForm(StyledForm):
    subject = forms.CharField(label=_("Subject"), max_length=200)
    body = forms.CharField(
        label=_("Text"), max_length=4000, widget=forms.Textarea(attrs={"rows": 12})
    )
