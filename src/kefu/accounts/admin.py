from django.contrib import admin

from kefu.accounts.models import Skill, Team
from kefu.core.admin import AuditedAdmin


@admin.register(Skill)
class SkillAdmin(AuditedAdmin):
    list_display = ("name", "code", "description")
    search_fields = ("name", "code")


@admin.register(Team)
class TeamAdmin(AuditedAdmin):
    list_display = ("name", "code", "kind", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("name", "code")
    exclude = ("members",)
