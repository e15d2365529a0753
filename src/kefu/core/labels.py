"""Human labels for event actions, shown in timelines and the audit log."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

ACTION_LABELS: dict[str, Any] = {
    "user_created": _("created the account"),
    "user_changed": _("changed the account"),
    "user_activated": _("reactivated the account"),
    "user_deactivated": _("deactivated the account"),
    "user_logged_in": _("signed in"),
    "login_failed": _("failed to sign in"),
    "password_changed": _("changed the password"),
    "password_reset_requested": _("requested a password reset"),
    "password_reset": _("reset the password"),
    "login_link_sent": _("was sent a sign-in link"),
    "api_token_created": _("created an API token"),
    "api_token_revoked": _("revoked an API token"),
    "agent_profile_changed": _("changed the agent profile"),
    "team_created": _("created the team"),
    "team_changed": _("changed the team"),
    "team_member_added": _("added a team member"),
    "team_member_removed": _("removed a team member"),
    "team_lead_changed": _("changed a team lead"),
    "customer_created": _("created the customer"),
    "customer_changed": _("changed the customer"),
    "customer_archived": _("archived the customer"),
    "customer_restored": _("restored the customer"),
    "customer_contact_added": _("added a contact point"),
    "customer_contact_removed": _("removed a contact point"),
    "customer_account_added": _("added an account number"),
    "customer_account_removed": _("removed an account number"),
    "customer_note_added": _("added a note"),
    "customer_merged": _("merged a duplicate into this customer"),
    "customer_merged_away": _("merged this customer into another"),
    "config_created": _("created a configuration entry"),
    "config_changed": _("changed a configuration entry"),
    "config_deleted": _("deleted a configuration entry"),
}


def register_labels(labels: dict[str, Any]) -> None:
    ACTION_LABELS.update(labels)


def action_label(action: str) -> Any:
    return ACTION_LABELS.get(action, action)


EVENT_SUMMARIES: dict[str, Any] = {}
"""action -> function(event) -> one line of text shown under the event in timelines."""


def register_event_summaries(summaries: dict[str, Any]) -> None:
    EVENT_SUMMARIES.update(summaries)


def event_summary(event: Any) -> str:
    summarize = EVENT_SUMMARIES.get(event.action)
    if summarize is None:
        return ""
    try:
        return str(summarize(event))
    except (KeyError, ValueError, TypeError):
        return ""


FIELD_LABELS: dict[str, Any] = {}


def register_field_labels(labels: dict[str, Any]) -> None:
    FIELD_LABELS.update(labels)


VALUE_LABELERS: dict[str, Any] = {}
"""field name -> function(value) -> readable text, for before/after values in timelines."""


def field_label(field: str) -> Any:
    return FIELD_LABELS.get(field, field)


def register_value_labelers(labelers: dict[str, Any]) -> None:
    VALUE_LABELERS.update(labelers)


def value_label(field: str, value: Any) -> Any:
    labeler = VALUE_LABELERS.get(field)
    if labeler is None or value in (None, "", []):
        return value
    try:
        return labeler(value)
    except (KeyError, ValueError, TypeError):
        return value
