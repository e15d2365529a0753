from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kefu.search.models import Kind, SynonymGroup
from kefu.search.services import Filters


class SearchForm(forms.Form):
    q = forms.CharField(label=_("Search"), max_length=200, required=False)
    kind = forms.ChoiceField(
        label=_("Type"), choices=[("", _("Everything")), *Kind.choices], required=False
    )
    status = forms.CharField(label=_("Status"), max_length=20, required=False)
    type = forms.CharField(label=_("Work-order type"), max_length=40, required=False)
    team = forms.IntegerField(label=_("Team"), required=False, min_value=1)
    since = forms.DateField(label=_("Created from"), required=False)
    until = forms.DateField(label=_("Created until"), required=False)
    page = forms.IntegerField(required=False, min_value=1, max_value=100)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", _("The end date is before the start date."))
        return data

    def filters(self) -> Filters:
        d = self.cleaned_data
        return Filters(
            kinds=(d["kind"],) if d.get("kind") else (),
            status=d.get("status") or "",
            type_code=d.get("type") or "",
            team_id=d.get("team"),
            since=d.get("since"),
            until=d.get("until"),
        )


class SynonymForm(forms.ModelForm):  # type: ignore[type-arg]  # generic only in the stubs
    class Meta:
        model = SynonymGroup
        fields = ["words", "note"]
