from django.contrib import admin

from kefu.core.admin import AuditedAdmin
from kefu.qa.models import Phrase, SamplingPlan, Scorecard


@admin.register(Scorecard)
class ScorecardAdmin(AuditedAdmin):
    """Name, description and whether a scorecard is offered; its criteria change only through a
    new version (``qa.services.new_version``), so reviews keep theirs."""

    list_display = ("name", "is_active", "created_at")
    fields = ("name", "description", "is_active")


@admin.register(SamplingPlan)
class SamplingPlanAdmin(AuditedAdmin):
    list_display = ("name", "scorecard", "per_agent", "period_days", "all_complaints",
                    "all_dissatisfied", "is_active")  # fmt: skip
    list_filter = ("is_active",)


@admin.register(Phrase)
class PhraseAdmin(AuditedAdmin):
    list_display = ("text", "kind", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("text",)
