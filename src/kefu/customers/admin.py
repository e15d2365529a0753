from django.contrib import admin

from kefu.core.admin import AuditedAdmin
from kefu.customers.models import Tag, VipTier


@admin.register(VipTier)
class VipTierAdmin(AuditedAdmin):
    list_display = ("name", "code", "rank", "priority_weight", "is_active")
    list_editable = ("rank", "priority_weight")


@admin.register(Tag)
class TagAdmin(AuditedAdmin):
    list_display = ("name",)
    search_fields = ("name",)
