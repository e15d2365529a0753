"""Form helpers: Bootstrap classes on every widget, service errors mapped onto fields."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError


class StyledForm(forms.Form):
    """A form whose widgets carry Bootstrap's classes."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for bound in self.visible_fields():
            widget = bound.field.widget
            css = widget.attrs.get("class", "")
            if isinstance(
                widget, forms.CheckboxInput | forms.CheckboxSelectMultiple | forms.RadioSelect
            ):
                base = "form-check-input"
            elif isinstance(widget, forms.Select | forms.SelectMultiple):
                base = "form-select form-select-sm"
            else:
                base = "form-control form-control-sm"
            widget.attrs["class"] = f"{base} {css}".strip()

    def add_service_errors(self, exc: ValidationError) -> None:
        """Show a service's ValidationError on the matching fields (or at the top)."""
        if hasattr(exc, "error_dict"):
            for field, messages in exc.message_dict.items():
                target = field if field in self.fields else None
                for message in messages:
                    self.add_error(target, message)
        else:
            for message in exc.messages:
                self.add_error(None, message)
