from django.contrib import admin

from kefu.chat.models import Widget, WrapUpCode
from kefu.core.admin import AuditedAdmin


@admin.register(Widget)
class WidgetAdmin(AuditedAdmin):
    list_display = ("name", "key", "active", "queue")
    readonly_fields = ("key",)
    fields = ("name", "key", "allowed_origins", "topics", "greeting", "queue", "offline_type",
              "color", "active")  # fmt: skip


@admin.register(WrapUpCode)
class WrapUpCodeAdmin(AuditedAdmin):
    list_display = ("code", "label", "active")
