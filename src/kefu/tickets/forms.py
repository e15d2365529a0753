from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kefu.core.choices import Channel
from kefu.core.forms import StyledForm
from kefu.tickets.models import Area, CustomField, Priority, Severity, Subject, TicketType
from kefu.tickets.selectors import category_options, custom_field_options, type_options


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data if d]
        return [single(data, initial)] if data else []


def type_choices(portal: bool = False) -> list[tuple[str, str]]:
    return [(str(t.pk), t.label) for t in type_options() if t.portal_visible or not portal]


def category_choices() -> list[tuple[str, str]]:
    return [("", "—")] + [
        (str(c.pk), c.label) for c in sorted(category_options(), key=lambda c: c.path)
    ]


def add_custom_fields(
    form: forms.Form, ticket_type: TicketType | None, initial: dict[str, Any] | None = None
) -> list[str]:
    """Add the type's administrator-defined fields as cf_<key>; returns their names."""
    if ticket_type is None:
        return []
    names = []
    for cf in custom_field_options(ticket_type.pk):
        name = f"cf_{cf.key}"
        label = cf.display_label
        common: dict[str, Any] = {"label": label, "required": False, "help_text": cf.help_text}
        field: forms.Field
        if cf.kind == CustomField.Kind.NUMBER:
            field = forms.DecimalField(**common)
        elif cf.kind == CustomField.Kind.DATE:
            field = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), **common)
        elif cf.kind == CustomField.Kind.CHOICE:
            field = forms.ChoiceField(
                choices=[("", "—")] + [(str(c), str(c)) for c in cf.choices], **common
            )
        else:
            field = forms.CharField(max_length=1000, **common)
        field.widget.attrs["class"] = (
            "form-select form-select-sm"
            if isinstance(field, forms.ChoiceField)
            else "form-control form-control-sm"
        )
        if cf.required:
            field.widget.attrs["data-required"] = "1"
            field.label = f"{label} *"
        form.fields[name] = field
        if initial and cf.key in initial:
            form.initial[name] = initial[cf.key]
        names.append(name)
    return names


def custom_values(form: forms.Form, names: list[str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in names:
        value = form.cleaned_data.get(name)
        if value in (None, ""):
            continue
        values[name.removeprefix("cf_")] = (
            value.isoformat() if hasattr(value, "isoformat") else str(value)
        )
    return values


class TicketForm(StyledForm):
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(
        label=_("Description"),
        required=False,
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    ticket_type = forms.ChoiceField(label=_("Type"))
    category = forms.ChoiceField(label=_("Category"), required=False)
    subject = forms.ChoiceField(
        label=_("Subject"), required=False, choices=[("", "—"), *Subject.choices]
    )
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices, initial=Channel.PHONE)
    priority = forms.TypedChoiceField(
        label=_("Priority"), choices=Priority.choices, coerce=int, initial=Priority.P3
    )
    severity = forms.ChoiceField(
        label=_("Severity"), required=False, choices=[("", "—"), *Severity.choices]
    )
    customer = forms.IntegerField(required=False, widget=forms.HiddenInput)
    contact_name = forms.CharField(label=_("Contact name"), max_length=100, required=False)
    contact_phone = forms.CharField(label=_("Contact phone"), max_length=32, required=False)
    contact_email = forms.CharField(label=_("Contact e-mail"), max_length=254, required=False)
    place = forms.CharField(label=_("Place"), max_length=200, required=False)
    area = forms.ChoiceField(
        label=_("Area"),
        required=False,
        choices=[("", "—"), *Area.choices],
        help_text=_("For on-site repair promises (urban / rural / remote)."),
    )
    staff_concerned = forms.CharField(
        label=_("Staff concerned"),
        max_length=100,
        required=False,
        help_text=_("Name or employee number, for staff-service matters."),
    )
    sensitive = forms.BooleanField(
        label=_("Sensitive matter"), required=False, help_text=_("Supervisors are told at once.")
    )
    tags = forms.CharField(
        label=_("Tags"), max_length=400, required=False, help_text=_("Separate tags with commas.")
    )

    def __init__(
        self,
        *args: Any,
        ticket_type: TicketType | None = None,
        custom_initial: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        type_field = self.fields["ticket_type"]
        assert isinstance(type_field, forms.ChoiceField)
        type_field.choices = type_choices()
        category_field = self.fields["category"]
        assert isinstance(category_field, forms.ChoiceField)
        category_field.choices = category_choices()
        self.custom_names = add_custom_fields(self, ticket_type, custom_initial)

    def tag_list(self) -> list[str]:
        raw = self.cleaned_data.get("tags") or ""
        return list(
            dict.fromkeys(p.strip() for p in raw.replace("，", ",").split(",") if p.strip())
        )

    def custom_fields_bound(self) -> list[forms.BoundField]:
        return [self[name] for name in self.custom_names]


class NewTicketForm(TicketForm):
    assign_to_me = forms.BooleanField(label=_("Assign to me"), required=False, initial=True)
    attachments = MultipleFileField(label=_("Attachments"))


class ReplyForm(StyledForm):
    KINDS = [("reply", _("Reply to customer")), ("note", _("Internal note"))]
    THEN = [
        ("", _("Send")),
        ("wait_customer", _("Send and wait for the customer")),
        ("resolve", _("Send and resolve")),
    ]
    kind = forms.ChoiceField(choices=KINDS, initial="reply", widget=forms.HiddenInput)
    body = forms.CharField(
        label=_("Text"), max_length=20000, widget=forms.Textarea(attrs={"rows": 5})
    )
    then = forms.ChoiceField(choices=THEN, required=False)
    seen = forms.IntegerField(required=False, widget=forms.HiddenInput)
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)
    attachments = MultipleFileField(label=_("Attachments"))


class MoveForm(StyledForm):
    to = forms.CharField(max_length=30)
    reason = forms.CharField(
        label=_("Reason"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    reply = forms.CharField(
        label=_("Reply to the customer"),
        required=False,
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    followup_result = forms.ChoiceField(
        label=_("Follow-up result"),
        required=False,
        choices=[
            ("", "—"),
            ("satisfied", _("Satisfied")),
            ("dissatisfied", _("Dissatisfied")),
            ("unreachable", _("Could not reach the customer")),
        ],
    )
    close_children = forms.BooleanField(
        label=_("Also finish the child work orders with this reply"), required=False
    )
    version = forms.IntegerField(required=False)


class PortalTicketForm(StyledForm):
    ticket_type = forms.ChoiceField(label=_("What is it about?"))
    category = forms.ChoiceField(label=_("Category"), required=False)
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(
        label=_("Describe the matter"), max_length=20000, widget=forms.Textarea(attrs={"rows": 6})
    )
    place = forms.CharField(label=_("Where (address or place)"), max_length=200, required=False)
    contact_phone = forms.CharField(
        label=_("Phone we can call you on"), max_length=32, required=False
    )
    attachments = MultipleFileField(label=_("Photos or documents"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        type_field = self.fields["ticket_type"]
        assert isinstance(type_field, forms.ChoiceField)
        type_field.choices = type_choices(portal=True)
        category_field = self.fields["category"]
        assert isinstance(category_field, forms.ChoiceField)
        category_field.choices = category_choices()


class PortalReplyForm(StyledForm):
    body = forms.CharField(
        label=_("Your message"), max_length=20000, widget=forms.Textarea(attrs={"rows": 4})
    )
    attachments = MultipleFileField(label=_("Photos or documents"))
