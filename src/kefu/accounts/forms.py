from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kefu.accounts.models import Skill, Team, User
from kefu.core.choices import Language, WorkChannel
from kefu.core.forms import StyledForm
from kefu.core.permissions import SCOPES, STAFF_ROLES, Role


class LoginForm(StyledForm):
    login = forms.CharField(
        label=_("User name, employee number or e-mail"),
        max_length=254,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )
    password = forms.CharField(
        label=_("Password"),
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class PasswordChangeForm(StyledForm):
    old_password = forms.CharField(
        label=_("Current password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    new_password = forms.CharField(
        label=_("New password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("At least 8 characters, not only digits, not a common password."),
    )
    new_password2 = forms.CharField(
        label=_("New password again"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("new_password") and data.get("new_password") != data.get("new_password2"):
            self.add_error("new_password2", _("The two passwords differ."))
        return data


class SetPasswordForm(StyledForm):
    new_password = forms.CharField(
        label=_("New password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password", "autofocus": True}),
        help_text=_("At least 8 characters, not only digits, not a common password."),
    )
    new_password2 = forms.CharField(
        label=_("New password again"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("new_password") and data.get("new_password") != data.get("new_password2"):
            self.add_error("new_password2", _("The two passwords differ."))
        return data


class EmailForm(StyledForm):
    email = forms.EmailField(
        label=_("E-mail address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autofocus": True}),
    )


class ProfileForm(StyledForm):
    display_name = forms.CharField(label=_("Name"), max_length=100)
    language = forms.ChoiceField(
        label=_("Interface language"),
        choices=[("", _("Follow the browser")), ("zh-hans", "简体中文"), ("en", "English")],
        required=False,
    )


class TokenForm(StyledForm):
    name = forms.CharField(
        label=_("Name"),
        max_length=80,
        help_text=_("What the token is for, e.g. “IVR integration”."),
    )
    scopes = forms.MultipleChoiceField(
        label=_("Scopes"), choices=[], widget=forms.CheckboxSelectMultiple, required=True
    )
    expires_days = forms.IntegerField(
        label=_("Expires after (days)"),
        min_value=1,
        max_value=3650,
        required=False,
        help_text=_("Empty: never expires."),
    )

    def __init__(self, *args: Any, grantable: set[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        scopes = self.fields["scopes"]
        assert isinstance(scopes, forms.MultipleChoiceField)
        scopes.choices = [
            (code, f"{code} — {label}") for code, label in SCOPES.items() if code in grantable
        ]


ROLE_CHOICES = [(r.value, r.label) for r in Role if r in STAFF_ROLES]


class UserForm(StyledForm):
    username = forms.CharField(label=_("User name"), max_length=150)
    display_name = forms.CharField(label=_("Name"), max_length=100)
    role = forms.ChoiceField(label=_("Role"), choices=ROLE_CHOICES)
    employee_no = forms.CharField(label=_("Employee number"), max_length=20, required=False)
    email = forms.CharField(label=_("E-mail"), max_length=254, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=32, required=False)
    language = forms.ChoiceField(
        label=_("Interface language"),
        choices=[("", _("Follow the browser")), ("zh-hans", "简体中文"), ("en", "English")],
        required=False,
    )
    teams = forms.ModelMultipleChoiceField(
        label=_("Teams"),
        queryset=Team.objects.filter(is_active=True),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    password = forms.CharField(
        label=_("Initial password"),
        required=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("Leave empty to let the person set it from an e-mailed link."),
    )

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["password"]
            del self.fields["teams"]
            self.fields["username"].disabled = True


class AgentProfileForm(StyledForm):
    languages = forms.MultipleChoiceField(
        label=_("Languages"),
        choices=Language.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    channels = forms.MultipleChoiceField(
        label=_("Channels"),
        choices=WorkChannel.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    extension = forms.CharField(label=_("Phone extension"), max_length=16, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for channel in WorkChannel:
            self.fields[f"capacity_{channel.value}"] = forms.IntegerField(
                label=_("Capacity: %(c)s") % {"c": channel.label},
                min_value=0,
                max_value=200,
                required=False,
            )
        for skill in Skill.objects.all():
            self.fields[f"skill_{skill.pk}"] = forms.TypedChoiceField(
                label=skill.name,
                choices=[("", "—"), *[(str(i), str(i)) for i in range(1, 6)]],
                coerce=int,
                empty_value=None,
                required=False,
            )
        for name, bound_field in self.fields.items():
            if name.startswith(("capacity_", "skill_")):
                widget = bound_field.widget
                base = (
                    "form-select form-select-sm"
                    if isinstance(widget, forms.Select)
                    else "form-control form-control-sm"
                )
                widget.attrs["class"] = base

    def skill_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name.startswith("skill_")]

    def capacity_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name.startswith("capacity_")]


class TeamForm(StyledForm):
    name = forms.CharField(label=_("Name"), max_length=100)
    code = forms.SlugField(
        label=_("Code"), max_length=40, help_text=_("Lower-case letters, digits and hyphens.")
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=Team.Kind.choices)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    email = forms.CharField(label=_("Team e-mail"), required=False, max_length=254)


class MemberForm(StyledForm):
    user = forms.ModelChoiceField(label=_("Person"), queryset=User.objects.none())
    is_lead = forms.BooleanField(label=_("Team lead"), required=False)

    def __init__(self, *args: Any, team: Team, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["user"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = (
            User.objects.filter(role__in=STAFF_ROLES, is_active=True)
            .exclude(memberships__team=team)
            .order_by("display_name")
        )
