from django.contrib import admin

from kefu.core.admin import AuditedAdmin
from kefu.surveys.models import FollowUpPlan, SurveyPolicy, SurveyTemplate


@admin.register(SurveyTemplate)
class SurveyTemplateAdmin(AuditedAdmin):
    list_display = ("code", "name", "name_en", "is_active")


@admin.register(SurveyPolicy)
class SurveyPolicyAdmin(AuditedAdmin):
    list_display = (
        "name",
        "trigger",
        "channel",
        "ticket_type",
        "template",
        "delivery",
        "throttle_days",
        "on_dissatisfied",
        "is_active",
    )


@admin.register(FollowUpPlan)
class FollowUpPlanAdmin(AuditedAdmin):
    list_display = ("name", "ticket_type", "vip_only", "sample_percent", "template", "is_active")
