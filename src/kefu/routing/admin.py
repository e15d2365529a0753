from typing import Any

from django.contrib import admin
from django.utils.html import format_html, format_html_join

from kefu.core.admin import AuditedAdmin
from kefu.routing.models import STRATEGY_HELP, RoutingQueue, Strategy


@admin.register(RoutingQueue)
class RoutingQueueAdmin(AuditedAdmin):
    list_display = (
        "name",
        "code",
        "strategy",
        "order",
        "overflow_after",
        "offer_timeout",
        "active",
    )
    list_filter = ("strategy", "active")
    filter_horizontal = ("teams", "ticket_types", "overflow_teams")
    prepopulated_fields = {"code": ("name",)}

    def formfield_for_dbfield(self, db_field: Any, request: Any, **kwargs: Any) -> Any:
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "strategy" and field is not None:
            field.help_text = format_html(
                "<ul class='mb-0'>{}</ul>",
                format_html_join(
                    "",
                    "<li><strong>{}</strong>: {}</li>",
                    ((label, STRATEGY_HELP[value]) for value, label in Strategy.choices),
                ),
            )
        return field
