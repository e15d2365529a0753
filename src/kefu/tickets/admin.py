from django.contrib import admin

from kefu.core.admin import AuditedAdmin
from kefu.tickets.models import (
    CannedResponse,
    Category,
    CustomField,
    TicketTag,
    TicketType,
    VisibilityRule,
)


class CustomFieldInline(admin.TabularInline):  # type: ignore[type-arg]
    model = CustomField
    extra = 0
    fields = ("key", "label", "label_en", "kind", "choices", "required", "sort", "is_active")


@admin.register(TicketType)
class TicketTypeAdmin(AuditedAdmin):
    list_display = (
        "name",
        "name_en",
        "code",
        "default_priority",
        "portal_visible",
        "sort",
        "is_active",
    )
    list_editable = ("sort", "is_active")
    inlines = [CustomFieldInline]


@admin.register(Category)
class CategoryAdmin(AuditedAdmin):
    list_display = ("path", "name_en", "level", "sort", "is_active")
    list_filter = ("level", "is_active")
    search_fields = ("name", "name_en", "path")


@admin.register(CustomField)
class CustomFieldAdmin(AuditedAdmin):
    list_display = ("ticket_type", "key", "label", "kind", "required", "is_active")
    list_filter = ("ticket_type", "kind")


@admin.register(CannedResponse)
class CannedResponseAdmin(AuditedAdmin):
    list_display = ("title", "shortcut", "ticket_type", "owner", "is_active")
    list_filter = ("ticket_type", "is_active")
    search_fields = ("title", "body")


@admin.register(VisibilityRule)
class VisibilityRuleAdmin(AuditedAdmin):
    list_display = ("role", "scope")


@admin.register(TicketTag)
class TicketTagAdmin(AuditedAdmin):
    list_display = ("name",)
    search_fields = ("name",)
