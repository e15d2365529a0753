from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kefu.core.forms import StyledForm
from kefu.customers.models import ContactPoint, Customer, VipTier


class CustomerForm(StyledForm):
    kind = forms.ChoiceField(label=_("Kind"), choices=Customer.Kind.choices)
    name = forms.CharField(label=_("Name"), max_length=100)
    organization = forms.IntegerField(required=False, widget=forms.HiddenInput)
    credit_code = forms.CharField(
        label=_("Unified social credit code"), max_length=18, required=False
    )
    industry = forms.CharField(label=_("Industry"), max_length=60, required=False)
    vip_tier = forms.ModelChoiceField(
        label=_("VIP tier"),
        queryset=VipTier.objects.filter(is_active=True),
        required=False,
        empty_label=_("None"),
    )
    address = forms.CharField(label=_("Address"), max_length=200, required=False)
    language = forms.ChoiceField(
        label=_("Preferred language"), choices=[("zh-hans", "简体中文"), ("en", "English")]
    )
    tags = forms.CharField(
        label=_("Tags"), required=False, max_length=400, help_text=_("Separate tags with commas.")
    )
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def tag_list(self) -> list[str]:
        raw = self.cleaned_data.get("tags") or ""
        parts = [p.strip() for p in raw.replace("，", ",").split(",")]
        return list(dict.fromkeys(p for p in parts if p))


class NewCustomerForm(CustomerForm):
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)
    email = forms.CharField(label=_("E-mail"), max_length=254, required=False)
    account_number = forms.CharField(
        label=_("Account number (户号)"), max_length=20, required=False
    )
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=4000
    )


class ContactForm(StyledForm):
    kind = forms.ChoiceField(label=_("Kind"), choices=ContactPoint.Kind.choices)
    value = forms.CharField(label=_("Value"), max_length=120)
    label = forms.CharField(
        label=_("Label"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. home, office")}),
    )
    is_primary = forms.BooleanField(label=_("Primary"), required=False)


class AccountForm(StyledForm):
    number = forms.CharField(label=_("Account number"), max_length=20)
    label = forms.CharField(label=_("Label"), max_length=40, required=False)
    address = forms.CharField(label=_("Supply address"), max_length=200, required=False)


class NoteForm(StyledForm):
    body = forms.CharField(
        label=_("Note"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )
    pinned = forms.BooleanField(label=_("Pin to the top"), required=False)


class InviteForm(StyledForm):
    email = forms.CharField(label=_("E-mail for the portal account"), max_length=254)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
