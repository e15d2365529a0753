from django.contrib import admin

from kefu.core.admin import AuditedAdmin
from kefu.kb.models import KbCategory, KbTag


@admin.register(KbCategory)
class KbCategoryAdmin(AuditedAdmin):
    list_display = ("name", "description", "icon", "sort")
    list_editable = ("sort",)


@admin.register(KbTag)
class KbTagAdmin(AuditedAdmin):
    list_display = ("name",)
    search_fields = ("name",)
