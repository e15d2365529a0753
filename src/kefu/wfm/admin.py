from django.contrib import admin

from kefu.core.admin import AuditedAdmin
from kefu.wfm.models import Leave, Override, WorkRule


@admin.register(WorkRule)
class WorkRuleAdmin(AuditedAdmin):
    list_display = ("user", "rotation", "max_week_hours")
    list_filter = ("rotation",)
    search_fields = ("user__username", "user__display_name")
    raw_id_fields = ("user",)


@admin.register(Leave)
class LeaveAdmin(AuditedAdmin):
    list_display = ("user", "first_day", "last_day", "reason")
    date_hierarchy = "first_day"
    search_fields = ("user__username", "user__display_name")
    raw_id_fields = ("user",)


@admin.register(Override)
class OverrideAdmin(AuditedAdmin):
    list_display = ("reason", "channel", "starts_at", "ends_at", "percent")
    list_filter = ("channel",)
